"""Duplicates written by copies of an event in flight at the same time: a check-then-act.

A receiver that skips an event id it has handled, but marks the id only once its work is done
(``if id in handled: return 200`` … the write … ``handled.add(id)``), lets a copy that arrives
while the first is still working through the check: both write. Copies a second apart are
skipped, copies at the same instant are not — what a provider's retry racing a slow first
attempt, or two of its servers sending one event, does (tests/gallery/shopify_dedup.py under
duplicate-storm). The journal shows it: the event's first two writes were each made while a
copy of it was in flight, and the two copies overlapped. Where other events' later copies
were skipped, the automation does deduplicate, and the note says the check is what races;
where none was but an event was written again by a copy sent after its first was done, that it
does not deduplicate; where no copy came after its first was done (only racing ones), that the
run cannot tell which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import Delivery, Effect
from ._facts import Facts, is_write, millis
from ._lag import in_flight
from ._open_calls import of_them
from ._unshared_dedup import MAX_LOOKED_AT


@dataclass(frozen=True, slots=True)
class Raced:
    """An event's two writes, ``writes``, made while its copies ``copies`` were in flight
    together."""

    copies: tuple[Delivery, Delivery]
    writes: tuple[Effect, Effect]
    after: bool = False  # both copies accepted before the writes: work done after answering

    def text(self) -> str:
        """``dlv_19 and dlv_20, sent 0.4 ms apart, wrote POST /deals eff_14 and eff_15``."""
        a, b = self.copies
        w1, w2 = self.writes
        return (
            f"{a.id} and {b.id}, sent {millis(abs(b.sent_at - a.sent_at))} apart, wrote "
            f"{w1.method.upper()} {w1.path.partition('?')[0]} {w1.id} and {w2.id}"
        )


def raced_copies(facts: Facts, event_ids: Sequence[str]) -> dict[str, Raced]:
    """Of ``event_ids`` (events written more than once; the first MAX_LOOKED_AT looked at),
    those whose first repeated write and its first were made while two of their copies were
    in flight together, each write in a copy's flight."""
    looked_at = event_ids[:MAX_LOOKED_AT]
    deliveries = facts.deliveries_of(looked_at)
    found: dict[str, Raced] = {}
    for eid in looked_at:
        sent = deliveries[eid]
        # Only events with copies in flight together have their writes read (made, for a
        # loaded run): most duplicates come one after the other, or have one delivery.
        if not _any_overlap(sent):
            continue
        twice = repeated_write(facts.writes_of(eid))
        if twice is None:
            continue
        pair = _overlapping(sent, *twice)
        if pair is not None:
            found[eid] = Raced(pair, twice)
        elif (pair := _accepted_together(sent, twice[0].at)) is not None:
            # Not shown in a copy's flight: only a repeat no API makes harmless is told.
            made = repeated_write([w for w in facts.writes_of(eid) if not _same_put(w, twice)])
            if made is not None:
                found[eid] = Raced(pair, made, after=True)
    return found


def _same_put(write: Effect, twice: tuple[Effect, Effect]) -> bool:
    """Whether ``write`` is a PUT or DELETE of the request ``twice`` repeats, with its body:
    the same idempotent request again."""
    first = twice[0]
    return (
        write.method.upper() in ("PUT", "DELETE")
        and (write.downstream, write.method, write.path)
        == (first.downstream, first.method, first.path)
        and write.body == first.body
    )


def _accepted_together(
    sent: Sequence[Delivery], first_at: float
) -> tuple[Delivery, Delivery] | None:
    """Two copies in flight together, both accepted (2xx) before the event's first write: a
    target that works after it answers took both before either was done."""
    ok = [
        d
        for d in sent
        if d.status
        and 200 <= d.status < 300
        and d.answered_at is not None
        and d.answered_at <= first_at
    ]
    for a in ok:
        for b in ok:
            if b is not a and a.sent_at <= b.sent_at and overlap(a, b):
                return (a, b)
    return None


def repeated_write(writes: Sequence[Effect]) -> tuple[Effect, Effect] | None:
    """The first write made again (the same downstream, method and path) and its repeat."""
    seen: dict[tuple[str, str, str], Effect] = {}
    for w in writes:
        if not is_write(w):
            continue
        request = (w.downstream, w.method.upper(), w.path.partition("?")[0])
        if request in seen:
            return seen[request], w
        seen[request] = w
    return None


def _overlapping(
    sent: Sequence[Delivery], first: Effect, second: Effect
) -> tuple[Delivery, Delivery] | None:
    """Two copies in flight together, one in flight at ``first``, the other at ``second``."""
    for a in sent:
        if not in_flight(a, first.at):
            continue
        for b in sent:
            if b is not a and in_flight(b, second.at) and overlap(a, b):
                return (a, b) if a.sent_at <= b.sent_at else (b, a)
    return None


def _any_overlap(sent: Sequence[Delivery]) -> bool:
    """Whether two of ``sent`` were in flight at one time: by time sent, one sent before the
    latest end of those before it (every pair compared was quadratic in an event's copies)."""
    reach = float("-inf")
    for d in sorted(sent, key=_sent):
        if d.sent_at < reach:
            return True
        reach = max(reach, d.answered_at if d.answered_at is not None else float("inf"))
    return False


def _sent(d: Delivery) -> float:
    return d.sent_at


def overlap(a: Delivery, b: Delivery) -> bool:
    """Whether ``a`` and ``b`` were in flight at one time (an unanswered one never ended)."""
    a_end = a.answered_at if a.answered_at is not None else float("inf")
    b_end = b.answered_at if b.answered_at is not None else float("inf")
    return a.sent_at < b_end and b.sent_at < a_end


# Copies both answered before either's write: the id may well be marked before the work, in a
# record the other copy never reads (gallery background_tasks: a set per uvicorn worker).
_PER_PROCESS = (
    "; or it marks the id at once but in a record of its own per process (a set in each "
    "worker of a prefork server), which a copy taken by another worker never reads: keep it "
    "in one store every worker shares"
)


def raced_text(
    found: Sequence[Raced], repeated: int, skipped: int, redone: bool, said: bool = False
) -> str:
    """``; all of them written by two copies in flight at the same time …``; "" for none.
    ``skipped``: how many events accepted more than once were written once; ``redone``: where
    none was, whether an event was written again by a copy sent after its first was done (no
    deduplication shown, not only copies racing); ``said``: the summary has told that already
    (``_not_deduplicated``), with its fix."""
    if not found:
        return ""
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    head = f"; {them} written by two copies in flight at the same time (e.g. {found[0].text()})"
    if said and not skipped:
        return head + ", as the copies above show no deduplication"
    if skipped:
        return head + (
            f", while the later copies of {skipped:,} other events were skipped: the automation "
            "deduplicates, but a copy checks the event's id before the first has marked it (a "
            "check-then-act race) — mark the id before the work, in one atomic step (a unique "
            "key's insert, an insert-if-absent, SETNX), or hold a lock per event id"
            + (_PER_PROCESS if any(r.after for r in found) else "")
        )
    if redone:
        return head + (
            ", and no copy of any event was skipped: the automation does not deduplicate — skip "
            "an event id already handled, marked atomically before the work (a unique key's "
            "insert, SETNX), and keep it as long as the sender redelivers"
        )
    return head + (
        ", and no copy accepted after its event's first was done shows whether the "
        "automation deduplicates: with a check-then-act race or not at all, the run cannot tell "
        "(copies a second apart, as duplicate-storm sends, would) — either way, skip an event id "
        "already handled, marked atomically before the work (a unique key's insert, SETNX), and "
        "keep it as long as the sender redelivers"
    )
