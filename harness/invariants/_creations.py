"""Resources created more often than the clean run created them, per record.

A write naming only its record cannot show which of the record's events repeated it, and a
repeat of most writes may be harmless (a PATCH that merges, a PUT of the same state):
``no_duplicate_effects`` is inconclusive on more of them than the clean run made. A creation
is not: a ``POST`` to a collection answered ``201 Created`` makes a new resource each time, so
a record that got more of them than its clean twin, for the same events all accepted, holds a
resource made twice — whichever of its events made it (a redelivery not deduplicated, a retry
without an Idempotency-Key, simultaneous events racing a find-or-create). Only where every
write of the request in the clean run named its record (else the twin's count may be short)
and every one counted here was answered 201, or committed and then failed (an API that booked
it and answered 502: made all the same), one at least 201.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core._model import Effect
from ._expected import expectation_of, is_item
from ._facts import Facts, is_write
from ._idempotent import mutation_fields
from ._unattributed import Counted, Unattributed

CREATED = 201


def created_more(facts: Facts, found: Unattributed) -> list[Counted]:
    """The records of ``found`` (its requests over what the clean run made) that got more
    creations than their clean twin for the same events, all accepted. A twin that created
    nothing shows nothing of what its events create (a clean run whose worker died with them
    queued): one creation here is not a resource made twice."""
    baseline = facts.history.baseline
    if baseline is None:
        return []
    candidates = [
        c
        for c in found.over
        if c.record is not None
        and c.here > c.clean >= 1
        and c.accepted == c.clean_accepted == c.events
        and _creation(c)
    ]
    if not candidates:
        return []
    routes = expectation_of(facts).routes
    wanted = {c.request for c in candidates}
    unkeyed = {
        request
        for e in baseline.effects
        if e.key is None and is_write(e) and (request := routes.of(e)) in wanted
    }
    return [c for c in candidates if c.request not in unkeyed]


def _creation(c: Counted) -> bool:
    """A POST to a collection (the route's last segment no parameter), each of this run's
    writes of it naming no event answered 201 or committed and then failed (the double booked
    it, then answered 5xx or dropped the connection: a resource made, its answer lost), one of
    them at least answered 201 (the route creates). Not a GraphQL mutation: a stateful double
    answers every POST 201, and whether ``tagsAdd`` or ``customerCreate`` makes something is
    the mutation's to say, not the path's."""
    return (
        c.request.method == "POST"
        and not is_item(c.request.route)
        and any(e.status == CREATED for e in c.unattributed)
        and all(e.status == CREATED or _failed_after_commit(e) for e in c.unattributed)
        and not any(mutation_fields(e) for e in c.unattributed)
    )


def _failed_after_commit(e: Effect) -> bool:
    return e.committed and not 200 <= e.status < 300


def created_text(created: Sequence[Counted], clean_run: str, several: bool) -> str:
    worst = max(created, key=lambda c: c.here - c.clean)
    request = f"{worst.request.method} {worst.request.route}"
    requests = sorted({c.request.text(several) for c in created})
    return (
        f"{len({c.record for c in created}):,} records got more resources created by "
        f"{', '.join(requests)} than the clean run {clean_run} created for the same events, "
        f"all accepted (record {worst.record}: {worst.here:,} created, where its clean twin "
        f"got {worst.clean:,}): a resource made twice, whichever of the record's events made "
        "it — a redelivery not deduplicated, a retry without an Idempotency-Key, or "
        "simultaneous events racing a find-or-create; those writes name their record, not "
        f"their event (if the API upserts on this POST, declare it `merges: ['{request}']` on "
        f"downstream {worst.request.downstream})"
    )
