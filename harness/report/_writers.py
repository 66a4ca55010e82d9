"""Report formats by name and by file extension, and writing a rendered report to a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ..core._errors import InputError, OutputError
from ..core._files import check_writable_file
from . import html, junit, markdown
from ._views import Report


def _json(report: Report) -> str:
    from .json import render_json  # the JSON module builds on this package

    return render_json(report)


@dataclass(frozen=True, slots=True)
class Writer:
    """One report format: its name (``--format``), the extensions that select it, a renderer."""

    name: str
    extensions: tuple[str, ...]
    render: Callable[[Report], str]


WRITERS: Mapping[str, Writer] = MappingProxyType(
    {
        "html": Writer("html", (".html", ".htm"), html.render),
        "md": Writer("md", (".md", ".markdown"), markdown.render),
        "json": Writer("json", (".json",), _json),
        "junit": Writer("junit", (".xml",), junit.render),
    }
)
FORMATS = tuple(WRITERS)


def _by_extension() -> dict[str, Writer]:
    return {ext: w for w in WRITERS.values() for ext in w.extensions}


def writer_for(path: Path | None, fmt: str | None, *, where: str) -> Writer:
    """The writer ``fmt`` names, else the one ``path``'s extension selects.

    Raises InputError naming ``where`` (e.g. ``--report out.pdf``) when neither names one.
    """
    if fmt is not None:
        found = WRITERS.get(fmt.lower())
        if found is None:
            raise InputError(
                f"unknown report format {fmt!r}",
                where=where,
                hint=f"use one of {', '.join(FORMATS)}",
            )
        return found
    if path is None:
        return WRITERS["md"]
    found = _by_extension().get(path.suffix.lower())
    if found is None:
        known = ", ".join(sorted(_by_extension()))
        raise InputError(
            f"cannot tell the report format from {path.suffix or 'a name without extension'!r}",
            where=where,
            hint=f"name the file with one of {known}, or pass --format {'|'.join(FORMATS)}",
        )
    return found


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a reader never sees half a report."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(
                f"the report could not be written ({exc.strerror or exc})",
                where=str(path),
                hint="free some space or choose another folder; the journal keeps the run: "
                "render it again with `harness report JOURNAL -o FILE`",
            ) from None
        raise


def check_report_path(path: Path, where: str | None = None) -> None:
    """InputError unless a report can be written at ``path``: an extension that names a format,
    and a place to write it (not a directory, a writable folder). Checked before a run."""
    where = where or f"--report {path}"
    if path.suffix.lower() not in _by_extension():
        raise InputError(
            f"cannot tell the report format from {path.suffix or 'a name without extension'!r}",
            where=where,
            hint="name the report *.html, *.md, *.json or *.xml (JUnit)",
        )
    check_writable_file(path, where)
