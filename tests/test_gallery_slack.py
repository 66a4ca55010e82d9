"""A Slack support bot (``tests/gallery/slack_tickets.py``) as a practitioner runs it: ``harness
init --provider slack`` with the library's ``message`` event, a helpdesk and the Slack Web API
played by doubles, then one hazard. Real processes on loopback, time-compressed.

The bot opens a ticket inside the request and answers 500 while the helpdesk fails, so that
Slack retries. Under a helpdesk outage Slack's retries (at once, +1 min, +5 min) bring every
refused event back after it: a pass. With the common advice "if ``X-Slack-Retry-Num`` is
present, return 200 and do nothing" the retry of a failed first attempt is dropped: the events
the outage refused are lost, and named — while a retry of a first attempt still running (a
slow helpdesk) is answered 200 rightly. Shaped for Slack's 3 s ack (the answer first, the work
in the background), a helpdesk that commits a ticket and then fails leaves the ticket without
its reply in the thread: the reply names its channel, not its message, and the verdict on
recovery must not pass on the tickets alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli._processes import free_port

from .conftest import harness
from .test_gallery import automation, said, verdicts

pytestmark = pytest.mark.integration

SLACK = {"SLACK_SIGNING_SECRET": "gallery0slack0signing0secret"}  # the test's own
IGNORES_RETRIES = {"SLACK_IGNORE_RETRIES": "1"}
# The bot works inside the request: a short quiet sees all it does.
QUIET = ("--settle-quiet", "0.5", "--seed", "7")
# Slack's +5 min retry in 0.6 s, the 4-minute outage in 0.48 s.
OUTAGE = ("--time-scale", "0.002")


def slack_run(
    hazard: str, tmp_path: Path, env: dict[str, str], *more: str, replies: bool = False
) -> dict[str, dict[str, Any]]:
    """``harness init --provider slack`` for the bot, then ``harness run hazard``: the
    verdicts by invariant. ``replies``: the bot replies in threads, to a Slack Web API double
    (the hazard's faults open on it too)."""
    downstreams = []
    if replies:
        web_api = free_port()
        env = {**env, "SLACK_API_URL": f"http://127.0.0.1:{web_api}"}
        downstreams = ["--downstream", f"slack={web_api}"]
    with automation("slack_tickets", "/slack/events", {**SLACK, **env}) as target:
        created = harness(
            "init", "--provider", "slack", "--events", "slack:event_callback",
            "--target", target.url, "--downstream", f"helpdesk={target.downstream_port}",
            *downstreams, "--yes", cwd=tmp_path,
        )  # fmt: skip
        assert created.code == 0, created.err
        ran = harness(
            "run", hazard, *QUIET, *more, "--report", "report.json", cwd=tmp_path, env=SLACK
        )
    assert (tmp_path / "report.json").is_file(), ran.out + ran.err
    return verdicts(json.loads((tmp_path / "report.json").read_text()))


def test_a_bot_that_takes_slacks_retries_recovers_from_a_helpdesk_outage(tmp_path: Path) -> None:
    judged = slack_run("downstream-outage", tmp_path, {}, *OUTAGE)
    for name in ("no_lost_events", "recovers_after_outage", "no_server_errors"):
        assert judged[name]["status"] == "pass", said(judged[name])
    # Refused (500) while the helpdesk was down, accepted by a retry once it was back.
    recovered = judged["recovers_after_outage"]["summary"]
    assert re.search(r"\(\d+ refused while it was open, accepted once closed\)", recovered)


def test_a_bot_that_acks_slacks_retries_unread_loses_what_the_outage_refused(
    tmp_path: Path,
) -> None:
    judged = slack_run("downstream-outage", tmp_path, IGNORES_RETRIES, *OUTAGE)
    lost = judged["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert "missing POST /api/v2/tickets for" in lost["summary"], said(lost)
    recovered = judged["recovers_after_outage"]
    assert recovered["status"] == "fail", said(recovered)
    # Accepted by Slack's retry (``.r1``), 200 and nothing done.
    assert re.search(r"accepted by dlv_\d+\.r\d \(200\)", said(recovered)), said(recovered)


def test_a_ticket_committed_without_its_thread_reply_is_not_a_recovery(tmp_path: Path) -> None:
    """ambiguous-commit: the helpdesk commits each ticket, then answers 502; the bot, acking
    first, works in the background, logs the error and never replies. The tickets exist; no
    thread got its reply. (At the hazard's own time scale: its 30 s window lasts 0.75 s.)"""
    judged = slack_run("ambiguous-commit", tmp_path, {"SLACK_ACK_FIRST": "1"}, replies=True)
    recovered = judged["recovers_after_outage"]
    assert recovered["status"] == "fail", said(recovered)
    assert "fell short of POST /chat.postMessage (slack) (per record" in recovered["summary"]
    assert all("POST /chat.postMessage (slack)" in line for line in recovered["evidence"]["lines"])
    lost = judged["no_lost_events"]
    assert lost["status"] == "fail", said(lost)


def test_acking_a_retry_unread_is_right_while_the_first_attempt_still_runs(
    tmp_path: Path,
) -> None:
    """provider-retry-storm-slack: every helpdesk call takes 1 s, past the 500 ms ack timeout,
    and Slack retries while the first attempt still runs. There the advice holds: the first
    attempt opens the ticket, the retries answered unread add nothing — no loss, no duplicate,
    only slow acks."""
    judged = slack_run("provider-retry-storm-slack", tmp_path, IGNORES_RETRIES)
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert judged[name]["status"] == "pass", said(judged[name])
    assert judged["ack_within"]["status"] == "fail", said(judged["ack_within"])
