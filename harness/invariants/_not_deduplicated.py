"""Duplicates of a target that skips no copy at all: it does not deduplicate.

Where an event was written again by a copy sent after the target had written it and answered
it 2xx — no race with the first, long done — and no event accepted more than once was written
once (``copies_skipped``: none), nothing shows a record of the events handled: every copy is
worked as if new (tests/gallery/circuit_breaker.py under duplicate-storm, replayed-delivery,
import-run-twice), or the record holds only the event before (Node-RED's filter node, whose
copies with other events between them pass). Where some copies were skipped the record exists
but misses some copies (``_unshared_dedup``); where copies raced, ``_raced_copies`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._facts import Facts
from ._open_calls import of_them
from ._unshared_dedup import MAX_LOOKED_AT, written_after_late_copy


def not_deduplicated(facts: Facts, harmful: Sequence[str], skipped: int) -> list[str]:
    """Of ``harmful`` (events with a duplicate effect no other cause told), those written again
    by a copy sent once the first was done, where no event's copy was skipped; else none."""
    return [] if skipped else written_after_late_copy(facts, harmful)


def not_deduplicated_text(late: Sequence[str], repeated: int) -> str:
    """``; all of them written again by a copy sent after …``; "" for none."""
    if not late:
        return ""
    them = of_them(len(late), repeated, MAX_LOOKED_AT)
    return (
        f"; {them} written again by a copy sent after the "
        "target had written the event and acknowledged it, and no copy of any event was "
        "skipped: nothing in this run shows that the automation deduplicates (or that it "
        "remembers more than the last event it handled) — skip an event id already handled, "
        "marked before the work in one atomic step (a unique key's insert, SETNX), and keep it "
        "as long as the sender redelivers"
    )
