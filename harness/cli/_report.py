"""``harness report RUN...``: the production-readiness report of stored runs, offline.

Kept apart from cli.py and light to import: the report machinery (Jinja2, the writers) is
loaded only when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..report._content import RunInput

# The names of harness.report._writers.WRITERS (a test keeps the two equal).
FORMATS = ("html", "md", "json", "junit")


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default=None,
    help="Report format (default: from the -o extension, else md).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the report here (.html, .md, .json, .xml); default: standard output.",
)
@click.option(
    "--compare/--no-compare",
    default=None,
    help="With two journals: show what changed from the first to the second (the default), "
    "or report on both together.",
)
def report(
    runs: tuple[Path, ...], fmt: str | None, output: Path | None, compare: bool | None
) -> None:
    """Render the report of stored runs (journals), judged again offline.

    With two journals, BEFORE and AFTER, the report shows what changed: which checks a fix
    made pass and which a regression made fail. Exits 0 when every invariant of the reported
    (after) runs holds, 1 otherwise.
    """
    from rich.markup import escape

    from ..core._errors import InputError
    from ..core._files import check_writable_file
    from ..core._scenario import not_tried_in
    from ..report._content import build_report
    from ..report._left_out import count_text
    from ..report._writers import write, writer_for
    from ._console import err
    from ._exits import judged_exit, notes
    from ._job_summary import append_report

    writer = writer_for(output, fmt, where=f"-o {output}" if output else "--format")
    if output is not None:
        check_writable_file(output, f"-o {output}")
    comparing = len(runs) == 2 if compare is None else compare
    if comparing and len(runs) != 2:
        raise InputError(
            f"--compare takes two journals (before, after), got {len(runs)}",
            where="harness report",
            hint="pass exactly two journal files, or drop --compare",
        )
    loaded = [_judged(path) for path in runs]
    before = loaded[0] if comparing else None
    after = loaded[1] if comparing else [r for group in loaded for r in group]
    # The hazards the runs' invocation did not try: said again, never read as held.
    untried = not_tried_in(r.history.info.settings for r in after)
    result = build_report(after, before=before, skipped=untried)
    text = writer.render(result)
    if output is None:
        click.echo(text, nl=False)
    else:
        write(output, text)
        left = count_text(result.left_out)
        held = f"{result.held} of {result.checks} checks held" + (f", {left}" if left else "")
        err.print(f"{result.verdict}: {escape(held)} · {output}")
    append_report(result)
    # As `harness check`: one exit-code rule (docs/cli.md), an incomplete run included.
    judged = [(r.history, r.verdicts) for r in after]
    for line in notes([h for h, _ in judged]):
        err.print(f"[yellow]{escape(line)}[/]")
    sys.exit(judged_exit(judged))


def _judged(journal: Path) -> list[RunInput]:
    """Every run of a journal with its verdicts, judged now (judging is pure and offline)."""
    from ..core._errors import InputError
    from ..history import load_all
    from ..invariants import judge
    from ..report._content import RunInput

    histories = load_all(journal)
    if not histories:
        raise InputError(
            "the journal holds no run",
            where=str(journal),
            hint="pass the .db file a `harness run` wrote (see --journal)",
        )
    return [RunInput(h, judge(h), journal) for h in histories]
