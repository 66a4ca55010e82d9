"""What the downstream doubles of successive runs keep: a year's month runs against one target.

A real API does not forget its records at midnight on the last day of a month. Hand one
``Carried`` to every run (``RunOptions.carried``): each run's stateful doubles answer from its
stores, by downstream name, and leave them there for the next run. A clean (baseline) run never
uses it: it starts from an empty store, as its name says. (The tokens an API issued need no
carrying: a double knows them for as long as the process lives, ``_auth.issued``.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..core._model import OBSERVER, StateRecord
from ._resources import Resource, ResourceStore


class Carried:
    """The stores of the stateful doubles, by downstream name, kept from run to run.

    ``records``: the resources each stateful downstream starts with (a resumed year: the last
    complete month's final state), by downstream name.
    """

    def __init__(self, records: Mapping[str, Iterable[Resource]] | None = None) -> None:
        self._stores = {name: ResourceStore(rs) for name, rs in (records or {}).items()}

    @classmethod
    def from_states(cls, states: Iterable[StateRecord]) -> Carried:
        """The stores as runs left them, from the final states they journaled, oldest run
        first (a resumed year: every complete month's ``StateRecord``s in order). A run's final
        state holds what it wrote, so a later run's record replaces an earlier one's of the same
        id; the observer's records are not a double's and are left out. A resource a later run
        deleted is not known to be gone: it comes back."""
        found: dict[str, dict[tuple[str, str], Resource]] = {}
        for state in states:
            if isinstance(state.body, dict) and state.source != OBSERVER:
                resource = Resource(state.collection, state.id, state.body)
                found.setdefault(state.source, {})[(state.collection, state.id)] = resource
        return cls({name: list(resources.values()) for name, resources in found.items()})

    def store(self, name: str) -> ResourceStore:
        """The store of downstream ``name``, begun for a new run (what it holds is given)."""
        store = self._stores.get(name)
        if store is None:
            store = self._stores[name] = ResourceStore()
        store.begin()
        return store

    def records(self, name: str) -> list[Resource]:
        """Every resource downstream ``name`` holds now ([] when it has no store)."""
        store = self._stores.get(name)
        return [] if store is None else store.records()
