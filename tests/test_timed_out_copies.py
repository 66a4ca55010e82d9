"""A write made again for the sender's retry of a delivery that timed out while the target was
still working on it: customer_then_order under provider-retry-storm-stripe (two 1 s calls
before the 200, past Stripe's ack timeout) failed as '16 of 16 events produced duplicate
effects: 90 repeated requests (90 POST)', with no cause; it now names the retry and the cure."""

from __future__ import annotations

from harness.core._model import NO_ANSWER_WITHIN, Delivery, Event, Outcome, Status
from harness.history import History

from .test_duplicates_unattributed import run
from .test_partial_retried import call
from .test_record_attribution import verdict_of

RETRIED = "made again for the sender's retry of a delivery that timed out"


def checkout(tag: str, *, first_timed_out: bool) -> History:
    """One checkout delivered, then again 0.6 s later: its first delivery timed out (or was
    answered 200) while its order was made; the second made it again."""
    event = Event(f"evt_{tag}e0", f"cs_{tag}k0", 0, "checkout.session.completed", 0.0, {})
    if first_timed_out:
        first = Delivery(
            f"dlv_{tag}_1", event.id, 1, 0.0, 0.0, None, None, Outcome.INDETERMINATE,
            f"{NO_ANSWER_WITHIN} 0.5 s",
        )  # fmt: skip
    else:
        first = Delivery(f"dlv_{tag}_1", event.id, 1, 0.0, 0.0, 0.45, 200, Outcome.OK)
    again = Delivery(f"dlv_{tag}_1.r1", event.id, 2, 0.6, 0.6, 1.7, 200, Outcome.OK)
    return run(
        [event],
        [first, again],
        [call(event, 1, "/orders", 0.4), call(event, 2, "/orders", 1.5)],
        tag=tag,
    )


def test_an_order_made_again_for_the_retry_of_a_timed_out_delivery_names_the_retry() -> None:
    v = verdict_of(checkout("zqrun", first_timed_out=True), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert RETRIED in v.summary, v.summary
    assert (
        "dlv_zqrun_1 timed out while its POST /orders eff_evt_zqrune0_1 was made; "
        "dlv_zqrun_1.r1 made it again as eff_evt_zqrune0_2"
    ) in v.summary, v.summary
    assert "answer 2xx first and do the work after" in v.summary, v.summary


def test_a_copy_after_an_answered_delivery_is_not_said_to_be_a_retry() -> None:
    """The first delivery answered 200: the copy was no answer to the target's silence."""
    v = verdict_of(checkout("zqanswered", first_timed_out=False), "no_duplicate_effects")
    assert v.status is Status.FAIL and RETRIED not in v.summary, v.summary


def test_a_copy_sent_while_the_sender_still_waited_is_not_said_to_be_its_retry() -> None:
    """A copy sent 0.1 s into the first delivery's 0.5 s wait (a duplicate in flight, not the
    sender's answer to the target's silence) made the order again: copies racing, which a
    faster answer would not cure — no retry of a timed-out delivery to name."""
    event = Event("evt_zqcopye0", "cs_zqcopyk0", 0, "checkout.session.completed", 0.0, {})
    first = Delivery(
        "dlv_zqcopy_1", event.id, 1, 0.0, 0.0, None, None, Outcome.INDETERMINATE,
        f"{NO_ANSWER_WITHIN} 0.5 s",
    )  # fmt: skip
    copy = Delivery("dlv_zqcopy_2", event.id, 2, 0.1, 0.1, 0.4, 200, Outcome.OK)
    effects = [call(event, 1, "/orders", 0.05), call(event, 2, "/orders", 0.3)]
    v = verdict_of(run([event], [first, copy], effects, tag="zqcopy"), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert RETRIED not in v.summary, v.summary
