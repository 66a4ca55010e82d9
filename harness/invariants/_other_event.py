"""A record's work done by another of its events than in the clean run, in its final state.

A "new customer" sync writes a customer's contact with the checkout it came from, for the
first checkout only (tests/gallery/contact_once.py). Three checkouts sent at once have whichever
the receiver took first make the contact: the same contact as in the clean run, but holding
another checkout's values — its session id, its name — than its clean twin's. Where
``no_lost_events`` counted that work as done (``_shortfalls.Swapped``: an event that made none
of what its clean twin made, another event of its record, owed none of it, making it instead),
``final_state_matches_baseline`` compares the record's state with each stand-in's tracer tokens
written as the event's it stood in for: a record differing only there ends as in the clean run.
A ledger's only: a register's record must hold its newest event's state.
"""

from __future__ import annotations

import re
from typing import Any

from ..core._model import Model
from ._expected import shortfalls_of
from ._facts import Facts

# An event's tracer token as a final state's values hold it once neutral: ``{run}e4``.
_TOKEN = re.compile(r"\{run\}e(\d+)(?!\d)")


def stand_ins(facts: Facts) -> dict[str, dict[str, str]]:
    """Record key -> (the seq of an event that did another's work -> that event's seq), for
    a ledger's records; empty for a register, or where no event stood in for another."""
    if facts.history.info.model is Model.REGISTER:
        return {}
    found = shortfalls_of(facts).swapped
    known = facts.events_by_id
    out: dict[str, dict[str, str]] = {}
    for eid, swap in found.items():
        event = known[eid]
        out.setdefault(event.key, {})[str(known[swap.by].seq)] = str(event.seq)
    return out


def as_its_own(value: Any, seqs: dict[str, str]) -> Any:
    """``value`` (a neutral final state's) with each stand-in's token written as the token of
    the event it stood in for (``seqs``)."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: "{run}e" + seqs.get(m.group(1), m.group(1)), value)
    if isinstance(value, dict):
        return {as_its_own(k, seqs): as_its_own(v, seqs) for k, v in value.items()}
    if isinstance(value, list):
        return [as_its_own(v, seqs) for v in value]
    return value
