"""``harness show NAME``: a built-in scenario or suite (its YAML file) or a library payload
(its JSON), printed to copy and edit."""

from __future__ import annotations

import difflib
import json

import click

from ..core._errors import InputError
from ._console import err, out


@click.command()
@click.argument("name", required=False)
def show(name: str | None) -> None:
    """Print a built-in scenario or suite (YAML) or a library payload (JSON) to copy. Without
    NAME, list what there is."""
    from ..core._library import entry, names
    from ..scenario._load import builtin_files

    files = builtin_files()
    payloads = names()
    if name is None:
        out.print("built-in scenarios and suites: " + ", ".join(files), markup=False)
        out.print("library payloads: " + ", ".join(payloads), markup=False)
        return
    if name in files:
        click.echo(files[name].read_text(encoding="utf-8"), nl=False)
        return
    if name in payloads:
        found = entry(name)
        err.print(f"{name}: written from {found.source}", markup=False)
        click.echo(json.dumps(found.payload, indent=2, ensure_ascii=False))
        return
    close = difflib.get_close_matches(name, [*files, *payloads], n=3, cutoff=0.5)
    raise InputError(
        f"no built-in scenario, suite or library payload named {name!r}"
        + (f" — did you mean {', '.join(map(repr, close))}?" if close else ""),
        where="harness show",
        hint="`harness show` without a name lists them all",
    )
