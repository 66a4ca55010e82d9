"""Events short of an effect in a run whose target was still working when it stopped watching.

An effect that arrives after the run's final state was taken (a late effect) shows the target
working past the settle quiet — a queue, a job on a schedule. Its event is not called lost
(``_unfinished``); nor, now, is any event short of its effect that the target accepted after
the last one it worked within the run: a queue in order comes to it after those, so after the
run stopped watching too — and a call it made between two runs, when no double listened, is not
seen at all. It was called lost (tests/gallery/scheduled_sync.py under renamed-field: 4 orders
paid after the final state, the 36 others "lost", while the job's pass was not watched). An
event accepted before one the target worked within the run was passed over: still lost.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from ..core._model import Outcome
from ..history import History, delivery_rows


def behind_late(history: History, written: Collection[str], ids: Collection[str]) -> set[str]:
    """Of ``ids`` (accepted events short of an effect, in a run with late effects), those the
    target accepted after every event of ``written`` (those it wrote within the run)."""
    if not ids:
        return set()
    wanted, short = set(written), set(ids)
    accepted: dict[str, float] = {}
    for eid, answered, outcome in delivery_rows(
        history.deliveries, "event_id", "answered_at", "outcome"
    ):
        if (eid in wanted or eid in short) and outcome == Outcome.OK and answered is not None:
            accepted[eid] = min(accepted.get(eid, math.inf), answered)
    last = max((accepted[e] for e in wanted if e in accepted), default=-math.inf)
    return {i for i in short if accepted.get(i, -math.inf) > last}


def behind_text(n: int) -> str:
    """Why ``n`` events queued behind a late one are not called lost."""
    one = n == 1
    return (
        f"{plural_events(n)} {'was' if one else 'were'} accepted after the last event the "
        "target worked while the run watched, and effects of the run arrived after its final "
        "state was taken — the target still working through what it accepted when the run "
        "stopped watching, as a queue or a scheduled job does: "
        f"{'it' if one else 'they'} may be late rather than lost — raise the settle quiet "
        "(`settle: {quiet: …}` or --settle-quiet) above the target's longest pause and run again"
    )


def plural_events(n: int) -> str:
    return "1 event" if n == 1 else f"{n:,} events"
