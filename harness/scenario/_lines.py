"""A YAML file read with the line of every key and list item, keeping only what JSON can hold.

Two steps, each reporting its problems as ``file:line: field.path: ...``:

1. parse the YAML into nodes that keep their lines (malformed YAML: ``file:line:col``);
2. walk the nodes: the line of every key and list item, and what JSON cannot hold — duplicate
   keys (PyYAML would let the last one win silently), keys YAML read as numbers or booleans,
   dates, non-finite numbers.

Only then are the nodes constructed into plain data, for a schema to validate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor

from ..core._errors import ScenarioError
from ..drive._jsonl import MAX_DEPTH  # one nesting limit, for scenario files and recorded events

Loc = tuple[str | int, ...]
"""Where a value is in a document: the keys and list indexes leading to it."""

_MAX_NODES = 100_000
MAX_BYTES = 10 * 1024 * 1024  # characters of one scenario file
_JSON_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml's parser where PyYAML was built with it: the same nodes and marks, ~8x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dotted(loc: Loc) -> str:
    """``("a", 0, "b")`` -> ``a[0].b``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def at(loc: Loc) -> str:
    """The prefix of a message about ``loc``: ``a[0].b: ``, or nothing for the whole file."""
    return f"{dotted(loc)}: " if loc else ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file, reported at the line of ``loc``."""

    loc: Loc  # picks the line, unless ``line`` is given
    message: str  # starts with the field path when there is one
    line: int | None = None


@dataclass(frozen=True, slots=True)
class YamlText:
    """A parsed YAML file: its data and the line of every key and list item in it."""

    file: str
    data: Any
    lines: Mapping[Loc, int]

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest ancestor present in the file (missing keys)."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return 1

    def fail(self, problems: Sequence[Problem]) -> NoReturn:
        """Raise one ScenarioError listing ``problems`` by line, the first 20 of them."""
        shown = sorted(problems, key=self._line_of)[:20]
        first, *rest = shown
        extra = [f"{self.file}:{self._line_of(p)}: {p.message}" for p in rest]
        if len(problems) > len(shown):
            extra.append(f"... and {len(problems) - len(shown)} more")
        raise ScenarioError(
            "\n".join([first.message, *extra]), where=f"{self.file}:{self._line_of(first)}"
        )

    def require_mapping(self, expected: str) -> None:
        """Fail unless the file holds a mapping; ``expected`` says what it should hold."""
        if not isinstance(self.data, dict):
            found = "nothing" if self.data is None else f"a {type(self.data).__name__}"
            self.fail([Problem((), f"the file holds {found} — {expected}")])

    def _line_of(self, problem: Problem) -> int:
        return problem.line or self.line(problem.loc)


_BIG_HINT = {
    "scenario file": "keep recorded events in a JSONL file the scenario names "
    "(source.recorded.file)",
    "project file": "keep recorded events in a JSONL file the project names "
    "(events: [{recorded: FILE}])",
}


def read_yaml(path: Path, what: str = "scenario file") -> YamlText:
    """The YAML file at ``path`` with its lines (``what``: "scenario file" or "project file",
    as messages name it). Raises ScenarioError for what JSON cannot hold."""
    file = str(path)
    try:
        # Refused unread when even one byte a character could not fit (a log named .yaml).
        if path.stat().st_size > 4 * MAX_BYTES:
            raise _too_big(file, what, f"{path.stat().st_size:,} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            f"no such {what}", where=file, hint="`harness scenarios` lists the built-in ones"
        ) from None
    except (OSError, UnicodeError) as exc:
        raise ScenarioError(f"cannot read the {what} ({exc})", where=file) from None
    if len(text) > MAX_BYTES:
        raise _too_big(file, what, f"{len(text):,} characters")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        # Walk before constructing: construction flattens merge keys (`<<`) into the mapping.
        lines, problems = _walk(root, file)
        if problems:
            YamlText(file, None, lines).fail(problems)
        data = None if root is None else loader.construct_document(root)
    except RecursionError:
        # PyYAML's own composer recurses per level: thousands of levels end here, before _walk.
        raise _too_deep(file) from None
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):  # libyaml's limit (1,000 levels)
            raise _too_deep(file) from None
        raise _yaml_error(file, exc) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML ({exc})", where=file) from None
    finally:
        loader.dispose()
    return YamlText(file, data, lines)


def _too_big(file: str, what: str, size: str) -> ScenarioError:
    return ScenarioError(
        f"the {what} holds {size}; at most {MAX_BYTES:,} characters are read",
        where=file,
        hint=_BIG_HINT[what],
    )


def _too_deep(file: str) -> ScenarioError:
    return ScenarioError(
        f"values nested far more than {MAX_DEPTH} levels deep",
        where=file,
        hint="a payload nests a few levels; flatten the example, or replay such events "
        "from a recorded JSONL source",
    )


def _yaml_error(file: str, exc: yaml.MarkedYAMLError) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    where = file if mark is None else f"{file}:{mark.line + 1}:{mark.column + 1}"
    what = exc.problem or exc.context or "cannot be parsed"
    if exc.problem and exc.context and exc.context_mark:
        what += f" ({exc.context}, which starts at line {exc.context_mark.line + 1})"
    return ScenarioError(
        f"not valid YAML: {what}",
        where=where,
        hint="check the indentation, the ':' after each key and the quoting on and before it",
    )


def _walk(root: yaml.Node | None, file: str) -> tuple[dict[Loc, int], list[Problem]]:
    """The line of every key and list item, and the values JSON cannot hold."""
    if root is None:
        return {(): 1}, []
    scalars = SafeConstructor()
    lines: dict[Loc, int] = {(): root.start_mark.line + 1}
    problems: list[Problem] = []
    stack: list[tuple[Loc, yaml.Node, frozenset[int]]] = [((), root, frozenset())]
    while stack:
        if len(lines) > _MAX_NODES:
            raise ScenarioError(
                f"the document has more than {_MAX_NODES} values (after expanding aliases)",
                where=file,
                hint="a scenario is small; generate events with source.synthetic instead",
            )
        loc, node, above = stack.pop()
        if len(loc) > MAX_DEPTH:
            raise ScenarioError(
                f"{at(loc[:MAX_DEPTH])}values nested more than {MAX_DEPTH} levels deep",
                where=f"{file}:{node.start_mark.line + 1}",
                hint="a payload nests a few levels; flatten the example, or replay such events "
                "from a recorded JSONL source",
            )
        problem = (
            Problem(loc, f"{at(loc)}a YAML alias that contains itself")
            if id(node) in above
            else _not_json(loc, node, scalars)
        )
        if problem is not None:
            problems.append(problem)
            continue
        children: list[tuple[Loc, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            children = _entries(loc, node, scalars, lines, problems)
        elif isinstance(node, yaml.SequenceNode):
            children = [((*loc, i), item) for i, item in enumerate(node.value)]
            lines.update((item_loc, item.start_mark.line + 1) for item_loc, item in children)
        # Reversed onto the stack, so walked in document order: problems on one line read
        # left to right.
        inner = above | {id(node)}
        stack.extend((child_loc, child, inner) for child_loc, child in reversed(children))
    return lines, problems


def _entries(
    loc: Loc,
    node: yaml.MappingNode,
    scalars: SafeConstructor,
    lines: dict[Loc, int],
    problems: list[Problem],
) -> list[tuple[Loc, yaml.Node]]:
    """The values of a mapping node, recording their keys' lines and the keys' problems.

    Merged mappings (``<<: *base``, ``<<: [*a, *b]``) come last, so the keys the mapping
    sets itself keep their own lines (``setdefault``); merged keys take the anchor's lines.
    """
    own: list[tuple[Loc, yaml.Node]] = []
    merged: list[tuple[Loc, yaml.Node]] = []
    seen: dict[object, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            merged.extend((loc, m) for m in sources)
            continue
        key = _key(loc, key_node, scalars)
        line = key_node.start_mark.line + 1
        if isinstance(key, Problem):
            problems.append(key)
        elif key in seen:
            problems.append(
                Problem(
                    (*loc, key),
                    f"{at(loc)}key {key!r} appears twice (first on line {seen[key]}) — keep one",
                    line,
                )
            )
        else:
            seen[key] = line
            lines.setdefault((*loc, key), line)
            own.append(((*loc, key), value_node))
    return own + merged


def _key(loc: Loc, node: yaml.Node, scalars: SafeConstructor) -> str | Problem:
    if isinstance(node, yaml.ScalarNode):
        key = scalars.construct_object(node)
        if isinstance(key, str):
            return key
        text = node.value
        return Problem(
            loc,
            f"{at(loc)}key {text!r} is not allowed — YAML reads it as {key!r}; "
            f"keys must be strings: quote it, '{text}'",
            node.start_mark.line + 1,
        )
    return Problem(
        loc,
        f"{at(loc)}a list or mapping used as a key is not allowed",
        node.start_mark.line + 1,
    )


def _not_json(loc: Loc, node: yaml.Node, scalars: SafeConstructor) -> Problem | None:
    if node.tag not in _JSON_TAGS:
        text = node.value if isinstance(node, yaml.ScalarNode) else node.tag
        if node.tag.endswith(":timestamp"):
            why = f"YAML reads it as a date; quote it: '{text}'"
        else:
            why = f"it is a YAML {node.tag.rsplit(':', 1)[-1]!r}, not JSON"
        return Problem(loc, f"{at(loc)}{text!r} is not allowed — {why}")
    if node.tag.endswith(":float") and not math.isfinite(scalars.construct_object(node)):
        return Problem(loc, f"{at(loc)}{node.value!r} is not allowed — must be a finite number")
    return None


def where_in(origin: str, loc: Loc) -> str:
    """``file:line`` of ``loc`` in the scenario file ``origin``, for an error found after loading
    (an environment variable read when the run is prepared); ``origin`` itself when it is no
    readable YAML file (a built-in or a scenario made in Python)."""
    path = Path(origin)
    if not path.is_file():
        return origin
    try:
        text = read_yaml(path)
    except ScenarioError:
        return origin
    return f"{origin}:{text.line(loc)}"
