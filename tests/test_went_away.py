"""Lost events a target had accepted before it went away (``invariants/_went_away``).

The gallery's restarts_midrun acknowledges each order, queues it in memory and pays it 0.2 s
later; its worker process dies after its tenth order and is forked again. The orders it had
queued are lost, and the run saw the restart — deliveries reset as it died — yet the loss was
told as maybe-late work ("… may still be queued: … raise the settle quiet"). It names the
restart now: work held in memory died with the process.
"""

from __future__ import annotations

from harness.core._model import (
    CONNECTION_BROKE,
    NO_ANSWER_WITHIN,
    Delivery,
    Event,
    Outcome,
    Status,
)

from .test_expected import _settled, clean_run, ev, lost, ok, run, write

RESET = f"{CONNECTION_BROKE}: ClientOSError: [Errno 104] Connection reset by peer"


def restarted_run(reset: bool = True) -> tuple[list[str], str]:
    """Six orders: the first two accepted and paid 0.2 s later; the third and fourth accepted
    and never paid; the fifth's first delivery reset at 0.4 s as the worker died (``reset``),
    its retry and the sixth accepted by the new worker and paid. Returns the lost events and
    ``no_lost_events``' summary."""
    twins = [ev("zqclean", i) for i in range(1, 7)]
    clean = clean_run(twins, [write("/payouts", [e], at=n + 0.2) for n, e in enumerate(twins)])
    mine = [ev("zqrun", i) for i in range(1, 7)]
    deliveries = [ok(e, at=n / 10) for n, e in enumerate(mine[:4])]
    fifth = mine[4]
    if reset:
        deliveries.append(
            Delivery(f"dlv_{fifth.id}_1", fifth.id, 1, 0.4, 0.4, None, None, Outcome.INDETERMINATE,
                     RESET)
        )  # fmt: skip
    deliveries += [ok(fifth, 2, at=0.5), ok(mine[5], at=0.6)]
    paid = [mine[0], mine[1], fifth, mine[5]]
    times = (0.21, 0.31, 0.71, 0.81)
    effects = [write("/payouts", [e], at=at) for e, at in zip(paid, times, strict=True)]
    h = run(mine, deliveries, effects, tag="zqrun", baseline=clean)
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == (mine[2].id, mine[3].id), v.evidence
    return [mine[2].id, mine[3].id], v.summary


def test_events_queued_when_the_target_restarted_are_said_lost_with_it() -> None:
    _, summary = restarted_run()
    assert summary.startswith(
        "2 of 6 accepted events produced no effect (lost): missing POST /payouts for 2; both "
        "of these were accepted (2xx) before the target went away at 0.40 s — 1 delivery got "
        "no answer (1 reset; target_available), and answered again after it: its process died "
        "and was started again: work it held in memory, queued or in flight, died with the "
        "process, so a longer settle would show nothing more of it — keep each event where a "
        "new process takes it up (a durable queue, a jobs table) before answering 2xx, and "
        "drain the work before a restart"
    ), summary
    assert "settle quiet" not in summary and "passed over" not in summary, summary


def test_without_a_restart_seen_the_pace_is_said_and_an_unseen_one_left_open() -> None:
    """No delivery reset: the pace says the worker got past these, but a process that ended
    between deliveries fails none and would leave the same journal — both readings said."""
    _, summary = restarted_run(reset=False)
    assert "went away" not in summary, summary
    assert (
        "these were passed over, or held in a process that then ended (this run cannot tell "
        "which: a crash, an OOM kill or a restart between deliveries fails none of them and "
        "leaves no other trace here — look in the target's log for one during the run), not "
        "left in a queue still working"
    ) in summary, summary


def test_a_record_its_queue_got_past_before_the_restart_is_not_said_held() -> None:
    """Orders of two events each, paid 50 ms after each answer by a call naming only the order;
    the first order never paid, the three after it paid, then a restart (a reset at 1 s) and a
    fifth order paid after it. The worker got past the first order long before the restart:
    passed over, not work the dead process held — the restart is not its cause."""

    def orders(tag: str) -> list[Event]:
        return [ev(tag, n, key=f"ord_{tag}{(n + 1) // 2}") for n in range(1, 11)]

    twins = orders("zqclean")
    clean_paid = [write("/payouts", key=e.key, at=n / 10 + 0.06) for n, e in enumerate(twins)]
    clean = run(twins, [ok(e, at=n / 10) for n, e in enumerate(twins)], clean_paid,
                tag="zqclean")  # fmt: skip
    mine = orders("zqrun")
    deliveries = [ok(e, at=n / 10) for n, e in enumerate(mine[:8])]
    ninth = mine[8]
    deliveries += [
        Delivery(f"dlv_{ninth.id}_1", ninth.id, 1, 1.0, 1.0, None, None, Outcome.INDETERMINATE,
                 RESET),
        ok(ninth, 2, at=1.1),
        ok(mine[9], at=1.2),
    ]  # fmt: skip
    paid = [write("/payouts", key=d_event.key, at=n / 10 + 0.06)
            for n, d_event in enumerate(mine[:8]) if n >= 2]  # fmt: skip
    paid += [write("/payouts", key=e.key, at=at) for e, at in ((ninth, 1.16), (mine[9], 1.26))]
    h = run(mine, deliveries, paid, tag="zqrun", baseline=clean)
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 record short of POST /payouts (per record)"), v.summary
    assert "went away" not in v.summary, v.summary


def test_a_target_that_stopped_answering_is_not_said_dead() -> None:
    """Four orders: two accepted and paid 0.15 s later, the third accepted and never paid, the
    fourth's delivery timed out at 0.3 s and nothing answered or called after it. The target
    hung or died: the run cannot tell which, so it does not say the process died."""
    twins = [ev("zqclean", i) for i in range(1, 5)]
    clean = clean_run(twins, [write("/payouts", [e], at=n + 0.2) for n, e in enumerate(twins)])
    mine = [ev("zqrun", i) for i in range(1, 5)]
    deliveries = [ok(e, at=n / 10) for n, e in enumerate(mine[:3])]
    deliveries.append(
        Delivery(f"dlv_{mine[3].id}_1", mine[3].id, 1, 0.3, 0.3, None, None, Outcome.INDETERMINATE,
                 f"{NO_ANSWER_WITHIN} 10 s")
    )  # fmt: skip
    effects = [write("/payouts", [e], at=n / 10 + 0.15) for n, e in enumerate(mine[:2])]
    h = run(mine, deliveries, effects, tag="zqrun", baseline=clean)
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert "the record" not in v.summary and "went away at 0.30 s" in v.summary, v.summary
    assert "its process died" not in v.summary, v.summary
    assert "died with the process" not in v.summary, v.summary
    assert (
        "1 delivery got no answer (1 timed out; target_available), and neither answered nor "
        "called a downstream after the last: it hung or died, and work it held in memory, "
        "queued or in flight, was stuck or lost with it, so a longer settle would show nothing "
        "more of it — keep each event where a new process takes it up (a durable queue, a jobs "
        "table) before answering 2xx, and find what stopped it (a deadlock, a call without a "
        "timeout, an OOM kill)"
    ) in v.summary, v.summary
