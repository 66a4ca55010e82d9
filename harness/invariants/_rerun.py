"""Made again by the automation itself after the API had answered the first 2xx.

A job queue that hands a job to another worker when its lease (SQS's visibility timeout,
BullMQ's lock, a Sidekiq or Oban reaper's timeout) runs out, or when its worker died after the
call and before the job was marked done (an OOM kill, a deploy), runs the job's call again:
the first had succeeded. The journal shows it where an event's write was made again, the same
request and body, after its first had been answered 2xx, with no delivery of the event sent
between them (but copies it refused with a 4xx) — no sender's retry, no copy, no failed answer
asked for it. No other note told
these ("4 of 16 events produced duplicate effects: 4 repeated requests (4 POST)",
tests/gallery/leased_jobs.py and reaped_jobs.py). Deduplicating deliveries does not cure it:
the job is one delivery's; a key the API honours (the job's or the event's id) does, or marking
the job done in the same step as its call.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from ..core._model import Delivery, Effect
from ._facts import Facts
from ._idempotent import IDEMPOTENCY_KEY
from ._open_calls import identical, of_them
from ._refused import is_refusal
from ._unshared_dedup import MAX_LOOKED_AT


@dataclass(frozen=True, slots=True)
class Rerun:
    """``again``, the same request as ``first``, which the API had answered 2xx."""

    first: Effect
    again: Effect

    def text(self) -> str:
        """``POST /payouts eff_9, answered 201, made again as eff_17 1.0 s later``."""
        first, again = self.first, self.again
        return (
            f"{first.method.upper()} {first.path} {first.id}, answered {first.status}, made "
            f"again as {again.id} {again.at - first.at:.1f} s later"
        )


# What makes two writes one request (``_open_calls.identical``), and when and how the first
# was answered: read off a loaded run's columns for the first two writes of every duplicate.
_FIELDS = ("downstream", "method", "path", "body")
_Write = tuple[float, int, tuple[str, ...]]  # at, status, request


def rerun(facts: Facts, event_ids: Sequence[str]) -> list[str]:
    """Of ``event_ids`` (events written more than once; the first MAX_LOOKED_AT looked at, as
    every cause of a duplicate is: a failing run repeats half a million, and reading each one's
    deliveries and writes took 25 s), those whose write was made again after its first was
    answered 2xx, no delivery of the event sent in between. No Effect is made for them
    (``example`` makes one pair)."""
    looked_at = event_ids[:MAX_LOOKED_AT]
    if not looked_at:
        return []
    deliveries = facts.deliveries_of(looked_at)
    return [eid for eid in looked_at if _found(facts, eid, deliveries[eid]) is not None]


def example(facts: Facts, event_id: str) -> Rerun:
    """The pair ``rerun`` found for ``event_id`` (one of its results), made into Effects."""
    found = _found(facts, event_id, facts.deliveries_of([event_id])[event_id])
    first, again = cast(tuple[int, int], found)
    writes = facts.writes_of(event_id)
    return Rerun(writes[first], writes[again])


def _found(facts: Facts, eid: str, deliveries: Sequence[Delivery]) -> tuple[int, int] | None:
    # A copy the target refused (a 4xx: a replay past its tolerance) did no work.
    sent = sorted(d.sent_at for d in deliveries if not is_refusal(d))
    return _first_rerun(_writes(facts, eid), sent)


def _writes(facts: Facts, eid: str) -> list[_Write]:
    """The event's writes in time order, the first two read off the columns."""
    out: list[_Write] = []
    for index in (facts.first_write, facts.second_write):
        request = tuple(str(index.value(eid, name)).upper() if name == "method" else
                        str(index.value(eid, name)) for name in _FIELDS)  # fmt: skip
        out.append((index.value(eid, "at"), int(index.value(eid, "status")), request))
    for w in facts.later_writes.get(eid, ()):
        out.append((w.at, w.status, identical(w)))
    return out


def _first_rerun(writes: Sequence[_Write], sent: Sequence[float]) -> tuple[int, int] | None:
    """The places of the first of ``writes`` made again after an identical one answered 2xx,
    when every delivery ``sent`` (times, in order) before it had a write of its own already:
    none left to ask for it (copies racing each ask for theirs); and of that first one."""
    done: dict[tuple[str, ...], int] = {}
    made: dict[tuple[str, ...], int] = {}
    for n, (at, status, request) in enumerate(writes):
        first = done.get(request)
        if first is not None and bisect.bisect_right(sent, at) <= made[request]:
            return first, n
        made[request] = made.get(request, 0) + 1
        if first is None and 200 <= status < 300:
            done[request] = n
    return None


def rerun_text(found: Sequence[str], repeated: int, first: Rerun | None) -> str:
    """``; 4 of them made again by the automation itself …``: ``found``, the events
    ``rerun`` found, ``first`` the example of the first of them; "" for none."""
    if not found or first is None:
        return ""
    # A key the first write carried already did not keep the repeat out: not advised again.
    key = (
        ""
        if first.first.header(IDEMPOTENCY_KEY)
        else (
            "send an Idempotency-Key made from the job's or the event's id, which the API "
            "honours, or "
        )
    )
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    return (
        f"; {them} made again by the automation itself after "
        f"the API had answered the first 2xx, with no delivery of the event in between (e.g. "
        f"{first.text()}): the same work run twice — a job whose lease (visibility timeout) "
        "ran out while it was still working, or whose worker died after the call and before "
        f"the job was marked done; {key}mark the job done in the same step as its call"
    )
