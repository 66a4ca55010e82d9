"""backs_off over small hand-built Histories: a 429's Retry-After, a 503 hammered."""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core._model import LOOP_LAG_MARK, Fault, Status
from harness.history import History, Mark
from harness.invariants.backs_off import MAX_PER_SECOND

from .test_fault_invariants import with_faults
from .test_invariants import delivery, effect, event, history, one

THROTTLE = Fault("api", "throttle", 1.0, 5.0, {"retry_after": 1.0})
OUTAGE = Fault("api", "status", 1.0, 3.0, {"status": 503})
NAME = "backs_off"


def retried(times: list[float], fault: Fault, *, let_through: float | None = None) -> History:
    """evt_1's one POST made at each of ``times`` (refused by ``fault``), then let through."""
    status = 429 if fault.mode == "throttle" else 503
    effects = [effect(f"eff_{n}", ["evt_1"], t, status=status) for n, t in enumerate(times, 1)]
    if let_through is not None:
        effects.append(effect("eff_ok", ["evt_1"], let_through, status=201))
    h = history([event(1)], [delivery("dlv_1", "evt_1", sent=1.0, latency=0.01)], effects)
    return with_faults(h, fault)


def test_a_429_made_again_before_its_retry_after_fails_naming_the_calls_and_the_gap() -> None:
    v = one(retried([1.1, 1.102, 1.104], THROTTLE, let_through=5.5), NAME)
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "2 calls of 1 event made again before the Retry-After its 429 asked had elapsed (e.g. "
        "POST /payouts eff_1, answered 429 with Retry-After 1 s, made again as eff_2 0.002 s later)"
    ), v.summary
    assert "honour" not in v.summary and "wait at least the Retry-After" in v.summary
    [line] = v.evidence.lines
    assert "answered 429 with Retry-After 1 s by the api throttle fault (1.00 s-5.00 s)" in line
    assert v.evidence.effect_ids == ("eff_1", "eff_2", "eff_3")


def test_a_429_waited_out_passes_and_a_call_let_through_ends_the_run() -> None:
    v = one(retried([1.1, 2.1, 3.2], THROTTLE, let_through=5.5), NAME)
    assert v.status is Status.PASS, v.summary
    assert "3 calls refused by fault windows, 3 made again by the automation" in v.summary
    assert "each call answered 429 made again only after its Retry-After" in v.summary


def test_a_timer_waking_a_little_early_is_no_violation() -> None:
    assert one(retried([1.1, 2.06], THROTTLE), NAME).status is Status.PASS
    assert one(retried([1.1, 2.04], THROTTLE), NAME).status is Status.FAIL


def test_a_redelivery_between_two_calls_is_the_senders_not_the_automations() -> None:
    h = retried([1.1, 1.3], THROTTLE)
    h = with_faults(
        history(
            h.events,
            [*h.deliveries, delivery("dlv_1.r1", "evt_1", sent=1.2, attempt=2)],
            h.effects,
        ),
        THROTTLE,
    )
    v = one(h, NAME)
    assert v.status is Status.PASS, v.summary


def test_a_429_made_again_once_too_soon_says_the_call_not_1_times() -> None:
    """Its witness read 'made again 1 times …, the first as eff_2 …, the shortest gap …'."""
    v = one(retried([1.1, 1.4], THROTTLE, let_through=5.5), NAME)
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.lines[0].endswith(
        "POST /payouts eff_1 was answered 429 with Retry-After 1 s by the api throttle fault "
        "(1.00 s-5.00 s) and made again as eff_2 0.300 s later before its Retry-After had elapsed"
    ), v.evidence.lines[0]


def test_a_503_hammered_more_than_the_limit_in_a_second_fails() -> None:
    times = [1.0 + 0.01 * n for n in range(MAX_PER_SECOND + 1)]
    v = one(retried(times, OUTAGE, let_through=3.5), NAME)
    assert v.status is Status.FAIL
    assert f"made again more than {MAX_PER_SECOND} times in one second" in v.summary
    assert f"{MAX_PER_SECOND + 1} times, no gap longer than 0.010 s" in v.summary
    assert "(answered 503) by the api status fault (1.00 s-3.00 s)" in v.evidence.lines[0]
    one_less = one(retried(times[:-1], OUTAGE, let_through=3.5), NAME)
    assert one_less.status is Status.PASS, one_less.summary


def test_exponential_backoff_through_an_outage_passes() -> None:
    times, t, wait = [], 1.0, 0.001
    while t < 3.0:
        times.append(t)
        t, wait = t + wait, wait * 2
    v = one(retried(times, OUTAGE, let_through=t), NAME)
    assert v.status is Status.PASS, v.summary
    assert "no Retry-After asked for; at most" in v.summary


def test_refused_calls_never_made_again_pass_saying_so() -> None:
    v = one(retried([1.1], THROTTLE), NAME)
    assert v.status is Status.PASS
    assert "none made again by the automation (no retry to judge" in v.summary


def test_no_window_or_no_call_refused_is_inconclusive() -> None:
    bare = history([event(1)], [delivery("dlv_1", "evt_1")], [effect("eff_1", ["evt_1"], 0.1)])
    assert "no fault window that refuses calls" in one(bare, NAME).summary
    v = one(with_faults(bare, OUTAGE), NAME)
    assert v.status is Status.INCONCLUSIVE
    assert "the fault acted on no call (the api status fault (1.00 s-3.00 s))" in v.summary


def test_calls_naming_no_event_are_not_told_apart_inconclusive() -> None:
    effects = [effect(f"eff_{n}", [], 1.1 + n * 0.001, status=429) for n in range(3)]
    h = with_faults(history([event(1)], [delivery("dlv_1", "evt_1")], effects), THROTTLE)
    v = one(h, NAME)
    assert v.status is Status.INCONCLUSIVE
    assert "named an event" in v.summary


def test_calls_naming_no_event_beside_named_ones_are_counted_apart() -> None:
    h = retried([1.1, 2.2], THROTTLE)
    h = with_faults(
        history(h.events, h.deliveries, [*h.effects, effect("eff_x", [], 1.15, status=429)]),
        THROTTLE,
    )
    v = one(h, NAME)
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("3 calls refused by fault windows, 1 made again"), v.summary
    assert v.summary.endswith("; 1 refused call naming no event not judged"), v.summary


def test_a_rate_limits_retry_after_is_held_to_its_least_and_said_so() -> None:
    limit = Fault("api", "rate-limit", 1.0, 5.0, {"rate": 1.0})
    h = retried([1.1, 1.6], THROTTLE)
    v = one(with_faults(h, limit), NAME)
    assert v.status is Status.FAIL
    assert "answered 429 with Retry-After of at least 1 s, made again as eff_2 0.500 s" in v.summary


def _copies(sent: list[float], times: list[float], fault: Fault = THROTTLE) -> History:
    """evt_1 delivered once at each of ``sent``; its one POST made at each of ``times``,
    refused by ``fault``, then let through."""
    status = 429 if fault.mode == "throttle" else 503
    effects = [effect(f"eff_{n}", ["evt_1"], t, status=status) for n, t in enumerate(times, 1)]
    deliveries = [
        delivery(f"dlv_{n}", "evt_1", sent=s, latency=0.01, attempt=n)
        for n, s in enumerate(sent, 1)
    ]
    effects.append(effect("eff_ok", ["evt_1"], 5.5, status=201))
    return with_faults(history([event(1)], deliveries, effects), fault)


def test_two_copies_each_calling_once_and_each_waiting_its_retry_after_pass() -> None:
    # A duplicate sent at once: both handlers call before either is refused, and each waits
    # its 429's Retry-After. Neither made its call again early.
    v = one(_copies([1.0, 1.0], [1.1, 1.102, 2.11, 2.112]), NAME)
    assert v.status is Status.PASS, v.summary
    # A copy's handler waiting out its Retry-After after the next copy's call.
    v = one(_copies([1.0, 1.3], [1.1, 1.31, 2.11, 2.32]), NAME)
    assert v.status is Status.PASS, v.summary


def test_copies_hammering_past_what_their_deliveries_explain_still_fail() -> None:
    v = one(_copies([1.0, 1.0], [1.1, 1.102, 1.104]), NAME)
    assert v.status is Status.FAIL, v.summary
    assert (
        "eff_3 0.004 s later, the last of 3 calls in that time while 2 deliveries of its events"
    ) in v.summary
    storm = [1.0 + 0.01 * n for n in range(2 * MAX_PER_SECOND + 1)]
    v = one(_copies([1.0, 1.0], storm, OUTAGE), NAME)
    assert v.status is Status.FAIL, v.summary
    assert one(_copies([1.0, 1.0], storm[:-1], OUTAGE), NAME).status is Status.PASS


def test_a_storm_of_calls_naming_no_event_beside_named_ones_is_no_pass() -> None:
    """evt_1's call refused once and waited out; beside it the same unnamed request refused
    30 times in 0.3 s. It passed, the storm 'not judged': it cannot be judged, so inconclusive."""
    h = retried([1.1, 2.2], THROTTLE)
    storm = [effect(f"eff_x{n}", [], 1.2 + 0.01 * n, status=429) for n in range(30)]
    v = one(with_faults(history(h.events, h.deliveries, [*h.effects, *storm]), THROTTLE), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "POST /payouts made 30 times in one second" in v.summary, v.summary
    assert "add a `correlate:` rule" in v.summary


def _lagging(h: History, late: float) -> History:
    """``h`` with the harness's loop ``late`` s late in every quarter second of 1-3 s."""
    marks = [Mark(1.0 + 0.25 * n, LOOP_LAG_MARK, json.dumps({"lag": late})) for n in range(9)]
    return replace(h, marks=marks)


def test_a_steady_pace_set_by_a_late_loop_is_not_passed() -> None:
    """15 refused calls 50 ms apart, no growth, while the harness's loop ran 100 ms late: a
    loop retrying at once on a starved machine looks the same (tests/gallery/hammer_retry.py
    beside busy loops: 18 a second, passed on main), so inconclusive, saying why."""
    times = [1.0 + 0.05 * n for n in range(15)]
    h = retried(times, OUTAGE, let_through=3.5)
    assert one(h, NAME).status is Status.PASS  # the machine kept up: a pace of its own
    v = one(_lagging(h, 0.1), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "at most 15 calls of one write in one second" in v.summary
    assert (
        "but POST /payouts was made 15 times in one second from 1.00 s, each refused, at a steady "
        "50 ms apart (the median gap), while the harness's own event loop ran up to 100 ms late"
    ) in v.summary, v.summary


def test_a_backoff_or_a_loop_that_kept_up_passes_beside_a_late_loop() -> None:
    growing = [1.0, 1.02, 1.06, 1.14, 1.3, 1.62]  # gaps doubling from 20 ms
    assert one(_lagging(retried(growing, OUTAGE, let_through=3.5), 0.1), NAME).status is (
        Status.PASS
    )
    steady = [1.0 + 0.2 * n for n in range(6)]  # 200 ms apart: more than twice the lateness
    assert one(_lagging(retried(steady, OUTAGE, let_through=3.5), 0.05), NAME).status is (
        Status.PASS
    )
    few = [1.0 + 0.05 * n for n in range(4)]  # fewer than MIN_CALLS: a pace says nothing
    assert one(_lagging(retried(few, OUTAGE, let_through=3.5), 0.1), NAME).status is Status.PASS


def test_a_backoff_whose_first_gaps_a_late_loop_stretched_passes_on_its_whole_run() -> None:
    """A backoff doubling from 50 ms (the sound demo's), its first gaps stretched by a loop
    120 ms late at the burst's start (150, 190, 250, 380 ms: grown 1.85-fold in its densest
    second, under GROWTH) was inconclusive — as the sound demo's backs_off was on a loaded CI
    runner, failing `harness demo` there. Its whole run (the
    calls after that second, and the one let through) slowed down far beyond what the lateness
    could add: a backoff. A pace that grew by no more than the lateness stays inconclusive."""
    stretched = [1.0, 1.15, 1.34, 1.59, 1.97, 2.73]  # then 1.52 s to the call let through
    v = one(_lagging(retried(stretched, OUTAGE, let_through=4.25), 0.12), NAME)
    assert v.status is Status.PASS, v.summary
    assert "at most 5 calls of one write in one second" in v.summary, v.summary
    by_the_lag = [1.0 + 0.1 * n for n in range(5)] + [1.58, 1.76, 1.94]  # 100 ms, then 180
    v = one(_lagging(retried(by_the_lag, OUTAGE, let_through=2.12), 0.12), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "ran up to 120 ms late" in v.summary, v.summary


def test_an_in_process_app_that_held_the_loop_between_its_calls_is_not_told_the_machine() -> None:
    """An in-process app (it shares the harness's loop) sleeping 50 ms between its 15 tries in
    a blocking call: the loop 100 ms late in every mark, its thread neither running (5 ms busy)
    nor waiting for a CPU — the app's own pace, which a quieter machine would not change. It
    passes as that pace does on a loop that kept up; where the thread waited for a CPU as long,
    the machine's, it stays inconclusive."""
    times = [1.0 + 0.05 * n for n in range(15)]
    h = retried(times, OUTAGE, let_through=3.5)
    h = replace(h, info=replace(h.info, target="shop.hooks:app/webhook"))

    def marked(wait: float) -> History:
        detail = json.dumps({"lag": 0.1, "busy": 0.005 + wait, "span": 0.25, "wait": wait})
        return replace(h, marks=[Mark(1.0 + 0.25 * n, LOOP_LAG_MARK, detail) for n in range(9)])

    v = one(marked(0.0), NAME)
    assert v.status is Status.PASS, v.summary
    v = one(marked(0.1), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "the harness's own event loop ran up to 100 ms late" in v.summary, v.summary


def test_a_starved_pace_beside_an_unnamed_storm_says_both() -> None:
    """Both reasons a run cannot pass are said; the starved pace alone was, before."""
    times = [1.0 + 0.05 * n for n in range(15)]
    h = retried(times, OUTAGE, let_through=3.5)
    storm = [effect(f"eff_x{n}", [], 1.2 + 0.01 * n, status=503) for n in range(30)]
    h = with_faults(history(h.events, h.deliveries, [*h.effects, *storm]), OUTAGE)
    v = one(_lagging(h, 0.1), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "ran up to 100 ms late" in v.summary and "add a `correlate:` rule" in v.summary


def test_a_batch_made_again_within_its_retry_after_is_not_passed() -> None:
    """One call carrying two events, each delivered once, refused 429 (Retry-After 1 s) and
    made again 0.25 s later: it passed (first 'each call answered 429 made again only after its
    Retry-After', then 'not failed: … each of which may have made it once') — of a batch
    tests/gallery/node/shopify_orders_interval_batch.js's timer re-sent too soon. Only the two
    events' deliveries counted together excuse it: not known. One event delivered twice, its
    call made again as soon, still passes (each delivery may have made it once)."""
    calls = [effect("eff_1", ["evt_1", "evt_2"], 1.1, status=429)]
    calls.append(effect("eff_2", ["evt_1", "evt_2"], 1.35, status=201))
    sent = [delivery("dlv_1", "evt_1", sent=1.0), delivery("dlv_2", "evt_2", sent=1.01)]
    v = one(with_faults(history([event(1), event(2)], sent, calls), THROTTLE), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        "not judged: 1 call of several events made again within the Retry-After its 429 asked "
        "(e.g. POST /payouts eff_1, answered 429 with Retry-After 1 s, made again as eff_2 "
        "0.250 s later, carrying the same 2 events, 2 deliveries of them sent, no event's more "
        "than 1 time)" in v.summary
    ), v.summary
    calls = [effect("eff_1", ["evt_1"], 1.1, status=429), effect("eff_2", ["evt_1"], 1.35)]
    sent = [delivery("dlv_1", "evt_1", sent=1.0), delivery("dlv_2", "evt_1", sent=1.01)]
    v = one(with_faults(history([event(1)], sent, calls), THROTTLE), NAME)
    assert v.status is Status.PASS, v.summary
    assert "1 call made again within the Retry-After its 429 asked, not failed" in v.summary


def test_a_refused_batch_sent_again_with_other_events_is_made_again() -> None:
    """tests/gallery/node/shopify_orders_interval_batch.js flushes its orders every 250 ms and
    posts a refused batch again with the orders that came since: under an outage every refused
    order was posted again, and the pass said "none made again by the automation" — the second
    call's body (three items, not two) was taken for another request."""
    calls = [effect("eff_1", ["evt_1", "evt_2"], 1.1, status=503)]
    calls.append(effect("eff_2", ["evt_1", "evt_2", "evt_3"], 1.35, status=503))
    sent = [delivery(f"dlv_{n}", f"evt_{n}", sent=1.0 + n / 100) for n in (1, 2, 3)]
    v = one(with_faults(history([event(1), event(2), event(3)], sent, calls), OUTAGE), NAME)
    assert v.status is Status.PASS, v.summary
    assert "none made again" not in v.summary, v.summary
    assert v.summary.startswith("2 calls refused by fault windows, 1 made again"), v.summary
