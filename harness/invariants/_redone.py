"""Duplicates from a target that does not deduplicate, its copies one after the other.

A receiver that keeps no record of the events it handled writes every copy it accepts: a
re-run of an import, a replayed delivery, a redelivery a minute later. The journal shows it
where no copy of any event was skipped and an event was written again by a copy sent after the
target had written it and acknowledged it — no race with the first, long done. Copies racing
(``_raced_copies``) and a record of events that not every copy reaches (``_unshared_dedup``)
have their own notes; these had none ("40 of 40 events produced duplicate effects: 40
repeated requests (40 POST)", tests/gallery/partial_write.py under import-run-twice).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._open_calls import share

ADVICE = (
    "skip an event id already handled, marked atomically before the work (a unique key's "
    "insert, SETNX), and keep it as long as the sender redelivers"
)


def redone_text(redone: Sequence[str], repeated: int, said: bool) -> str:
    """``; all of them written again by a copy sent after …``: ``redone``, events written
    again by a late copy where no copy was skipped; ``said``: whether a note before said the
    automation does not deduplicate. "" for none."""
    if not redone:
        return ""
    head = (
        f"; {share(len(redone), repeated)} of them written again by a copy sent after the "
        "target had written the event and acknowledged it"
    )
    if said:
        return head
    return head + (
        f", and no copy of any event was skipped: the automation does not deduplicate — {ADVICE}"
    )
