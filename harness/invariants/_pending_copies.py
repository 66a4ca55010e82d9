"""Duplicates written by copies of an event taken one after the other, before its work was done.

A target that answers at once and works after (a flow's calls after its ``http response``
node, a background job) has not written an event when a copy of it comes: where the first's
calls were refused and are being retried, for seconds. A copy sent after the first was
answered — not in flight together, so no race of two requests — and before the event's first
write, worked as a new event, writes it again. Found with Node-RED's fanout flow at
``/hooks/fanout-retried`` under ``harness explore downstream-outage``: one order delivered twice,
0.3 s apart, each copy's calls refused 503 and retried 2 s later, each made — a duplicate no
cause told (``_raced_copies`` reads copies in flight together, ``_unshared_dedup`` a copy sent
after the first write).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..core._model import Delivery, Effect, Outcome
from ._facts import Facts, is_write, millis, plural
from ._open_calls import of_them
from ._raced_copies import overlap, repeated_write
from ._unshared_dedup import MAX_LOOKED_AT


@dataclass(frozen=True, slots=True)
class Pending:
    """An event's two writes, ``writes``, each after both ``copies`` (one sent after the
    other was answered) were accepted; ``refused``: its calls refused before its first write."""

    copies: tuple[Delivery, Delivery]
    writes: tuple[Effect, Effect]
    refused: int

    def text(self) -> str:
        """``dlv_1 and dlv_2, the later sent 301 ms after the first was answered, wrote POST
        /customers eff_5 and eff_7``."""
        a, b = self.copies
        w1, w2 = self.writes
        gap = b.sent_at - (a.answered_at or a.sent_at)
        return (
            f"{a.id} and {b.id}, the later sent {millis(gap)} after the first was answered, "
            f"wrote {w1.method.upper()} {w1.path.partition('?')[0]} {w1.id} and {w2.id}"
        )


def pending_copies(facts: Facts, event_ids: Sequence[str]) -> dict[str, Pending]:
    """Of ``event_ids`` (events written more than once no other cause told; the first
    MAX_LOOKED_AT looked at), those with two copies accepted one after the other before the
    first of the event's repeated writes."""
    looked_at = event_ids[:MAX_LOOKED_AT]
    deliveries, effects = facts.deliveries_of(looked_at), facts.effects_of(looked_at)
    found: dict[str, Pending] = {}
    for eid in looked_at:
        twice = repeated_write(facts.writes_of(eid))
        if twice is None:
            continue
        pair = _one_then_other(deliveries[eid], twice[0].at)
        if pair is not None:
            refused = sum(
                1 for w in effects[eid] if not is_write(w) and w.status and w.at < twice[0].at
            )
            found[eid] = Pending(pair, twice, refused)
    return found


def _one_then_other(sent: Sequence[Delivery], first_at: float) -> tuple[Delivery, Delivery] | None:
    """Two copies accepted (2xx) before ``first_at``, the later sent after the first was
    answered."""
    ok = sorted(
        (
            d
            for d in sent
            if d.outcome is Outcome.OK and d.answered_at is not None and d.answered_at <= first_at
        ),
        key=lambda d: d.sent_at,
    )
    return next(((a, b) for a, b in pairwise(ok) if not overlap(a, b)), None)


def pending_text(found: Sequence[Pending], repeated: int, skipped: int, said: bool) -> str:
    """``; all of them written again by a copy accepted after the first was answered …``;
    "" for none. ``skipped``: other events' later copies skipped; ``said``: the summary has
    told already that no copy was skipped, with its fix."""
    if not found:
        return ""
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    example = found[0]
    refused = (
        f"; {plural(example.refused, 'call')} of the event refused before that write"
        if example.refused
        else ""
    )
    head = (
        f"; {them} written again by a copy accepted after the first was answered but before "
        f"the event's first write (e.g. {example.text()}{refused}): the target works after it "
        "answers, and worked the later copy as a new event while the first's work was pending"
    )
    if said and not skipped:
        return head + ", as the copies above show no deduplication"
    if skipped:
        return head + (
            f", while the later copies of {plural(skipped, 'other event')} were skipped: it "
            "deduplicates, but marks an event done only when its work is — mark the id when "
            "the event is accepted, in one atomic step (a unique key's insert, SETNX), and "
            "forget it only if the work fails for good"
        )
    return head + (
        ", and no copy of any event was skipped: nothing in this run shows that the automation "
        "deduplicates — skip an event id already handled, marked when the event is accepted in "
        "one atomic step (a unique key's insert, SETNX), and keep it as long as the sender "
        "redelivers"
    )
