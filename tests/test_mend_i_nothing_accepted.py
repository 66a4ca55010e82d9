"""A run whose target accepted no event: ``no_lost_events`` had nothing to judge.

tests/gallery/record_throttle.py under provider-retry-storm-slack, with no project: the
built-in Slack payload carries no ``contact_id``, and the automation answered 500 to all 64
deliveries (16 events, each with Slack's 3 retries), in its clean run too. ``no_lost_events``
FAILED, "16 of 16 events lost: … Slack Events API gives an event up after its 3 retries … ;
the target accepted no event; nothing to judge": a refusal of every event shows nothing of
what the automation does with one (a payload it cannot read, a wrong secret), and the other
verdicts of effects said "not judged". Inconclusive now, with the answers and their likely
cause; ``no_server_errors`` fails on the 500s.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Outcome, Status
from harness.history import History

from .test_invariants import delivery, event, history, one


def refused_storm(provider: str) -> History:
    """Four events, each delivered with three retries, every delivery answered 500."""
    events = [event(n, key=f"c_{n}") for n in range(1, 5)]
    deliveries = [
        delivery(f"dlv_{n}_{a}", f"evt_{n}", Outcome.FAILED, sent=n + a, status=500, attempt=a)
        for n in range(1, 5)
        for a in range(1, 5)
    ]
    h = history(events, deliveries, [])
    settings = {**h.info.settings, "provider": provider, "retries": [1.0, 60.0, 300.0]}
    h.info = replace(h.info, settings=settings)
    return h


def test_a_target_that_refused_every_event_is_not_failed_for_losing_them() -> None:
    for provider in ("slack", "github"):  # retries given up, or never sent: alike
        v = one(refused_storm(provider), "no_lost_events")
        assert v.status is Status.INCONCLUSIVE, v.summary
        assert v.summary.startswith(
            "the target accepted no event; nothing to judge: the target accepted none of the "
            "16 deliveries; 16 answered 500 (likely cause: "
        ), v.summary
        assert "lost" not in v.summary.replace("not counted as lost", ""), v.summary
        assert "4 events never accepted by the target (not counted as lost)" in v.summary
    assert one(refused_storm("slack"), "no_server_errors").status is Status.FAIL
