"""A creation its own event undid (a saga's compensation: ``DELETE /invoices/{id}`` with the id
the double answered) is no write of the event (``invariants/_undone.py``).

Both wrong before: an order whose invoice was deleted after its reservation failed, answered
200, passed ``no_lost_events`` ("all accepted events made their expected effects"), and an
order retried after the compensation, invoiced again, failed ``no_duplicate_effects`` ("produced
2 effects: POST /invoices"). The gallery's ``saga_orders`` shows both through the ``harness``
command (tests/test_gallery_saga.py); these judge the histories alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from harness.core._model import ISSUED_MARK, Delivery, Effect, Event, Outcome, Status
from harness.core._scenario import InvariantSpec
from harness.history import History, Mark
from harness.invariants import judge

from .test_expected import clean_run, ev, ok, run, write

SAGA = {"routes": {"crm": ["POST /invoices", "POST /reservations", "DELETE /invoices/{id}"]}}


def issued(*made: tuple[Effect, str]) -> list[Mark]:
    """The double's ISSUED_MARK for each (creation, id it answered)."""
    return [Mark(e.at, ISSUED_MARK, json.dumps({"effect": e.id, "id": i})) for e, i in made]


def failed(event: Event, at: float = 0.0) -> Delivery:
    return Delivery(f"dlv_{event.id}_1", event.id, 1, at, at, at + 0.3, 500, Outcome.FAILED)


def saga(
    events: Sequence[Event],
    effects: list[Effect],
    marks: list[Mark],
    deliveries: Sequence[Delivery] = (),
) -> History:
    """A run of ``events`` (each delivered once, answered 0.3 s later, unless ``deliveries``)
    against a clean run that invoiced and reserved each once."""
    twins = [ev("zqclean", e.seq) for e in events]
    made = [w for t in twins for w in (write("/invoices", [t]), write("/reservations", [t]))]
    clean = clean_run(twins, made, settings=SAGA)
    sent = list(deliveries) or [replace(ok(e), answered_at=0.3) for e in events]
    h = run(events, sent, effects, tag="zqrun", baseline=clean, settings=SAGA)
    return replace(h, marks=marks)


def verdicts(h: History) -> dict[str, tuple[Status, str, tuple[str, ...]]]:
    found = judge(h, [InvariantSpec("no_lost_events"), InvariantSpec("no_duplicate_effects")])
    return {v.invariant: (v.status, v.summary, v.evidence.lines) for v in found}


def test_an_invoice_undone_by_its_orders_compensation_is_no_effect_of_the_order() -> None:
    """Reservation taken, its answer a 502; the saga deletes the invoice and answers 200. The
    order ends with no invoice: lost, saying the invoice was undone. It passed."""
    [order] = [ev("zqrun", 1)]
    invoice = write("/invoices", [order], at=0.05)
    reserved = replace(write("/reservations", [order], at=0.1, status=502), committed=True)
    undone = write("/invoices/ds_1", [], method="DELETE", at=0.2, status=204)
    h = saga([order], [invoice, reserved, undone], issued((invoice, "ds_1")))
    lost = verdicts(h)["no_lost_events"]
    assert lost[0] is Status.FAIL, lost
    assert "missing POST /invoices for 1" in lost[1], lost
    assert (
        f"its requests did not count: POST /invoices {invoice.id} (undone by DELETE "
        f"/invoices/ds_1 {undone.id}), DELETE /invoices/ds_1 {undone.id} (undid POST /invoices "
        f"{invoice.id})"
    ) in lost[2][0], lost
    assert "could not be attributed" not in lost[1], lost  # the DELETE names the order


def test_an_order_invoiced_again_after_its_compensation_made_no_duplicate() -> None:
    """Reservation refused 503, invoice deleted, 500; Shopify's retry invoices and reserves
    anew. One invoice stands: no duplicate, nothing lost. It failed: 'produced 3 effects:
    POST /invoices eff_…, eff_…'."""
    [order] = [ev("zqrun", 1)]
    first = write("/invoices", [order], at=0.05)
    refused = write("/reservations", [order], at=0.1, status=503)
    undone = write("/invoices/ds_1", [], method="DELETE", at=0.2, status=204)
    again = write("/invoices", [order], at=1.05)
    reserved = write("/reservations", [order], at=1.1)
    retried = [failed(order), replace(ok(order, 2, at=1.0), answered_at=1.2)]
    h = saga(
        [order],
        [first, refused, undone, again, reserved],
        issued((first, "ds_1"), (again, "ds_2")),
        deliveries=retried,
    )
    found = verdicts(h)
    assert found["no_duplicate_effects"][0] is Status.PASS, found
    assert found["no_lost_events"][0] is Status.PASS, found


def test_an_invoice_deleted_by_a_later_event_of_its_record_is_not_undone() -> None:
    """An order's invoice deleted by the record's next event (a cancellation), sent once the
    first was answered: that event's work, and the first event's invoice was made."""
    placed, cancelled = ev("zqrun", 1, key="ord_1"), ev("zqrun", 2, key="ord_1")
    invoice = write("/invoices", [placed], at=0.05)
    reserved = write("/reservations", [placed], at=0.1)
    deleted = write("/invoices/ds_1", [], method="DELETE", at=1.1, status=204)
    deliveries = [replace(ok(placed), answered_at=0.3), replace(ok(cancelled, at=1.0))]
    h = saga(
        [placed, cancelled],
        [invoice, reserved, deleted],
        issued((invoice, "ds_1")),
        deliveries=deliveries,
    )
    lost = verdicts(h)["no_lost_events"]
    assert "undone by" not in "\n".join([lost[1], *lost[2]]), lost
    assert f"{placed.id} " not in "\n".join(lost[2]), lost  # the placed order made its invoice


def test_a_retry_answered_the_invoice_it_deleted_made_no_invoice() -> None:
    """The saga keys its invoice by the webhook id alone: after the compensation, the retry is
    answered the deleted invoice (the key's first answer, not applied) and reserves. No invoice
    stands: lost, each request said for what it is. It passed, and would have said 'refused
    201' of the replay."""
    [order] = [ev("zqrun", 1)]
    first = write("/invoices", [order], at=0.05)
    refused = write("/reservations", [order], at=0.1, status=503)
    undone = write("/invoices/ds_1", [], method="DELETE", at=0.2, status=204)
    replayed = replace(write("/invoices", [order], at=1.05), committed=False)
    reserved = write("/reservations", [order], at=1.1)
    retried = [failed(order), replace(ok(order, 2, at=1.0), answered_at=1.2)]
    h = saga(
        [order],
        [first, refused, undone, replayed, reserved],
        issued((first, "ds_1")),
        deliveries=retried,
    )
    lost = verdicts(h)["no_lost_events"]
    assert lost[0] is Status.FAIL, lost
    assert (
        f"POST /invoices {replayed.id} (answered its Idempotency-Key's first answer, not applied)"
    ) in lost[2][0], lost
