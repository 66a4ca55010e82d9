"""A pass of no_duplicate_effects over a fault window that acted on no call
(tests/gallery/cursor_sync.py, ``CURSOR=id``, under ambiguous-commit: the commit-then-fail
window closed before the sync's first call; it passed "no event produced a repeated effect",
while recovers_after_outage and backs_off said "the fault acted on no call")."""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Fault, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.invariants import judge

from .test_expected import ev, ok, run, write


def repeated(window: Fault, *, met: bool = False) -> Verdict:
    """Three orders, each delivered once and written once from 1.0 s on (or, ``met``, the
    first written at 0.2 s, applied and answered 502 by the window, and made again at 1.0 s
    under its key: a replay), judged under ``window``."""
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    deliveries = [ok(e, at=n * 0.1) for n, e in enumerate(events)]
    effects = [write("/orders", [e], at=1.0 + n * 0.1) for n, e in enumerate(events)]
    if met:
        effects.insert(0, replace(write("/orders", events[:1], at=0.2, status=502), committed=True))
    h = run(events, deliveries, effects, tag="zqrun", settings={"provider": "stripe"})
    [v] = judge(replace(h, faults=[window]), [InvariantSpec("no_duplicate_effects")])
    return v


AMBIGUOUS = Fault("crm", "commit-then-fail", 0.0, 0.75, {"status": 502})


def test_an_ambiguous_commit_that_met_no_call_is_not_a_pass() -> None:
    """It passed (fails before); now not judged, saying the window and what it saw."""
    v = repeated(AMBIGUOUS)
    said = (
        "not judged: the commit-then-fail fault (crm, 0.00 s-0.75 s) acted on no call, so no "
        "write was applied and answered as failed",
        "(what it saw: no event produced a repeated effect (3 effects over 3 events))",
    )
    assert (v.status, [part in v.summary for part in said]) == (
        Status.INCONCLUSIVE,
        [True, True],
    ), v.summary


def test_an_outage_that_met_no_call_is_said_beside_the_pass() -> None:
    """A 503 window is not there to test repeats alone: the pass stands, the window said."""
    v = repeated(Fault("crm", "status", 0.0, 0.75, {"status": 503}))
    assert v.status is Status.PASS, v.summary
    assert "; the status fault (crm, 0.00 s-0.75 s) acted on no call, so the run shows" in v.summary


def test_an_ambiguous_commit_that_met_a_call_is_judged() -> None:
    """The window applied the first order's write and answered 502: the run put it to the
    test; the second POST of the order is a repeat, judged as ever."""
    v = repeated(AMBIGUOUS, met=True)
    assert v.status is not Status.INCONCLUSIVE, v.summary
    assert "acted on no call" not in v.summary, v.summary
