"""Verdicts on deliveries a deploy restart the run made (a ``restart`` Mark) left unanswered:
told with the restart, in the counts every restart cause uses (``_facts.which_of``)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from harness.core._model import CONNECT_FAILED, NO_ANSWER_WITHIN, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import Mark
from harness.invariants import judge
from harness.invariants._restarts import RESTART_MARK

from .test_deploy_restart import _deployed
from .test_expected import ev, ok, run, write

_SILENT = {
    "answered_at": None,
    "status": None,
    "outcome": Outcome.INDETERMINATE,
    "error": f"{NO_ANSWER_WITHIN} 10 s",
}


def _restarted(
    silent_at: tuple[float, ...], invariant: str, fault: Mapping[str, Any] = _SILENT
) -> Verdict:
    """Ten deliveries 0.1 s apart, a reload from 0.35 s to 0.45 s, those sent at ``silent_at``
    never answered (``fault``: the sender's timeout), the rest 200 with a payout each."""
    events = [ev("zqrun", n) for n in range(1, 11)]
    sent = [(e, n / 10) for n, e in enumerate(events)]
    h = run(
        events,
        [dataclasses.replace(ok(e, at=t), **(fault if t in silent_at else {})) for e, t in sent],
        [write("/payouts", [e], at=t + 0.01) for e, t in sent],
        tag="zqrun",
    )
    h.marks = [Mark(0.45, RESTART_MARK, json.dumps({"at": 0.35, "started": 0.35, "ended": 0.45}))]
    return next(iter(judge(h, [InvariantSpec(invariant)])))


def test_a_timeout_the_deploy_restart_caused_is_not_called_slow() -> None:
    """Before: "1 delivery timed out while the target went on answering: slow, not gone"."""
    v = _restarted((0.4,), "target_available")
    said = (v.status, "slow, not gone" in v.summary, v.summary.endswith("judges that)"))
    assert said == (Status.PASS, False, True), v.summary
    told = "it was sent while the deploy restart at 0.35 s (the restart hook took 0.10 s) took "
    assert f"; 1 delivery timed out while the target went on answering: {told}" in v.summary
    assert "took the endpoint away: the stopping process never answered what it held" in v.summary


def test_a_timeout_outside_the_restart_stays_slow() -> None:
    v = _restarted((0.2, 0.4), "target_available")
    assert (
        "; 2 deliveries timed out while the target went on answering: 1 of them was sent while "
        "the deploy restart at 0.35 s"
    ) in v.summary, v.summary
    assert "; the others slow, not gone (ack_within judges that)" in v.summary, v.summary
    alone = _restarted((0.2,), "target_available")
    assert "deploy restart" not in alone.summary, alone.summary
    assert "timed out while the target went on answering: slow, not gone" in alone.summary


_REFUSED = {
    "answered_at": None,
    "status": None,
    "outcome": Outcome.FAILED,
    "error": f"{CONNECT_FAILED}: Connection refused",
}


def test_connections_refused_while_the_restart_took_the_endpoint_away_are_told_with_it() -> None:
    """Before: "2 of the 10 deliveries got no answer between 0.40 s and 0.50 s (2 could not
    connect), and the target answered again after", the restart unsaid."""
    v = _restarted((0.4, 0.5), "target_available", _REFUSED)
    assert v.status is Status.FAIL, v.summary  # a deploy that refuses webhooks: loud
    assert (
        "and the target answered again after; both of them were sent while the deploy restart "
        "at 0.35 s (the restart hook took 0.10 s) took the endpoint away: a deploy that stops "
        "the listener leaves webhooks unanswered meanwhile"
    ) in v.summary, v.summary
    # Never answered again after the hook: the restart started nothing.
    gone = _restarted(tuple(n / 10 for n in range(4, 10)), "target_available", _REFUSED)
    assert (
        "all 6 of them were sent while the deploy restart at 0.35 s (the restart hook took "
        "0.10 s) took the endpoint away, and the target accepted nothing after it returned: the "
        "hook stopped the old process and no new one answered"
    ) in gone.summary, gone.summary
    # One refused before the restart: the restart explains 1 of 2.
    mixed = _restarted((0.2, 0.4), "target_available", _REFUSED)
    assert "; 1 of them was sent while the deploy restart at 0.35 s" in mixed.summary


def test_counts_of_the_deliveries_a_restart_left_unanswered_read_as_the_others() -> None:
    """ack_within's cause counted "both were" and "all 3 were" where no_lost_events's said
    "both of these" and "all 3 of these"."""
    two = _restarted((0.4, 0.5), "ack_within")
    assert two.status is Status.FAIL, two.summary
    assert "; both of them were sent while the deploy restart at 0.35 s" in two.summary
    three = _restarted((0.4, 0.5, 0.6), "ack_within")
    assert "; all 3 of them were sent while the deploy restart at 0.35 s" in three.summary


# --- events the old process took after the restart hook returned ------------------------------


def test_events_taken_after_the_hook_returned_and_before_the_new_process_worked_are_its() -> None:
    """gunicorn's ``kill -HUP`` returns at once; the old worker takes events for a moment more
    (tests/gallery/deploy_drain.py: a 0.02 s hook, 4 of 13 lost events taken up to 0.09 s after
    it, told 'passed over, or held in a process that then ended'). Here the order taken at
    0.41 s, after a hook of 0.36-0.38 s and before the order of 0.51 s that was paid."""
    v = _deployed(by_record=False, paid_orders=(1, 5), window=(0.36, 0.38))
    assert v.status is Status.FAIL, v.summary
    assert (
        "; 3 of these were accepted (2xx) before, during or just after the deploy restart at "
        "0.36 s (the restart hook took 0.02 s) — those after it taken before any event accepted "
        "since the restart began was worked: a restart hook may return before the old process "
        "stops, as gunicorn's kill -HUP does — and never worked"
    ) in v.summary, v.summary


def test_an_event_lost_after_one_worked_since_the_restart_is_not_the_restarts() -> None:
    """The order of 0.41 s paid, that of 0.51 s not: the new process was working by then."""
    v = _deployed(by_record=False, paid_orders=(1, 4), window=(0.36, 0.38))
    assert "; 2 of these were accepted (2xx) before the deploy restart at 0.36 s" in v.summary
