"""A clean run's last events of a type held without effect (invariants/_held.py), over
hand-built Histories: an automation that writes only once more events come (a batch filled by
count, Node-RED's ``join`` with no timeout) leaves its last events unwritten in every run. The
clean run's silence for them is not known to be a payload skipped on purpose: what they owe is
not known, whether the judged run held them last too or events of their type acted after them
(a batch would have taken them; a payload skipped by its content is skipped wherever it
comes). The same automations, run for real: test_stuck_tail_runs.py."""

from __future__ import annotations

from collections.abc import Sequence

from harness.core._model import Delivery, Event, Status
from harness.history import History
from harness.invariants._expected import learn
from harness.invariants._requests import Request

from .test_expected import clean_run, ev, lost, ok, run, write

DEAL = {Request("crm", "POST", "/deals"): 1}


def _in_order(events: Sequence[Event]) -> list[Delivery]:
    """Each of ``events`` delivered once, one at a time, a second apart, in the order given."""
    return [ok(e, at=float(n)) for n, e in enumerate(events)]


def _held_pair() -> tuple[list[Event], History]:
    """Four checkouts, and a clean run that wrote a deal for the first two and nothing for its
    last two: a batcher's partial batch, or payloads skipped."""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4)]
    return [ev("zqrun", i) for i in (1, 2, 3, 4)], clean_run(twins, [write("/deals", twins[:2])])


def test_the_clean_runs_last_events_left_alone_are_held_not_ignored() -> None:
    events, clean = _held_pair()
    exp = learn(run(events, [], [], tag="zqrun").info, events, clean)
    assert exp.held == {events[2].id, events[3].id}
    assert not exp.not_expected and not exp.nothing
    assert exp.per_event == {e.id: DEAL for e in events}


def test_a_run_holding_the_same_last_events_is_inconclusive_not_passed() -> None:
    """This run held its last two too: whether the automation would ever write them neither run
    shows. Before _held, the clean run's silence excused them: a pass."""
    events, clean = _held_pair()
    h = run(events, _in_order(events), [write("/deals", events[:2])], tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("2 of 4 accepted events lack expected effects, but their clean ")
    assert "twins were among the clean run's last events of their type" in v.summary
    assert "writes them later or never, and one that skips a payload by its content" in v.summary
    assert (
        "2 events judged by what their type's events made (held at the clean run's end" in v.summary
    )
    assert v.evidence.event_ids == (events[2].id, events[3].id)
    assert "made no effect in the clean run either" not in v.summary


def test_a_held_event_that_events_of_its_type_acted_after_is_not_known_either() -> None:
    """The third checkout came first here, and the two after it were written: a batch would
    have taken it, but a payload the automation skips by its content (an unpaid checkout) is
    skipped wherever it comes, and the clean run, which had it last, could not show which it
    is. It was failed, lost: a false failure for an automation that skips such payloads, where
    the recording's or the draw's last one happened to be one."""
    events, clean = _held_pair()
    order = [events[2], events[0], events[1], events[3]]
    h = run(events, _in_order(order), [write("/deals", events[:2])], tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("2 of 4 accepted events lack expected effects, but their clean ")
    assert "one that skips a payload by its content never does" in v.summary
    assert v.evidence.event_ids == (events[2].id, events[3].id)


def test_a_run_that_wrote_the_held_events_passes() -> None:
    """Written here, they were not skipped payloads (``unlike_clean``, as before)."""
    events, clean = _held_pair()
    h = run(events, _in_order(events), [write("/deals", events)], tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert "2 events made no effect in the clean run, though events like them did here" in (
        v.summary
    )


def test_payloads_skipped_between_written_ones_are_still_not_owed() -> None:
    """The clean run left the second and third alone and wrote the fourth after them: skipped
    on purpose, as before — not held."""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4)]
    clean = clean_run(twins, [write("/deals", [twins[0], twins[3]])])
    events = [ev("zqrun", i) for i in (1, 2, 3, 4)]
    paid = [write("/deals", [events[0], events[3]])]
    h = run(events, _in_order(events), paid, tag="zqrun", baseline=clean)
    exp = learn(h.info, events, clean, paid)
    assert exp.not_expected == {events[1].id, events[2].id} and not exp.held
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert "2 events made no effect in the clean run either (not owed one)" in v.summary


def test_a_type_the_clean_run_never_acted_on_is_still_ignored_by_design() -> None:
    """Refunds last in the clean run, none written: a type it ignores, not one held."""
    twins = [ev("zqclean", 1), ev("zqclean", 2, "charge.refunded")]
    clean = clean_run(twins, [write("/deals", twins[:1])])
    events = [ev("zqrun", 1), ev("zqrun", 2, "charge.refunded")]
    h = run(events, _in_order(events), [write("/deals", events[:1])], tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert "ignored by design (no effect in the clean run): charge.refunded" in v.summary


def test_deliveries_in_flight_together_follow_neither() -> None:
    """The clean run's last two were sent before the one before them was answered: which the
    target had first is not known, so the one left alone is held (not skipped)."""
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    deliveries = [ok(twins[0], at=0.0), ok(twins[1], at=1.0), ok(twins[2], at=1.005)]
    clean = run(twins, deliveries, [write("/deals", [twins[0], twins[2]])], tag="zqclean")
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    exp = learn(run(events, [], [], tag="zqrun").info, events, clean)
    assert exp.held == {events[1].id}
