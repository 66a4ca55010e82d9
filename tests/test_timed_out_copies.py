"""A write made again for the sender's retry of a delivery that timed out while the target was
still working on it: customer_then_order under provider-retry-storm-stripe (two 1 s calls
before the 200, past Stripe's ack timeout) failed as '16 of 16 events produced duplicate
effects: 90 repeated requests (90 POST)', with no cause; it now names the retry and the cure."""

from __future__ import annotations

from collections.abc import Sequence

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


SLACK = {"provider": "slack", "ack_timeout": 0.5}


def message(tag: str, sends: Sequence[float] = (0.0, 0.502, 1.302)) -> History:
    """One Slack message, its ticket opened before the answer, each delivery answered 200 after
    1.01 s, past the 0.5 s ack timeout: Slack retries at 0.5 s while the first request still
    runs, and again once the retry is late too; each copy (one at each of ``sends``) opens its
    ticket again."""
    event = Event(f"evt_{tag}e0", f"ch_{tag}k0", 0, "message", 0.0, {})
    ids = [f"dlv_{tag}_1" + (f".r{n}" if n else "") for n in range(len(sends))]
    deliveries = [
        Delivery(i, event.id, n + 1, at, at, at + 1.01, 200, Outcome.OK)
        for n, (i, at) in enumerate(zip(ids, sends, strict=True))
    ]
    tickets = [call(event, n + 1, "/tickets", at + 0.004) for n, at in enumerate(sends)]
    return run([event], deliveries, tickets, tag=tag, declared=SLACK)


def test_a_ticket_opened_again_by_slacks_retry_of_a_late_answer_is_said_so() -> None:
    """Each copy Slack's retry of a delivery answered past its ack timeout, sent while that
    delivery still ran: it said "written again by a copy sent after the target had written the
    event and acknowledged it" (the first answer came at 1.01 s, before the second retry)."""
    v = verdict_of(message("zqslack"), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert "retry of a delivery answered after its ack timeout, sent while the first" in v.summary
    assert (
        "dlv_zqslack_1, sent at 0 s, was answered 200 only at 1.01 s, past the 0.5 s ack "
        "timeout; its retry dlv_zqslack_1.r1, sent at 0.502 s while it still ran, made its POST "
        "/tickets eff_evt_zqslacke0_1 again as eff_evt_zqslacke0_2 at 0.506 s"
    ) in v.summary, v.summary
    assert "Acknowledge first" in v.summary and "X-Slack-Retry-Num" in v.summary, v.summary
    assert "acknowledged it" not in v.summary, v.summary


def test_a_copy_that_was_no_retry_of_a_late_answer_keeps_the_event_from_that_cause() -> None:
    """The last copy sent 0.1 s after the retry before it, while the sender still waited on
    that one: not every copy was a retry of a late answer, so none is said to be."""
    v = verdict_of(message("zqextra", (0.0, 0.502, 1.302, 1.402)), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert "answered after its ack timeout" not in v.summary, v.summary


def test_an_answer_slack_had_given_up_on_is_no_acknowledgement_a_later_copy_came_after() -> None:
    """A copy sent of its own at 0.6 s (no retry: Slack still waited on its 0.502 s one), and
    a retry at 3 s that opened the ticket again: it was "written again by a copy sent after
    the target had written the event and acknowledged it" — taking the first answer, at 1.01
    s, long after Slack had stopped waiting for it, for an acknowledgement."""
    v = verdict_of(message("zqgaveup", (0.0, 0.502, 0.6, 3.0)), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert "acknowledged it" not in v.summary, v.summary
