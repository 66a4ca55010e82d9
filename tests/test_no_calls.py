"""A run in which the automation called no downstream double shows nothing of what it did: a
pass of a check of effects is inconclusive there, saying what to check (and that the clean run
called none either, where it did not). Failures stand; a run whose every event type is
declared ``expect: none`` is left as judged; checks of the answers (target_available) are not
touched."""

from __future__ import annotations

from harness.core._model import Delivery, Event, Outcome, StateRecord, Status, Verdict
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


def verdicts(h: object) -> dict[str, Verdict]:
    return {v.invariant: v for v in judge(h, CHECKS)}  # type: ignore[arg-type]


def forged(event: Event, n: int = 1) -> Delivery:
    return Delivery(f"dlv_{event.id}_{n}", event.id, n, 0.0, 0.0, 0.01, 401, Outcome.REJECTED)


def test_a_run_that_owed_nothing_is_not_blamed_on_the_api_base_url() -> None:
    """(a) Every delivery forged: the automation rightly refused all; its clean run called the
    double. (b) The accepted type is declared `expect: none`, the other type's deliveries were
    refused (400). In neither did an accepted genuine event owe an effect, yet passes become
    inconclusive telling the user to check the API base URL."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    events = [ev("zqrun", i) for i in (1, 2)]
    deliveries = [forged(e) for e in events]
    made = clean_run(twins, [write("/deals", [t]) for t in twins])
    h = run(
        events,
        deliveries,
        [],
        tag="zqrun",
        baseline=made,
        settings={"tampered": {d.id: "forged" for d in deliveries}},
    )
    v = verdicts(h)["no_duplicate_effects"]
    assert "API base URL" not in v.summary, v.summary  # was PASS before 0092e2c
    a, b = ev("zqrun", 1, "ping"), ev("zqrun", 2, "order.paid")
    no = Delivery(f"dlv_{b.id}", b.id, 1, 0.0, 0.0, 0.01, 400, Outcome.REJECTED)
    h = run([a, b], [ok(a), no], [], tag="zqrun", settings={"expect": {"ping": []}})
    v = verdicts(h)["no_duplicate_effects"]
    assert v.status is Status.PASS, v.summary


def test_own_late_effects_do_not_make_a_pass_among_none_stand() -> None:
    """The run's only calls came after it stopped watching (late effects: never judged).
    `harness run` judged it before they arrived (inconclusive); `harness check`/`report` of
    the same journal then PASSes no_duplicate_effects among 0 judged effects."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    events = [ev("zqrun", i) for i in (1, 2)]
    h = run(events, [ok(e) for e in events], [], tag="zqrun", baseline=clean_run(twins, []))
    assert verdicts(h)["no_duplicate_effects"].status is Status.INCONCLUSIVE  # at run time
    h.late_effects = [write("/payouts", [e]) for e in events]  # handed back later
    assert verdicts(h)["no_duplicate_effects"].status is Status.INCONCLUSIVE  # now PASS


def test_an_observer_record_of_no_event_is_not_a_call() -> None:
    """The observer read a row no tracer value ties to this run (a pre-existing row):
    it shows nothing the automation did with these events."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    events = [ev("zqrun", i) for i in (1, 2)]
    h = run(events, [ok(e) for e in events], [], tag="zqrun", baseline=clean_run(twins, []))
    h.states = [StateRecord("observer", "/orders", "1", {"id": 1, "status": "old"})]
    assert verdicts(h)["no_duplicate_effects"].status is Status.INCONCLUSIVE  # now PASS


def test_declared_types_with_requests_do_not_keep_a_pass_among_none() -> None:
    """Every type declared, but not `none`: the docstring and docs say only `expect: none`
    is taken at its word. The loss fails; no_duplicate_effects still PASSes among 0."""
    events = [ev("zqrun", i) for i in (1, 2)]
    declared = {"expect": {events[0].type: [{"method": "POST", "path": "/deals"}]}}
    h = run(events, [ok(e) for e in events], [], tag="zqrun", settings=declared)
    found = verdicts(h)
    assert found["no_lost_events"].status is Status.FAIL
    assert found["no_duplicate_effects"].status is Status.INCONCLUSIVE  # now PASS
