"""``no_duplicate_effects`` over a run that accepted events and made no write at all — only
reads, or no call while an observer read the records the automation wrote elsewhere: nothing
a repeat could be of, so inconclusive with the reason, as mend-k made the run whose writes were
all refused (tests/test_mend_k_nothing_written.py); ``no_lost_events`` still fails the events
that came to nothing, and the duplicate verdict points there rather than saying it again."""

from __future__ import annotations

from harness.core._model import StateRecord, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge

from .test_expected import CHECKOUT, ev, ok, run, write


def _judged(h: History) -> dict[str, Verdict]:
    specs = [InvariantSpec(n) for n in ("no_duplicate_effects", "no_lost_events")]
    return {v.invariant: v for v in judge(h, specs)}


def _twice(tag: str) -> tuple[list, list]:
    events = [ev(tag, i) for i in range(2)]
    return events, [ok(e, n, at=float(n) + e.seq / 10) for e in events for n in (1, 2)]


def test_reads_alone_are_inconclusive_not_a_pass() -> None:
    """Two events delivered twice, each delivery's call a GET. Before: PASS, "no event produced
    a repeated effect (0 effects over 0 events)"."""
    events, deliveries = _twice("zqlookups")
    calls = [write("/payments", [e], method="GET", at=d.sent_at + 0.05, status=200)
             for e in events for d in deliveries if d.event_id == e.id]  # fmt: skip
    v = _judged(run(events, deliveries, calls, tag="zqlookups"))
    dup = v["no_duplicate_effects"]
    assert dup.status is Status.INCONCLUSIVE, dup.summary
    assert dup.summary.startswith(
        "not judged: the automation wrote nothing to a downstream double in this run (its 4 "
        "calls were all reads), so the run saw no write a second could repeat — if it writes "
        "to an API the harness does not stand in for, point that API's base URL at the "
        "downstream double (docs/five-minutes.md) and run again; no_lost_events judges"
    ), dup.summary
    # The loss is no_lost_events's to say, and it does: the duplicate verdict only points.
    assert v["no_lost_events"].status is Status.FAIL, v["no_lost_events"].summary
    assert "produced no effect" not in dup.summary


def test_no_call_with_records_observed_is_inconclusive() -> None:
    """An automation writing its own database, read back by an observer: the final records
    say where each ended, not how often it was written. Before: PASS, "0 effects over 0
    events"."""
    events, deliveries = _twice("zqobserved")
    h = run(events, deliveries, [], tag="zqobserved")
    h.states = [
        StateRecord("observer", "/orders", e.key, {"id": e.key}, (e.id,), e.key) for e in events
    ]
    dup = _judged(h)["no_duplicate_effects"]
    told = "(no call; an observer read 2 records of its state, which shows where each ended, "
    said = (dup.status, f"{told}not how many times it was written)" in dup.summary)
    assert said == (Status.INCONCLUSIVE, True), dup.summary


def test_a_read_beside_one_committed_write_is_judged() -> None:
    events, deliveries = _twice("zqreadwrite")
    calls = [write("/payments", [events[0]], method="GET", at=1.05, status=200),
             write("/payments", [events[0]], at=1.06)]  # fmt: skip
    dup = _judged(run(events, deliveries, calls, tag="zqreadwrite"))["no_duplicate_effects"]
    assert dup.status is Status.PASS, dup.summary


def test_reads_of_events_declared_expect_none_are_judged_as_before() -> None:
    """The user said the automation makes nothing of these events: its reads pass, as a run
    with no call at all does (``_no_calls``)."""
    events, deliveries = _twice("zqdeclared")
    calls = [write("/payments", [e], method="GET", at=1.5, status=200) for e in events]
    h = run(events, deliveries, calls, tag="zqdeclared", settings={"expect": {CHECKOUT: []}})
    dup = _judged(h)["no_duplicate_effects"]
    assert dup.status is Status.PASS, dup.summary
