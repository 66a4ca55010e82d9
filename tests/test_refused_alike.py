"""Refusals during a fault window that the outage did not cause (``invariants/_refused_alike``).

The gallery's issue_exports files each GitHub issue with its title in a header that
``http.client`` sends as Latin-1: an issue titled in Polish is answered 500, fault or not.
Under downstream-outage, recovers_after_outage blamed the injected fault for those 500s ('17
events refused during a fault window were never accepted …', two of them the automation's own:
their clean twins were answered 500 too, and they made no call the fault could answer). They
are judged now where a refusal with no fault is, by no_lost_events; the outage verdict names
them as not its own.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Outcome, Status
from harness.history import History

from .test_fault_invariants import OUTAGE, with_faults
from .test_invariants import delivery, effect, event, history, one


def _github(h: History) -> History:
    return replace(h, info=replace(h.info, settings={**h.info.settings, "provider": "github"}))


def clean_run() -> History:
    """The clean run: evt_2's twin answered 500 with no fault open (the automation's own
    error), the others accepted and written."""
    events = [replace(event(n, f"ord_{n}"), id=f"cln_{n}") for n in (1, 2, 3)]
    deliveries = [
        delivery("cdl_1", "cln_1"),
        delivery("cdl_2", "cln_2", Outcome.FAILED, sent=0.1, status=500),
        delivery("cdl_3", "cln_3", sent=0.2),
    ]
    effects = [effect("cef_1", ["cln_1"], 0.05), effect("cef_3", ["cln_3"], 0.25)]
    return _github(history(events, deliveries, effects))


def outage_run(twin_refused: bool = True) -> History:
    """evt_1 accepted before the outage; during it, evt_2 answered 500 having made no call,
    and evt_3 answered 502 after its call was refused 503 by the fault."""
    events = [event(n, f"ord_{n}") for n in (1, 2, 3)]
    deliveries = [
        delivery("dlv_1", "evt_1", sent=0.4),
        delivery("dlv_2", "evt_2", Outcome.FAILED, sent=1.2, status=500),
        delivery("dlv_3", "evt_3", Outcome.FAILED, sent=1.4, status=502),
    ]
    effects = [effect("eff_1", ["evt_1"], 0.45), effect("eff_3", ["evt_3"], 1.41, status=503)]
    h = with_faults(_github(history(events, deliveries, effects)), OUTAGE)
    clean = clean_run()
    if not twin_refused:
        accepted = delivery("cdl_2", "cln_2", sent=0.1)
        clean.deliveries = [accepted if d.id == "cdl_2" else d for d in clean.deliveries]
        clean.effects = [*clean.effects, effect("cef_2", ["cln_2"], 0.15)]
    h.baseline = clean
    return h


def test_a_refusal_its_clean_twin_got_too_is_not_blamed_on_the_outage() -> None:
    v = one(outage_run(), "recovers_after_outage")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 event refused during a fault window was never accepted and never got its effects: "
        "GitHub does not redeliver what the target refuses: lost in production"
    ), v.summary
    assert v.evidence.event_ids == ("evt_3",)
    assert v.summary.endswith(
        "; 1 event refused during the fault window not judged (evt_2): it was answered 500 as "
        "its clean twin was in the clean run, where no fault was open, and no call of its met "
        "the fault — the automation's own error, not the outage's (no_lost_events judges it)"
    ), v.summary
    # Judged where a refusal with no fault is: lost, GitHub never sends it again.
    lost = one(outage_run(), "no_lost_events")
    assert lost.status is Status.FAIL, lost.summary
    assert lost.summary.startswith(
        "1 of 3 events lost: 1 event the target refused (answered 500 to every delivery, in a "
        "downstream fault window that met no call of theirs, and refused alike in the clean "
        "run, where none was open: the automation's own refusals) was never redelivered and "
        "accepted: GitHub does not redeliver what the target refuses: lost in production"
    ), lost.summary
    assert lost.evidence.event_ids == ("evt_2",)


def test_a_refusal_whose_clean_twin_was_accepted_stays_the_outages() -> None:
    """A target that refuses during an outage without calling (a circuit breaker) refuses
    what it accepted in the clean run: the outage's, as before."""
    v = one(outage_run(twin_refused=False), "recovers_after_outage")
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_2", "evt_3")
    assert "not the outage's" not in v.summary
    assert one(outage_run(twin_refused=False), "no_lost_events").status is Status.PASS


def test_a_refusal_alike_that_did_part_of_its_work_is_left_to_the_outage() -> None:
    """Every event writes a contact, then pays. evt_2's clean twin did both and answered 500
    after (its own error); during the outage evt_2 wrote the contact and answered 500 without
    paying, no call of its refused (a circuit breaker opened by the others' refused payouts
    calls nothing). no_lost_events takes an event that wrote for one that did its work, so
    judged there the payout missing would be judged nowhere: recovers_after_outage keeps it."""
    h = outage_run()
    contacts = [effect(f"{e.id}_c", list(e.event_ids), e.at - 0.01, path="/contacts")
                for e in h.effects if e.status < 400]  # fmt: skip
    h.effects = sorted([*h.effects, *contacts, effect("eff_2c", ["evt_2"], 1.21, path="/contacts")],
                       key=lambda e: e.at)  # fmt: skip
    clean = h.baseline
    assert clean is not None
    clean.effects = sorted(
        [*clean.effects, *(effect(f"{e.id}_c", list(e.event_ids), e.at - 0.01, path="/contacts")
                           for e in clean.effects),
         effect("cef_2c", ["cln_2"], 0.11, path="/contacts"), effect("cef_2", ["cln_2"], 0.12)],
        key=lambda e: e.at,
    )  # fmt: skip
    v = one(h, "recovers_after_outage")
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_2", "evt_3"), v.summary
    assert "not the outage's" not in v.summary, v.summary


def test_a_408_alike_is_left_to_the_outage() -> None:
    """evt_2 answered 408 during the outage, as its clean twin was: no_lost_events judges no
    408 (a sender does not come back after one as after a 5xx or 429), so it stays here."""
    h = outage_run()
    h.deliveries = [replace(d, status=408) if d.id == "dlv_2" else d for d in h.deliveries]
    clean = h.baseline
    assert clean is not None
    clean.deliveries = [replace(d, status=408) if d.id == "cdl_2" else d for d in clean.deliveries]
    v = one(h, "recovers_after_outage")
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_2", "evt_3"), v.summary
    assert "not the outage's" not in v.summary, v.summary
