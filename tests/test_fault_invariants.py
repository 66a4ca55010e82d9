"""recovers_after_outage, no_server_errors and ``committed`` over small hand-built Histories."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from harness.core._errors import ScenarioError
from harness.core._model import FAULT_MARK, FAULT_MARKS, Delivery, Fault, Model, Outcome, Status
from harness.core._scenario import InvariantSpec
from harness.history import History, Mark
from harness.invariants import check_specs, judge

from .test_invariants import delivery, effect, event, history, one

OUTAGE = Fault("api", "status", 1.0, 3.0, {"status": 503})
NAME = "recovers_after_outage"


def with_faults(h: History, *faults: Fault, time_scale: float | None = None) -> History:
    settings = dict(h.info.settings)
    if time_scale is not None:
        settings["time_scale"] = time_scale
    return replace(h, info=replace(h.info, settings=settings), faults=list(faults))


def outage_run(*, recovered_at: float | None, time_scale: float | None = None) -> History:
    """evt_1 accepted before the outage; evt_2 during it, refused, then (maybe) retried."""
    effects = [
        effect("eff_1", ["evt_1"], 0.5),
        effect("eff_2", ["evt_2"], 1.6, status=503),
        effect("eff_3", ["evt_2"], 2.0, status=503),
    ]
    if recovered_at is not None:
        effects.append(effect("eff_4", ["evt_2"], recovered_at))
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1", sent=0.4), delivery("dlv_2", "evt_2", sent=1.5)],
        effects,
    )
    return with_faults(h, OUTAGE, time_scale=time_scale)


# -- committed -------------------------------------------------------------------------------


def test_a_committed_write_answered_5xx_is_an_effect_and_a_refused_one_is_not() -> None:
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2")],
        [
            replace(effect("eff_1", ["evt_1"], 0.1, status=502), committed=True),
            effect("eff_2", ["evt_2"], 0.2, status=503),
            replace(effect("eff_3", ["evt_2"], 0.3, status=0), committed=False),
        ],
    )
    v = one(h, "no_lost_events")
    assert v.status is Status.FAIL
    assert v.evidence.event_ids == ("evt_2",)
    assert v.evidence.effect_ids == ("eff_2", "eff_3")
    assert "(refused 503)" in v.evidence.lines[0]
    assert "(connection reset)" in v.evidence.lines[0]


def test_repeats_of_a_committed_then_failed_write_with_one_key_are_harmless() -> None:
    key = {"Idempotency-Key": "evt_1"}
    writes = [
        replace(effect("eff_1", ["evt_1"], 0.1, headers=key, status=502), committed=True),
        effect("eff_2", ["evt_1"], 0.5, headers=key, status=201),
    ]
    h = history([event(1)], [delivery("dlv_1", "evt_1")], writes)
    v = one(h, "no_duplicate_effects")
    assert v.status is Status.PASS
    assert "1 repeat with the same Idempotency-Key: harmless" in v.summary
    unkeyed = [replace(w, headers={}) for w in writes]
    v = one(replace(h, effects=unkeyed), "no_duplicate_effects")
    assert v.status is Status.FAIL
    assert v.evidence.effect_ids == ("eff_1", "eff_2")


def test_a_write_applied_and_made_again_under_another_key_is_not_told_to_send_one() -> None:
    """The first write carried an Idempotency-Key, its retry another: advising to send a key
    (as it did) sends its author to add what is there; the key changed between attempts."""
    writes = [
        replace(
            effect("eff_1", ["evt_1"], 0.1, headers={"Idempotency-Key": "k1"}, status=502),
            committed=True,
        ),
        effect("eff_2", ["evt_1"], 0.5, headers={"Idempotency-Key": "k2"}, status=201),
    ]
    v = one(history([event(1)], [delivery("dlv_1", "evt_1")], writes), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert "made again a write the API had applied but answered 502" in v.summary, v.summary
    # One delivery of the event: nothing but the automation's own retry made it again.
    assert (
        "a retry of the automation's own after a failure that was no failure (each event was "
        "delivered once)"
    ) in v.summary, v.summary
    assert "send an Idempotency-Key" not in v.summary, v.summary
    assert (
        "the first carried an Idempotency-Key and the repeat another, or none: the key changed "
        "between the attempts"
    ) in v.summary, v.summary


# -- recovers_after_outage -------------------------------------------------------------------


def test_recovered_after_the_window_passes() -> None:
    v = one(outage_run(recovered_at=4.0), "recovers_after_outage", deadline=300)
    assert v.status is Status.PASS
    assert v.summary == (
        "the 1 event accepted during 1 fault window got its effect within 300 s of the "
        "window closing: the last 1.00 s after its window closed"
    )


def test_never_recovered_says_how_long_the_run_watched_not_the_deadline() -> None:
    """A run that ended 2.5 s after its window closed did not see 600 s go by: it said 'did
    not recover within 600 s of the window closing' (an outbox relay that marks a row sent
    before its call, tests/gallery/outbox_relay.py, under downstream-outage). One that watched
    past the deadline still says 'within'."""
    h = outage_run(recovered_at=None)
    h.ended_at = 5.5
    v = one(h, "recovers_after_outage", deadline=600)
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "1 of 1 event accepted during 1 fault window did not recover by the end of the run "
        "(5.50 s, 2.50 s after the last window closed; the deadline, 600 s of the window "
        "closing, was not waited out): 1 never got an effect"
    ), v.summary
    v = one(h, "recovers_after_outage", deadline=2)
    assert v.summary.startswith(
        "1 of 1 event accepted during 1 fault window did not recover within 2 s of the window "
        "closing: 1 never got an effect"
    ), v.summary


def test_never_recovered_fails_naming_the_event_delivery_and_refused_calls() -> None:
    v = one(outage_run(recovered_at=None), "recovers_after_outage")
    assert v.status is Status.FAIL
    assert v.summary.startswith("1 of 1 event accepted during 1 fault window did not recover")
    assert "1 never got an effect" in v.summary
    assert (v.evidence.event_ids, v.evidence.delivery_ids) == (("evt_2",), ("dlv_2",))
    assert v.evidence.effect_ids == ("eff_2", "eff_3")
    line = v.evidence.lines[0]
    assert line.startswith(
        "event evt_2 (record ord_1, seq 2) was accepted by dlv_2 (200) at 1.55 s during the "
        "api status fault (1.00 s-3.00 s) but got no committed effect by the end of the run "
        "(2.00 s)"
    )
    assert "POST /payouts eff_2 (refused 503)" in line


def test_the_targets_own_time_after_the_window_counts_in_real_seconds() -> None:
    # Accepted during the window, done 1.5 s after it closed: the target's own work, real time.
    # At time scale 0.1 a 10 s deadline is not 1 s of run time: 1.5 s of backlog is 1.5 s.
    slow = outage_run(recovered_at=4.5, time_scale=0.1)
    v = one(slow, "recovers_after_outage", deadline=10)
    assert v.status is Status.PASS, v.summary
    assert "the last 1.50 s after its window closed" in v.summary
    assert "(a run compressed at time scale 0.1: the target's own time counted in real" in (
        v.summary
    )
    # What the pass saw: a 2 s outage, which the target's own retry timers met in real time,
    # not the 20 s the scenario says.
    assert "the longest outage lasted 2.00 s of real time here (20 s of the scenario's)" in (
        v.summary
    )
    assert "run with --time-scale 1 to hold it to the whole outage" in v.summary
    late = outage_run(recovered_at=14.0, time_scale=0.1)
    v = one(late, "recovers_after_outage", deadline=10)
    assert v.status is Status.FAIL
    assert "1 only after the deadline" in v.summary
    line = v.evidence.lines[0]
    assert "its effects were complete with POST /payouts eff_4 at 14.00 s, 11.00 s after" in line
    assert v.evidence.effect_ids == ("eff_2", "eff_3", "eff_4")


def test_a_compressed_pass_names_the_longest_outage_not_a_slow_window() -> None:
    """A 2 s outage beside a 6 s slow window (every call let through, late): the pass said 'the
    longest window lasted 6.00 s of real time here (60 s of the scenario's): a target whose own
    retries give up sooner than that passes' — retries that gave up after 3 s passed a 2 s
    outage, and nothing refused a call for 6 s. A run whose only window let its calls through
    says nothing of retries giving up."""
    both = outage_run(recovered_at=2.5, time_scale=0.1)
    both = replace(both, faults=[*both.faults, Fault("api", "slow", 0.0, 6.0, {"latency": 0.1})])
    v = one(both, "recovers_after_outage")
    assert v.status is Status.PASS, v.summary
    assert "the longest outage lasted 2.00 s of real time here (20 s of the scenario's)" in (
        v.summary
    )
    only_slow = replace(both, faults=both.faults[1:])
    v = one(only_slow, "recovers_after_outage")
    assert v.status is Status.PASS, v.summary
    assert "give up" not in v.summary, v.summary


def test_an_event_accepted_after_the_window_owes_its_effects_from_its_acceptance() -> None:
    # Refused during the window, redelivered by the sender 0.5 s after it closed (5 s of
    # scenario time at 0.1: the sender's wait, not the target's), done 0.2 s after that.
    h = history(
        [event(1)],
        [
            delivery("dlv_1", "evt_1", Outcome.FAILED, sent=1.5, status=503),
            delivery("dlv_2", "evt_1", sent=3.5, attempt=2),
        ],
        [effect("eff_1", ["evt_1"], 1.6, status=503), effect("eff_2", ["evt_1"], 3.7)],
    )
    h = with_faults(h, OUTAGE, time_scale=0.1)
    v = one(h, "recovers_after_outage", deadline=1)
    assert v.status is Status.PASS, v.summary
    assert "the last 0.20 s after it was owed" in v.summary
    slow = replace(h, effects=[h.effects[0], effect("eff_2", ["evt_1"], 5.0)])
    v = one(slow, "recovers_after_outage", deadline=1)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 of 1 event accepted during 1 fault window or after (1 refused while it was open, "
        "accepted once closed) did not recover"
    )
    line = v.evidence.lines[0]
    assert "was refused during the api status fault (1.00 s-3.00 s) and accepted by dlv_2" in line
    assert "1.50 s after it was accepted, not within 1 s of the window closing" in line


def test_an_effect_committed_during_the_window_counts() -> None:
    h = outage_run(recovered_at=None)
    h = replace(h, effects=[*h.effects, replace(effect("eff_9", ["evt_2"], 2.5), committed=True)])
    v = one(h, "recovers_after_outage")
    assert v.status is Status.PASS
    assert v.summary.endswith("all before their window closed")


def test_register_a_newer_state_of_the_record_carries_an_older_one_out() -> None:
    # evt_1 and evt_2 update one record during the outage; the automation applies only the
    # newest state afterwards: evt_1 was coalesced, not lost.
    h = history(
        [event(1, "con_1"), event(2, "con_1"), event(3, "con_2")],
        [
            delivery("dlv_1", "evt_1", sent=1.2),
            delivery("dlv_2", "evt_2", sent=1.4),
            delivery("dlv_3", "evt_3", sent=1.6),
        ],
        [
            effect("eff_0", ["evt_2"], 2.0, "PUT", "/contacts/con_1", status=503),
            effect("eff_1", ["evt_2"], 3.5, "PUT", "/contacts/con_1"),
        ],
        model=Model.REGISTER,
    )
    v = one(with_faults(h, OUTAGE), "recovers_after_outage")
    assert v.status is Status.FAIL
    assert v.summary.startswith("1 of 3 events accepted during 1 fault window did not recover")
    assert v.evidence.event_ids == ("evt_3",)
    assert "it made no request to any downstream" in v.evidence.lines[0]


def test_a_window_whose_fault_met_no_call_is_inconclusive_never_passed() -> None:
    """A queue worker makes every call after a short window closed: the events it accepted
    during the window all got their effects, but nothing met the outage."""
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1", sent=1.2), delivery("dlv_2", "evt_2", sent=1.5)],
        [effect("eff_1", ["evt_1"], 3.4), effect("eff_2", ["evt_2"], 3.7)],
    )
    v = one(with_faults(h, OUTAGE), "recovers_after_outage")
    assert v.status is Status.INCONCLUSIVE
    assert v.summary == (
        "the fault acted on no call, so the run shows nothing of how the automation recovers "
        "from an outage: the api status fault (1.00 s-3.00 s): no call reached api while it was "
        "open (the first after it came at 3.40 s); make it longer (the fault's `for:`) or the "
        "time scale larger, so that the automation calls it while it is open"
    ), v.summary
    # The same run with one of those calls refused while the window was open: judged.
    refused = effect("eff_0", ["evt_1"], 2.5, status=503)
    v = one(with_faults(replace(h, effects=[refused, *h.effects]), OUTAGE), NAME)
    assert v.status is Status.PASS, v.summary


def test_a_rate_limit_that_let_every_call_through_met_none() -> None:
    limit = Fault("api", "rate-limit", 1.0, 3.0, {"rate": 10.0})
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1", sent=1.2), delivery("dlv_2", "evt_2", sent=1.5)],
        [effect("eff_1", ["evt_1"], 1.4), effect("eff_2", ["evt_2"], 1.7)],
    )
    v = one(with_faults(h, limit), NAME)
    assert v.status is Status.INCONCLUSIVE
    said = "2 calls reached api during it, never faster than its rate of 10 a second: lower"
    assert said in v.summary, v.summary
    # Refused by the double's token gate before the rate limit was asked: not a rate too high.
    gated = [replace(e, status=401, committed=False) for e in h.effects]
    v = one(with_faults(replace(h, effects=gated), limit), NAME)
    assert "none answered by this fault" in v.summary and "lower" not in v.summary, v.summary
    throttled = effect("eff_0", ["evt_2"], 1.6, status=429)
    v = one(with_faults(replace(h, effects=[throttled, *h.effects]), limit), NAME)
    assert v.status is Status.PASS, v.summary


def test_the_doubles_marks_say_which_calls_a_fault_answered() -> None:
    """A run whose doubles marked the calls their faults answered is judged by the marks: a 503
    the route gave (no mark) is not the outage met, and a call of the fault's is, whatever its
    answer."""
    h = history(
        [event(1)],
        [delivery("dlv_1", "evt_1", sent=1.2)],
        [effect("eff_1", ["evt_1"], 1.4, status=503), effect("eff_2", ["evt_1"], 3.4)],
    )
    marked = with_faults(h, OUTAGE)
    marked = replace(marked, info=replace(marked.info, settings={**marked.info.settings,
                                                                 FAULT_MARKS: True}))  # fmt: skip
    v = one(marked, NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "none answered by this fault" in v.summary, v.summary
    hit = Mark(1.4, FAULT_MARK, json.dumps({"effect": "eff_1", "fault": 0}))
    odd = [Mark(1.5, FAULT_MARK, d) for d in ("{", "[]", '{"effect": "eff_1", "fault": 9}')]
    v = one(replace(marked, marks=[*odd, hit]), NAME)
    assert v.status is Status.PASS, v.summary
    assert one(replace(marked, marks=odd), NAME).status is Status.INCONCLUSIVE


def test_each_window_no_call_met_is_named_with_what_to_change() -> None:
    routed = Fault("api", "status", 1.0, 3.0, {"status": 503, "route": "PUT /contacts/{id}"})
    later = Fault("api", "status", 5.0, 6.0, {"status": 503})
    h = history(
        [event(1)],
        [delivery("dlv_1", "evt_1", sent=1.2)],
        [effect("eff_1", ["evt_1"], 1.4), effect("eff_2", ["evt_1"], 3.4)],
    )
    v = one(with_faults(h, routed, later), NAME)
    assert v.status is Status.INCONCLUSIVE
    assert v.summary.startswith("none of the 2 faults acted on a call"), v.summary
    assert "no call reached api on PUT /contacts/{id} while it was open;" in v.summary
    assert "the api status fault (5.00 s-6.00 s): no call reached api while it was open;" in (
        v.summary
    )


def test_only_the_windows_that_met_a_call_are_judged() -> None:
    """evt_2 is accepted in a window no call met and lost: that loss is no_lost_events' to
    judge, not a failure to recover from an outage it never met."""
    later = Fault("api", "status", 5.0, 6.0, {"status": 503})
    h = outage_run(recovered_at=4.0)
    h = history(
        [event(1), event(2), event(3)],
        [*h.deliveries, delivery("dlv_3", "evt_3", sent=5.2)],
        list(h.effects),
    )
    v = one(with_faults(h, OUTAGE, later), NAME)
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("the 1 event accepted during 1 fault window got"), v.summary
    assert "1 fault window that acted on no call not judged (the api status fault " in v.summary


def test_without_a_fault_window_it_is_inconclusive() -> None:
    h = replace(outage_run(recovered_at=4.0), faults=[])
    v = one(h, "recovers_after_outage")
    assert v.status is Status.INCONCLUSIVE
    assert v.summary == "the run had no fault window; nothing to recover from"


def test_nothing_accepted_during_the_window_is_inconclusive() -> None:
    h = history(
        [event(1)],
        [
            delivery("dlv_1", "evt_1", Outcome.FAILED, sent=1.5, status=502),
            delivery("dlv_2", "evt_1", Outcome.FAILED, sent=2.0, status=502),
        ],
        [effect("eff_1", ["evt_1"], 1.6, status=503)],
    )
    v = one(with_faults(h, OUTAGE), "recovers_after_outage")
    assert v.status is Status.INCONCLUSIVE
    assert v.summary == (
        "the target accepted no event during the fault window, nor after it any it refused "
        "there (it accepted none at all): 1 event refused "
        "during the fault window was never redelivered and accepted: the run named no "
        "provider, so it made one attempt per planned delivery: whether the sender redelivers "
        "is not known; the run did not see it recover, so it is not judged — name the sender "
        "(the project's `provider:`, or the scenario's) so that the run redelivers as it does"
    )
    assert v.evidence.delivery_ids == ("dlv_2",)  # its last refused delivery


def refused_run(sender: str | None = None, retries: int = 0) -> History:
    """evt_1 accepted during the outage and recovered; evt_2 and evt_3 refused 503 during it
    (by their first delivery and ``retries`` retries, all in the window) and never accepted:
    the run of a target that answers 503 while its downstream is down."""
    deliveries = [delivery("dlv_1", "evt_1", sent=1.1)]
    for n in (2, 3):
        deliveries += [
            delivery(
                f"dlv_{n}" + (f".r{k}" if k else ""),
                f"evt_{n}",
                Outcome.FAILED,
                sent=1.2 + n / 10 + k / 100,
                status=503,
                attempt=k + 1,
            )
            for k in range(retries + 1)
        ]
    h = history(
        [event(1), event(2), event(3)],
        deliveries,
        [
            effect("eff_1", ["evt_1"], 3.5),
            effect("eff_2", ["evt_2"], 1.41, status=503),
            effect("eff_3", ["evt_3"], 1.51, status=503),
        ],
    )
    settings = dict(h.info.settings)
    if sender is not None:
        settings.update(provider=sender, retries=[0.01] * retries)
    return with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)


def test_refused_events_never_redelivered_make_a_pass_on_the_others_inconclusive() -> None:
    """D8: the one event the outage spared recovered; the two it refused were never sent
    again. Not a pass: the run did not see them recover."""
    v = one(refused_run(), NAME)
    assert v.status is Status.INCONCLUSIVE
    assert v.summary.startswith(
        "2 events refused during the fault window were never redelivered and accepted: the run "
        "named no provider"
    )
    assert "; only the others were judged: the 1 event accepted during 1 fault window got " in (
        v.summary
    )
    assert v.evidence.event_ids == ("evt_2", "evt_3")
    assert v.evidence.lines[0].startswith(
        "event evt_2 (record ord_1, seq 2): its last refused delivery dlv_2 (attempt 1, sent "
        "at 1.40 s) answered 503 during the api status fault (1.00 s-3.00 s); no delivery of "
        "it was accepted; its requests did not count: POST /payouts eff_2 (refused 503)"
    )


def test_retries_the_run_left_out_leave_the_refused_events_unjudged() -> None:
    v = one(refused_run("stripe", retries=1), NAME)
    assert v.status is Status.INCONCLUSIVE
    assert (
        "Stripe redelivers later than the run watched (the run sent the first 1 of its 8 "
        "retries)" in v.summary
    )
    # All of them, sent before the run settles: no settle deadline has to hold them.
    assert (
        "run a scenario of your own with all the provider's retries (provider: {name: stripe, "
        "retries: 8}: the run sends them, time-scaled, before it settles;" in v.summary
    )
    # A sender of the user's own (hmac) whose retries the scenario does not give: not known.
    v = one(refused_run("hmac"), NAME)
    assert v.status is Status.INCONCLUSIVE
    assert "whether a generic HMAC-SHA256 sender redelivers is not known" in v.summary
    assert "(provider: {name: hmac, retries: [1m, 5m]})" in v.summary


def test_a_sender_that_never_redelivers_loses_what_was_refused() -> None:
    v = one(refused_run("github"), NAME)
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "2 events refused during a fault window were never accepted and never got their "
        "effects: GitHub does not redeliver what the target refuses: lost in production; the "
        "1 event accepted during 1 fault window got its effect"
    )
    assert v.evidence.event_ids == ("evt_2", "evt_3")
    # Their work done anyway (a refused delivery may have made its calls): nothing lost.
    h = refused_run("github")
    done = [effect("eff_4", ["evt_2"], 3.6), effect("eff_5", ["evt_3"], 3.7)]
    assert one(replace(h, effects=[*h.effects, *done]), NAME).status is Status.PASS


def test_refused_on_every_retry_of_the_whole_schedule_is_lost() -> None:
    v = one(refused_run("slack", retries=3), NAME)
    assert v.status is Status.FAIL
    assert "Slack Events API gives an event up after its 3 retries, which the run sent" in (
        v.summary
    )
    assert v.evidence.delivery_ids == ("dlv_2.r3", "dlv_3.r3")


def test_an_event_answered_an_answer_its_sender_gives_up_on_is_lost_not_unseen() -> None:
    """Standard Webhooks stops on a 410 (it disables the endpoint: PROVIDERS.md): evt_2's
    delivery answered 410 after its call met the outage is never redelivered, however many of
    the 9 retries the run left out — lost, not 'redelivered later than the run watched'. evt_3,
    refused 503, is still unseen (its retries come later) and counted beside it. Shopify's
    published habits say nothing of a 410: unseen, as before."""
    h = refused_run("standard-webhooks", retries=1)
    gone = [
        replace(d, status=410, outcome=Outcome.REJECTED) if d.id == "dlv_2" else d
        for d in h.deliveries
    ]
    gone = [d for d in gone if d.id != "dlv_2.r1"]  # the sender stopped on the 410
    h = replace(h, deliveries=gone)
    v = one(h, NAME)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 event refused during a fault window was never accepted and never got its effects: "
        "Standard Webhooks gives up on a 410 answer and redelivers nothing more: lost in "
        "production; the 1 event accepted during 1 fault window got its effect"
    ), v.summary
    assert (
        "; 1 event refused during the fault window was never redelivered and accepted: "
        "Standard Webhooks redelivers later than the run watched (the run sent the first 1 of "
        "its 9 retries)" in v.summary
    ), v.summary
    assert v.evidence.event_ids == ("evt_2", "evt_3")
    from harness.report._year import figures

    assert figures(h, [v]).lost == 1  # the year counts the one given up on, not the unseen
    shopify = replace(h, info=replace(h.info, settings={**h.info.settings, "provider": "shopify"}))
    v = one(shopify, NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "2 events refused during the fault window were never redelivered and accepted: Shopify "
        "redelivers later than the run watched"
    ), v.summary


def test_an_event_given_up_on_a_410_is_not_said_to_have_had_the_whole_schedule() -> None:
    """A run that sent all 9 of Standard Webhooks' retries (a year's month sends them all):
    evt_3, refused 503 on each, was given up after them; evt_2, answered 410 on its first
    delivery, got no retry. Both lost, but the summary said only "gives an event up after its
    9 retries, which the run sent" — untrue of evt_2."""
    h = refused_run("standard-webhooks", retries=9)
    gone = [
        replace(d, status=410, outcome=Outcome.REJECTED) if d.id == "dlv_2" else d
        for d in h.deliveries
        if not d.id.startswith("dlv_2.r")  # the sender stopped on the 410
    ]
    v = one(replace(h, deliveries=gone), NAME)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "2 events refused during a fault window were never accepted and never got their "
        "effects: Standard Webhooks gives up on a 410 answer and redelivers nothing more: lost "
        "in production (1 event); Standard Webhooks gives an event up after its 9 retries, "
        "which the run sent: lost in production (the other 1)"
    ), v.summary
    from harness.report._year import figures

    assert figures(replace(h, deliveries=gone), [v]).lost == 2


# -- no_server_errors ------------------------------------------------------------------------


def errors_run() -> History:
    return with_faults(
        history(
            [event(1), event(2), event(3), event(4)],
            [
                delivery("dlv_1", "evt_1", sent=0.1),
                delivery("dlv_2", "evt_2", Outcome.FAILED, sent=1.5, status=502),
                delivery(
                    "dlv_3",
                    "evt_3",
                    Outcome.FAILED,
                    sent=1.7,
                    latency=None,
                    status=None,
                    error="connection refused",
                ),
                delivery("dlv_4", "evt_4", Outcome.REJECTED, sent=1.8, status=429),
                delivery("dlv_5", "evt_4", Outcome.INDETERMINATE, sent=2.0, latency=None),
            ],
            [effect("eff_1", ["evt_1"], 0.15), effect("eff_2", ["evt_2"], 1.52, status=503)],
        ),
        OUTAGE,
    )


def test_server_errors_fail_with_the_deliveries_and_the_calls_behind_them() -> None:
    v = one(errors_run(), "no_server_errors")
    assert v.status is Status.FAIL
    assert v.summary == (
        "2 of 5 deliveries (40%) got a server error: 1 answered 502, 1 failed "
        "(connection refused); at most 0% allowed; 1 delivery throttled (429, not an error)"
    )
    assert v.evidence.delivery_ids == ("dlv_2", "dlv_3")
    assert v.evidence.event_ids == ("evt_2", "evt_3")
    assert v.evidence.effect_ids == ("eff_2",)
    assert v.evidence.lines[0] == (
        "delivery dlv_2 of event evt_2 (record ord_1, seq 2), attempt 1, sent at 1.50 s, "
        "answered 502, while a fault window was open (api status); meanwhile "
        "POST /payouts eff_2 was answered 503"
    )


def retried_after_a_timeout(*writes: float) -> History:
    """evt_1's first delivery times out (the sender gives it up) while the automation goes on
    and writes; the retry is answered 500 at 1.05 s (tests/gallery/unique_insert: the retry
    hits the unique key of the first's insert)."""
    return history(
        [event(1)],
        [
            delivery("dlv_1", "evt_1", Outcome.INDETERMINATE, latency=None, status=None,
                     error="no answer within 0.5 s"),
            delivery("dlv_1.r1", "evt_1", Outcome.FAILED, sent=1.0, status=500, attempt=2),
        ],
        [effect(f"eff_{n}", ["evt_1"], at, path="/orders") for n, at in enumerate(writes, 1)],
    )  # fmt: skip


def test_a_5xx_to_the_retry_of_an_event_taken_while_its_first_delivery_timed_out_is_a_copy() -> (
    None
):
    # Before: "1 of 2 deliveries (50%) got a server error: 1 answered 500; at most 0% allowed",
    # naming no cause: no delivery of evt_1 had been answered 2xx.
    v = one(retried_after_a_timeout(0.9), "no_server_errors")
    assert v.status is Status.FAIL
    assert (
        "; all of them answered a copy of an event the automation had taken: an earlier "
        "delivery of it got no answer (the sender gave it up and retried) while its write "
        "(POST /orders) was committed, before this one's answer: the automation answers a "
        "duplicate with an error" in v.summary
    ), v.summary
    assert v.evidence.lines[0].endswith(
        "answered 500; its event was taken: dlv_1 got no answer (no answer within 0.5 s) and "
        "POST /orders eff_1 was answered 200 for it at 0.90 s"
    ), v.evidence.lines[0]


@pytest.mark.parametrize(
    "writes", [(1.5,), (0.9, 1.02), (1.02,)], ids=["after-its-answer", "twice", "in-its-flight"]
)
def test_a_5xx_before_the_write_or_after_two_writes_is_no_copy(writes: tuple[float, ...]) -> None:
    # A write after the 500 was answered is none it met; two writes are the retry's own work
    # too (a crash after it), not a copy refused. So may one write made while the retry was in
    # flight (sent at 1.0, answered 1.05): its own, then a crash — once called a copy refused.
    v = one(retried_after_a_timeout(*writes), "no_server_errors")
    assert v.status is Status.FAIL
    assert "copy" not in v.summary, v.summary


def test_a_share_of_server_errors_may_be_allowed() -> None:
    v = one(errors_run(), "no_server_errors", max_share=0.4)
    assert v.status is Status.PASS
    assert v.summary.startswith("2 server errors in 5 deliveries (40%, at most 40% allowed)")


def test_no_server_errors_passes_and_is_inconclusive_without_deliveries() -> None:
    h = history([event(1)], [delivery("dlv_1", "evt_1")], [])
    assert one(h, "no_server_errors").summary == "no server error in 1 delivery"
    assert one(replace(h, deliveries=[]), "no_server_errors").status is Status.INCONCLUSIVE


@pytest.mark.parametrize(
    ("name", "params", "problem"),
    [
        ("no_server_errors", {"max_share": 1.5}, "above 1"),
        ("no_server_errors", {"max_share": -0.1}, "below 0"),
        ("no_server_errors", {"max_share": "1%"}, "a str"),
        ("recovers_after_outage", {"deadline": 0}, "not > 0"),
        ("recovers_after_outage", {"deadline": "5m"}, "a str"),
    ],
)
def test_bad_parameters_are_refused(name: str, params: dict[str, object], problem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        check_specs([InvariantSpec(name, params)])
    assert f"({problem})" in str(caught.value)


def test_the_fault_invariants_are_not_judged_unless_named() -> None:
    h = history([event(1)], [delivery("dlv_1", "evt_1")], [effect("eff_1", ["evt_1"], 0.1)])
    names = [v.invariant for v in judge(h)]
    assert "recovers_after_outage" not in names and "no_server_errors" not in names


def passed_on_run(sender: str | None, *, redelivered: bool = True) -> History:
    """evt_1 answered 503 while the outage refused its own call, then (maybe) redelivered and
    accepted once it was over."""
    deliveries = [delivery("dlv_1", "evt_1", Outcome.FAILED, sent=1.5, status=503)]
    effects = [effect("eff_1", ["evt_1"], 1.52, status=503)]
    if redelivered:
        deliveries.append(delivery("dlv_1.r1", "evt_1", sent=4.0, attempt=2))
        effects.append(effect("eff_2", ["evt_1"], 4.02))
    h = history([event(1)], deliveries, effects)
    settings = dict(h.info.settings)
    if sender is not None:
        settings.update(provider=sender, retries=[2.5] if sender != "github" else [])
    return with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)


def test_a_503_passed_on_to_a_sender_that_retries_and_redelivered_is_not_a_server_error() -> None:
    """D4c: the automation answered 503 while its downstream was down; Stripe redelivered
    and the target accepted the event: the outage passed back, not a crash. The same 503
    counts to a sender that never retries or of unknown habits, when the event was never
    accepted after it, or when no fault answered a call of its."""
    v = one(passed_on_run("stripe"), "no_server_errors")
    assert v.status is Status.PASS
    assert v.summary == (
        "no server error counted in 2 deliveries; not counted: 1 answer (1 503) given while a "
        "downstream fault window answered the automation's own calls, to a sender that "
        "retries (Stripe), each event accepted by a delivery sent after that answer (1 by the "
        "sender's retry; a copy sent while it was in flight does not count) — the outage "
        "passed back, not a crash (recovers_after_outage judges those events)"
    )
    no_call = passed_on_run("stripe")
    for h in (
        passed_on_run("github"),
        passed_on_run(None),
        passed_on_run("stripe", redelivered=False),
        replace(no_call, effects=no_call.effects[1:]),
    ):
        v = one(h, "no_server_errors")
        assert v.status is Status.FAIL
        assert "not counted" not in v.summary
        assert v.evidence.delivery_ids == ("dlv_1",)


def answered_503(provider: str) -> tuple[Delivery, History]:
    """dlv_1 of evt_1, answered 503 after 0.3 s while the outage refused its call, to
    ``provider`` (no retries sent)."""
    first = delivery("dlv_1", "evt_1", Outcome.FAILED, sent=1.5, latency=0.3, status=503)
    h = history([event(1)], [first], [effect("eff_1", ["evt_1"], 1.6, status=503)])
    settings = {**h.info.settings, "provider": provider, "retries": []}
    return first, with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)


def test_a_copy_sent_while_the_5xx_was_in_flight_is_no_acceptance_after_it() -> None:
    """D4c: a duplicate of the event sent 10 ms after the first delivery, answered 200 while
    the first was still waiting on the outage and then answered 503, is no sign that the
    sender got the event through after the 503: the sender had not heard it yet. Counted.
    A copy sent after the 503's answer is that acceptance, and the note says it was a copy."""
    first, h = answered_503("stripe")
    concurrent = delivery("dlv_2", "evt_1", sent=1.51, attempt=2)
    v = one(replace(h, deliveries=[first, concurrent]), "no_server_errors")
    assert v.status is Status.FAIL, v.summary
    assert "not counted" not in v.summary, v.summary
    assert v.evidence.delivery_ids == ("dlv_1",)
    later = delivery("dlv_2", "evt_1", sent=1.9, attempt=2)
    v = one(replace(h, deliveries=[first, later]), "no_server_errors")
    assert v.status is Status.PASS, v.summary
    assert "(1 by a later copy of the event; a copy sent while it was in flight" in v.summary


def test_slacks_retry_sent_while_the_5xx_was_in_flight_is_its_retry_of_it() -> None:
    """Slack stops waiting at its 3 s ack timeout and retries while the first request still
    runs (``overlap``): dlv_1, its call refused by the outage, answered 503 after 3.1 s, and
    Slack's own retry of it, sent at its ack timeout, was accepted. That retry is the sender's
    answer to dlv_1's failure, not a concurrent copy: the outage passed back, as before D4c.
    It was counted (FAIL, 1 of 2 deliveries) since only a delivery sent after the 503's answer
    counted."""
    first = delivery("dlv_1", "evt_1", Outcome.FAILED, sent=1.5, latency=3.1, status=503)
    retry = delivery("dlv_1.r1", "evt_1", sent=4.5, attempt=2)
    effects = [effect("eff_1", ["evt_1"], 1.52, status=503), effect("eff_2", ["evt_1"], 4.52)]
    h = history([event(1)], [first, retry], effects)
    settings = {**h.info.settings, "provider": "slack", "retries": [0.0]}
    h = with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)
    v = one(h, "no_server_errors")
    assert v.status is Status.PASS, v.summary
    assert "(1 by the sender's retry; a copy sent while it was in flight does not count)" in (
        v.summary
    ), v.summary
    # Another planned delivery of the event sent at that moment is a copy: still counted.
    copy = replace(retry, id="dlv_2", attempt=2)
    v = one(replace(h, deliveries=[first, copy]), "no_server_errors")
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.delivery_ids == ("dlv_1",)


def refused_once(status: int | None, *, sent: float = 1.5, call: float | None = None) -> History:
    """evt_1 accepted during the outage, its call refused, and recovered; evt_2's one
    delivery, sent at ``sent``, answered ``status`` (None: no answer) and never accepted, its
    call (at ``call``) refused 503 by the window; a GitHub run, whose sender never redelivers."""
    refused = delivery(
        "dlv_2",
        "evt_2",
        Outcome.FAILED if status is None or status >= 500 else Outcome.REJECTED,
        sent=sent,
        status=status,
        latency=0.1,
        error=None if status is not None else "connection refused",
    )
    effects = [effect("eff_0", ["evt_1"], 1.2, status=503), effect("eff_1", ["evt_1"], 3.5)]
    if call is not None:
        effects.append(effect("eff_2", ["evt_2"], call, status=503))
    h = history([event(1), event(2)], [delivery("dlv_1", "evt_1", sent=1.1), refused], effects)
    settings = {**h.info.settings, "provider": "github", "retries": []}
    return with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_an_event_refused_on_purpose_during_the_window_is_not_lost(status: int) -> None:
    """A 4xx the target gave without meeting the outage (a payload it refuses, a signature it
    does not take) is its own refusal, which the clean run makes too: not the outage's, so
    neither lost nor unseen. The same answer after a call of its the window refused is."""
    v = one(refused_once(status), NAME)
    assert v.status is Status.PASS, v.summary
    assert "refused" not in v.summary, v.summary
    v = one(refused_once(status, call=1.55), NAME)
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_2",)


@pytest.mark.parametrize("status", [408, 429, 500, 503, None])
def test_an_answer_the_outage_explains_counts_without_a_call_of_its(status: int | None) -> None:
    """A circuit breaker answers 503 (or 429) without calling the downstream it knows down."""
    v = one(refused_once(status), NAME)
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_2",)


def test_a_delivery_in_flight_as_the_window_opened_is_refused_in_it() -> None:
    """Sent just before the window opened, its call refused by it, answered 503 once it was
    open (a compressed run's window lasts a second): refused by the outage, never accepted,
    and GitHub never redelivers — lost, not a pass on the one event the outage spared."""
    v = one(refused_once(503, sent=0.95, call=1.02), NAME)
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_2",)
    # Answered before the window opened: not the outage's refusal.
    early = one(refused_once(503, sent=0.5), NAME)
    assert early.status is Status.PASS, early.summary


def lost_run(refused: int, *, dropped: bool = False) -> History:
    """A GitHub run: evt_1 accepted during the outage (``dropped``: and never carried out),
    ``refused`` events refused 503 during it and never redelivered — lost in production."""
    events = [event(n) for n in range(1, refused + 2)]
    deliveries = [delivery("dlv_1", "evt_1", sent=1.1)]
    effects = [effect("eff_0", ["evt_1"], 1.15, status=503)]
    if not dropped:
        effects.append(effect("eff_1", ["evt_1"], 3.5))
    for n in range(2, refused + 2):
        deliveries.append(
            delivery(f"dlv_{n}", f"evt_{n}", Outcome.FAILED, sent=1.2 + n / 100, status=503)
        )
    h = history(events, deliveries, effects)
    settings = {**h.info.settings, "provider": "github", "retries": []}
    return with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)


@pytest.mark.parametrize("dropped", [False, True])
def test_the_years_lost_count_holds_every_event_lost_to_a_sender_that_never_redelivers(
    dropped: bool,
) -> None:
    """The year report counts the events recovers_after_outage found lost — those the sender
    never redelivers too, more than its witnesses name — beside no_lost_events' (accepted
    events only: none is counted twice)."""
    from harness.report._year import figures

    h = lost_run(12, dropped=dropped)
    outage = one(h, NAME)
    assert outage.status is Status.FAIL, outage.summary
    assert len(outage.evidence.event_ids) < 13  # the witnesses name at most 10
    assert figures(h, [outage]).lost == 12 + dropped
    # evt_1, accepted and never carried out, is no_lost_events' too: counted once.
    accepted = one(h, "no_lost_events")
    assert (accepted.status is Status.FAIL) is dropped, accepted.summary
    assert figures(h, [accepted, outage]).lost == 12 + dropped


def test_a_batch_answered_503_for_the_call_of_one_of_its_events_is_passed_on_whole() -> None:
    """HubSpot batches: one request of three events, answered 503 when the first event's call
    met the outage (the automation stopped there), redelivered whole and accepted once it was
    over. One answer passed on, not one for the first event and two crashes."""
    batch = [
        delivery(f"dlv_{n}", f"evt_{n}", Outcome.FAILED, sent=1.5, status=503) for n in (1, 2, 3)
    ]
    retried = [delivery(f"dlv_{n}.r1", f"evt_{n}", sent=4.0, attempt=2) for n in (1, 2, 3)]
    effects = [effect("eff_0", ["evt_1"], 1.52, status=503)]
    effects += [effect(f"eff_{n}", [f"evt_{n}"], 4.02) for n in (1, 2, 3)]
    h = history([event(1), event(2), event(3)], [*batch, *retried], effects)
    settings = {**h.info.settings, "provider": "hubspot", "retries": [2.5]}
    h = with_faults(replace(h, info=replace(h.info, settings=settings)), OUTAGE)
    v = one(h, "no_server_errors")
    assert v.status is Status.PASS, v.summary
    assert "not counted: 3 answers (3 503)" in v.summary, v.summary
    # Three requests of their own (sent apart): only the one whose call met the window.
    apart = [replace(d, sent_at=d.sent_at + n / 100) for n, d in enumerate(batch)]
    v = one(replace(h, deliveries=[*apart, *retried]), "no_server_errors")
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.delivery_ids == ("dlv_2", "dlv_3")


def test_a_refused_tampered_delivery_is_never_lost_nor_unseen() -> None:
    """A forged copy the target refused during the window (503: it called the API before
    checking the signature) is an attacker's, never redelivered by the sender: not an event
    lost (GitHub) nor unseen (no provider). Its genuine delivery, accepted, is what counts."""
    h = refused_once(503, call=1.55)
    genuine = delivery("dlv_3", "evt_2", sent=3.2)
    forged = {**h.info.settings, "tampered": {"dlv_2": "forged"}}
    h = replace(h, info=replace(h.info, settings=forged))
    h = replace(
        h,
        deliveries=[*h.deliveries, genuine],
        effects=[*h.effects, effect("eff_3", ["evt_2"], 3.3)],
    )
    assert one(h, NAME).status is Status.PASS
    # Only the forged copy: the event was never delivered by its sender, nothing of it owed.
    alone = replace(h, deliveries=h.deliveries[:2], effects=h.effects[:3])
    for settings in (alone.info.settings, {**alone.info.settings, "provider": None}):
        v = one(replace(alone, info=replace(alone.info, settings=settings)), NAME)
        assert v.status is Status.PASS, v.summary
        assert "refused" not in v.summary, v.summary


def test_a_run_stopped_before_its_end_did_not_send_the_whole_schedule() -> None:
    """Ctrl-C while Slack's retries were pending: the journal holds the refusals but not the
    retries the run would have sent. Not 'given up after its 3 retries, which the run sent':
    unseen, and said why. GitHub, which never retries, loses them either way."""
    h = refused_run("slack", retries=1)  # the first retry sent, the run stopped
    settings = {**h.info.settings, "retries": [0.01] * 3}  # the three it would have sent
    h = replace(h, info=replace(h.info, settings=settings), status="aborted")
    assert one(replace(h, status="complete"), NAME).status is Status.FAIL
    v = one(h, NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "which the run sent" not in v.summary
    assert "the run stopped before its end (aborted): whether it sent Slack Events API's " in (
        v.summary
    )
    assert one(replace(refused_run("github"), status="aborted"), NAME).status is Status.FAIL


def test_a_5xx_a_fault_window_explains_is_not_said_to_answer_a_duplicate() -> None:
    """dlv_1's own call was refused 503 by the outage and it answered 503, while a copy sent
    10 ms later was accepted: the witness shows the 503 behind it; the summary must not say the
    automation answers a duplicate with an error (it said so, naming the wrong cause). A copy
    answered 500 with no window behind it still is."""
    first, h = answered_503("github")
    copy = delivery("dlv_2", "evt_1", sent=1.51, attempt=2)
    v = one(replace(h, deliveries=[first, copy]), "no_server_errors")
    assert v.status is Status.FAIL, v.summary
    assert "answers a duplicate with an error" not in v.summary, v.summary
    assert "its event was accepted by" not in v.evidence.lines[0]
    assert "POST /payouts eff_1 was answered 503" in v.evidence.lines[0]
    v = one(replace(h, deliveries=[first, copy], effects=[]), "no_server_errors")
    assert "answers a duplicate with an error" in v.summary, v.summary


def test_a_delivery_sent_just_before_a_hang_and_held_by_it_met_the_window() -> None:
    """dlv_2 was sent at 0.95 s, before the API hung at 1.00 s; its call reached the API in the
    hang and was held, and the sender gave it up 5 s later. It was in flight in the window: the
    hang refused it, as it did dlv_3 sent during it. It was read as answered when it was sent
    — before the window —, so recovers_after_outage left it out, and no_lost_events called it
    a refusal "none in flight during a downstream fault window" and made its pass inconclusive
    (seen in the demo's fragile automation on a loaded machine)."""
    hang = Fault("api", "timeout", 1.0, 3.0, {"hold": 30.0})
    gave_up = {"outcome": Outcome.INDETERMINATE, "latency": None, "status": None}
    h = history(
        [event(1, key="a"), event(2, key="b"), event(3, key="c")],
        [
            delivery("dlv_1", "evt_1", sent=0.4),
            delivery("dlv_2", "evt_2", sent=0.95, error="no answer within 5 s", **gave_up),
            delivery("dlv_3", "evt_3", sent=1.5, error="no answer within 5 s", **gave_up),
        ],
        [
            effect("eff_1", ["evt_1"], 0.5),
            effect("eff_2", ["evt_2"], 1.01, status=504),
            effect("eff_3", ["evt_3"], 1.51, status=504),
        ],
    )
    h = with_faults(h, hang)
    lost = one(h, "no_lost_events")
    assert lost.status is Status.PASS, lost.summary
    assert "2 events never accepted by the target (not counted as lost)" in lost.summary
    v = one(h, NAME)
    assert ": 2 events refused during the fault window were never redelivered" in v.summary
    assert v.evidence.event_ids == ("evt_2", "evt_3")
    assert v.evidence.lines[0].startswith(
        "event evt_2 (record b, seq 2): its last refused delivery dlv_2 (attempt 1, sent at "
        "0.95 s) got no answer (no answer within 5 s) during the api timeout fault"
    ), v.evidence.lines[0]


def test_events_accepted_outside_the_window_are_counted_not_denied() -> None:
    """tests/gallery/no_timeout under Locust's downstream-hangs: every user fired before the
    0.5 s window opened and sat on the held calls; the 180 events accepted came after it. The
    verdict said 'the target accepted no event during the fault window, nor after it', which
    read as none accepted at all."""
    h = history(
        [event(1), event(2), event(3)],
        [
            delivery("dlv_1", "evt_1", Outcome.FAILED, sent=1.5, status=502),
            delivery("dlv_2", "evt_2", sent=0.2),
            delivery("dlv_3", "evt_3", sent=3.5),
        ],
        [
            effect("eff_1", ["evt_1"], 1.6, status=503),
            effect("eff_2", ["evt_2"], 0.3),
            effect("eff_3", ["evt_3"], 3.6),
        ],
    )
    v = one(with_faults(h, OUTAGE), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "the target accepted no event during the fault window, nor after it any it refused "
        "there; the 2 events it accepted were accepted outside the fault window (answered "
        "before it opened, or sent once it had closed) and met no fault: 1 event refused "
        "during the fault window was never redelivered and accepted"
    ), v.summary
