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

from ..core._model import Effect
from ._facts import Facts
from ._idempotent import IDEMPOTENCY_KEY
from ._open_calls import identical, share
from ._refused import is_refusal


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


def rerun(facts: Facts, event_ids: Sequence[str]) -> dict[str, Rerun]:
    """Of ``event_ids`` (events written more than once), those whose write was made again
    after its first was answered 2xx, no delivery of the event sent in between."""
    if not event_ids:
        return {}
    deliveries = facts.deliveries_of(event_ids)
    found = {}
    for eid in event_ids:
        # A copy the target refused (a 4xx: a replay past its tolerance) did no work.
        sent = sorted(d.sent_at for d in deliveries[eid] if not is_refusal(d))
        made = _first_rerun(facts.writes_of(eid), sent)
        if made is not None:
            found[eid] = made
    return found


def _first_rerun(writes: Sequence[Effect], sent: Sequence[float]) -> Rerun | None:
    """The first of ``writes`` (in time order) made again after an identical one answered
    2xx, when every delivery ``sent`` (times, in order) before it had a write of its own
    already: none left to ask for it (copies racing each ask for theirs)."""
    done: dict[tuple[str, str, str, str], Effect] = {}
    made: dict[tuple[str, str, str, str], int] = {}
    for w in writes:
        request = identical(w)
        first = done.get(request)
        if first is not None and bisect.bisect_right(sent, w.at) <= made[request]:
            return Rerun(first, w)
        made[request] = made.get(request, 0) + 1
        if first is None and 200 <= w.status < 300:
            done[request] = w
    return None


def rerun_text(found: Sequence[Rerun], repeated: int) -> str:
    """``; 4 of them made again by the automation itself …``; "" for none."""
    if not found:
        return ""
    # A key the first write carried already did not keep the repeat out: not advised again.
    key = (
        ""
        if found[0].first.header(IDEMPOTENCY_KEY)
        else (
            "send an Idempotency-Key made from the job's or the event's id, which the API "
            "honours, or "
        )
    )
    return (
        f"; {share(len(found), repeated)} of them made again by the automation itself after "
        f"the API had answered the first 2xx, with no delivery of the event in between (e.g. "
        f"{found[0].text()}): the same work run twice — a job whose lease (visibility timeout) "
        "ran out while it was still working, or whose worker died after the call and before "
        f"the job was marked done; {key}mark the job done in the same step as its call"
    )
