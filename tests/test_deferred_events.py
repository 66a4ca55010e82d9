"""Events the target deferred (503, 429: "come back later") that the run never redelivered.

A worker pool whose queue is full answers 503 so that Stripe retries (tests/gallery/
worker_pool.py). A burst hazard sends no retries: 62 of 200 checkouts were refused and never
sent again, and ``no_lost_events`` passed over the 138 accepted ones, the run Ready — though
whether the pool takes those 62 on Stripe's retry, which decides their loss, was not seen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.core._model import Fault, Model, Outcome, Status
from harness.history import History, load
from harness.history._deliveries import Deliveries
from harness.report._year import _lost

from .test_invariants import delivery, effect, event, history, one
from .test_report import _journal as journal


def burst(*refusals: int, provider: str = "stripe", faults: tuple[Fault, ...] = ()) -> History:
    """Two events accepted and written, then one delivery each of events refused with
    ``refusals``."""
    events = [event(n, key=f"ord_{n}") for n in range(1, 3 + len(refusals))]
    deliveries = [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2", sent=0.1)]
    deliveries += [
        delivery(f"dlv_{n}", f"evt_{n}", Outcome.FAILED, sent=0.1 * n, status=status)
        for n, status in enumerate(refusals, 3)
    ]
    effects = [effect("eff_1", ["evt_1"], 0.5), effect("eff_2", ["evt_2"], 0.6)]
    h = history(events, deliveries, effects)
    h.info = replace(h.info, settings={**h.info.settings, "provider": provider})
    h.faults = list(faults)
    return h


def test_a_deferred_event_never_redelivered_makes_a_pass_inconclusive() -> None:
    v = one(burst(503, 429), "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("all 2 accepted events produced an effect"), v.summary
    assert (
        "not judged: 2 events the target deferred (answered 503 or 429 to every delivery, "
        "none in flight during a downstream fault window) were never redelivered and "
        "accepted: Stripe redelivers later than the run watched (the run sent none of its 8 "
        "retries); whether "
        "the target takes them on a retry is not seen — to see it, run the hazard as a "
        "scenario of your own that sends the provider's retries (provider: {name: stripe, "
        "retries: 8}, with a `time_scale`"
    ) in v.summary, v.summary
    assert v.evidence.lines == (
        "event evt_3 (record ord_3, seq 3) was delivered once (dlv_3 503) and never redelivered",
        "event evt_4 (record ord_4, seq 4) was delivered once (dlv_4 429) and never redelivered",
    )


def test_a_refusal_during_a_fault_window_is_left_to_recovers_after_outage() -> None:
    """A 503 while the downstream was down (recovers_after_outage's) — or answered once it
    was, sent just before: not counted, as before."""
    outage = Fault("api", "status", 0.0, 1.0, {"status": 503})
    opened = Fault("api", "status", 0.32, 1.0, {"status": 503})  # dlv_3: sent 0.30, answered 0.35
    for h in (burst(503, faults=(outage,)), burst(503, faults=(opened,))):
        v = one(h, "no_lost_events")
        assert v.status is Status.PASS, v.summary
        assert "1 event never accepted by the target (not counted as lost)" in v.summary
        assert "deferred" not in v.summary, v.summary


def test_an_event_refused_with_500_or_no_answer_to_a_sender_that_retries_is_not_judged() -> None:
    """A 500, or no answer, to a sender that retries later than the run watched: whether the
    target takes the event on a retry is not seen. It passed, 'never accepted by the target
    (not counted as lost)': a bulk import answered 500 for a quarter of its events was Ready
    (bulk-import-burst judges no no_server_errors)."""
    unanswered = burst(500)
    unanswered.deliveries[-1] = replace(
        unanswered.deliveries[-1], status=None, answered_at=None, error="timeout"
    )
    for h, said in ((burst(500), "answered 500"), (unanswered, "got no answer")):
        v = one(h, "no_lost_events")
        assert v.status is Status.INCONCLUSIVE, v.summary
        assert (
            f"not judged: 1 event the target refused ({said} to every delivery, none in flight "
            "during a downstream fault window) was never redelivered and accepted: Stripe "
            "redelivers later than the run watched (the run sent none of its 8 retries); "
            "whether the target takes it on a retry is not seen"
        ) in v.summary, v.summary
        assert v.summary.endswith(
            "; and find why it was refused (`harness inspect` shows each answer)"
        ), v.summary
        assert v.evidence.event_ids == ("evt_3",)


def test_an_event_refused_to_a_sender_that_never_redelivers_is_lost() -> None:
    """GitHub does not redeliver: an issue answered 500 (or 503), or never answered, is lost
    in production. It passed, 'never accepted by the target (not counted as lost)', and the
    run was Ready."""
    unanswered = burst(500, provider="github")
    unanswered.deliveries[-1] = replace(
        unanswered.deliveries[-1], status=None, answered_at=None, error="timeout"
    )
    v = one(unanswered, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert "1 event the target refused (got no answer to every delivery" in v.summary, v.summary
    for status in (500, 503):
        v = one(burst(status, provider="github"), "no_lost_events")
        assert v.status is Status.FAIL, v.summary
        assert v.summary.startswith(
            f"1 of 3 events lost: 1 event the target {'refused' if status == 500 else 'deferred'}"
            f" (answered {status} to every delivery"
        ), v.summary
        assert "GitHub does not redeliver what the target refuses: lost in production" in (
            v.summary
        )
        assert "not counted as lost" not in v.summary, v.summary
        assert v.evidence.lines == (
            f"event evt_3 (record ord_3, seq 3) was delivered once (dlv_3 {status}) and never "
            "redelivered: lost",
        )


def test_a_registers_refused_state_a_newer_accepted_one_supersedes_is_not_lost() -> None:
    """A register (a contact's changes): a refused change whose record took a newer one holds
    no state of its own; refused last, it is lost."""
    h = burst(500, provider="github")
    h.info = replace(h.info, model=Model.REGISTER)
    assert one(h, "no_lost_events").status is Status.FAIL
    h.events.append(event(9, key="ord_3"))
    h.deliveries.append(delivery("dlv_9", "evt_9", sent=0.9))
    h.effects.append(effect("eff_9", ["evt_9"], 1.0))
    v = one(h, "no_lost_events")
    assert v.status is Status.PASS, v.summary


def test_a_deferred_event_redelivered_and_accepted_is_judged() -> None:
    h = burst(503)
    h.deliveries.append(delivery("dlv_3.r1", "evt_3", sent=2.0, attempt=2))
    h.effects.append(effect("eff_3", ["evt_3"], 2.1))
    v = one(h, "no_lost_events")
    assert v.status is Status.PASS, v.summary
    assert "deferred" not in v.summary, v.summary


def test_a_loss_among_the_accepted_still_fails_with_the_deferred_said() -> None:
    h = burst(503)
    h.effects.pop()
    v = one(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 2 accepted events produced no effect (lost)"), v.summary
    assert "not judged: 1 event the target deferred (answered 503" in v.summary, v.summary


def test_a_loaded_run_s_deferred_events_are_found_without_making_every_delivery(
    tmp_path: Path,
) -> None:
    """A journal's deliveries stay columns (``history._deliveries``): only the deliveries of
    the events never accepted are made into objects — a million of them were 1.5 CPU-s and
    200 MB of a large run's ``harness check``."""
    h = burst(503, 429)
    journal(tmp_path / "j.db", h)
    loaded = load(tmp_path / "j.db", h.info.run_id)
    assert isinstance(loaded.deliveries, Deliveries)
    assert one(loaded, "no_lost_events") == one(h, "no_lost_events")
    assert loaded.deliveries._made is None  # none made but those read


def test_a_refused_event_that_wrote_its_effect_all_the_same_is_not_lost() -> None:
    """A slow receiver that wrote, then timed out (or answered 500 after its write) did its
    work: not lost for its answer (review: it failed as lost)."""
    h = burst(500, provider="github")
    h.effects.append(effect("eff_3", ["evt_3"], 0.35))
    v = one(h, "no_lost_events")
    assert v.status is Status.PASS, v.summary
    assert "lost" not in v.summary.replace("not counted as lost", ""), v.summary


def test_refusals_lost_beside_a_loss_among_the_accepted_are_counted_after_it() -> None:
    """A loss among the accepted first, then the refused events GitHub never brings back,
    counted as 'and N more lost' (the year's report adds them up) and witnessed too."""
    h = burst(500, 500, provider="github")
    h.effects.pop()
    v = one(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 2 accepted events produced no effect (lost)"), v.summary
    assert "; and 2 more lost: 2 events the target refused (answered 500" in v.summary
    assert {"evt_2", "evt_3", "evt_4"} <= set(v.evidence.event_ids), v.evidence
    assert _lost([v]) == 3
