"""An example payload compiled once into a function that builds each event's payload.

A synthetic source makes every payload from one example with some leaves replaced
(``_vary``). Copying the example's tree node by node and writing the new values back by path
cost a third of the source's time; the compiled function builds the same tree with one dict or
list display per object or list, the varied leaves read from the event's values, the constant
ones shared with every other payload (strings are immutable; every object and list is new).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core import _paths
from ..core._model import JSON

Steps = tuple[_paths.Step, ...]
Values = Mapping[str, Any]
Build = Callable[[Values], JSON]

# Python's parser refuses displays nested about 200 deep: a deeper subtree is built by a
# function of its own, compiled apart.
_DEPTH = 64
_LITERAL_TYPES = (str, int, bool, type(None))  # exactly these: their repr reads back as them


@dataclass(frozen=True, slots=True)
class Whole:
    """A leaf replaced whole by the value of ``atom`` (its text, as ``_vary`` names atoms);
    ``as_text``: written as a string, as the example's leaf was."""

    atom: str
    as_text: bool


@dataclass(frozen=True, slots=True)
class Spans:
    """A string leaf with atoms inside it: ``(start, end, atom)`` spans of ``text``."""

    text: str
    spans: tuple[tuple[int, int, str], ...]


def compile_payload(example: JSON, leaves: Mapping[Steps, Whole | Spans]) -> Build:
    """A function of an event's values (atom text -> new value) that returns a new payload
    equal to ``example`` with each leaf of ``leaves`` replaced as it says."""
    return _Compiler(leaves).function(example, ())


class _Compiler:
    def __init__(self, leaves: Mapping[Steps, Whole | Spans]) -> None:
        self.leaves = leaves
        self.constants: list[Any] = []
        self.inner: list[Build] = []  # the functions of subtrees nested deeper than _DEPTH

    def function(self, node: JSON, here: Steps) -> Build:
        source = f"lambda v: {self.expression(node, here, 0)}"
        # The text is built here from reprs of the example and indexes only.
        made: Build = eval(
            source, {"__builtins__": {"str": str}, "C": self.constants, "G": self.inner}
        )
        return made

    def expression(self, node: JSON, here: Steps, depth: int) -> str:
        leaf = self.leaves.get(here)
        if leaf is not None:
            return _filled(leaf, self._constant)
        if isinstance(node, dict | list) and depth >= _DEPTH:
            self.inner.append(self.function(node, here))
            return f"G[{len(self.inner) - 1}](v)"
        if isinstance(node, dict):
            items = (
                f"{self._constant(k)}:{self.expression(v, (*here, k), depth + 1)}"
                for k, v in node.items()
            )
            return "{" + ",".join(items) + "}"
        if isinstance(node, list):
            parts = (self.expression(v, (*here, i), depth + 1) for i, v in enumerate(node))
            return "[" + ",".join(parts) + "]"
        return self._constant(node)

    def _constant(self, value: Any) -> str:
        if type(value) in _LITERAL_TYPES:
            return repr(value)
        self.constants.append(value)
        return f"C[{len(self.constants) - 1}]"


def _filled(leaf: Whole | Spans, constant: Callable[[Any], str]) -> str:
    if isinstance(leaf, Whole):
        value = f"v[{constant(leaf.atom)}]"
        return f"str({value})" if leaf.as_text else value
    parts: list[str] = []
    last = 0
    for start, end, atom in leaf.spans:
        parts.extend((constant(leaf.text[last:start]), f"str(v[{constant(atom)}])"))
        last = end
    parts.append(constant(leaf.text[last:]))
    return "''.join((" + ",".join(parts) + "))"
