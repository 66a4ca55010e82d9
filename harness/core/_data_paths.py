"""Where the data folders (``scenarios``, ``reports``) live: in the wheel, or in the checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """The folder ``name`` shipped with harness.

    A wheel carries it as ``harness/_data/<name>`` (see pyproject.toml); a checkout or an
    editable install has it at the top of the repository, next to the ``harness`` package.
    """
    installed = resources.files("harness") / "_data" / name
    # Traversable is only a real directory for a plain install; a zipped one falls through.
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / name
