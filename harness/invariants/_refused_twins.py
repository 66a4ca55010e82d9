"""Refused in the clean run: clean twins that made their type's request and were refused it.

An event whose clean twin was accepted and left without a write is taken, by default, as one
the automation skips on purpose (``_expected``: owed nothing), or as one it held at the clean
run's end (``_held``). Neither holds where the twin *made* the request its type's other events
made and the downstream refused it (answered 4xx/5xx, nothing committed): its work was tried
and refused — an ``Idempotency-Key`` reused with another body (``order-None`` for every checkout
with no cart: tests/gallery/cart_orders.py), a field the API rejects — and an automation that
logs the refusal and answers 2xx loses the event the same way in every run, the clean one too.
Such events are owed what their type's events made, and a run that refuses them again fails
on the refusals, which its witnesses name.

Not where the twin's record got that request from another of its events in the clean run: a
refusal of work already done (a ``409`` for a create made once per record) may be the design.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..core._model import Event
from ..history import History, effect_column, event_rows
from ._facts import SAFE_METHODS
from ._requests import Request, Routes


def refused_twins(
    clean: History,
    routes: Routes,
    twins: Collection[Event],
    made: Mapping[str, Collection[Request]],
) -> set[str]:
    """The ids of those of ``twins`` (accepted clean events that wrote nothing) that made a
    request of ``made``'s (clean event id -> the requests it wrote) and were refused it, their
    record getting none of it from another event (module docstring)."""
    wanted = {e.id: e for e in twins}
    requests = {r for rs in made.values() for r in rs}
    if not wanted or not requests:
        return set()
    effects = clean.effects
    statuses = effect_column(effects, "status")
    committed = effect_column(effects, "committed")
    tried: dict[str, set[Request]] = {}
    for i, (status, done) in enumerate(zip(statuses, committed, strict=True)):
        if done or not 400 <= status < 600:
            continue
        effect = effects[i]
        if effect.method.upper() in SAFE_METHODS:
            continue
        request = routes.of(effect)
        if request not in requests:
            continue
        for eid in effect.event_ids:
            if eid in wanted:
                tried.setdefault(eid, set()).add(request)
    if not tried:
        return set()
    key_of = {eid: key for eid, key in event_rows(clean.events, "id", "key") if eid in made}
    written = {(key_of[eid], r) for eid, rs in made.items() if eid in key_of for r in rs}
    return {
        eid for eid, rs in tried.items() if any((wanted[eid].key, r) not in written for r in rs)
    }
