"""recovers_after_outage: what the target accepted while a downstream misbehaved still happens.

An event acknowledged (2xx) while a fault window was open must get a committed effect by the
time the window closed plus ``deadline``: the automation queued it or retried, it did not
drop it. The deadline is scenario time, scaled by the run's ``time_scale`` like the windows.
Register: an effect of a newer event of the same record also counts (a coalesced update).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import (
    Delivery,
    Effect,
    Event,
    FailureClass,
    Fault,
    Model,
    Outcome,
    Status,
    Verdict,
)
from ..core._scenario import FAULT_MODES
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    event_ref,
    id_list,
    not_counted,
    plural,
    timestamp,
    unattributed_note,
    verdict,
)

NAME = "recovers_after_outage"
CLASS = FailureClass.SILENT
DEFAULT_DEADLINE = 300.0


@dataclass(frozen=True, slots=True)
class _Accepted:
    """An event the target acknowledged while ``window`` was open, and by when it is due."""

    event: Event
    delivery: Delivery  # the acknowledging delivery
    window: Fault  # the open window that closes last
    due: float  # window end + deadline, run seconds


def recovers_after_outage(facts: Facts, deadline: float = DEFAULT_DEADLINE) -> Verdict:
    """Fail when an event accepted during a fault window has no committed effect in time."""
    history = facts.history
    windows = sorted(
        (f for f in history.faults if f.mode in FAULT_MODES), key=lambda f: (f.start, f.end)
    )
    if not windows:
        return verdict(
            NAME, Status.INCONCLUSIVE, CLASS, "the run had no fault window; nothing to recover from"
        )
    gap = attribution_gap(facts, NAME, CLASS)
    if gap is not None:
        return gap
    scale = float(history.info.settings.get("time_scale", 1.0))
    allowed = deadline * scale
    accepted = _accepted_in_windows(facts, windows, allowed)
    budget = _budget(deadline, scale)
    if not accepted:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"the target accepted no event while {plural(len(windows), 'fault window')} "
            f"{'was' if len(windows) == 1 else 'were'} open; nothing to recover"
            + _refused_note(facts, windows),
        )
    first = _first_effects(facts, accepted)
    missing = [a for a in accepted if a.event.id not in first]
    late = [a for a in accepted if a.event.id in first and first[a.event.id].at > a.due]
    note = unattributed_note(facts)
    scope = (
        f"{plural(len(accepted), 'event')} accepted during {plural(len(windows), 'fault window')}"
    )
    if not missing and not late:
        slowest = max(first[a.event.id].at - a.window.end for a in accepted)
        after = (
            f"the last {timestamp(slowest)} after its window closed"
            if slowest > 0
            else "all before their window closed"
        )
        return verdict(
            NAME,
            Status.PASS,
            CLASS,
            f"all {scope} got their effect within {budget}: {after}{note}",
        )
    parts = []
    if missing:
        parts.append(f"{len(missing):,} never got an effect")
    if late:
        parts.append(f"{len(late):,} only after the deadline")
    summary = (
        f"{len(missing) + len(late):,} of {scope} did not recover within {budget}: "
        f"{' and '.join(parts)}{note}"
    )
    witnesses = _witnesses(facts, first, missing, late, budget)
    return verdict(NAME, Status.FAIL, CLASS, summary, witnesses)


def _first_effects(facts: Facts, accepted: Sequence[_Accepted]) -> dict[str, Effect]:
    """Accepted event id -> the first committed write that carries it out.

    Ledger: the event's own first write. Register: the first write of that event or of a
    newer one of its record, since a newer state makes an older one's write unnecessary.
    """
    first = facts.first_write
    if facts.history.info.model is not Model.REGISTER:
        return {a.event.id: first[a.event.id] for a in accepted if a.event.id in first}
    events = facts.events_by_id
    keys = {a.event.key for a in accepted}
    by_key: dict[str, list[tuple[int, Effect]]] = {}
    for eid, eff in first.items():
        event = events[eid]
        if event.key in keys:
            by_key.setdefault(event.key, []).append((event.seq, eff))
    found: dict[str, Effect] = {}
    for a in accepted:
        newer = [eff for seq, eff in by_key.get(a.event.key, ()) if seq >= a.event.seq]
        if newer:
            found[a.event.id] = min(newer, key=_at)
    return found


def _at(effect: Effect) -> float:
    return effect.at


def _accepted_in_windows(facts: Facts, windows: Sequence[Fault], allowed: float) -> list[_Accepted]:
    """Each event's first acknowledgement that came while a window was open, in time order."""
    events = facts.events_by_id
    seen: set[str] = set()
    found: list[_Accepted] = []
    ok = Outcome.OK
    acks = sorted(
        (d for d in facts.history.deliveries if d.outcome is ok and d.answered_at is not None),
        key=_answered,
    )
    for d in acks:
        event = events.get(d.event_id)
        if event is None or d.event_id in seen:
            continue
        seen.add(d.event_id)  # only the first acknowledgement counts: later ones are duplicates
        at = _answered(d)
        open_now = [w for w in windows if w.start <= at < w.end]
        if open_now:
            last = max(open_now, key=lambda w: w.end)
            found.append(_Accepted(event, d, last, last.end + allowed))
    return found


def _answered(d: Delivery) -> float:
    return d.answered_at if d.answered_at is not None else d.sent_at


def _budget(deadline: float, scale: float) -> str:
    if scale == 1:
        return f"{deadline:g} s of the window closing"
    return (
        f"{deadline:g} s of the window closing ({deadline * scale:.3g} s of run time at "
        f"time scale {scale:g})"
    )


def _refused_note(facts: Facts, windows: Sequence[Fault]) -> str:
    refused = sum(
        1
        for d in facts.history.deliveries
        if d.outcome is not Outcome.OK and any(w.start <= d.sent_at < w.end for w in windows)
    )
    if not refused:
        return ""
    return (
        f"; {plural(refused, 'delivery', 'deliveries')} sent during a window "
        f"{'was' if refused == 1 else 'were'} not accepted (the sender must retry them)"
    )


def _window_text(w: Fault) -> str:
    return f"the {w.downstream} {w.mode} fault ({timestamp(w.start)}-{timestamp(w.end)})"


def _witnesses(
    facts: Facts,
    first: dict[str, Effect],
    missing: Sequence[_Accepted],
    late: Sequence[_Accepted],
    budget: str,
) -> list[Witness]:
    shown = [*missing[:MAX_WITNESSES], *late[: max(0, MAX_WITNESSES - len(missing))]]
    tried = facts.effects_of([a.event.id for a in shown])
    out = []
    for a in shown:
        effects = tried[a.event.id]
        line = (
            f"{event_ref(a.event)} was accepted by {a.delivery.id} ({a.delivery.status}) at "
            f"{timestamp(_answered(a.delivery))} during {_window_text(a.window)}"
        )
        written = first.get(a.event.id)
        if written is None:
            line += f" but got no committed effect by {timestamp(a.due)}"
            line += _requests(effects)
        else:
            line += (
                f"; its first committed effect {written.method.upper()} {written.path} "
                f"{written.id} came at {timestamp(written.at)}, "
                f"{timestamp(written.at - a.window.end)} after the window closed, "
                f"not within {budget}"
            )
        ids = [e.id for e in effects] + ([written.id] if written else [])
        out.append(Witness(line, (a.event.id,), (a.delivery.id,), tuple(dict.fromkeys(ids))))
    return out


def _requests(effects: Sequence[Effect]) -> str:
    if not effects:
        return "; it made no request to any downstream"
    return "; its requests did not count: " + id_list([not_counted(e) for e in effects])
