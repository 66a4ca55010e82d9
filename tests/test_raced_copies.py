"""no_duplicate_effects on copies of an event written while in flight together
(invariants/_raced_copies): what the other events' copies show about deduplication is said, and
nothing more."""

from __future__ import annotations

from harness.core._model import Delivery, Effect, Status

from .test_invariants import delivery, effect, event, history, one

NAME = "no_duplicate_effects"
RACED = "written by two copies in flight at the same time (e.g. dlv_a and dlv_b"
NO_DEDUP = "the automation does not deduplicate"
NO_DEDUP_SHOWN = "nothing in this run shows that the automation deduplicates"
RACED_AS_ABOVE = "as the copies above show no deduplication"
UNTOLD = "the run cannot tell"

# evt_1 delivered twice 50 ms apart, both copies in flight while each wrote its payout.
TWINS = [delivery("dlv_a", "evt_1", sent=0.0, latency=0.3), delivery("dlv_b", "evt_1", sent=0.05)]
TWIN_WRITES = [effect("eff_1", ["evt_1"], 0.1), effect("eff_2", ["evt_1"], 0.15)]


def _summary(deliveries: list[Delivery], effects: list[Effect]) -> str:
    events = [event(1, key="ord_1"), event(2, key="ord_2")]
    v = one(history(events, [*TWINS, *deliveries], [*TWIN_WRITES, *effects]), NAME)
    assert v.status is Status.FAIL
    assert RACED in v.summary, v.summary
    return v.summary


def test_racing_copies_alone_do_not_say_the_automation_does_not_deduplicate() -> None:
    """No other event was delivered twice: a check-then-act race and no deduplication write
    alike (main said 'does not deduplicate')."""
    summary = _summary([delivery("dlv_2", "evt_2", sent=3.0)], [effect("eff_3", ["evt_2"], 3.01)])
    assert NO_DEDUP not in summary
    assert UNTOLD in summary


def test_an_event_written_again_by_a_later_copy_shows_no_deduplication() -> None:
    """Said once, with its fix once: evt_2's late copy (``_not_deduplicated``), then evt_1's
    racing copies as more of the same (main said "no copy of any event was skipped" twice)."""
    summary = _summary(
        [delivery("dlv_2", "evt_2", sent=3.0), delivery("dlv_2b", "evt_2", sent=4.0)],
        [effect("eff_3", ["evt_2"], 3.01), effect("eff_4", ["evt_2"], 4.01)],
    )
    assert NO_DEDUP_SHOWN in summary and UNTOLD not in summary, summary
    assert summary.count("no copy of any event was skipped") == 1, summary
    assert summary.count("skip an event id already handled") == 1, summary
    assert summary.endswith(RACED_AS_ABOVE), summary


def test_an_event_whose_later_copy_was_skipped_shows_the_check_races() -> None:
    summary = _summary(
        [delivery("dlv_2", "evt_2", sent=3.0), delivery("dlv_2b", "evt_2", sent=4.0)],
        [effect("eff_3", ["evt_2"], 3.01)],
    )
    assert "check-then-act race" in summary and UNTOLD not in summary


def test_a_copy_taken_while_the_first_was_pending_is_said_so() -> None:
    """evt_1 answered at once, its copy sent 0.3 s after that answer, both writes 2 s later
    (the first's calls refused and retried: Node-RED's fanout-retried under explore): no race
    of two requests, no copy after a write — no cause was named. evt_2's later copy skipped:
    it deduplicates, but marks an event done only when its work is."""
    events = [event(1, key="ord_1"), event(2, key="ord_2")]
    deliveries = [
        delivery("dlv_a", "evt_1", sent=0.0),
        delivery("dlv_b", "evt_1", sent=0.35),
        delivery("dlv_2", "evt_2", sent=3.0),
        delivery("dlv_2b", "evt_2", sent=4.0),
    ]
    effects = [
        effect("eff_0", ["evt_1"], 0.1, status=503),
        effect("eff_1", ["evt_1"], 2.1),
        effect("eff_2", ["evt_1"], 2.4),
        effect("eff_3", ["evt_2"], 3.01),
    ]
    v = one(history(events, deliveries, effects), NAME)
    assert v.status is Status.FAIL
    assert (
        "all of them written again by a copy accepted after the first was answered but before "
        "the event's first write (e.g. dlv_a and dlv_b, the later sent 300 ms after the first "
        "was answered, wrote POST /payouts eff_1 and eff_2; 1 call of the event refused before "
        "that write): the target works after it answers, and worked the later copy as a new "
        "event while the first's work was pending, while the later copies of 1 other event "
        "were skipped: it deduplicates, but marks an event done only when its work is"
    ) in v.summary, v.summary
    assert RACED not in v.summary
