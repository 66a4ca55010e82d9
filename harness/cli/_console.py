"""What the CLI prints: progress while a run goes, then a table of verdicts with evidence.

Both consoles write through ``_Redacted``: every line the CLI prints (verdicts, progress,
errors and their hints, usage errors, the standalone double's calls) goes through the report's
redaction.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO, cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..core._model import Status, Verdict
from ..report._redact import Redactor

if TYPE_CHECKING:
    from ..core._scenario import Skipped
    from ..history import History

    Runs = Sequence[tuple[History, Sequence[Verdict]]]


class _Redacted:
    """``sys.stdout`` or ``sys.stderr`` (looked up at each write, as pytest's capture swaps
    them), with every text written to it redacted by the current redactor (``use``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def _stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        return self._stream.write(_current[0].text(text))

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, flush...
        return getattr(self._stream, name)


# What the consoles redact with: the patterns and the environment's secrets until a run
# starts, then that run's (use()).
_current = [Redactor.for_environment(os.environ)]
# Typed as the streams they stand for (rich and click take an IO).
stdout = cast(TextIO, _Redacted("stdout"))
stderr = cast(TextIO, _Redacted("stderr"))
out = Console(file=stdout, highlight=False, soft_wrap=True)
err = Console(file=stderr, highlight=False, soft_wrap=True)


def begin() -> None:
    """A new invocation (``main``): redact with the patterns and its environment's secrets."""
    use(Redactor.for_environment(os.environ))


def use(redactor: Redactor) -> None:
    """Redact what the consoles print from now on with ``redactor``."""
    _current[0] = redactor


_MARK = {
    Status.PASS: "[green]✓[/]",
    Status.FAIL: "[bold red]✗[/]",
    Status.INCONCLUSIVE: "[yellow]?[/]",
}
_SKIPPED = "[dim]○[/]"
_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.INCONCLUSIVE: "yellow"}


def print_skipped(skipped: Sequence[Skipped]) -> None:
    """The hazards that do not apply to the project, or cannot be tried without a setting,
    each with why (before the runs)."""
    for s in skipped:
        said = s.said if s.not_tried else f"{s.name} skipped — {s.reason}"
        err.print(f"{_SKIPPED} {escape(said)}")


def print_verdicts(runs: Runs, evidence: int = 3, skipped: Sequence[Skipped] = ()) -> None:
    """Each run's deliveries by answer and its verdicts with their summaries and, for those
    that did not hold, the first witnesses; then a table and the totals. Redacted as the
    report is: nothing the report leaves out reaches a terminal or a CI log either. A hazard
    applied to a project says how (the fields its drift chose); ``skipped`` ones say why."""
    from ..invariants._stopped import stop_of, stopped_line
    from ..report import _left_out
    from ..report._answers import delivery_answers
    from ..report._describe import with_recorded_ids

    redactor = Redactor.for_runs([h for h, _ in runs], os.environ)
    use(redactor)
    text = redactor.text
    for history, verdicts in runs:
        info = history.info
        out.print(
            f"\n[bold]{escape(text(info.target_name))} · {escape(info.scenario)}[/] "
            f"({info.model.value}, seed {info.seed}): {len(history.events)} events, "
            f"{len(history.deliveries)} deliveries, {len(history.effects)} effects"
        )
        for note in info.settings.get("adapted", ()):
            out.print(f"  [dim]{escape(text(str(note)))}[/]")
        stop = stop_of(history) if history.status != "complete" else None
        if stop is not None:
            out.print(f"  [bold yellow]{escape(stopped_line(stop))}[/]")
        answers = delivery_answers(history, redactor)
        out.print(f"  {escape(answers.counts_text())}")
        if answers.most_common is not None:
            out.print(f"  [bold red]{escape(answers.common_text())}[/]")
        elif answers.refused_text():
            out.print(f"  [bold yellow]{escape(answers.refused_text())}[/]")
        if answers.cause:
            out.print(f"  [bold]likely cause:[/] {escape(text(answers.cause))}")
        for v in verdicts:
            cls = f" [dim]\\[{v.failure_class.value}][/]" if v.status is not Status.PASS else ""
            out.print(f"  {_MARK[v.status]} {v.invariant}{cls}  {escape(text(v.summary))}")
            if v.status is not Status.PASS:
                for line in with_recorded_ids(v.evidence.lines[:evidence], info.settings):
                    out.print(f"      {escape(text(line))}")
                more = len(v.evidence.lines) - evidence
                if more > 0:
                    out.print(f"      … and {more} more in the report")
    for s in skipped:
        out.print(f"\n[bold]{escape(s.name)}[/] {_SKIPPED} {escape(s.said[len(s.name) + 1 :])}")
    left = _left_out.left_out(h for h, _ in runs)
    if left:
        out.print()
    for x in left:
        out.print(f"{_SKIPPED} {escape(text(_left_out.line(x)))}")
    out.print()
    out.print(summary_table(runs, redactor, skipped))
    out.print(totals(runs, skipped))


def summary_table(
    runs: Runs, redactor: Redactor | None = None, skipped: Sequence[Skipped] = ()
) -> Table:
    """One row per run: how many invariants hold, which failed, which could not be judged."""
    text = redactor.text if redactor is not None else str
    table = Table(show_lines=False)
    for col in ("target", "scenario", "holds", "failed", "inconclusive"):
        table.add_column(col)
    for history, verdicts in runs:
        held = sum(v.passed for v in verdicts)
        failed = [v.invariant for v in verdicts if v.status is Status.FAIL]
        unjudged = [v.invariant for v in verdicts if v.status is Status.INCONCLUSIVE]
        style = _STYLE[_worst(verdicts)]
        table.add_row(
            escape(text(history.info.target_name)),
            escape(history.info.scenario),
            f"[{style}]{held}/{len(verdicts)}[/]",
            f"[red]{', '.join(failed)}[/]" if failed else "",
            f"[yellow]{', '.join(unjudged)}[/]" if unjudged else "",
        )
    for s in skipped:
        table.add_row("", escape(s.name), f"[dim]{_skip_word(s)}[/]", "", "")
    return table


def totals(runs: Runs, skipped: Sequence[Skipped] = ()) -> str:
    """``3 failed, 2 inconclusive, 11 held``, each in its colour, over every run; then how
    many hazards were not tried (for want of a setting) or skipped, and how many invariants
    the project left out."""
    from ..report._left_out import count_text, left_out

    counts = {status: 0 for status in Status}
    for _, verdicts in runs:
        for v in verdicts:
            counts[v.status] += 1
    parts = [
        f"[{_STYLE[status]}]{counts[status]} {word}[/]"
        for status, word in (
            (Status.FAIL, "failed"),
            (Status.INCONCLUSIVE, "inconclusive"),
            (Status.PASS, "held"),
        )
        if counts[status] or status is Status.PASS
    ]
    for word in ("not tried", "skipped"):
        n = sum(1 for s in skipped if _skip_word(s) == word)
        if n:
            parts.append(f"[dim]{n} hazard{'s' if n != 1 else ''} {word}[/]")
    left = count_text(left_out(h for h, _ in runs))
    if left:
        parts.append(f"[dim]{escape(left)}[/]")
    return ", ".join(parts)


def _skip_word(skipped: Skipped) -> str:
    return "not tried" if skipped.not_tried else "skipped"


def _worst(verdicts: Sequence[Verdict]) -> Status:
    statuses = {v.status for v in verdicts}
    for status in (Status.FAIL, Status.INCONCLUSIVE):
        if status in statuses:
            return status
    return Status.PASS


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.stderr.flush()
