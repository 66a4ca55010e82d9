"""The payloads a scenario's paths must resolve in, checked before anything is sent.

A path that leads nowhere is not harmless: ``key: $.data.object.custmer`` gives every event a
made-up record of its own, a drift of a field that does not exist drifts nothing. A Sample is
what a source's events look like before the run — a synthetic source's example payload, or
every line of a recorded file with its line number — and says, in one form for every caller
(the source's paths, drift perturbations, correlation rules), why a path does not resolve and
which paths do exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..core import _paths
from ..core._model import JSON

EXAMPLE = "the example payload"
_LISTED = 40  # paths named in a message; a Stripe event has a few hundred
_LINES_NAMED = 5  # line numbers named in a message before "and N more"
_MISSING: Any = object()


class Payloads(Protocol):
    """(line number, payload) pairs that can be iterated more than once, and counted: a tuple,
    or a recorded file's lines read again on each pass (``_formats.RecordPayloads``)."""

    def __iter__(self) -> Iterator[tuple[int, JSON]]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Sample:
    """``payloads``: (line number, payload) pairs — one pair (0, example) for a synthetic
    source, every line of the file for a recorded one (streamed: a file of any size is checked
    in flat memory). ``name`` is how a message names them: ``the example payload`` or the
    file's name."""

    name: str
    payloads: Payloads

    @classmethod
    def example(cls, payload: JSON) -> Sample:
        return cls(EXAMPLE, ((0, payload),))

    @property
    def is_example(self) -> bool:
        return self.name == EXAMPLE

    def lacking(self, path: str) -> list[int]:
        """The line numbers (0: the example) whose payload has no value at ``path``: the
        field is missing, or null (a null id, key or type is no id, key or type)."""
        steps = _paths.parse(path)
        return [n for n, payload in self.payloads if _paths.get(payload, steps, None) is None]

    def unresolved(self, path: str) -> str | None:
        """Why ``path`` does not lead to a value in every payload, naming the lines that lack
        it and the paths that exist there; None when it does."""
        lacking = self.lacking(path)
        if not lacking:
            return None
        return self.missing(path, lacking)

    def missing(self, path: str, lacking: Sequence[int]) -> str:
        """The message for ``path`` lacking in the payloads of ``lacking`` (line numbers)."""
        first = next(p for n, p in self.payloads if n == lacking[0])
        held = _paths.get(first, _paths.parse(path), _MISSING)
        what = "holds null there" if held is None else "has no such field"
        if self.is_example:
            head = f"the example payload {what}"
        elif len(lacking) == len(self.payloads):
            head = f"no line of {self.name} has a value there ({_lines(len(lacking))} read)"
        else:
            head = (
                f"{_numbers(lacking)} of {self.name} ({len(lacking):,} of "
                f"{_lines(len(self.payloads))}) {'has' if len(lacking) == 1 else 'have'} no "
                "value there"
            )
        where = "it" if self.is_example else f"line {lacking[0]}"
        text = f"{head}; {where} has {existing(first, path)}"
        if len(lacking) < len(self.payloads):
            return text  # the path is right for the other lines: no typo to guess at
        guess = _guess(first, path)
        return text + (f" — did you mean {guess}?" if guess else "")


def _guess(payload: JSON, path: str) -> str | None:
    """``path`` with its first missing step replaced by a member name close to it, when that
    leads to a value: ``$.data.object.custmer`` -> ``$.data.object.customer``."""
    steps = _paths.parse(path)
    for depth in range(len(steps) - 1, -1, -1):
        inner = _paths.get(payload, steps[:depth], _MISSING)
        if inner is _MISSING:
            continue
        step = steps[depth]
        if not isinstance(inner, dict) or not isinstance(step, str):
            return None
        for close in difflib.get_close_matches(step, list(inner), n=3, cutoff=0.75):
            candidate = (*steps[:depth], close, *steps[depth + 1 :])
            if _paths.get(payload, candidate, None) is not None:
                return _paths.render(candidate)
        return None
    return None


def existing(payload: JSON, path: str) -> str:
    """The paths ``payload`` does have, for a message about ``path`` it does not: every path,
    or in a large payload the members of the deepest object on ``path`` that exists."""
    every = payload_paths(payload, limit=10_000)
    if not every:
        return "no fields at all"
    listed = every
    if len(every) > _LISTED:
        steps = _paths.parse(path)
        for depth in range(len(steps) - 1, -1, -1):
            inner = _paths.get(payload, steps[:depth], None)
            if isinstance(inner, dict | list) and inner:
                members = inner if isinstance(inner, dict) else range(len(inner))
                listed = [_paths.render((*steps[:depth], name)) for name in members]
                break
    more = f" and {len(listed) - _LISTED:,} more" if len(listed) > _LISTED else ""
    return ", ".join(listed[:_LISTED]) + more


def payload_paths(payload: JSON, limit: int = _LISTED) -> list[str]:
    """The paths of ``payload``'s fields, objects and leaves, in order: for error messages."""
    found: list[str] = []

    def walk(node: JSON, at: tuple[_paths.Step, ...]) -> None:
        items: Any = node.items() if isinstance(node, dict) else enumerate(node)
        for name, value in items:
            if len(found) >= limit:
                return
            inner = (*at, name)
            found.append(_paths.render(inner))
            if isinstance(value, dict | list):
                walk(value, inner)

    if isinstance(payload, dict | list):
        walk(payload, ())
    return found


def _lines(n: int) -> str:
    return f"{n:,} line" + ("" if n == 1 else "s")


def _numbers(lines: Sequence[int]) -> str:
    """``line 4``, ``lines 4, 7 and 9``, ``lines 4, 7, 9, 12, 15 and 3 more``."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = [str(n) for n in lines[:_LINES_NAMED]]
    rest = len(lines) - len(shown)
    if rest:
        return f"lines {', '.join(shown)} and {rest:,} more"
    return f"lines {', '.join(shown[:-1])} and {shown[-1]}"
