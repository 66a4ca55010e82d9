"""JSONPath-like paths (``$.data.items[0].id``): parse, read and write inside JSON values."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from ._errors import InputError

_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")

Step = str | int


def parse(path: str) -> tuple[Step, ...]:
    """``$.a.b[0]`` -> ("a", "b", 0). Raises InputError naming the position that does not parse."""
    if not path.startswith("$"):
        raise InputError(f"path {path!r} must start with '$'", hint="write it like $.data.order_id")
    steps: list[Step] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise InputError(
                f"path {path!r} does not parse at character {pos + 1} ({path[pos:]!r})",
                hint="use .name, [0] or ['name'] steps, e.g. $.data.items[0].id",
            )
        name, index, quoted = m.groups()
        steps.append(int(index) if index is not None else (name or quoted))
        pos = m.end()
    return tuple(steps)


_MISSING = object()


def get(value: Any, steps: tuple[Step, ...], default: Any = _MISSING) -> Any:
    """The value at ``steps``; ``default`` (or KeyError) when a step is missing."""
    cur = value
    for step in steps:
        try:
            cur = cur[step]
        except (KeyError, IndexError, TypeError):
            if default is _MISSING:
                raise KeyError(step) from None
            return default
    return cur


def put(value: Any, steps: tuple[Step, ...], new: Any) -> None:
    """Set the value at ``steps`` in place, creating missing objects along the way."""
    if not steps:
        raise ValueError("cannot replace the root")
    cur = value
    for step, nxt in itertools.pairwise(steps):
        try:
            cur = cur[step]
        except (KeyError, IndexError):
            cur[step] = [] if isinstance(nxt, int) else {}
            cur = cur[step]
    cur[steps[-1]] = new


def render(steps: tuple[Step, ...]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


def leaves(value: Any, here: tuple[Step, ...] = ()) -> Iterator[tuple[tuple[Step, ...], Any]]:
    """The leaves inside a JSON object or list (scalars, and empty objects and lists) with
    their steps, depth first in document order; nothing for a scalar ``value``."""
    if not isinstance(value, dict | list):
        return
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for name, inner in items:
        at = (*here, name)
        if isinstance(inner, dict | list) and inner:
            yield from leaves(inner, at)
        else:
            yield at, inner
