"""accepts_genuine: refusals of deliveries signed with a secret the automation was given — after
a rotation, during its overlap, under a skewed clock — and what stays inconclusive."""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.core._model import Delivery, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge
from harness.invariants._refused import refusals

from .test_invariants import delivery, effect, event, history, one

STRIPE = {"signing": "stripe", "provider": "stripe", "secret_env": "STRIPE_WEBHOOK_SECRET"}
# Rotation from 1.0 s (both secrets) to 1.5 s (the new one alone), in run seconds.
ROTATION = {"start": 1.0, "end": 1.5, "next_secret_env": "STRIPE_WEBHOOK_SECRET_NEXT"}


def run(statuses: list[int], **settings: Any) -> History:
    """Event i delivered once at i * 0.25 s and answered ``statuses[i-1]`` (2xx: an effect)."""
    events = [event(i, key=f"ord_{i}") for i in range(1, len(statuses) + 1)]
    ds: list[Delivery] = []
    effects = []
    for i, (e, status) in enumerate(zip(events, statuses, strict=True), 1):
        ok = 200 <= status < 300
        outcome = Outcome.OK if ok else Outcome.REJECTED
        ds.append(delivery(f"dlv_{i}", e.id, outcome, sent=i * 0.25, status=status))
        if ok:
            effects.append(effect(f"eff_{i}", [e.id], i * 0.25 + 0.1))
    h = history(events, ds, effects)
    info = dataclasses.replace(h.info, settings={**STRIPE, **settings})
    return dataclasses.replace(h, info=info)


def verdict(h: History) -> Verdict:
    return one(h, "accepts_genuine")


def test_refused_after_the_overlap_fails_naming_the_deliveries_the_time_and_the_cause() -> None:
    # dlv_1..3 (0.25-0.75 s) old secret, dlv_4..5 both, dlv_6..8 the new secret alone.
    h = run([200, 200, 200, 200, 200, 401, 401, 401], rotation=ROTATION)
    v = verdict(h)
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "3 of the 8 genuine deliveries were refused (0 signed with the old secret alone, 0 with "
        "both, 3 with the new one alone), from 1.50 s on (dlv_6, dlv_7, dlv_8); likely cause: "
        "refused from 1.50 s on (the rotation began at 1.00 s, both secrets signing until "
        "1.50 s), signed with the new secret (in $STRIPE_WEBHOOK_SECRET_NEXT) alone: does the "
        "automation accept the new secret?"
    )
    assert v.summary.endswith("; 3 events never accepted")
    assert v.evidence.delivery_ids == ("dlv_6", "dlv_7", "dlv_8")
    assert v.evidence.lines[0] == (
        "delivery dlv_6 of event evt_6 (record ord_6, seq 6), signed with the new secret at "
        "1.50 s, was refused with 401"
    )


def test_a_header_with_two_signatures_refused_is_its_own_cause() -> None:
    h = run([200, 200, 200, 400, 400, 200, 200], rotation=ROTATION)
    v = verdict(h)
    assert v.status is Status.FAIL
    assert "from 1.00 s on (dlv_4, dlv_5)" in v.summary
    assert "refused from the rotation at 1.00 s on, while each delivery carried two" in v.summary
    assert "does the automation accept a signature header with several signatures" in v.summary


def test_a_run_signed_after_the_rotation_refused_whole_is_explained_not_inconclusive() -> None:
    # The rotation ended before the run began (a month after the rotation): every delivery was
    # signed with the new secret alone, and every one refused.
    after = {**ROTATION, "start": -10.0, "end": -5.0}
    h = run([401] * 4, rotation=after)
    verdicts = {
        v.invariant: v
        for v in judge(h, [InvariantSpec("no_lost_events"), InvariantSpec("accepts_genuine")])
    }
    assert verdicts["accepts_genuine"].status is Status.FAIL
    assert verdicts["no_lost_events"].status is Status.INCONCLUSIVE
    found = refusals(h)
    assert found is not None and found.short == "the new secret after the rotation"
    assert found.cause.startswith(
        "refused throughout the run, which began after the rotation, signed with the new "
        "secret (in $STRIPE_WEBHOOK_SECRET_NEXT) alone: does the automation accept the new"
    )


def test_everything_refused_the_old_secret_too_stays_inconclusive() -> None:
    h = run([401] * 8, rotation=ROTATION)
    v = verdict(h)
    assert v.status is Status.INCONCLUSIVE and v.summary.startswith("not judged: 8 of the 8")
    found = refusals(h)
    assert found is not None and found.short == "signature scheme or secret"


def test_a_rotation_accepted_passes_and_one_not_reached_is_not_put_to_the_test() -> None:
    assert verdict(run([200] * 8, rotation=ROTATION)).status is Status.PASS
    early = verdict(run([200] * 5, rotation=ROTATION))  # the last one sent at 1.25 s
    assert early.status is Status.INCONCLUSIVE
    assert "none was signed with the new secret alone (from 1.50 s)" in early.summary


def test_clock_skew_within_tolerance_refused_fails_past_it_is_right() -> None:
    skewed = verdict(run([200, 401, 200, 401], clock_skew=-240.0))
    assert skewed.status is Status.FAIL
    assert "the sender's clock ran 240 s behind (within the 300 s" in skewed.summary
    far = verdict(run([401, 401], clock_skew=400.0))
    assert far.status is Status.INCONCLUSIVE and "400 s ahead, past the 300 s" in far.summary
    # Without a timestamp in the signature, a skew cannot be the cause.
    github = verdict(run([200, 401], clock_skew=400.0, signing="github"))
    assert github.status is Status.FAIL and "clock" not in github.summary


def test_tampered_and_drifted_refusals_are_other_verdicts() -> None:
    h = run([200, 401, 422, 200], rotation=ROTATION, tampered={"dlv_2": "forged"})
    settings = {**h.info.settings, "drift": [{"kind": "rename", "events": {"evt_3": "x"}}]}
    h = dataclasses.replace(h, info=dataclasses.replace(h.info, settings=settings))
    v = verdict(h)
    assert v.status is Status.INCONCLUSIVE  # none refused, none signed with the new one alone
    assert "none of the 2 genuine deliveries was refused" in v.summary
    throttled = verdict(run([200, 429, 200, 200, 200, 200, 200], rotation=ROTATION))
    assert throttled.status is Status.PASS  # 429 is throttling, not a refusal


def test_a_run_every_event_of_which_drifted_says_so_not_that_none_was_sent() -> None:
    """A year's month after a lasting field-added (2028-03 of the built-in year) drifts every
    event: 696 genuinely signed deliveries, and the verdict said "no genuine delivery was
    sent"."""
    h = run([200, 200, 200])
    drift = {"kind": "add_field", "events": {e.id: "web" for e in h.events}}
    h = dataclasses.replace(
        h, info=dataclasses.replace(h.info, settings={**h.info.settings, "drift": [drift]})
    )
    v = verdict(h)
    assert v.status is Status.INCONCLUSIVE
    assert "no genuine delivery was sent" not in v.summary, v.summary
    assert v.summary == (
        "no delivery was both genuine and undrifted: 3 deliveries of events with field drift, "
        "whose refusal drift_is_loud judges"
    )


def test_copies_refused_of_events_it_accepted_are_named_not_the_payload() -> None:
    """tests/gallery/signature_nonce.py refuses a request whose Stripe-Signature it has seen: a
    copy sent within the same second is refused with 400, though the same event was accepted a
    moment before. The cause read 'the payload's shape … or the events' time', which the
    event's acceptance rules out."""
    h = run([200, 200, 200])
    first, _, third = h.deliveries
    copies = [
        dataclasses.replace(
            delivery(f"{d.id}.copy", d.event_id, Outcome.REJECTED, sent=d.sent_at, status=400),
            answer_body='{"error": "replayed request"}',
        )
        for d in (first, third)
    ]
    v = verdict(dataclasses.replace(h, deliveries=(*h.deliveries, *copies)))
    assert v.status is Status.FAIL
    assert "likely cause: each refused delivery repeated an event an earlier delivery had " in (
        v.summary
    ), v.summary
    assert "the payload's shape" not in v.summary, v.summary
    assert "a replay check keyed on the request" in v.summary
    assert "events never accepted" not in v.summary


def test_a_refusal_of_an_event_never_accepted_is_not_called_a_copy() -> None:
    h = run([200, 400, 200])
    v = verdict(h)
    assert v.status is Status.FAIL
    assert "repeated an event" not in v.summary, v.summary
    assert v.summary.endswith("; 1 event never accepted")


def test_a_retry_refused_while_its_first_attempt_ran_is_a_copy_when_a_later_one_is_taken() -> None:
    """Stripe's retry of an attempt that timed out, sent within the second of it (a compressed
    retry storm), carries the same signature: refused as a replay; the retry after it, signed
    anew, accepted. The event's payload was taken: a copy refused, not its shape."""
    h = run([200, 200])
    timed_out = delivery(
        "dlv_1", "evt_1", Outcome.INDETERMINATE, sent=0.25, latency=None, status=None
    )
    retry = delivery("dlv_1.r1", "evt_1", Outcome.REJECTED, sent=0.8, status=400)
    taken = delivery("dlv_1.r2", "evt_1", sent=2.0)
    v = verdict(dataclasses.replace(h, deliveries=(timed_out, retry, taken, h.deliveries[1])))
    assert v.status is Status.FAIL
    assert "each refused delivery repeated an event an earlier delivery had brought" in v.summary
