"""Files the harness will write (journals, reports): checked before a run, not after it; and
what stands where a file it reads was named."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._errors import InputError


def check_writable_file(path: Path, where: str, example: str = "report.json") -> None:
    """InputError unless ``path`` can be created or overwritten as a file: not a directory nor
    a pipe, a device or a socket, no regular file standing where a folder of it should be, and
    a writable folder to hold it.
    ``example``: a file name the hint offers inside a directory given instead."""
    if path.is_dir():
        raise InputError(
            f"{str(path)!r} is a directory",
            where=where,
            hint=f"name a file inside it, e.g. {path / example}",
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(
            f"{str(folder)!r} is a file, so {str(path)!r} cannot be created under it",
            where=where,
            hint="choose a path whose folders are folders",
        )
    if path.exists():
        if not path.is_file():
            # A pipe nobody reads holds open() forever; a report written whole (a file renamed
            # over the name) would replace the pipe or the device with a file of its own.
            raise InputError(
                f"{str(path)!r} is not a regular file (a pipe, a device or a socket)",
                where=where,
                hint=f"name a regular file, e.g. {path.parent / example}, and read it from there",
            )
        if not os.access(path, os.W_OK):
            raise InputError(
                f"{str(path)!r} is not writable",
                where=where,
                hint="choose a file you can write to, or fix its permissions",
            )
        return
    # A file made and removed again: the permission bits alone do not tell (a read-only
    # mount, /proc, root writing anywhere the bits allow).
    try:
        probe, name = tempfile.mkstemp(dir=folder, prefix=".harness-")
    except OSError as exc:
        raise InputError(
            f"no file can be created in {str(folder)!r} ({exc.strerror or exc})",
            where=where,
            hint="choose a folder you can write to, or fix its permissions",
        ) from None
    os.close(probe)
    os.unlink(name)


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (it does not exist, is a directory, or a pipe, a
    device or a socket, whose reading may never end), or None when it is a regular file."""
    if path.is_file():
        return None
    if path.is_dir():
        return "is a directory"
    if path.exists():
        return "is not a regular file (a pipe, a device or a socket)"
    return "does not exist"
