"""A recording's record-level emails: an email that several events of one record carry, and
no event of another record, is the record's own (a customer's, on each of its checkouts).

A recording traced for a comparison of final states (``TracerSpec.resolved``) marks each
email with its event's token, so a customer's two checkouts reached the target with two emails,
and a find-or-create by email could not race (it did, once synthetic events carried one email
per record: ``_vary._mark_described``). Marked with the record's token instead
(``_tracer.Marks``), the record's checkouts carry one email again, still this run's own."""

from __future__ import annotations

from collections.abc import Iterable

from ..core._model import Event
from ..core._sensitive import json_leaves
from ._string_rewrites import is_email
from ._tracer import Marks


def record_marks(events: Iterable[Event]) -> dict[str, Marks]:
    """By event id, the record's own emails each event carries (module docstring); events
    carrying none are left out."""
    held: list[tuple[Event, frozenset[str]]] = []
    records: dict[str, set[str]] = {}  # email -> the records whose events carry it
    counts: dict[tuple[str, str], int] = {}  # (email, record) -> its events
    for ev in events:
        found = frozenset(v for v in json_leaves(ev.payload) if type(v) is str and is_email(v))
        if not found:
            continue
        held.append((ev, found))
        for mail in found:
            records.setdefault(mail, set()).add(ev.key)
            counts[mail, ev.key] = counts.get((mail, ev.key), 0) + 1
    own = {mail for mail, keys in records.items() if len(keys) == 1}
    marks = {}
    for ev, found in held:
        mine = frozenset(m for m in found if m in own and counts[m, ev.key] > 1)
        if mine:
            marks[ev.id] = Marks(emails=mine)
    return marks
