"""``harness inspect JOURNAL [RUN]``: a run's deliveries, answers and effects in the terminal,
in time order, filtered by event, status or route; redacted as every output is."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from ..core._errors import InputError
from ..core._model import FORWARDED_MARK, Delivery, Effect
from ..double._routes import RouteMatcher, compile_route
from ..history import History
from ..invariants._fault_calls import FaultCalls
from ..invariants._open_calls import held_for
from ..invariants._undone import issued_ids

_STATUS_HINT = "give a status like 503, a class like 5xx, or none (no answer)"


@dataclass(frozen=True, slots=True)
class _Filter:
    event: str | None
    status: str | None
    route: RouteMatcher | None

    def delivery(self, d: Delivery, event_type: str) -> bool:
        if self.route is not None:
            return False  # a route names downstream calls
        if self.event is not None and self.event not in (d.event_id, event_type):
            return False
        return self._status(d.status)

    def effect(self, e: Effect, types: set[str]) -> bool:
        if self.event is not None and self.event not in e.event_ids and self.event not in types:
            return False
        if self.route is not None:
            method, pattern = self.route
            path = e.path.split("?", 1)[0]
            if method not in ("*", e.method) or pattern.fullmatch(path) is None:
                return False
        return self._status(e.status or None)

    def _status(self, status: int | None) -> bool:
        want = self.status
        if want is None:
            return True
        if want == "none":
            return status is None
        if want.endswith("xx"):
            return status is not None and str(status)[0] == want[0]
        return str(status) == want


@click.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.argument("run", required=False)
@click.option("--event", default=None, help="Only this event: its id or its type.")
@click.option("--status", default=None, help="Only answers with this status: 503, 5xx or none.")
@click.option(
    "--route",
    default=None,
    help="Only downstream calls to this route: 'POST /payouts', '/contacts/{id}' or "
    "'* /deals/*' (deliveries are then left out).",
)
@click.option(
    "--limit", type=click.IntRange(min=0), default=500, show_default=True, help="Lines at most."
)
def inspect(
    journal: Path,
    run: str | None,
    event: str | None,
    status: str | None,
    route: str | None,
    limit: int,
) -> None:
    """List a run's deliveries, answers and effects in time order. Without RUN, the journal's
    only run, or the list of its runs to choose from."""
    from ..history import load, run_ids
    from ..report._redact import Redactor
    from ._console import out, use

    chosen = _filter(event, status, route)
    ids = run_ids(journal)  # says what is wrong with a path that is no journal
    if not ids:
        raise InputError("the journal holds no run", where=str(journal))
    if run is None and len(ids) > 1:
        for rid in ids:
            out.print(rid, markup=False)
        out.print(f"{len(ids)} runs: name one, e.g. harness inspect {journal} {ids[-1]}")
        return
    history = load(journal, _run_id(run, ids, journal) if run is not None else ids[0])
    use(Redactor.for_runs([history], os.environ))
    lines = list(_lines(history, chosen))
    out.print(_heading(history), markup=False)
    for line in lines[:limit]:
        out.print(line, markup=False)
    if len(lines) > limit:
        out.print(f"… {len(lines) - limit} more lines (--limit)", markup=False)
    if not lines:
        out.print("nothing matches the filters", markup=False)


def _filter(event: str | None, status: str | None, route: str | None) -> _Filter:
    if status is not None:
        status = status.lower()
        if not (
            status == "none"
            or (status.isdigit() and 100 <= int(status) <= 599)
            or (len(status) == 3 and status[0] in "12345" and status[1:] == "xx")
        ):
            raise InputError(f"{status!r} is not a status", where="--status", hint=_STATUS_HINT)
    matcher = None
    if route is not None:
        text = route if " " in route.strip() else f"* {route.strip()}"
        matcher = compile_route(text.strip(), where="--route")
    return _Filter(event, status, matcher)


def _run_id(run: str, ids: list[str], journal: Path) -> str:
    """The run named ``run``: its id, or the one run whose id starts with it."""
    if run in ids:
        return run
    found = [rid for rid in ids if rid.startswith(run)]
    if len(found) == 1:
        return found[0]
    raise InputError(
        f"no run {run!r} in this journal"
        + (f" ({len(found)} runs start with it)" if found else ""),
        where=str(journal),
        hint=f"`harness inspect {journal}` lists its runs",
    )


def _heading(h: History) -> str:
    baseline = f" · clean run {h.baseline.info.run_id}" if h.baseline is not None else ""
    return (
        f"{h.info.run_id} · {h.info.target_name} · {len(h.events)} events, "
        f"{len(h.deliveries)} deliveries, {len(h.effects)} effects · {h.status}{baseline}"
    )


def _lines(h: History, chosen: _Filter) -> Iterator[str]:
    types = {ev.id: ev.type for ev in h.events}
    answers = _forwarded(h)
    made_up = issued_ids(h.marks)
    faults = FaultCalls(h) if h.faults else None
    timed: list[tuple[float, int, str]] = []
    for n, d in enumerate(h.deliveries):
        if chosen.delivery(d, types.get(d.event_id, "")):
            timed.append((d.sent_at, n, _delivery(d, types.get(d.event_id, ""))))
    for n, e in enumerate([*h.effects, *h.late_effects]):
        if chosen.effect(e, {types.get(i, "") for i in e.event_ids}):
            met = _met(faults, e) if faults is not None else ""
            line = _effect(e, answers.get(e.id), made_up.get(e.id), met)
            timed.append((e.at, len(h.deliveries) + n, line))
    for _, _, line in sorted(timed):
        yield line


def _delivery(d: Delivery, event_type: str) -> str:
    answer = str(d.status) if d.status is not None else "no answer"
    took = f"  {(d.latency or 0) * 1000:.0f} ms" if d.latency is not None else ""
    why = f"  {d.error}" if d.error else ""
    body = f"  {_short(d.answer_body)}" if d.answer_body else ""
    kind = f" ({event_type})" if event_type else ""
    return (
        f"{d.sent_at:9.3f}s  delivery {d.id}  {d.event_id}{kind} attempt {d.attempt}"
        f"  -> {answer} {d.outcome}{took}{why}{body}"
    )


def _effect(e: Effect, real: str | None, made_up: str | None, met: str = "") -> str:
    """``made_up``: the id the double answered the creation with (``id ds_5``), which a later
    call naming it is read against; ``met``: the fault windows that answered it (``_met``)."""
    answer = str(e.status) if e.status else "reset"
    committed = "committed" if e.committed else "not committed"
    if made_up is not None:
        committed += f" id {made_up}"
    events = f"  [{', '.join(e.event_ids)}]" if e.event_ids else "  [unattributed]"
    line = (
        f"{e.at:9.3f}s  effect   {e.id}  {e.downstream} {e.method} {e.path}  -> {answer} "
        f"{committed}{events}{met}"
    )
    return line + (f"\n{'':11}real answer {real}" if real else "")


def _met(faults: FaultCalls, e: Effect) -> str:
    """``  · api slow fault, held 2.1 s or more``: the fault windows that answered the call,
    and the least time one held it open (what says a repeat came before the first's answer)."""
    met = []
    for f in faults.answering(e):
        held = held_for(f)
        met.append(
            f"{f.downstream} {f.mode} fault" + (f", held {held:.1f} s or more" if held else "")
        )
    return f"  · {'; '.join(met)}" if met else ""


def _forwarded(h: History) -> dict[str, str]:
    """What the real API answered each forwarded call (a pass-through double's marks)."""
    found: dict[str, str] = {}
    for mark in h.marks:
        if mark.name == FORWARDED_MARK:
            detail = json.loads(mark.detail)
            text = f"{detail['status'] or detail.get('error', '')}  {_short(detail['body'])}"
            found[str(detail["effect"])] = text.rstrip()
    return found


def _short(text: str | None, width: int = 100) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
