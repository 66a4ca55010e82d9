"""How a failure reads: the scenario, the invariant, the verdict and its evidence, the seed and
the command that reproduces it — the domain, not the plugin's stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, Protocol

import pytest

from ._redaction import redacted, redactor_for

if TYPE_CHECKING:
    from harness import History, Verdict

_IDS_SHOWN = 8
_LABEL = 11  # width of the label column

# "inconclusive" fails an item too: nothing could be judged, which needs fixing first.
_STATUS = {"fail": "FAILED", "inconclusive": "INCONCLUSIVE", "pass": "held"}

Row = tuple[str, str]  # (label, text); an empty label continues the row above


class Writer(Protocol):
    """What of pytest's TerminalWriter a failure uses."""

    def line(self, s: str = "", **markup: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class Crash:
    """Where pytest's one-line summaries and JUnit's ``message`` find the failure in short."""

    path: str
    lineno: int
    message: str


@dataclass(frozen=True, slots=True)
class DomainFailure:
    """A failure report of a scenario item: a headline, labelled rows, and ``reprcrash``.

    pytest shows it with ``toterminal``; ``-ra`` and JUnit read ``reprcrash.message`` (the
    headline); pytest-xdist sends ``str()`` of it from its workers, whose first line is the
    headline too.
    """

    rows: tuple[Row, ...]
    reprcrash: Crash
    traceback: str = ""  # harness's own stack, with --harness-traceback

    def toterminal(self, tw: Writer) -> None:
        tw.line(self.reprcrash.message, red=True, bold=True)
        for label, text in self.rows:
            tw.line(_line(label, text))
        if self.traceback:
            tw.line("")
            for line in self.traceback.splitlines():
                tw.line(line)

    def __str__(self) -> str:
        text = "\n".join([self.reprcrash.message, *(_line(k, v) for k, v in self.rows)])
        return f"{text}\n\n{self.traceback}" if self.traceback else text


class VerdictFailed(Exception):
    """An invariant did not hold: raised by a scenario item, told by ``verdict_failure``."""

    def __init__(self, history: History, verdict: Verdict) -> None:
        super().__init__(redacted(f"{verdict.invariant}: {verdict.summary}", [history]))
        self.history = history
        self.verdict = verdict


def verdict_rows(history: History, verdict: Verdict) -> tuple[Row, ...]:
    """The failed verdict in the words of the domain, one labelled line each."""
    from harness import with_recorded_ids

    info = history.info
    settings = info.settings
    origin = str(settings.get("origin") or "")
    rows: list[Row] = [
        ("scenario", info.scenario + (f" — {info.description}" if info.description else "")),
        ("", f"{origin + ' · ' if origin else ''}model {info.model.value} · seed {info.seed}"),
        (
            "target",
            info.target + (f" ({name})" if (name := info.target_name) != info.target else ""),
        ),
    ]
    evidence = verdict.evidence
    # A traced replay's events named by their recorded ids too, as the reports name them.
    for i, witness in enumerate(with_recorded_ids(evidence.lines, settings)):
        rows.append(("evidence" if i == 0 else "", witness))
    ids = [
        _ids("events", evidence.event_ids),
        _ids("deliveries", evidence.delivery_ids),
        _ids("effects", evidence.effect_ids),
    ]
    if any(ids):
        rows.append(("ids", " · ".join(part for part in ids if part)))
    rows.append(
        (
            "run",
            f"{len(history.events)} events, {len(history.deliveries)} deliveries, "
            f"{len(history.effects)} effects · run {info.run_id}",
        )
    )
    if settings.get("reproduce"):
        rows.append(("reproduce", str(settings["reproduce"])))
    return tuple(rows)


def verdict_failure(history: History, verdict: Verdict, path: str) -> DomainFailure:
    """The failure as pytest shows it, and JUnit keeps it: redacted as a report of the run."""
    text = redactor_for([history]).text
    message = (
        f"{verdict.invariant} {_STATUS[verdict.status.value]} "
        f"({verdict.failure_class.value}): {verdict.summary}"
    )
    rows = tuple((label, text(row)) for label, row in verdict_rows(history, verdict))
    return DomainFailure(rows, Crash(path, 0, text(message)))


def fail_plainly(message: str) -> NoReturn:
    """Fail with ``message`` alone: no traceback, and not the error it was made from."""
    __tracebackhide__ = True
    raise pytest.fail.Exception(message, pytrace=False) from None


def run_error_message(scenario: str, origin: str, error: BaseException) -> str:
    """A run that could not be completed (target unreachable, missing secret, bad port)."""
    where = f" ({origin})" if origin and origin != "<python>" else ""
    return redacted(f"scenario {scenario}{where} could not run: {error}")


def _line(label: str, text: str) -> str:
    return f"{label:<{_LABEL}}{text}"


def _ids(kind: str, ids: Sequence[str]) -> str:
    if not ids:
        return ""
    shown = ", ".join(ids[:_IDS_SHOWN])
    more = len(ids) - _IDS_SHOWN
    return f"{kind} {shown}" + (f" (+{more} more)" if more > 0 else "")
