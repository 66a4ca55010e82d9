"""``harness export JOURNAL -o OUT.db --redacted``: a copy of a journal that can be shared.

A journal is raw (docs/security.md, "What the journal holds"); the export replaces every value
a report would hide, and ``harness check`` and ``harness report`` read it as they read the
journal.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The new journal file to write (.db); it must not exist.",
)
@click.option(
    "--redacted",
    is_flag=True,
    help="Replace every value a report would hide (required: the journal itself is raw).",
)
def export(journal: Path, output: Path, redacted: bool) -> None:
    """Write a shareable copy of JOURNAL with every secret, credential and PII value replaced."""
    from ..core._errors import InputError
    from ..core._files import check_writable_file
    from ..history import export as export_journal
    from ..history import load_all, run_ids
    from ..report._redact import Redactor
    from ._console import err

    if not redacted:
        raise InputError(
            "harness export writes redacted copies only",
            where="harness export",
            hint=f"add --redacted; a raw copy is `cp {journal} {output}` (the journal is raw: "
            "docs/security.md)",
        )
    run_ids(journal)  # the journal's path first: a directory, a file that is none
    check_writable_file(output, f"-o {output}", "shared.db")
    if output.exists():
        raise InputError(
            "the file exists already"
            + (" (it is the journal)" if output.samefile(journal) else ""),
            where=f"-o {output}",
            hint="name a new file for the copy, or remove this one first",
        )
    redactor = Redactor.for_runs(load_all(journal), os.environ)
    runs = export_journal(journal, output, redactor)
    err.print(f"{runs} run{'s' if runs != 1 else ''} of {journal} exported, redacted, to {output}")
