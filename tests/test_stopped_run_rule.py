"""The rule of a run the user stopped, on a History built by hand (tests/test_stopped_run.py
drives it through real processes): an accepted event short of its effects is unseen where the
stop came less than the wait settling gives (twice the quiet) after the later of its acceptance
and the target's last call; lost otherwise. A deploy's hook Ctrl-C stopped ends the watch where
it began — and an event whose wait had passed before that is lost, not "cannot tell"."""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core._model import Status
from harness.history import History, Mark
from harness.invariants._restarts import RESTART_MARK
from harness.invariants._stopped import INTERRUPTED_MARK

from .test_expected import ev, lost, ok, run, write


def _stopped(at: float, restart: tuple[float, float] | None = None) -> History:
    """Four checkouts sent at 0.1, 0.2, 3.0 and 4.5 s, those before ``at`` accepted, only the
    first written (at 0.15 s);
    the user stopped the run at ``at`` (a wait of 2 s), in a deploy restart whose hook began
    at ``restart[0]`` where given."""
    events = [ev("zqrun", n) for n in range(1, 5)]
    sent = zip(events, (0.1, 0.2, 3.0, 4.5), strict=True)
    deliveries = [ok(e, at=t) for e, t in sent if t < at]  # none after the stop
    h = run(events, deliveries, [write("/contacts", events[:1], at=0.15)], tag="zqrun")
    h.status = "aborted"
    h.marks = [Mark(at, INTERRUPTED_MARK, json.dumps({"quiet": 1.0, "wait": 2.0, "held": False}))]
    if restart is not None:
        started, ended = restart
        detail = {"at": started, "started": started, "ended": ended, "interrupted": True}
        h.marks.insert(0, Mark(ended, RESTART_MARK, json.dumps(detail)))
    h.info = replace(h.info, settings={**h.info.settings, "settle": {"quiet": 1.0}})
    return h


def test_events_within_the_wait_of_the_stop_are_unseen_and_those_past_it_lost() -> None:
    v = lost(_stopped(5.0))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 4 accepted events produced no effect (lost)"), v.summary
    assert (
        "2 events more lack theirs, but the user stopped the run (Ctrl-C or SIGTERM) at 5.00 s, "
        "less than the 2 s a run waits for work not yet done after they were accepted"
    ) in v.summary, v.summary


def test_a_stop_within_the_wait_of_every_shortfall_fails_none() -> None:
    v = lost(_stopped(2.1))  # the checkouts of 3.0 and 4.5 s not yet sent; 0.2 s within 2 s
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "1 of 2 accepted events produced no effect, but the user stopped the run (Ctrl-C or "
        "SIGTERM) at 2.10 s, the target still working then (its last call 1.95 s before"
    ), v.summary
    assert "2 events not sent before the run stopped (not judged)" in v.summary, v.summary


def test_a_wait_passed_before_the_interrupted_deploy_began_is_a_loss_not_the_deploys() -> None:
    """The checkout of 0.2 s, the target idle from 0.15 s, the hook begun at 4.6 s: its wait
    had passed before the deploy; those of 3.0 and 4.5 s were watched less than it."""
    v = lost(_stopped(6.0, restart=(4.6, 6.0)))
    assert v.status is Status.FAIL, v.summary
    assert "cannot tell whether it lost that work" not in v.summary, v.summary
    assert "in the deploy restart that began at 4.60 s" in v.summary, v.summary
