"""drift_is_loud and big_numbers_intact over small hand-built Histories."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.core._errors import ScenarioError
from harness.core._js_numbers import through_double
from harness.core._model import Delivery, Effect, Event, Model, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.drive._drift import DriftRecord
from harness.history import History, RunInfo
from harness.invariants import check_specs, judge

BIG = 820982911946154508
TAG = "zqtests"


def ev(n: int, account: Any = None, **data: Any) -> Event:
    payload = {"data": {"invoice_id": f"inv_{n}", "account_id": BIG + 2 * n, **data}}
    if account is not None:
        payload["data"]["account_id"] = account
    return Event(f"evt_{TAG}e{n}", f"inv_{n}", n, "invoice.paid", float(n), payload)


def dlv(n: int, status: int = 202) -> Delivery:
    outcome = Outcome.OK if status < 300 else Outcome.REJECTED
    return Delivery(f"dlv_{n}", f"evt_{TAG}e{n}", 1, n, n, n + 0.01, status, outcome)


def eff(n: int, body: dict[str, Any], path: str = "/invoices", method: str = "POST") -> Effect:
    return Effect(
        f"eff_{n}", "api", n + 0.5, method, path, {}, json.dumps(body), 201, (f"evt_{TAG}e{n}",)
    )


def invoice_body(n: int, account: Any) -> dict[str, Any]:
    return {"invoice_id": f"inv_{n}", "account_id": account, "amount": 1999}


def run(
    events: Sequence[Event],
    deliveries: Sequence[Delivery],
    effects: Sequence[Effect],
    records: Sequence[DriftRecord] = (),
    model: Model = Model.LEDGER,
) -> History:
    settings = {"drift": [r.to_json() for r in records]} if records else {}
    info = RunInfo("r", "t", 1, "http://127.0.0.1:1/", "t", model, (), "", TAG, settings=settings)
    return History(info, list(events), list(deliveries), list(effects))


def one(h: History, name: str, **params: Any) -> Verdict:
    [v] = judge(h, [InvariantSpec(name, params)])
    return v


def renamed(*ns: int) -> DriftRecord:
    return DriftRecord(
        "rename_field",
        "$.data.account_id",
        "accountId",
        None,
        {f"evt_{TAG}e{n}": BIG + 2 * n for n in ns},
    )


def world(drifted_body: dict[str, Any] | None, status: int = 202, **kw: Any) -> History:
    """Events 1-3 undrifted and passed on exactly; event 4 renamed, answered ``status``,
    with ``drifted_body`` as its effect (None: no effect)."""
    events = [ev(n) for n in range(1, 4)]
    drifted = Event(
        f"evt_{TAG}e4",
        "inv_4",
        4,
        "invoice.paid",
        4.0,
        {"data": {"invoice_id": "inv_4", "accountId": BIG + 8}},
    )
    effects = [eff(n, invoice_body(n, BIG + 2 * n)) for n in range(1, 4)]
    if drifted_body is not None:
        effects.append(eff(4, drifted_body))
    return run(
        [*events, drifted],
        [dlv(n) for n in range(1, 4)] + [dlv(4, status)],
        effects,
        [renamed(4)],
        **kw,
    )


def test_an_effect_carrying_null_for_a_renamed_field_fails_with_evidence() -> None:
    v = one(world(invoice_body(4, None)), "drift_is_loud")
    assert v.status is Status.FAIL, v.summary
    [line] = v.evidence.lines
    assert f"event evt_{TAG}e4" in line and "renamed to accountId" in line
    assert f"was {BIG + 8}" in line and "dlv_4 202" in line
    assert f"POST /invoices eff_4 carried null at $.account_id instead of {BIG + 8}" in line
    assert v.evidence.effect_ids == ("eff_4",) and v.evidence.delivery_ids == ("dlv_4",)


def test_a_rounded_id_fails_even_when_every_id_is_rounded() -> None:
    """A target that rounds every id must not look as if it never carried the field."""
    events = [ev(n) for n in range(1, 5)]
    effects = [eff(n, invoice_body(n, through_double(BIG + 2 * n))) for n in range(1, 5)]
    h = run(events, [dlv(n) for n in range(1, 5)], effects, [renamed(4)])
    v = one(h, "drift_is_loud")
    assert v.status is Status.FAIL
    assert (
        f"carried {through_double(BIG + 8)} at $.account_id instead of {BIG + 8}"
        in v.evidence.lines[0]
    )
    assert one(h, "big_numbers_intact").status is Status.FAIL


def test_the_original_value_carried_passes_as_processed_correctly() -> None:
    v = one(world(invoice_body(4, BIG + 8)), "drift_is_loud")
    assert v.status is Status.PASS and "1 processed correctly" in v.summary


def test_a_4xx_on_every_delivery_is_loud() -> None:
    v = one(world(None, status=400), "drift_is_loud")
    assert v.status is Status.PASS and "1 rejected loudly" in v.summary
    assert "every delivery answered 4xx" in v.evidence.lines[0]


def test_a_wrong_write_fails_even_when_the_sender_was_told() -> None:
    assert one(world(invoice_body(4, ""), status=400), "drift_is_loud").status is Status.FAIL


def test_an_alert_on_the_alert_route_is_loud_and_is_not_judged_as_a_write() -> None:
    h = world(None)
    alert = Effect(
        "eff_9",
        "api",
        4.6,
        "POST",
        "/alerts",
        {},
        json.dumps({"event": f"evt_{TAG}e4", "account_id": None}),
        201,
        (f"evt_{TAG}e4",),
    )
    h.effects.append(alert)
    # Without the route it is a call elsewhere, proving neither loss nor correct processing.
    unrouted = one(h, "drift_is_loud")
    assert unrouted.status is Status.INCONCLUSIVE
    assert "not where undrifted events carry $.data.account_id" in unrouted.evidence.lines[0]
    v = one(h, "drift_is_loud", alert_route="POST /alerts")
    assert v.status is Status.PASS and "alert POST /alerts eff_9" in v.evidence.lines[0]


def test_accepted_without_effect_fails_for_a_ledger_not_for_a_register() -> None:
    v = one(world(None), "drift_is_loud")
    assert v.status is Status.FAIL and "dropped silently" in v.evidence.lines[0]
    # A register's update may be coalesced into a later one of its record, which wrote.
    h = world(None, model=Model.REGISTER)
    later = Event(f"evt_{TAG}e5", "inv_4", 5, "invoice.paid", 5.0, ev(4).payload)
    h.events.append(later)
    h.deliveries = [*h.deliveries, dlv(5)]
    h.effects.append(eff(5, invoice_body(4, BIG + 8)))
    v = one(h, "drift_is_loud")
    assert v.status is Status.PASS, v.summary
    assert "1 accepted without an effect (register: left to no_lost_events)" in v.summary


def test_a_register_update_accepted_without_effect_and_not_superseded_is_not_passed() -> None:
    # A GitHub issues sync whose worker thread died on an issue without its title
    # (tests/gallery/github_issues.py's kind): 202, no ticket written, and nothing later of the
    # record either. It passed as "none corrupted silently", neither processed nor refused.
    v = one(world(None, model=Model.REGISTER), "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "1 drifted event of 1 was accepted (2xx) and made no effect, and no later event of "
        "their record made one: neither processed nor refused, and not superseded"
    ), v.summary
    assert v.evidence.lines[0].endswith(
        "accepted, no effect, and no later event of its record made one: not coalesced"
    )


def test_a_type_the_target_never_acts_on_is_not_dropped_by_its_drift() -> None:
    """An automation that ignores invoice.paid altogether (the gallery's background_queue pays
    orders only) made nothing for the undrifted invoices either: 'dropped silently' blamed the
    rename for what the automation does to every invoice."""
    h = world(None)
    h.effects.clear()
    v = one(h, "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "as no undrifted 'invoice.paid' event had one" in v.evidence.lines[0]


def test_a_field_the_target_never_carries_is_harmless_drift() -> None:
    events = [ev(n, note=f"n{n}") for n in range(1, 5)]
    effects = [eff(n, {"invoice_id": f"inv_{n}"}) for n in range(1, 5)]
    dropped = DriftRecord("drop_field", "$.data.note", None, None, {f"evt_{TAG}e4": "n4"})
    v = one(run(events, [dlv(n) for n in range(1, 5)], effects, [dropped]), "drift_is_loud")
    assert v.status is Status.PASS and "1 harmless drift" in v.summary
    assert "never carry $.data.note" in v.evidence.lines[0]


def test_a_constant_the_target_hardcodes_cannot_cry_wolf() -> None:
    """Every undrifted event said "usd" and so did the target: a drifted "eur" proves nothing."""
    events = [ev(n, cur="usd") for n in range(1, 4)] + [ev(4, cur="eur")]
    effects = [eff(n, {"invoice_id": f"inv_{n}", "currency": "usd"}) for n in range(1, 5)]
    retyped = DriftRecord("null_field", "$.data.cur", None, None, {f"evt_{TAG}e4": "eur"})
    v = one(run(events, [dlv(n) for n in range(1, 5)], effects, [retyped]), "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE, v.summary


def test_inconclusive_without_drift_or_without_undrifted_references() -> None:
    clean = run([ev(1)], [dlv(1)], [eff(1, invoice_body(1, BIG + 2))])
    v = one(clean, "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE and "no drift perturbation" in v.summary
    nothing = run([ev(1)], [dlv(1)], [eff(1, invoice_body(1, BIG + 2))], [renamed()])
    assert "matched no event" in one(nothing, "drift_is_loud").summary
    alone = run([ev(1)], [dlv(1)], [eff(1, invoice_body(1, None))], [renamed(1)])
    v = one(alone, "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE and "drift a share (rate)" in v.summary


def test_big_numbers_intact_passes_exact_ids_as_numbers_or_digits() -> None:
    events = [ev(n) for n in range(1, 4)]
    effects = [
        eff(1, invoice_body(1, BIG + 2)),
        eff(2, invoice_body(2, BIG + 4)),
        eff(3, invoice_body(3, str(BIG + 6))),
    ]
    v = one(run(events, [dlv(n) for n in range(1, 4)], effects), "big_numbers_intact")
    assert v.status is Status.PASS and "3 values beyond 2**53 arrived exact" in v.summary


def test_big_numbers_intact_fails_a_rounded_id_naming_event_and_effect() -> None:
    events = [ev(n) for n in range(1, 4)]
    effects = [
        eff(1, invoice_body(1, BIG + 2)),
        eff(2, invoice_body(2, BIG + 4)),
        eff(3, invoice_body(3, through_double(BIG + 6))),
    ]
    v = one(run(events, [dlv(n) for n in range(1, 4)], effects), "big_numbers_intact")
    assert v.status is Status.FAIL
    [line] = v.evidence.lines
    assert (
        f"event evt_{TAG}e3" in line and f"{BIG + 6} arrived as {through_double(BIG + 6)}" in line
    )
    assert "rounded through a double" in line and "POST /invoices eff_3 at $.account_id" in line


def test_big_numbers_intact_is_inconclusive_without_big_numbers_or_when_never_carried() -> None:
    small = run([ev(1, account=5)], [dlv(1)], [eff(1, invoice_body(1, 5))])
    assert "no event carries an integer beyond 2**53" in one(small, "big_numbers_intact").summary
    events = [ev(n) for n in range(1, 4)]
    unused = run(events, [dlv(n) for n in range(1, 4)], [eff(n, {"x": 1}) for n in range(1, 4)])
    v = one(unused, "big_numbers_intact")
    assert v.status is Status.INCONCLUSIVE and "never carry one" in v.summary


@pytest.mark.parametrize("route", ["alerts", "POST alerts", "FETCH /alerts", "POST /a*b"])
def test_a_bad_alert_route_is_refused_with_the_field(route: str) -> None:
    with pytest.raises(ScenarioError) as info:
        check_specs([InvariantSpec("drift_is_loud", {"alert_route": route})])
    assert "invariants[0].params.alert_route" in str(info.value)
    assert repr(route) in str(info.value)


def test_a_batch_of_several_events_neither_teaches_nor_judges() -> None:
    """One call carrying all four invoices: which account id is whose cannot be told, so the
    verdict must not call the rename harmless."""
    events = [ev(n) for n in range(1, 4)]
    drifted = Event(
        f"evt_{TAG}e4", "inv_4", 4, "invoice.paid", 4.0, {"data": {"invoice_id": "inv_4"}}
    )
    items = [invoice_body(n, BIG + 2 * n) for n in range(1, 4)] + [invoice_body(4, None)]
    batch = Effect(
        "eff_1",
        "api",
        5.0,
        "POST",
        "/invoices/batch",
        {},
        json.dumps({"items": items}),
        201,
        tuple(f"evt_{TAG}e{n}" for n in range(1, 5)),
    )
    h = run([*events, drifted], [dlv(n) for n in range(1, 5)], [batch], [renamed(4)])
    v = one(h, "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "a batch" in v.evidence.lines[0]


def test_a_dropped_redacted_field_stays_out_of_the_report_text() -> None:
    """The original of a dropped email is kept for judging; a redact path still covers it."""
    from harness.report._redact import Redactor

    events = [ev(n, email=f"user{n}@example.com") for n in range(1, 4)]
    dropped = DriftRecord("drop_field", "$.data.email", None, None, {f"evt_{TAG}e3": "user3@x.io"})
    h = run(events, [dlv(n) for n in range(1, 4)], [], [dropped])
    info = replace(h.info, settings={**h.info.settings, "redact": ["$.data.email"]})
    redactor = Redactor.for_runs([replace(h, info=info)], {})
    assert "user3@x.io" not in redactor.text('$.data.email dropped (was "user3@x.io")')
    assert "user3@x.io" in Redactor.for_runs([h], {}).text('was "user3@x.io"')  # not asked to


def test_an_id_carried_in_the_url_is_learned_and_judged_too() -> None:
    """``PUT /accounts/<id>``: a rounded id in the URL is as wrong as one in the body."""
    events = [ev(n) for n in range(1, 5)]
    effects = [
        eff(n, {"amount": 1999}, path=f"/accounts/{through_double(BIG + 2 * n)}", method="PUT")
        for n in range(1, 5)
    ]
    h = run(events, [dlv(n) for n in range(1, 5)], effects, [renamed(4)])
    v = one(h, "drift_is_loud")
    assert v.status is Status.FAIL, v.summary
    assert (
        f'carried "{through_double(BIG + 8)}" at URL path segment 2 instead of {BIG + 8}'
        in v.evidence.lines[0]
    )
    exact = [
        eff(n, {"amount": 1999}, path=f"/accounts/{BIG + 2 * n}", method="PUT") for n in range(1, 4)
    ] + [eff(4, {"amount": 1999}, path=f"/accounts/{BIG + 8}", method="PUT")]
    fine = run(events, [dlv(n) for n in range(1, 5)], exact, [renamed(4)])
    assert one(fine, "drift_is_loud").status is Status.PASS
    assert one(fine, "big_numbers_intact").status is Status.PASS
    assert "URL path segment 2" in one(fine, "big_numbers_intact").summary


# --- one rule for 64-bit ids in both invariants (issue #11, point 7) -------------------------


def test_big_numbers_intact_fails_python_rounding_as_well_as_javascript_rounding() -> None:
    """``int(float(x))`` prints the double's exact value, …496 where JavaScript prints …500."""
    events = [ev(n) for n in range(1, 5)]
    effects = [eff(n, invoice_body(n, int(float(BIG + 2 * n)))) for n in range(1, 5)]
    v = one(run(events, [dlv(n) for n in range(1, 5)], effects), "big_numbers_intact")
    assert v.status is Status.FAIL, v.summary
    assert "4 of 4 values beyond 2**53 arrived changed (rounded through a double)" in v.summary
    assert (
        f"{BIG + 2} arrived as {int(float(BIG + 2))} (rounded through a double)"
        in (v.evidence.lines[0])
    )


def test_ids_passed_on_as_digit_strings_are_intact_in_both_invariants() -> None:
    """A sender switches account_id to its digits in a string; the target passes that on."""
    events = [ev(n) for n in range(1, 4)] + [ev(4, account=str(BIG + 8))]
    effects = [eff(n, invoice_body(n, str(BIG + 2 * n))) for n in range(1, 5)]
    retyped = DriftRecord(
        "retype_field", "$.data.account_id", "string", None, {f"evt_{TAG}e4": BIG + 8}
    )
    h = run(events, [dlv(n) for n in range(1, 5)], effects, [retyped])
    big = one(h, "big_numbers_intact")
    assert big.status is Status.PASS and "3 values beyond 2**53 arrived exact" in big.summary
    loud = one(h, "drift_is_loud")
    assert loud.status is Status.PASS and "1 processed correctly" in loud.summary


def test_drift_is_loud_fails_a_python_rounded_id_and_says_so() -> None:
    events = [ev(n) for n in range(1, 4)] + [ev(4, account=str(BIG + 8))]
    effects = [eff(n, invoice_body(n, int(float(BIG + 2 * n)))) for n in range(1, 5)]
    retyped = DriftRecord(
        "retype_field", "$.data.account_id", "string", None, {f"evt_{TAG}e4": BIG + 8}
    )
    v = one(run(events, [dlv(n) for n in range(1, 5)], effects, [retyped]), "drift_is_loud")
    assert v.status is Status.FAIL, v.summary  # not "harmless drift": the id was corrupted
    assert (
        f"carried {int(float(BIG + 8))} at $.account_id instead of {BIG + 8} "
        "(rounded through a double)"
    ) in v.evidence.lines[0]


def stopped_at(first: int, drifted: Sequence[int], worked: Sequence[int] = ()) -> History:
    """Eight invoices, 1-3 posted; from ``first`` on (but ``worked``) none is: a worker that
    died. ``drifted`` had their account id renamed (no value, as the target never saw it)."""
    events = [
        Event(
            f"evt_{TAG}e{n}",
            f"inv_{n}",
            n,
            "invoice.paid",
            float(n),
            {"data": {"invoice_id": f"inv_{n}", "accountId": BIG + 2 * n}},
        )
        if n in drifted
        else ev(n)
        for n in range(1, 9)
    ]
    posted = [n for n in range(1, 9) if n < first or n in worked]
    effects = [eff(n, invoice_body(n, BIG + 2 * n)) for n in posted]
    return run(events, [dlv(n) for n in range(1, 9)], effects, [renamed(*drifted)])


def test_drifted_events_lost_after_the_target_stopped_are_not_the_drifts_witnesses() -> None:
    """The gallery's dead_worker under missing-field: its thread died on the first checkout
    without an email, and every checkout after it was lost, drifted or not. drift_is_loud
    named every later drifted one "dropped silently" (13 of 14); only the one it died on
    shows its drift swallowed, the others are lost because it had stopped."""
    v = one(stopped_at(4, [4, 6, 8]), "drift_is_loud")
    assert v.status is Status.FAIL, v.summary
    [line] = v.evidence.lines
    assert line.startswith(f"event evt_{TAG}e4 ") and "dropped silently" in line, line
    assert "it stopped working here" in line
    assert v.summary.startswith("1 drifted event of 3 reached a downstream"), v.summary
    assert (
        "2 lost after the target stopped, 1 corrupted or dropped silently); 2 later drifted "
        f"events are not counted against the drift: the target stopped working at event "
        f"evt_{TAG}e4 (seq 4), 3.0 s into the run, and all 5 events it accepted from then on "
        "are lost, drifted or not (no_lost_events' note says where it stopped)"
    ) in v.summary


def test_a_target_stopped_on_an_undrifted_event_leaves_later_drift_unjudged() -> None:
    """Stopped at event 4, which was sent as it was: the drifted events after it show nothing
    of their drift — inconclusive, naming the stop, not a failure of the drift."""
    v = one(stopped_at(4, [6, 8]), "drift_is_loud")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "the target stopped working at event" in v.summary and "(seq 4)" in v.summary
    assert all("accepted after the target stopped working" in x for x in v.evidence.lines)
    assert [x.split(" ")[1] for x in v.evidence.lines] == [f"evt_{TAG}e6", f"evt_{TAG}e8"]


def test_drifted_events_passed_over_while_the_target_worked_on_are_each_witnesses() -> None:
    """The same drifted events without a stop (invoice 7 was posted after them): each was
    dropped silently by a target still working."""
    v = one(stopped_at(4, [4, 6], worked=[5, 7, 8]), "drift_is_loud")
    assert v.status is Status.FAIL, v.summary
    assert len(v.evidence.lines) == 2 and "stopped" not in v.summary, v.summary
