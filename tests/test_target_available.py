"""target_available over hand-built Histories, the texts that count what they did not see, the
deliveries by answer, and the console and pytest summary that show them.

The same verdicts against real processes (one killed mid-run, one that dies during its clean
baseline run, one answering 500 to everything) are in test_target_available_runs.py.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from harness_pytest._result import HarnessResult
from harness_pytest._summary import readiness_lines

from harness.cli import _console
from harness.core._errors import ScenarioError
from harness.core._model import (
    Delivery,
    Evidence,
    FailureClass,
    Outcome,
    Status,
    Verdict,
)
from harness.core._scenario import InvariantSpec
from harness.engine import RunResult
from harness.history import History
from harness.invariants import ALWAYS_INVARIANTS, check_specs, judge
from harness.report import _charts, _stats
from harness.report._answers import delivery_answers
from harness.report._content import RunInput, build_report
from harness.report.json import document
from harness.report.markdown import timeline_text

from .test_invariants import delivery, effect, event, history, one

REFUSED = "connection failed: Connect call failed ('127.0.0.1', 9)"
RESET = "connection broke before an answer: ServerDisconnectedError: Server disconnected"
TIMEOUT = "no answer within 5 s"


def refused(dlv: str, eid: str, sent: float) -> Delivery:
    # As the Deliverer records it: failed, no status, the time the connection failed at.
    return delivery(dlv, eid, Outcome.FAILED, sent=sent, status=None, latency=0.001, error=REFUSED)


def reset(dlv: str, eid: str, sent: float) -> Delivery:
    return delivery(
        dlv, eid, Outcome.INDETERMINATE, sent=sent, status=None, latency=None, error=RESET
    )


def timed_out(dlv: str, eid: str, sent: float, attempt: int = 1) -> Delivery:
    return delivery(
        dlv,
        eid,
        Outcome.INDETERMINATE,
        sent=sent,
        status=None,
        latency=None,
        error=TIMEOUT,
        attempt=attempt,
    )


def dying(n: int = 10, alive: int = 6) -> History:
    """``n`` events, one a record, sent 0.1 s apart; the target answers the first ``alive``
    and makes their payouts, then refuses every connection."""
    events = [event(i, key=f"ord_{i}") for i in range(1, n + 1)]
    deliveries = [
        delivery(f"dlv_{i}", e.id, sent=i / 10) if i <= alive else refused(f"dlv_{i}", e.id, i / 10)
        for i, e in enumerate(events, 1)
    ]
    effects = [effect(f"eff_{i}", [f"evt_{i}"], i / 10 + 0.05) for i in range(1, alive + 1)]
    return history(events, deliveries, effects)


def all_answered(n: int = 5) -> History:
    events = [event(i, key=f"ord_{i}") for i in range(1, n + 1)]
    return history(
        events,
        [delivery(f"dlv_{i}", e.id, sent=i / 10) for i, e in enumerate(events, 1)],
        [effect(f"eff_{i}", [e.id], i / 10 + 0.05) for i, e in enumerate(events, 1)],
    )


# --- the verdict ------------------------------------------------------------------------------


def test_every_delivery_answered_holds() -> None:
    v = one(all_answered(), "target_available")
    assert v.status is Status.PASS
    assert v.failure_class is FailureClass.LOUD
    assert v.summary == "the target answered all 5 deliveries"


def test_a_target_that_stops_answering_fails_saying_when_and_what_it_cost() -> None:
    v = one(dying(), "target_available")
    assert v.status is Status.FAIL
    assert v.summary == (
        "the target stopped answering at 0.70 s: 4 of the 10 deliveries got no answer from "
        "then on (4 could not connect); 4 events never accepted because of it"
    )
    first, lost, *witnesses = v.evidence.lines
    assert first.startswith(
        "last answer: delivery dlv_6 (event evt_6) sent at 0.60 s, answered 200 at 0.65 s; "
        "from 0.70 s on, 4 deliveries got no answer, the first dlv_7: could not connect"
    )
    assert lost == "never accepted because of it: 4 events, evt_7, evt_8, evt_9, evt_10"
    assert witnesses[0] == (
        f"delivery dlv_7 of event evt_7 (record ord_7, seq 7), attempt 1, sent at 0.70 s: "
        f"could not connect ({REFUSED})"
    )
    assert v.evidence.event_ids[:4] == ("evt_7", "evt_8", "evt_9", "evt_10")
    assert {"dlv_6", "dlv_7", "dlv_10"} <= set(v.evidence.delivery_ids)


def test_resets_count_and_are_told_apart() -> None:
    h = dying()
    h.deliveries.append(reset("dlv_11", "evt_8", 1.2))
    v = one(h, "target_available")
    assert v.status is Status.FAIL
    assert "5 of the 11 deliveries got no answer from then on (4 could not connect, 1 reset)" in (
        v.summary
    )
    assert any(line.endswith(f"reset ({RESET})") for line in v.evidence.lines)


def test_a_timeout_followed_by_nothing_is_a_hung_target() -> None:
    """Connections are accepted (a stopped process's backlog still accepts them), no answer
    comes, and nothing happens downstream after: the target is not there."""
    h = all_answered(3)
    h.events.append(event(4, key="ord_4"))
    h.deliveries.append(timed_out("dlv_4", "evt_4", 0.4))
    v = one(h, "target_available")
    assert v.status is Status.FAIL
    assert v.summary.startswith("the target stopped answering at 0.40 s: 1 of the 4 deliveries")
    assert "(1 timed out)" in v.summary


def test_a_timeout_whose_retry_was_answered_is_the_target_being_slow() -> None:
    h = all_answered(3)
    h.deliveries[1] = timed_out("dlv_2", "evt_2", 0.2)
    h.deliveries.append(delivery("dlv_2.r1", "evt_2", sent=5.2, attempt=2))
    v = one(h, "target_available")
    assert v.status is Status.PASS
    assert v.summary == (
        "the target answered 3 of 4 deliveries; 1 delivery timed out while the target went on "
        "answering: slow, not gone (ack_within judges that)"
    )
    # ...and ack_within, which judges slowness, fails it.
    assert one(h, "ack_within").status is Status.FAIL


def test_a_timeout_followed_by_downstream_calls_is_slow_not_gone() -> None:
    """The last delivery timed out while the target was still calling its API for it."""
    h = all_answered(3)
    h.deliveries[2] = timed_out("dlv_3", "evt_3", 0.3)
    h.effects[2] = effect("eff_3", ["evt_3"], 4.0)
    assert one(h, "target_available").status is Status.PASS


def test_an_outage_the_target_came_back_from() -> None:
    events = [event(i, key=f"ord_{i}") for i in range(1, 9)]
    ds = [
        refused(f"dlv_{i}", e.id, i / 10)
        if i in (3, 4)
        else delivery(f"dlv_{i}", e.id, sent=i / 10)
        for i, e in enumerate(events, 1)
    ]
    h = history(events, ds, [])
    v = one(h, "target_available")
    assert v.status is Status.FAIL
    assert v.summary == (
        "2 of the 8 deliveries got no answer between 0.30 s and 0.40 s (2 could not connect), "
        "and the target answered again after; 2 events never accepted because of it"
    )
    assert (
        "no answer between 0.30 s and 0.40 s: 2 could not connect (dlv_3, dlv_4); answered "
        "again from a delivery sent at 0.50 s" in v.evidence.lines
    )
    # The report's timeline bands the outage, from the first silence to the next answer.
    (band,) = _stats.unavailable_windows(h, 1.0)
    assert (band.start, band.end) == (0.3, 0.5)


def test_max_share_allows_a_few() -> None:
    h = dying(n=100, alive=99)
    v = one(h, "target_available", max_share=0.02)
    assert v.status is Status.PASS
    assert "(1% of deliveries, at most 2% allowed)" in v.summary
    assert one(h, "target_available", max_share=0.005).status is Status.FAIL


@pytest.mark.parametrize("bad", [-0.1, 1.5, "all"])
def test_max_share_is_a_share(bad: object) -> None:
    with pytest.raises(ScenarioError, match="max_share"):
        check_specs([InvariantSpec("target_available", {"max_share": bad})])


def test_a_target_that_died_during_the_clean_baseline_run_fails_the_run() -> None:
    """The baseline answered 6 then refused; the run could reach it no more."""
    run = dying(alive=0)
    run.baseline = dying()
    v = one(run, "target_available")
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "the target answered none of the 10 deliveries (10 could not connect); 10 events never "
        "accepted because of it; during the clean baseline run, the target stopped answering "
        "at 0.70 s: 4 of the 10 deliveries"
    )
    assert any(line.startswith("clean baseline run: last answer: ") for line in v.evidence.lines)


def test_a_baseline_that_lost_the_target_fails_a_run_that_found_it_back() -> None:
    run = all_answered()
    run.baseline = dying()
    v = one(run, "target_available")
    assert v.status is Status.FAIL
    assert v.summary.endswith("; this run: the target answered all 5 deliveries")


def test_a_sender_that_stopped_waiting_is_not_the_target() -> None:
    """A load test that stopped its users mid-request: no answer, not the target's doing."""
    h = all_answered(3)
    h.deliveries.append(
        delivery(
            "dlv_4",
            "evt_3",
            Outcome.INDETERMINATE,
            sent=0.5,
            status=None,
            latency=None,
            error="the load test stopped this user before an answer",
        )
    )
    v = one(h, "target_available")
    assert v.status is Status.PASS
    assert "1 delivery ended without an answer on the sender's side (the load test" in v.summary


def test_nothing_delivered_is_inconclusive() -> None:
    v = one(history([event(1)], [], []), "target_available")
    assert v.status is Status.INCONCLUSIVE


# --- judged in every run ----------------------------------------------------------------------


def test_judged_in_every_run_even_when_a_scenario_names_its_invariants() -> None:
    assert ALWAYS_INVARIANTS == ("target_available",)
    named = (InvariantSpec("no_duplicate_effects"),)
    h = dying()
    h.info = dataclasses.replace(h.info, invariants=named)
    verdicts = judge(h)
    assert [v.invariant for v in verdicts] == ["no_duplicate_effects", "target_available"]
    assert verdicts[1].status is Status.FAIL


def test_named_with_a_parameter_it_is_judged_once_with_it() -> None:
    h = dying(n=100, alive=99)
    named = (InvariantSpec("target_available", {"max_share": 0.05}), InvariantSpec("ack_within"))
    h.info = dataclasses.replace(h.info, invariants=named)
    verdicts = judge(h)
    assert [v.invariant for v in verdicts] == ["target_available", "ack_within"]
    assert verdicts[0].status is Status.PASS


def test_a_dead_target_is_never_ready() -> None:
    h = dying()
    content = build_report([RunInput(h, judge(h))], environ={})
    assert not content.ready and content.verdict == "Not ready"
    (target,) = content.targets
    loud = {a.key: a for a in target.areas}["loud"]
    assert loud.status == "not ready"
    assert "a target that stopped answering in test" in loud.failing
    assert "4 unanswered (no connection, reset, timeout)" in loud.observed
    unattended = {p.title: p for p in target.principles}["Runs unattended"]
    assert unattended.status == "fails"
    assert [a.key for a in content.advice][:1] == ["unavailable"]
    (scenario,) = content.scenarios
    (band,) = scenario.pictures.timeline.unavailable
    assert band.start == 0.7 and "stopped answering at 0.70 s" in band.label
    # The timeline shows it: a grey band in HTML, a row of its own in Markdown.
    svg = _charts.timeline(scenario.pictures.timeline)
    assert ">no answer</text>" in svg and f"<title>{band.label}</title>" in svg
    rows = {
        line.split("  ")[0]: line for line in timeline_text(scenario.pictures.timeline).split("\n")
    }
    assert "▒" in rows["no answer"]


def test_a_report_judges_target_available_when_the_caller_did_not() -> None:
    """judge(history, specs) judges exactly the specs; a report of it still looks at whether
    the target answered."""
    h = dying()
    only = judge(h, [InvariantSpec("no_duplicate_effects")])
    assert [v.invariant for v in only] == ["no_duplicate_effects"]
    content = build_report([RunInput(h, only)], environ={})
    assert not content.ready
    (scenario,) = content.scenarios
    assert [v.invariant for v in scenario.verdicts] == ["no_duplicate_effects", "target_available"]


def test_the_pytest_result_tells_failed_inconclusive_and_answers_apart() -> None:
    h = all_500(BODY)
    result = HarnessResult(RunResult(h, tuple(judge(h))))
    assert [v.invariant for v in result.failed] == ["target_available"]
    # Nothing accepted: the passes of the others would prove nothing, so they are not passes.
    assert [v.invariant for v in result.inconclusive] == [
        "no_lost_events",
        "no_duplicate_effects",
        "per_key_order",
        "ack_within",
    ]
    # The failed first: an assert's message is cut short, and target_available, judged last,
    # was cut off behind the four inconclusive ones.
    assert [v.invariant for v in result.failures][:2] == ["target_available", "no_lost_events"]
    assert len(result.failures) == 5
    assert result.answers.failed == 3 and result.answers.most_common is not None
    assert repr(result).endswith(
        ": 0/5 hold; fails target_available; inconclusive no_lost_events, no_duplicate_effects, "
        "per_key_order, ack_within>"
    )


# --- texts that count what they did not see ---------------------------------------------------


def test_ack_within_counts_the_deliveries_that_got_no_answer() -> None:
    v = one(dying(n=100, alive=29), "ack_within")
    assert v.status is Status.PASS
    assert v.summary.startswith("all 29 answered deliveries came back within 2 s; latency ")
    assert v.summary.endswith("; 71 got no answer, judged by target_available")


# --- deliveries by answer, the console, the pytest summary ------------------------------------


def all_500(body: str) -> History:
    events = [event(i, key=f"ord_{i}") for i in range(1, 4)]
    ds = [
        dataclasses.replace(
            delivery(f"dlv_{i}", e.id, Outcome.FAILED, sent=i / 10, status=500),
            answer_body=body,
        )
        for i, e in enumerate(events, 1)
    ]
    ds.append(refused("dlv_4", "evt_1", 0.5))
    return history(events, ds, [])


BODY = '{"error": "db down", "password": "hunter2-db-password", "detail": "could not conn'


def test_deliveries_by_answer_and_the_most_common_answer_redacted() -> None:
    answers = delivery_answers(all_500(BODY))
    assert (answers.accepted, answers.rejected, answers.failed, answers.unanswered) == (0, 0, 3, 1)
    assert answers.most_common is not None
    assert answers.most_common.status == 500 and answers.most_common.count == 3
    assert "hunter2" not in answers.most_common.body
    assert answers.line() == (
        "4 deliveries: 0 accepted (2xx), 0 rejected (4xx), 3 failed (5xx), 1 unanswered (no "
        "connection, reset, timeout); the target accepted no event; most common answer: 500 "
        '{"error": "db down", "password": "[redacted 1]", "detail": "could not conn '
        "(3 of 4 deliveries); likely cause: the automation crashed (5xx): the body of its "
        "answer usually names why (a missing environment variable, a database it cannot "
        "reach, an exception)"
    )
    assert delivery_answers(dying()).most_common is None  # it accepted some


def test_no_answer_at_all_shows_why() -> None:
    answers = delivery_answers(dying(alive=0))
    assert answers.common_text() == (
        f"the target accepted no event; most common answer: none — could not connect ({REFUSED}) "
        "(10 of 10 deliveries)"
    )


def test_the_json_report_counts_deliveries_by_answer() -> None:
    h = all_500(BODY)
    (run,) = document(build_report([RunInput(h, judge(h))], environ={}))["runs"]
    assert run["counts"]["deliveries_by_answer"] == {
        "accepted": 0,
        "rejected": 0,
        "failed": 3,
        "unanswered": 1,
    }
    common = run["counts"]["most_common_answer"]
    assert common["status"] == 500 and common["count"] == 3
    assert "hunter2" not in common["body"] and "[redacted" in common["body"]
    # ...and the report says it in words beside the verdicts, with the likely cause.
    assert run["refused"].startswith("the target accepted no event; most common answer: 500 {")
    assert run["likely_cause"].startswith("the automation crashed (5xx)")


def test_console_counts_and_sets_inconclusive_apart(capsys: pytest.CaptureFixture[str]) -> None:
    h = all_500(BODY)
    _console.print_verdicts([(h, judge(h))])
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "4 deliveries: 0 accepted (2xx), 0 rejected (4xx), 3 failed (5xx), 1 unanswered" in out
    assert 'the target accepted no event; most common answer: 500 {"error": "db down"' in out
    # no_lost_events could not judge (nothing accepted): a "?", in its own column and count.
    assert re.search(r"\? no_lost_events \[silent\]  the target accepted no event", out)
    assert "likely cause: the automation crashed (5xx)" in out
    assert "? no_duplicate_effects [silent]  not judged: the target accepted none of the 4 " in out
    assert "1 failed, 4 inconclusive, 0 held" in out


def _verdict(name: str, status: Status) -> Verdict:
    return Verdict(name, status, FailureClass.SILENT, f"{name} {status.value}", Evidence())


def test_pytest_summary_lines_set_inconclusive_apart() -> None:
    h = all_answered()
    runs = [
        (h, [_verdict("a", Status.FAIL), _verdict("b", Status.INCONCLUSIVE)]),
        (h, [_verdict("a", Status.PASS), _verdict("b", Status.INCONCLUSIVE)]),
        (h, [_verdict("a", Status.PASS)]),
    ]
    lines = readiness_lines(runs)
    assert lines[0] == (
        "harness: test · t: 0/2 invariants hold (1 failed, 1 inconclusive) — failed: a "
        "[silent]; inconclusive: b [silent]",
        "red",
    )
    assert lines[1] == (
        "harness:   5 deliveries: 5 accepted (2xx), 0 rejected (4xx), 0 failed (5xx), "
        "0 unanswered (no connection, reset, timeout)",
        "",
    )
    assert lines[2] == (
        "harness: test · t: 1/2 invariants hold (1 inconclusive) — inconclusive: b [silent]",
        "yellow",
    )
    assert lines[4] == ("harness: test · t: 1/1 invariants hold", "green")
    assert lines[-1] == (
        "harness: 1/3 scenarios hold (checks: 1 failed, 2 inconclusive, 2 held) — failed: test "
        "(silent: a fail); inconclusive: test (silent: b inconclusive)",
        "red",
    )
