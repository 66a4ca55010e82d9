"""drift_is_loud's hedged cause, a dedup keyed on the missing value, claims only what the order of
the journal allows.

One drifted event written with the value missing and two or more others accepted with no effect
at all is the shape of a dedup, lookup or cache keyed on the field (tests/gallery/contact_once.py:
``seen.add(body.get("email"))``, None a key like any other). A dropped event can have been taken
for the written one only where the written one was sent before the dropped one's answer: the key
held nothing before. The cause used to be given whatever the order, "as if each were taken for
that one", of dropped events answered before the written event was even sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.core._model import Status
from harness.drive._drift import DriftRecord

from .test_drift_invariants import BIG, TAG, dlv, eff, ev, invoice_body, one, run

DRIFTED = (4, 5, 7, 9)  # renamed; 6, 8 and 10 as they were, each written


def renamed_run(written: int) -> str:
    """Events 1-10, a second apart; those of ``DRIFTED`` renamed, ``written`` written with the
    account missing and the others accepted with nothing written: drift_is_loud's summary."""
    events = []
    for n in range(1, 11):
        event = ev(n)
        if n in DRIFTED:
            data = dict(event.payload["data"])
            data["accountId"] = data.pop("account_id")
            event = type(event)(event.id, event.key, n, event.type, float(n), {"data": data})
        events.append(event)
    effects = [eff(n, invoice_body(n, BIG + 2 * n)) for n in range(1, 11) if n not in DRIFTED]
    effects.append(eff(written, invoice_body(written, None)))
    record = DriftRecord(
        "rename_field",
        "$.data.account_id",
        "accountId",
        None,
        {f"evt_{TAG}e{n}": BIG + 2 * n for n in DRIFTED},
    )
    v = one(run(events, [dlv(n) for n in range(1, 11)], effects, [record]), "drift_is_loud")
    assert v.status is Status.FAIL, v.summary
    return v.summary


def ids(ns: Sequence[int]) -> str:
    return ", ".join(f"evt_{TAG}e{n}" for n in ns)


def test_drops_answered_after_the_written_event_was_sent_may_each_have_been_taken_for_it() -> None:
    summary = renamed_run(4)
    assert f"one of them, evt_{TAG}e4, was written with the value missing" in summary, summary
    assert "the 3 others were accepted and made no effect at all" in summary, summary
    assert "as if each were taken for that one" in summary, summary
    assert "cannot have been" not in summary, summary


def test_drops_answered_before_the_written_event_was_sent_are_not_said_taken_for_it() -> None:
    """The written event came last: every drop was answered before it was sent — the shape
    says nothing of a key shared with it."""
    summary = renamed_run(9)
    assert "taken for" not in summary, summary
    assert "keyed on the field" not in summary, summary


def test_only_the_drops_answered_after_the_written_event_was_sent_are_said_taken_for_it() -> None:
    summary = renamed_run(5)
    assert f"one of them, evt_{TAG}e5, was written with the value missing" in summary, summary
    assert "the 3 others were accepted and made no effect at all" in summary, summary
    assert f"the 2 answered after it was sent ({ids([7, 9])}) may each have been" in summary, (
        summary
    )
    assert "as if each were taken" not in summary, summary
    assert (
        f"the 1 answered before it was sent ({ids([4])}) cannot have been: something else "
        "dropped it"
    ) in summary, summary
