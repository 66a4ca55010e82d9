"""A run in which the automation called no downstream double shows nothing of what it did: a
pass of a check of effects is inconclusive there, saying what to check (and that the clean run
called none either, where it did not). Failures stand; a run whose every event type is
declared ``expect: none`` is left as judged; checks of the answers (target_available) are not
touched."""

from __future__ import annotations

from harness.core._model import Status
from harness.core._scenario import InvariantSpec
from harness.invariants import judge

from .test_expected import CHECKOUT, clean_run, ev, ok, run, write

CHECKS = [
    InvariantSpec(n)
    for n in ("no_lost_events", "no_duplicate_effects", "per_key_order", "target_available")
]


def statuses(h: object) -> dict[str, Status]:
    return {v.invariant: v.status for v in judge(h, CHECKS)}  # type: ignore[arg-type]


def test_a_silent_run_after_a_silent_clean_run_proves_nothing() -> None:
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    deliveries = [ok(e) for e in events]
    h = run(events, deliveries, [], tag="zqrun", baseline=clean_run(twins, []))
    verdicts = {v.invariant: v for v in judge(h, CHECKS)}
    assert verdicts["per_key_order"].status is Status.INCONCLUSIVE  # nothing to order, it says
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert verdicts[name].status is Status.INCONCLUSIVE
        assert verdicts[name].summary.startswith(
            "not judged: the automation made no call to any downstream double in this run nor "
            "in its clean run"
        )
    assert verdicts["target_available"].status is Status.PASS
    # One call in this run, and the checks judge as before.
    called = run(events, deliveries, [write("/deals", events[:1])], tag="zqrun")
    called.baseline = clean_run(twins, [])
    assert statuses(called)["no_duplicate_effects"] is Status.PASS
    # Calls in the clean run only: the loss stands, a pass among none does not.
    made = clean_run(twins, [write("/deals", [t]) for t in twins])
    heard = {
        v.invariant: v
        for v in judge(run(events, deliveries, [], tag="zqrun", baseline=made), CHECKS)
    }
    assert heard["no_lost_events"].status is Status.FAIL
    assert heard["no_duplicate_effects"].status is Status.INCONCLUSIVE
    assert "double in this run, so" in heard["no_duplicate_effects"].summary


def test_without_a_clean_run_the_loss_stands_and_the_passes_do_not() -> None:
    events = [ev("zqrun", i) for i in (1, 2)]
    found = statuses(run(events, [ok(e) for e in events], [], tag="zqrun"))
    assert found["no_lost_events"] is Status.FAIL  # any effect owed, none made: lost
    assert found["no_duplicate_effects"] is Status.INCONCLUSIVE


def test_types_declared_to_make_nothing_are_taken_at_their_word() -> None:
    events = [ev("zqrun", 1), ev("zqrun", 2)]
    declared = {"expect": {CHECKOUT: []}}
    h = run(events, [ok(e) for e in events], [], tag="zqrun", settings=declared)
    assert statuses(h)["no_lost_events"] is Status.PASS
    assert statuses(h)["no_duplicate_effects"] is Status.PASS
