"""The end of a session: one readiness line per scenario run and a total, and the reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._redaction import redactor_for
from ._state import Run

if TYPE_CHECKING:
    from harness import History, Verdict

# The markup pytest's TerminalWriter takes as a keyword ("" for none).
Colour = str
_COLOUR = {"fail": "red", "inconclusive": "yellow", "pass": "green"}
_WORDS = (("fail", "failed"), ("inconclusive", "inconclusive"), ("pass", "held"))

_SHORT = 70  # characters of a verdict summary in the total line
_NAMED = 5  # runs the total line names per status; the lines above it name them all


def readiness_lines(
    runs: Sequence[Run], untried: Mapping[str, str] = {}
) -> list[tuple[str, Colour]]:
    """(line, colour) for each run and its deliveries, then the total: red where a verdict
    failed, yellow where none failed but one could not be judged or a hazard asked for was not
    tried (``untried``: name to reason), green where all held."""
    lines: list[tuple[str, Colour]] = []
    for history, verdicts in runs:
        lines.append(_run_line(history.info.scenario, history.info.target_name, verdicts))
        lines.append(_answers_line(history))
    held = [h.info.scenario for h, v in runs if _worst(v) == "pass"]
    failed = [_phrase(h.info.scenario, v, "fail") for h, v in runs if _worst(v) == "fail"]
    unjudged = [
        _phrase(h.info.scenario, v, "inconclusive") for h, v in runs if _worst(v) == "inconclusive"
    ]
    # The counts are of checks: "(4 failed, …)" beside "5/14 scenarios" read as 4 scenarios.
    checks = _counts(v for _, v in runs)
    total = f"harness: {len(held)}/{len(runs)} scenarios hold (checks: {checks})"
    tails = [
        f"{word}: {_named(names)}"
        for word, names in (("failed", failed), ("inconclusive", unjudged))
        if names
    ]
    if tails:
        total += " — " + "; ".join(tails)
    left = list(dict.fromkeys(n for h, _ in runs for n in h.info.settings.get("left_out") or {}))
    if left:  # the project's leave_out: not judged, and the total says so
        total += f"; left out by the project: {', '.join(left)}"
    total += "".join(f"; {name} not tried: {reason}" for name, reason in untried.items())
    worst = "fail" if failed else "inconclusive" if unjudged or untried else "pass"
    lines.append((total, _COLOUR[worst]))
    text = redactor_for([h for h, _ in runs]).text
    return [(text(line), colour) for line, colour in lines]


def write_reports(
    paths: Sequence[Path], runs: Sequence[Run], journal: Path | None, untried: Mapping[str, str]
) -> None:
    """Every report file; the engine's writer picks the format by extension. A hazard not
    tried keeps the report from Ready, as under ``harness run``."""
    from harness import Skipped, write_report

    skipped = [Skipped(name, reason, not_tried=True) for name, reason in untried.items()]
    for path in paths:
        write_report(path, runs, journal, skipped=skipped)


def _worst(verdicts: Sequence[Verdict]) -> str:
    """``fail`` if one failed, else ``inconclusive`` if one could not be judged, else ``pass``."""
    statuses = {v.status.value for v in verdicts}
    return next((s for s in ("fail", "inconclusive") if s in statuses), "pass")


def _counts(runs: Iterable[Sequence[Verdict]], *, held: bool = True) -> str:
    """``3 failed, 2 inconclusive, 11 held`` (a count of 0 left out, but for held)."""
    counts = Counter(v.status.value for verdicts in runs for v in verdicts)
    parts = [f"{counts[s]} {word}" for s, word in _WORDS if counts[s] or (s == "pass" and held)]
    return ", ".join(parts)


def _named(phrases: Sequence[str]) -> str:
    more = len(phrases) - _NAMED
    return ", ".join(phrases[:_NAMED]) + (f", … (+{more} more)" if more > 0 else "")


def _run_line(scenario: str, target_name: str, verdicts: Sequence[Verdict]) -> tuple[str, Colour]:
    held = sum(v.passed for v in verdicts)
    line = f"harness: {scenario} · {target_name}: {held}/{len(verdicts)} invariants hold"
    worst = _worst(verdicts)
    if worst != "pass":
        bad = [v for v in verdicts if not v.passed]
        line += f" ({_counts([bad], held=False)})"
        tails = [
            f"{word}: " + ", ".join(f"{v.invariant} [{v.failure_class.value}]" for v in mine)
            for status, word in _WORDS[:2]
            if (mine := [v for v in bad if v.status.value == status])
        ]
        line += " — " + "; ".join(tails)
    return line, _COLOUR[worst]


def _answers_line(history: History) -> tuple[str, Colour]:
    """``harness:   60 deliveries: 0 accepted (2xx), …; the target accepted no event; most
    common answer: 500 {"error": …} (60 of 60)`` — the answer's body redacted."""
    from harness import delivery_answers

    answers = delivery_answers(history)
    return f"harness:   {answers.line()}", "red" if answers.most_common is not None else ""


def _phrase(scenario: str, verdicts: Sequence[Verdict], status: str) -> str:
    """``duplicate-storm (silent: 30 of 60 events produced duplicate effects, +1 more)``: the
    first verdict of that status; ``target_available`` first when it did not hold (a target
    that went away explains the rest)."""
    mine = [v for v in verdicts if v.status.value == status]
    mine.sort(key=lambda v: v.invariant != "target_available")
    first = mine[0]
    summary = first.summary if len(first.summary) <= _SHORT else first.summary[: _SHORT - 1] + "…"
    more = f", +{len(mine) - 1} more" if len(mine) > 1 else ""
    return f"{scenario} ({first.failure_class.value}: {summary}{more})"
