"""GraphQL over HTTP: what a ``POST /graphql`` does is in its body, not its method or path.

Shopify's Admin API, GitHub's and Linear's take every call as ``POST`` to one path with
``{"query": "...", "variables": {...}}``: a ``query`` operation reads, a ``mutation`` writes
through the fields it selects at its root (``customerSet``, ``customerCreate``). The judges
read the operation here: a query is no write, and a repeated mutation is named by its fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

# Cheap test before a body is parsed: a run may POST a million times, few of them GraphQL.
# Callers judging every write test it inline before calling ``graphql_read``.
MARK = '"query"'


@dataclass(frozen=True, slots=True)
class Operation:
    """One GraphQL operation: ``query``, ``mutation`` or ``subscription``, and the names of the
    fields it selects at its root (their names, not their aliases)."""

    kind: str
    fields: tuple[str, ...]

    @property
    def reads(self) -> bool:
        return self.kind == "query"


def operation_of(body: str) -> Operation | None:
    """The operation a request's body runs, or None when it is not a GraphQL request (not a
    JSON object with a ``query`` string that parses, naming one operation)."""
    if MARK not in body:
        return None
    try:
        request = json.loads(body)
    except ValueError:
        return None
    return request_operation(request)


def request_operation(request: object) -> Operation | None:
    """The operation of a GraphQL request already parsed from its JSON (``{"query": …,
    "variables": …}``: a stateful double's resource holds one), or None."""
    if not isinstance(request, dict) or not isinstance(query := request.get("query"), str):
        return None
    name = request.get("operationName")
    return _operation(query, name if isinstance(name, str) else None)


@lru_cache(maxsize=256)
def _operation(query: str, name: str | None) -> Operation | None:
    """Parsed once per query text: a run's calls share a few queries and vary their
    variables."""
    # Imported here: graphql-core takes ~0.2 s to import, and most runs send it nothing.
    from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse

    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None
    found = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (name is None or (d.name is not None and d.name.value == name))
    ]
    if len(found) != 1:
        return None  # several operations and none chosen: the server refuses it
    [chosen] = found
    fields = tuple(
        s.name.value for s in chosen.selection_set.selections if isinstance(s, FieldNode)
    )
    return Operation(chosen.operation.value, fields)


def graphql_read(method: str, body: str) -> bool:
    """Is this request (``method`` in upper case) a GraphQL query: ``POST``ed, and unable to
    change anything more than a ``GET`` can?"""
    if method != "POST":
        return False
    found = operation_of(body)
    return found is not None and found.reads
