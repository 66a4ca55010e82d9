"""Which writes a real API makes harmless to repeat: the same request twice changes nothing more.

A ``PUT`` or ``DELETE`` repeated with the same body leaves the resource as once. So does a
``PATCH`` sent as a JSON Merge Patch (RFC 7386, ``Content-Type: application/merge-patch+json``):
it sets the fields it names, and applying it twice gives what once does. Any other ``PATCH`` is
what its API makes of it — a JSON object that an API appends (Notion's block children), a JSON
Patch (RFC 6902) whose ``add`` appends again — so its repeat stays counted. A request carrying
an ``Idempotency-Key`` is deduplicated by an API that honours it.
"""

from __future__ import annotations

from ..core._model import Effect

IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"


MERGE_PATCH = "application/merge-patch+json"


def harmless_repeat(effect: Effect, method: str) -> bool:
    """Does sending this request (its upper-case ``method``) again with the same body change
    nothing more than the first did?"""
    if method in IDEMPOTENT_METHODS:
        return True
    return method == "PATCH" and merge_patch(effect)


def merge_patch(effect: Effect) -> bool:
    """Was ``effect`` sent as a JSON Merge Patch (its declared content type)?"""
    kind = effect.header("Content-Type")
    return kind is not None and kind.split(";")[0].strip().lower() == MERGE_PATCH


def may_repeat_harm(effect: Effect) -> bool:
    """Could a repeat of this write be a duplicate effect? Not a ``PUT``/``DELETE``, not a merge
    ``PATCH``, and no ``Idempotency-Key`` for the API to deduplicate it by."""
    return not harmless_repeat(effect, effect.method.upper()) and (
        effect.header(IDEMPOTENCY_KEY) is None
    )
