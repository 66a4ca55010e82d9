"""5xx answers that follow a downstream's refusal of the delivery's own call, and the order
of effects on a run the target accepted nothing of (tests/gallery/split_payout.py,
``KEYS=event``: both transfers under the event's id, the second refused 400 on every delivery,
each answered 500)."""

from __future__ import annotations

from harness.core._model import Delivery, Effect, Event, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.invariants import judge

from .test_expected import ev, run, write

STRIPE = {"provider": "stripe"}


def answered(event: Event, n: int, at: float, status: int = 500) -> Delivery:
    outcome = Outcome.OK if status < 300 else Outcome.FAILED
    return Delivery(f"dlv_{event.id}_{n}", event.id, n, at, at, at + 0.1, status, outcome)


def replayed(event: Event, at: float) -> Effect:
    """A transfer the double answered with its key's first answer: no effect taken."""
    w = write("/transfers", [event], at=at)
    return Effect(
        w.id, w.downstream, w.at, w.method, w.path, {}, "{}", 201, w.event_ids, w.key,
        committed=False,
    )  # fmt: skip


def judged(*names: str) -> dict[str, Verdict]:
    """Three checkouts, each delivered twice (Stripe retries), every delivery answered 500:
    the first made the supplier's transfer (201), then the affiliate's was refused 400; the
    second got the supplier's replayed by its key and the affiliate's refused again."""
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    deliveries, effects = [], []
    for n, e in enumerate(events):
        first, again = n * 0.2, 2.0 + n * 0.2
        deliveries += [answered(e, 1, first), answered(e, 2, again)]
        effects += [
            write("/transfers", [e], at=first + 0.02),
            write("/transfers", [e], at=first + 0.05, status=400),
            replayed(e, again + 0.02),
            write("/transfers", [e], at=again + 0.05, status=400),
        ]
    h = run(events, deliveries, effects, tag="zqrun", settings=STRIPE)
    return {v.invariant: v for v in judge(h, [InvariantSpec(n) for n in names])}


def test_a_500_after_the_api_refused_its_call_is_that_refusal_not_work_done_nor_a_crash() -> None:
    """It said "3 of them answered after their own write was made …: the work is done … each
    redelivery does it again", and the untested verdicts "likely cause: the automation
    crashed" (fails before)."""
    found = judged("no_server_errors", "no_duplicate_effects")
    errors = found["no_server_errors"]
    assert errors.status is Status.FAIL, errors.summary
    assert (
        "; all of them answered 500 after crm refused their call 400 (e.g. dlv_evt_zqrune1_1: "
        "POST /transfers"
    ) in errors.summary, errors.summary
    assert "the refusal passed back as a server error, not a crash" in errors.summary
    assert "the work is done" not in errors.summary, errors.summary
    untested = found["no_duplicate_effects"]
    assert untested.status is Status.INCONCLUSIVE, untested.summary
    assert "(likely cause: 500 after crm refused its call 400)" in untested.summary
    assert "crashed" not in untested.summary, untested.summary


def test_per_key_order_is_not_judged_where_the_target_accepted_nothing_failed_or_not() -> None:
    """One customer's two checkouts, both answered 500 on every delivery: the older one's
    transfer made by its redelivery, after the newer's — the sender's retry order. It failed
    per_key_order there, and said "not judged: the target accepted none" where the order held
    (fails before): one rule now, not judged either way, what it saw said."""
    older, newer = ev("zqrun", 1, key="cus_zqrunk1"), ev("zqrun", 2, key="cus_zqrunk1")

    def order(first_at: float) -> Verdict:
        deliveries = [answered(older, 1, 0.0), answered(newer, 1, 0.3)]
        deliveries.append(answered(older, 2, 1.0))
        effects = [
            write("/transfers", [older], at=first_at),
            write("/transfers", [newer], at=0.32),
        ]
        h = run([older, newer], deliveries, effects, tag="zqrun", settings=STRIPE)
        [v] = judge(h, [InvariantSpec("per_key_order")])
        return v

    retried = order(1.05)  # the older transfer made by its redelivery, after the newer's
    kept = order(0.05)
    statuses = {v.status for v in (retried, kept)}
    assert statuses == {Status.INCONCLUSIVE}, (retried.summary, kept.summary)
    assert kept.summary.startswith("not judged: the target accepted none of the 3"), kept.summary
    assert retried.evidence.lines, retried.summary  # what it saw, kept
    assert (
        "every effect came from a delivery the target refused, in the order the sender "
        "redelivered them, so the order it keeps over events it takes was never put to the "
        "test (what it saw: 1 of 1 record had effects applied out of event order (1 violation))"
    ) in retried.summary, retried.summary


def test_a_5xx_after_a_keyed_write_is_not_said_to_be_done_again_by_each_redelivery() -> None:
    """The order made under the event's Idempotency-Key, then the delivery answered 500 (its
    own store failed): a redelivery's call under the key is replayed, not done twice. It said
    "each redelivery does it again" (fails before); a write without a key still says so."""

    def written(headers: dict[str, str]) -> str:
        e = ev("zqrun", 1)
        w = write("/orders", [e], at=0.05)
        keyed = Effect(w.id, w.downstream, w.at, w.method, w.path, headers, "{}", 201, w.event_ids)
        h = run([e], [answered(e, 1, 0.0)], [keyed], tag="zqrun", settings=STRIPE)
        [v] = judge(h, [InvariantSpec("no_server_errors")])
        assert v.status is Status.FAIL, v.summary
        return v.summary

    keyed = written({"Idempotency-Key": "evt_zqrune1"})
    assert (
        "the work is done, the answer says it failed — Stripe redelivers a 5xx, and each "
        "redelivery makes the call again under its Idempotency-Key: replayed by an API that "
        "honours the key, not done twice, but each answer tells the sender it failed"
    ) in keyed, keyed
    plain = written({})
    assert "each redelivery does it again unless the automation skips" in plain, plain
