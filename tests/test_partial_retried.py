"""A partial write passed back to the sender and made again by its redelivery: a customer made,
its order refused 503, the delivery answered 500, and Stripe's retry making the customer again
(tests/gallery/customer_then_order.py under tests/gallery/scenarios/checkouts-orders-outage.yaml).
no_duplicate_effects failed with no cause ("4 repeated requests (4 POST)"): it now names the
partial write and what cures it."""

from __future__ import annotations

import json

from harness.core._model import Delivery, Effect, Event, Outcome, Status
from harness.history import History

from .test_duplicates_unattributed import ok, run
from .test_record_attribution import verdict_of

PARTIAL = "made again by the sender's redelivery after a partial write"


def call(
    event: Event, n: int, path: str, at: float, status: int = 201, key: str | None = None
) -> Effect:
    body = json.dumps({"checkout": event.key, "path": path})
    headers = {} if key is None else {"Idempotency-Key": key}
    return Effect(
        f"eff_{event.id}_{n}", "crm", at, "POST", path, headers, body, status, (event.id,),
        event.key, committed=status < 300,
    )  # fmt: skip


def checkout(
    tag: str, *, refused: int | None, passed_back: int = 500, keys: tuple[str, str] | None = None
) -> History:
    """One checkout: its first delivery makes the customer and has its order answered
    ``refused`` (None: the order is made), the delivery answered ``passed_back`` then; the
    redelivery a second later makes both."""
    event = Event(f"evt_{tag}e0", f"cs_{tag}k0", 0, "checkout.session.completed", 0.0, {})
    if refused is None:
        return run([event], [ok(event)], [call(event, 1, "/customers", 0.1),
                                          call(event, 2, "/orders", 0.2)], tag=tag)  # fmt: skip
    first = Delivery(
        f"dlv_{tag}_1", event.id, 1, 0.0, 0.0, 0.3, passed_back,
        Outcome.OK if passed_back < 300 else Outcome.FAILED,
    )  # fmt: skip
    again = Delivery(f"dlv_{tag}_2", event.id, 2, 1.0, 1.0, 1.3, 200, Outcome.OK)
    first_key, again_key = keys if keys is not None else (None, None)
    effects = [
        call(event, 1, "/customers", 0.1, key=first_key),
        call(event, 2, "/orders", 0.2, status=refused),
        call(event, 3, "/customers", 1.1, key=again_key),
        call(event, 4, "/orders", 1.2),
    ]
    return run([event], [first, again], effects, tag=tag)


def test_a_customer_made_again_after_its_order_was_refused_is_named_a_partial_write() -> None:
    clean = checkout("zqclean", refused=None)
    v = verdict_of(checkout("zqrun", refused=503), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert PARTIAL in v.summary, v.summary
    assert (
        "POST /customers eff_evt_zqrune0_1 made, POST /orders eff_evt_zqrune0_2 refused 503, "
        "dlv_zqrun_1 answered 500, made again as eff_evt_zqrune0_3"
    ) in v.summary, v.summary
    assert "have each step find what an earlier attempt of the event made" in v.summary
    assert verdict_of(clean, "no_duplicate_effects").status is Status.PASS


def test_a_repeat_not_after_a_refused_write_passed_back_is_not_called_partial() -> None:
    """The order refused but the delivery answered 200: the redelivery was not the sender's
    answer to a failure passed back (a duplicate of its own), so no partial write is named."""
    swallowed = verdict_of(
        checkout("zqswallow", refused=503, passed_back=200), "no_duplicate_effects"
    )
    assert swallowed.status is Status.FAIL and PARTIAL not in swallowed.summary, swallowed.summary


def test_a_partial_write_whose_first_step_carried_a_key_is_not_told_to_send_one() -> None:
    """The customer's POST carried an Idempotency-Key and its repeat another: 'send an
    Idempotency-Key' was said all the same. (The same key on both is excused as harmless, the
    key assumed honoured, unless the downstream is declared to ignore it.)"""
    changed = verdict_of(checkout("zqnew", refused=503, keys=("k1", "k2")), "no_duplicate_effects")
    assert changed.status is Status.FAIL and PARTIAL in changed.summary, changed.summary
    assert "send an Idempotency-Key" not in changed.summary, changed.summary
    assert "the key changed between the attempts" in changed.summary, changed.summary
    same = verdict_of(checkout("zqsame", refused=503, keys=("k1", "k1")), "no_duplicate_effects")
    assert same.status is Status.PASS, same.summary


def test_a_repeat_by_a_copy_sent_before_the_5xx_is_not_the_senders_redelivery() -> None:
    """The customer made again after the 500, but by a copy of the event sent before it (a
    duplicate in flight), no delivery sent after the 500: the sender had not redelivered, and
    deduplicating deliveries by event id would have cured it — not the partial write's cure."""
    event = Event("evt_zqcopye0", "cs_zqcopyk0", 0, "checkout.session.completed", 0.0, {})
    first = Delivery("dlv_zqcopy_1", event.id, 1, 0.0, 0.0, 0.3, 500, Outcome.FAILED)
    copy = Delivery("dlv_zqcopy_2", event.id, 2, 0.05, 0.05, 0.6, 200, Outcome.OK)
    effects = [
        call(event, 1, "/customers", 0.1),
        call(event, 2, "/orders", 0.2, status=503),
        call(event, 3, "/customers", 0.4),
        call(event, 4, "/orders", 0.5),
    ]
    v = verdict_of(run([event], [first, copy], effects, tag="zqcopy"), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert PARTIAL not in v.summary, v.summary
