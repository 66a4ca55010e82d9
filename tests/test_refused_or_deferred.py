"""An event the target refused with a 4xx and one it answered 500, neither redelivered: one rule
(docs/invariants.md, no_lost_events, *Refused or deferred*). A 4xx refuses the event itself —
the automation's decision, which a redelivery of the same request meets again: not lost, and
accepts_genuine judges whether it was right. A 500 (or 429, 503, no answer) says "not now":
whether a retry is taken decides its loss — lost where the sender never brings it back, else
not seen, with the run that would show it. The 500 was said both ways in one summary: "2 events
never accepted by the target (not counted as lost)" and "not judged: 1 event the target
refused (answered 500 …) was never redelivered" (split_signature under a secret rotation: "10
events never accepted … (not counted as lost) …; not judged: 10 events the target refused
(answered 500 to every delivery …)")."""

from __future__ import annotations

from harness.core._model import Status

from .test_deferred_events import burst
from .test_invariants import one


def test_a_500_not_redelivered_is_not_also_counted_as_not_lost() -> None:
    v = one(burst(401, 500), "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "never accepted by the target (not counted as lost)" not in v.summary, v.summary
    assert (
        "1 event refused by the target (answered 4xx: its decision on the event, which a "
        "redelivery meets again — not counted as lost; accepts_genuine judges whether it was "
        "right)" in v.summary
    ), v.summary
    assert "not judged: 1 event the target refused (answered 500 to every delivery" in v.summary
    assert "whether the target takes it on a retry is not seen" in v.summary, v.summary


def test_a_500_a_sender_never_brings_back_is_lost_and_a_4xx_still_refused() -> None:
    v = one(burst(401, 500, provider="github"), "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 4 events lost: 1 event the target refused"), v.summary
    assert "1 event refused by the target (answered 4xx" in v.summary, v.summary
    assert "never accepted by the target" not in v.summary, v.summary
