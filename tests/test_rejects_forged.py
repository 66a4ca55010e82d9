"""rejects_forged over small hand-built Histories, and how the other invariants read tampering."""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Delivery, Outcome, Status
from harness.history import History

from .test_invariants import delivery, effect, event, history, one

NAME = "rejects_forged"


def tampered(h: History, signing: str = "standard-webhooks", **modes: str) -> History:
    settings = {"signing": signing, "tampered": modes}
    return replace(h, info=replace(h.info, settings=settings))


def refused(dlv_id: str, event_id: str, sent: float = 0.0) -> Delivery:
    return delivery(dlv_id, event_id, Outcome.REJECTED, sent=sent, status=401)


def test_inconclusive_without_tampering() -> None:
    h = history([event(1)], [delivery("dlv_1", "evt_1")], [effect("eff_1", ["evt_1"], 0.1)])
    v = one(h, "rejects_forged")
    assert v.status is Status.INCONCLUSIVE and "tamper perturbation" in v.summary


def test_refused_and_without_effect_passes() -> None:
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), refused("dlv_2", "evt_2")],
        [effect("eff_1", ["evt_1"], 0.1)],
    )
    v = one(tampered(h, dlv_2="forged"), "rejects_forged")
    assert v.status is Status.PASS and "all 1 tampered delivery were refused" in v.summary


def test_accepted_forgery_names_delivery_event_answer_and_effect() -> None:
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2")],
        [effect("eff_1", ["evt_1"], 0.1), effect("eff_2", ["evt_2"], 0.2)],
    )
    v = one(tampered(h, dlv_2="unsigned"), "rejects_forged")
    assert v.status is Status.FAIL
    assert v.evidence.lines == (
        "unsigned delivery dlv_2 of event evt_2 (record ord_1, seq 2) was answered 200 — "
        "expected a 4xx; it caused POST /payouts eff_2",
    )
    assert v.evidence.delivery_ids == ("dlv_2",) and v.evidence.effect_ids == ("eff_2",)


def test_a_refusal_that_still_acted_fails() -> None:
    h = history([event(1)], [refused("dlv_1", "evt_1")], [effect("eff_1", ["evt_1"], 0.1)])
    v = one(tampered(h, dlv_1="stale"), "rejects_forged")
    assert (
        v.status is Status.FAIL
        and "answered 401; it caused POST /payouts eff_1" in (v.evidence.lines[0])
    )


def test_a_replay_without_a_timestamp_is_judged_by_its_effect_only() -> None:
    deliveries = [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_1", sent=1.0, attempt=2)]
    deduped = history([event(1)], deliveries, [effect("eff_1", ["evt_1"], 0.1)])
    held = one(tampered(deduped, "github", dlv_2="replayed"), "rejects_forged")
    assert held.passed
    # Answered 200, not refused: it said "all 1 tampered delivery were refused".
    assert held.summary == (
        "all 1 tampered delivery caused no effect: 1 replayed delivery was accepted (2xx) without "
        "acting again — github signs no timestamp, so a receiver can tell a replay from a "
        "redelivery only by its id"
    )
    # Under a timestamped scheme the same 200 is a failure: the replay should have been refused.
    assert not one(tampered(deduped, dlv_2="replayed"), "rejects_forged").passed
    acted = history(
        [event(1)], deliveries, [effect("eff_1", ["evt_1"], 0.1), effect("eff_2", ["evt_1"], 1.1)]
    )
    v = one(tampered(acted, "github", dlv_2="replayed"), "rejects_forged")
    assert v.status is Status.FAIL and v.evidence.effect_ids == ("eff_2",)


def test_a_replay_acted_on_from_a_queue_before_its_genuine_copy_was_written_fails() -> None:
    # A receiver that answers 202 and works off a queue (tests/gallery/github_issues.py under
    # replayed-delivery): the replay came before the genuine copy's write, and both were
    # written. It passed, "13 replayed deliveries were accepted (2xx) without acting again",
    # while no_duplicate_effects failed 3 of their events.
    deliveries = [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_1", sent=1.0, attempt=2)]
    both = [effect("eff_1", ["evt_1"], 2.0), effect("eff_2", ["evt_1"], 3.0)]
    v = one(tampered(history([event(1)], deliveries, both), "github", dlv_2="replayed"), NAME)
    assert v.status is Status.FAIL and v.evidence.effect_ids == ("eff_2",)
    assert v.evidence.lines == (
        "replayed delivery dlv_2 of event evt_1 (record ord_1, seq 1) was answered 200; "
        "it caused POST /payouts eff_2",
    )
    # A call refused (503) and made again is one write, not the replay's.
    retried = [effect("eff_1", ["evt_1"], 2.0, status=503), effect("eff_2", ["evt_1"], 3.0)]
    h = history([event(1)], deliveries, retried)
    assert one(tampered(h, "github", dlv_2="replayed"), NAME).passed
    # Two genuine deliveries accepted: the repeat may be theirs (no_duplicate_effects' to judge).
    twice = [*deliveries, delivery("dlv_3", "evt_1", sent=0.5, attempt=2)]
    h = history([event(1)], twice, both)
    assert one(tampered(h, "github", dlv_2="replayed"), NAME).passed


def test_an_event_that_only_arrived_tampered_is_not_owed_an_effect() -> None:
    # A target may answer a forgery 2xx and drop it: no_lost_events must not call that loss.
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2")],
        [effect("eff_1", ["evt_1"], 0.1)],
    )
    assert one(h, "no_lost_events").status is Status.FAIL
    v = one(tampered(h, dlv_2="forged"), "no_lost_events")
    assert v.passed and "1 event sent only as tampered deliveries (not owed" in v.summary


def crashed(dlv_id: str, event_id: str, sent: float = 0.0) -> Delivery:
    return delivery(dlv_id, event_id, Outcome.FAILED, sent=sent, status=500)


def test_a_target_failing_every_delivery_shows_nothing_of_its_signature_check() -> None:
    """A HubSpot receiver that read a batch (an array) as one object answered 500 to every
    delivery, genuine or forged: rejects_forged failed '18 of 18 tampered deliveries were
    accepted or caused an effect' though none was accepted and none acted."""
    h = history([event(1), event(2)], [crashed("dlv_1", "evt_1"), crashed("dlv_2", "evt_2")], [])
    v = one(tampered(h, dlv_2="forged"), "rejects_forged")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "the target accepted none of the run's genuine deliveries either" in v.summary


def test_a_forgery_answered_5xx_where_genuine_ones_were_accepted_fails_saying_so() -> None:
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), crashed("dlv_2", "evt_2")],
        [effect("eff_1", ["evt_1"], 0.1)],
    )
    v = one(tampered(h, dlv_2="forged"), "rejects_forged")
    assert v.status is Status.FAIL
    assert v.summary == (
        "1 of 1 tampered delivery were not refused with a 4xx, or caused an effect "
        "(1 answered 5xx or not at all)"
    ), v.summary


def test_stale_deliveries_accepted_beside_forgeries_refused_name_the_unchecked_age() -> None:
    """tests/gallery/hubspot_window.py checks the v3 signature but compares the milliseconds
    of X-HubSpot-Request-Timestamp with the clock in seconds: no timestamp is ever too old.
    The verdict named each stale delivery answered 200 and said nothing of why."""
    h = history(
        [event(1), event(2), event(3)],
        [delivery("dlv_1", "evt_1"), refused("dlv_2", "evt_2"), delivery("dlv_3", "evt_3")],
        [effect("eff_1", ["evt_1"], 0.1), effect("eff_3", ["evt_3"], 0.2)],
    )
    v = one(tampered(h, "hubspot", dlv_2="forged", dlv_3="stale"), "rejects_forged")
    assert v.status is Status.FAIL
    assert v.summary.endswith(
        "(1 accepted (2xx), 1 caused an effect); every forged or unsigned delivery was refused "
        "(1), so the signature is checked; each stale delivery accepted carried a valid "
        "signature over an old timestamp: the automation does not refuse a signed timestamp "
        "more than 5 minutes from now — X-HubSpot-Request-Timestamp is in milliseconds: "
        "compare it with the clock in milliseconds (time.time() * 1000), not in seconds, or no "
        "timestamp is ever too old (docs/security.md)"
    ), v.summary


def test_a_forgery_accepted_too_is_no_unchecked_age() -> None:
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2")],
        [effect("eff_1", ["evt_1"], 0.1), effect("eff_2", ["evt_2"], 0.2)],
    )
    v = one(tampered(h, "stripe", dlv_1="forged", dlv_2="stale"), "rejects_forged")
    assert v.status is Status.FAIL
    assert "old timestamp" not in v.summary, v.summary


def test_replays_alone_accepted_do_not_claim_the_signature_is_checked() -> None:
    """tests/gallery/member_sync.py checks no signature at all. Under replayed-delivery (no
    forged delivery in the run) its accepted replays were told only the HubSpot timestamp's
    unit — a check it does not make; a run without forgeries cannot tell the two apart."""
    h = history(
        [event(1), event(2)],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2")],
        [effect("eff_1", ["evt_1"], 0.1), effect("eff_2", ["evt_2"], 0.2)],
    )
    v = one(tampered(h, "hubspot", dlv_2="replayed"), "rejects_forged")
    assert v.status is Status.FAIL
    assert v.summary.endswith(
        "the automation does not refuse a signed timestamp more than 5 minutes from now; "
        "whether it checks the signature at all, this run sent nothing to show "
        "(forged-signature sends forged deliveries) — if it does, X-HubSpot-Request-Timestamp "
        "is in milliseconds: compare it with the clock in milliseconds (time.time() * 1000), "
        "not in seconds, or no timestamp is ever too old (docs/security.md)"
    ), v.summary


def test_forgeries_accepted_beside_writes_naming_no_event_do_not_claim_they_acted_on_none() -> None:
    """A forged delivery of event 2 accepted (2xx), and a write after it naming no event (no
    tracer of the run in it): the forgery may have caused it, so the failure does not say
    'none caused an effect … the automation answers before it checks'."""
    h = history(
        [event(1), event(2, key="ord_2")],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2", sent=0.1)],
        [effect("eff_1", ["evt_1"], 0.05), effect("eff_2", [], 0.2)],
    )
    v = one(tampered(h, dlv_2="forged"), NAME)
    assert v.status is Status.FAIL and "1 accepted (2xx)" in v.summary, v.summary
    assert "none caused an effect" not in v.summary, v.summary
    assert "1 write made after them names no event" in v.summary, v.summary
