"""A GraphQL API's final state, which a stateful double does not hold.

The double is a REST store: a ``POST`` creates a resource of its path's collection. A GraphQL
API takes every call as ``POST /graphql``, so the double keeps each request — its query and
variables — as a resource of ``/graphql``: what was sent, not what the mutations did. Shopify's
``customerSet`` upserts: a customer written by an older checkout after a newer one ends on the
older one's values, while the double holds both requests, in a set that is the same in any
order. Those resources are left out of the final state, and each record is compared by the last
GraphQL mutation written for it instead, as a run without a stateful double is (its last write).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..core._graphql import operation_of, request_operation
from ..history import History
from ._facts import is_write

# The slot a record's last mutation is compared in, beside its downstream.
SLOT = "last GraphQL mutation"


def graphql_resource(body: object) -> bool:
    """Is this resource of a stateful double a GraphQL request it stored?"""
    return request_operation(body) is not None


def last_mutations(
    history: History, normal: Callable[[Any], Any]
) -> dict[str, dict[tuple[str, str], list[Any]]]:
    """Per record (normalised key), the last committed GraphQL mutation written naming it, per
    downstream: its operation's fields and its body."""
    last: dict[tuple[Any, str], tuple[str, str]] = {}
    for e in history.effects:  # in time order
        if e.key and is_write(e) and (found := operation_of(e.body)) is not None:
            last[(normal(e.key), e.downstream)] = (" ".join(found.fields), e.body)
    # Each body parsed once, the last only: it parsed as GraphQL above.
    state: dict[str, dict[tuple[str, str], list[Any]]] = {}
    for (record, downstream), (fields, body) in last.items():
        value = {"mutation": fields, "body": json.loads(body)}
        state.setdefault(record, {})[(downstream, SLOT)] = [normal(value)]
    return state


def compared_note(state: dict[str, dict[tuple[str, str], list[Any]]]) -> str:
    """``; 4 records written through a GraphQL API compared by their last mutation …``."""
    count = sum(1 for slots in state.values() if any(s[1] == SLOT for s in slots))
    if not count:
        return ""
    return (
        f"; {count:,} record{'s' if count != 1 else ''} written through a GraphQL API compared by "
        "the last mutation written for each (the stateful double keeps each GraphQL request as "
        "a resource: what was sent, not what it did)"
    )
