"""``$ref``s inside one document (OpenAPI or JSON Schema): checked, and inlined where a schema
must stand on its own (hypothesis-jsonschema generates from a schema, not from a document).

Only local references (``#/components/schemas/Order``) are followed. A remote one (another
file, a URL) is refused, never fetched: the run reads nothing from the network, and a bundled
document (``redocly bundle``, ``swagger-cli bundle``) holds everything in one file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from ..core._model import JSON

Pointer = tuple[str | int, ...]
"""Where a value is in a document: the keys and list indexes leading to it."""


class RefProblem(Exception):
    """A ``$ref`` that cannot be followed: ``at`` is where the ``$ref`` key stands."""

    def __init__(self, at: Pointer, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


def pointer_text(at: Pointer) -> str:
    """``("paths", "/contacts")`` -> ``#/paths/~1contacts``."""
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in at)


def refs(value: JSON, here: Pointer = ()) -> Iterator[tuple[Pointer, str]]:
    """Every ``$ref`` string of ``value``, with where it stands (the ``$ref`` key itself)."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str):
            yield (*here, "$ref"), ref
        for name, item in value.items():
            yield from refs(item, (*here, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from refs(item, (*here, i))


def target(document: JSON, ref: str, at: Pointer) -> JSON:
    """The value ``ref`` (a ``#/...`` pointer) names in ``document``; RefProblem otherwise."""
    if not ref.startswith("#"):
        raise RefProblem(
            at,
            f"$ref {ref!r} points outside this document — only local references (#/...) are "
            "followed; bundle the document into one file (redocly bundle, swagger-cli bundle)",
        )
    found: Any = document
    for depth, part in enumerate(ref_parts(ref)):
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            reached = "#/" + "/".join(ref[1:].split("/")[1 : depth + 1]) if depth else "#"
            raise RefProblem(
                at, f"$ref {ref!r} leads nowhere: {reached} has no {part!r} — fix the pointer"
            )
    return found


def ref_parts(ref: str) -> list[str]:
    """``#/components/schemas/A~1B`` -> ``["components", "schemas", "A/B"]``."""
    return [unquote(p).replace("~1", "/").replace("~0", "~") for p in ref[1:].split("/")[1:]]


def follow(document: JSON, value: JSON, at: Pointer) -> tuple[Pointer, JSON]:
    """``value`` (found at ``at``), or what its chain of ``$ref``s leads to, and where that is
    (refs already checked with ``check_refs``)."""
    for _ in range(_MAX_CHAIN):
        if not (isinstance(value, dict) and isinstance(value.get("$ref"), str)):
            break
        ref = value["$ref"]
        value = target(document, ref, (*at, "$ref"))
        at = tuple(ref_parts(ref))
    return at, value


_MAX_CHAIN = 20


def check_refs(document: JSON, within: Pointer = ()) -> None:
    """RefProblem for the first ``$ref`` under ``within`` that does not resolve."""
    node = document
    for part in within:
        node = node[part]
    for at, ref in refs(node, within):
        target(document, ref, at)


def inline(document: JSON, value: JSON, at: Pointer) -> JSON:
    """``value`` (found at ``at`` in ``document``) with its ``$ref``s replaced by what they
    name, recursively; a schema that refers to itself (a tree) cannot be inlined: RefProblem."""
    return _inline(document, value, at, ())


def _inline(document: JSON, value: JSON, at: Pointer, seen: tuple[str, ...]) -> JSON:
    if isinstance(value, list):
        return [_inline(document, item, (*at, i), seen) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    ref = value.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            raise RefProblem(
                (*at, "$ref"),
                f"$ref {ref!r} refers to itself through {' -> '.join(seen)} — events cannot be "
                "generated from a recursive schema; give the webhook a schema without the cycle",
            )
        named = target(document, ref, (*at, "$ref"))
        found = _inline(document, named, tuple(ref_parts(ref)), (*seen, ref))
        siblings = {k: v for k, v in value.items() if k != "$ref"}
        if not siblings:
            return found
        # JSON Schema 2020-12 lets $ref stand beside other keywords: both apply.
        return {"allOf": [found, _inline(document, siblings, at, seen)]}
    return {name: _inline(document, item, (*at, name), seen) for name, item in value.items()}
