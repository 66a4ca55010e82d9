"""Which writes a real API makes harmless to repeat: the same request twice changes nothing more.

A ``PUT`` or ``DELETE`` repeated with the same body leaves the resource as once. So does a
``PATCH`` whose body is a JSON object: a JSON Merge Patch (RFC 7386) sets the fields it names,
and applying it twice gives what once does. A JSON Patch (RFC 6902) is an array of operations,
and its ``add`` to an array appends again: not harmless. A request carrying an
``Idempotency-Key`` is deduplicated by an API that honours it.
"""

from __future__ import annotations

import json

from ..core._model import Effect

IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"


def harmless_repeat(method: str, body: str) -> bool:
    """Does sending this request (upper-case ``method``) again with the same body change nothing
    more than the first did?"""
    if method in IDEMPOTENT_METHODS:
        return True
    return method == "PATCH" and merge_patch(body)


def merge_patch(body: str) -> bool:
    """Is ``body`` a JSON object (a JSON Merge Patch), not an array (a JSON Patch) nor text?"""
    if not body.lstrip().startswith("{"):
        return False  # parsed only when it may be one: most bodies are not
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


def may_repeat_harm(effect: Effect) -> bool:
    """Could a repeat of this write be a duplicate effect? Not a ``PUT``/``DELETE``, not a merge
    ``PATCH``, and no ``Idempotency-Key`` for the API to deduplicate it by."""
    return not harmless_repeat(effect.method.upper(), effect.body) and (
        effect.header(IDEMPOTENCY_KEY) is None
    )
