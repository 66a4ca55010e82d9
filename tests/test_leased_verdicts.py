"""What a queue that leases its jobs leaves in a journal, and what the verdicts say of it.

* A job run again because its lease ran out while its worker's call was still open: the second
  write came before the double had answered the first (it held it for a ``slow`` fault):
  ``no_duplicate_effects`` says so (``invariants/_open_calls.py``), and not where the first call
  had been answered.
* A job tried N times and dead-lettered: every call of each lost event refused, then none for
  many times the longest wait between its tries: ``no_lost_events`` says they were tried and
  given up (``invariants/_after_answers.py``), not "raise the settle quiet".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import pytest

from harness.core._model import FAULT_MARK, FAULT_MARKS, Effect, Event, Fault, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History, Mark
from harness.invariants import judge
from harness.invariants._open_calls import held_for

from .test_expected import _settled, clean_run, ev, lost, ok, run, write

SLOW = Fault("crm", "slow", 0.0, 10.0, {"latency": 2.2, "jitter": 0.1})


def _slow_run(
    events: Sequence[Event], effects: Sequence[Effect], held: Sequence[Effect]
) -> History:
    """A run of ``events`` that made ``effects``, ``held`` answered by the slow fault."""
    h = run(events, [ok(e) for e in events], effects, tag="zqrun")
    h.info = replace(h.info, settings={**h.info.settings, FAULT_MARKS: True})
    h.faults = [SLOW]
    h.marks = [Mark(w.at, FAULT_MARK, json.dumps({"effect": w.id, "fault": 0})) for w in held]
    return h


def _repeats(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec("no_duplicate_effects")])
    return v


def test_held_for_is_the_least_time_a_fault_keeps_a_call_open() -> None:
    assert held_for(SLOW) == 2.1
    assert held_for(Fault("crm", "timeout", 0, 1, {"hold": 30.0})) == 30.0
    assert held_for(Fault("crm", "commit-then-fail", 0, 1, {"then": "timeout", "hold": 5})) == 5
    assert held_for(Fault("crm", "commit-then-fail", 0, 1, {"status": 502})) == 0
    assert held_for(Fault("crm", "status", 0, 1, {"status": 503})) == 0


def test_a_payout_made_again_while_the_first_call_was_held_says_so() -> None:
    """The first payout came at 1.0 s and the slow fault held it 2.1 s or more; the second,
    1.0 s later, came before its answer: made without waiting for it (a lease run out)."""
    [e] = [ev("zqrun", 1)]
    first, again = write("/payouts", [e], at=1.0), write("/payouts", [e], at=2.0)
    v = _repeats(_slow_run([e], [first, again], held=[first, again]))
    assert v.status is Status.FAIL, v.summary
    assert (
        f"all of them made again before the double had answered the first call (e.g. POST "
        f"/payouts {again.id} came 1.0 s after {first.id}, which the crm slow fault held 2.1 s "
        "or more): made again without waiting for the first call's answer"
    ) in v.summary, v.summary
    assert "a job whose lease (visibility timeout) ran out while its call was still open" in (
        v.summary
    )
    [line] = v.evidence.lines
    assert line.endswith("made while the first call was still open)"), line


def test_a_payout_made_again_after_the_first_was_answered_is_no_open_call() -> None:
    """The second came 2.5 s after the first, past the 2.1 s the fault surely held it; and a
    first call no fault held says nothing of its answer: a duplicate, nothing more said."""
    e1, e2 = ev("zqrun", 1), ev("zqrun", 2)
    writes = [
        write("/payouts", [e1], at=1.0),
        write("/payouts", [e1], at=3.5),
        write("/payouts", [e2], at=1.1),
        write("/payouts", [e2], at=1.6),
    ]
    v = _repeats(_slow_run([e1, e2], writes, held=writes[:2]))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("2 of 2 events produced duplicate effects"), v.summary
    assert "before the double had answered" not in v.summary, v.summary
    assert not any("still open" in line for line in v.evidence.lines), v.evidence.lines


def test_a_payout_made_again_after_a_redelivery_is_not_said_made_by_a_lease() -> None:
    """The sender sent the event again at 1.5 s (its ack timeout passed while the first call
    was held): the second payout, at 2.0 s, may be that delivery's own work — a duplicate of a
    redelivery, not a job run twice; nothing said of an open call."""
    e = ev("zqrun", 1)
    first, again = write("/payouts", [e], at=1.0), write("/payouts", [e], at=2.0)
    h = _slow_run([e], [first, again], held=[first, again])
    h.deliveries = [ok(e, 1, at=0.9), ok(e, 2, at=1.5)]
    v = _repeats(h)
    assert v.status is Status.FAIL, v.summary
    assert "before the double had answered" not in v.summary, v.summary


def _dead_lettered(tries: Sequence[float], events: int = 2) -> Verdict:
    """``no_lost_events`` of a run whose every payout call, made at each of ``tries`` (s),
    was refused 503; settling stopped at 30 s, its clean run paid each event once."""
    twins = [ev("zqclean", i) for i in range(1, events + 1)]
    clean = clean_run(twins, [write("/payouts", [e]) for e in twins])
    mine = [ev("zqrun", i) for i in range(1, events + 1)]
    refused = [write("/payouts", [e], at=t, status=503) for e in mine for t in tries]
    h = run(mine, [ok(e) for e in mine], refused, tag="zqrun", baseline=clean)
    return lost(_settled(h, "pending", 2.0))


def test_events_tried_three_times_and_dead_lettered_are_said_given_up() -> None:
    """Tried at 0.1, 0.2 and 0.4 s, then not for 29.6 s: 148 times the longest wait. It said
    'if it works slower than that (a rate limit, …), raise the settle quiet'."""
    v = _dead_lettered([0.1, 0.2, 0.4])
    assert v.status is Status.FAIL, v.summary
    assert (
        "each of these was tried 3 times, every call refused, and none again in the 29.6 s "
        "before settling stopped, 148 times the longest wait between two tries (200.0 ms): it "
        "tried them and gave them up (a retry limit: a dead-letter queue, a failed-jobs list)"
    ) in v.summary, v.summary
    assert "raise the settle quiet" not in v.summary, v.summary


def test_tries_a_growing_backoff_may_still_follow_are_not_said_given_up() -> None:
    """Tried at 0.1 and 10 s, then not for 20 s: a backoff that doubles would try again by
    30 s: not shown given up; nor is an event tried once (it may be queued far back)."""
    for tries in ([0.1, 10.0], [0.1]):
        v = _dead_lettered(tries)
        assert v.status is Status.FAIL, v.summary
        assert "gave them up (a retry limit" not in v.summary, v.summary


@pytest.mark.parametrize("at", [0.1, 1.5])  # 90 ms or 1.49 s after its answer: brisk or not
def test_events_whose_one_call_was_refused_and_never_made_again_are_said_dropped(
    at: float,
) -> None:
    """tests/gallery/outbox_relay (a relay marking each row sent before its call) under an
    outage: each order's one call refused 503, none again. Its pace decided the cause: told
    'passed over, or held in a process that then ended' when its relay lagged under load, and
    under a throttle 'late … raise the settle quiet'. Refused once and silent for 28 s or more:
    dropped when refused, whatever the pace."""
    v = _dead_lettered([at])
    assert v.status is Status.FAIL, v.summary
    assert (
        "each of these had its calls refused (2 calls answered 503), none made again in the "
        f"{30 - at:.1f} s before settling stopped: it drops an event's work when the "
        "downstream refuses its call, after its sender was told the event was accepted"
    ) in v.summary, v.summary
    assert "passed" not in v.summary and "process that then ended" not in v.summary, v.summary


def test_a_clean_twin_that_wrote_a_payout_twice_as_it_was_owes_it_once() -> None:
    """The clean run's worker died after paying a checkout and before marking its job done:
    the job ran again and paid it twice, the same request, the same body. This run paid it
    once: not 'lost: only 1 of 2 POST /payouts'. Two payouts of different bodies (two line
    items) are still two owed."""
    [twin], [mine] = [ev("zqclean", 1)], [ev("zqrun", 1)]

    def judged(second_body: str) -> Verdict:
        clean = clean_run(
            [twin],
            [write("/payouts", [twin]), replace(write("/payouts", [twin]), body=second_body)],
        )
        h = run([mine], [ok(mine)], [write("/payouts", [mine])], tag="zqrun", baseline=clean)
        return lost(h)

    again = judged("{}")
    assert again.status is Status.PASS, again.summary
    other = judged('{"line": 2}')
    assert other.status is Status.FAIL, other.summary
    assert "only 1 of 2 POST /payouts" in " ".join(other.evidence.lines), other.evidence.lines


def test_a_repeat_is_not_said_open_on_another_body_still_held() -> None:
    """Two lines of one payout run (bodies A, B) posted 0.5 s apart, then A again once its
    first call was answered: B's call was still held, but B is no earlier copy of A (review:
    it was said 'made again before the double had answered the first call')."""
    [e] = [ev("zqrun", 1)]
    a = replace(write("/payouts", [e], at=1.0), body='{"line": "A"}')
    b = replace(write("/payouts", [e], at=1.5), body='{"line": "B"}')
    again = replace(write("/payouts", [e], at=3.5), body='{"line": "A"}')
    v = _repeats(_slow_run([e], [a, b, again], held=[a, b, again]))
    assert v.status is Status.FAIL, v.summary
    assert "before the double had answered the first call" not in v.summary, v.summary


def test_an_events_different_calls_each_refused_once_are_not_tries() -> None:
    """Node-RED's fanout flow under downstream-outage: an order's POST /customers, /emails and
    /invoices, each made once and refused, were said 'tried 3 times … a retry limit' where
    backs_off in the same run saw no call made again."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    routes = ("/customers", "/emails", "/invoices")
    clean = clean_run(twins, [write(r, [e]) for e in twins for r in routes])
    mine = [ev("zqrun", i) for i in (1, 2)]
    refused = [
        write(r, [e], at=0.1 + 0.1 * n, status=503) for e in mine for n, r in enumerate(routes)
    ]
    h = run(mine, [ok(e) for e in mine], refused, tag="zqrun", baseline=clean)
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert "was tried" not in v.summary and "retry limit" not in v.summary, v.summary
