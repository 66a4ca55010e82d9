"""recovers_after_outage where some of what the events owe names only their record.

A Slack bot opens a ticket per message (the ticket names its message: an event) and replies in
the channel (the reply names the channel, the record: not which message it answers). When the
helpdesk commits the ticket and then fails, the bot's worker dies before its reply: the
tickets are all there, the replies are not. The verdict must not pass on the tickets alone.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Fault, Status
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge

from .test_expected import clean_run, ev, ok, run, write

# The run's and the clean run's record (a channel), as a tracer names them.
CHANNEL, CLEAN_CHANNEL = "cs_zqrunk", "cs_zqcleank"
COMMIT_THEN_FAIL = Fault("crm", "commit-then-fail", 0.0, 1.0, {"status": 502})


def ticket_bot(*, replied: bool, outside: bool = False) -> History:
    """Two messages of one channel accepted while the helpdesk committed and answered 502;
    the channel's replies made after the window (``replied``) or never. ``outside``: a third
    message of the channel is accepted after the window (it met no fault)."""
    n = 3 if outside else 2
    twins = [ev("zqclean", i, key=CLEAN_CHANNEL) for i in range(1, n + 1)]
    clean = clean_run(
        twins,
        [w for e in twins for w in (write("/deals", [e]), write("/contacts", key=CLEAN_CHANNEL))],
    )
    events = [ev("zqrun", i, key=CHANNEL) for i in range(1, n + 1)]
    during = events[:2]
    writes = [write("/deals", [e], at=0.2, status=502) for e in during]
    writes = [replace(w, committed=True) for w in writes]
    deliveries = [ok(e, at=0.1) for e in during]
    if outside:
        deliveries.append(ok(events[2], at=2.0))
        writes += [write("/deals", [events[2]], at=2.1), write("/contacts", key=CHANNEL, at=2.2)]
    if replied:
        writes += [write("/contacts", key=CHANNEL, at=1.5) for _ in during]
    h = run(events, deliveries, writes, tag="zqrun", baseline=clean)
    return replace(h, faults=[COMMIT_THEN_FAIL])


def recovery(h: History) -> tuple[Status, str, list[str]]:
    [v] = judge(h, [InvariantSpec("recovers_after_outage", {"deadline": 60})])
    return v.status, v.summary, list(v.evidence.lines)


def test_records_whose_every_event_met_the_outage_short_of_their_replies_fail() -> None:
    status, summary, lines = recovery(ticket_bot(replied=False))
    assert status is Status.FAIL, summary
    assert summary.startswith(
        "1 record each of whose events met the fault window fell short of POST /contacts "
        "(per record: these requests name no event, so which event lacks them is not known): "
        "events the outage met did not recover; all 2 events accepted during 1 fault window "
        "got the requests naming them"
    ), summary
    assert lines == [
        f"record {CHANNEL}: the clean run made 2 POST /contacts for its 2 events; this run made "
        "0 (none), all of them accepted"
    ]


def test_the_same_records_with_their_replies_pass() -> None:
    status, summary, _ = recovery(ticket_bot(replied=True))
    assert status is Status.PASS, summary
    assert summary.startswith("all 2 events accepted during 1 fault window got their expected")


def test_a_record_with_an_event_the_outage_did_not_meet_is_not_failed() -> None:
    """The third message came after the window: the missing replies may be any of the three's,
    so the shortfall is not the outage's to answer for — not passed either."""
    status, summary, lines = recovery(ticket_bot(replied=False, outside=True))
    assert status is Status.INCONCLUSIVE, summary
    assert "and not every event of it met the outage" in summary, summary
    assert lines[0].startswith(f"record {CHANNEL}: the clean run made 3 POST /contacts")


def contact_sync(*, written: bool) -> History:
    """Two updates of one contact accepted while the CRM answered 503, whose only write names
    the contact (the record), not the update; a third event, of another contact, writes a deal
    naming it after the window. The contact written after the window (``written``) or never."""
    twins = [ev("zqclean", i, key=CLEAN_CHANNEL) for i in (1, 2)] + [ev("zqclean", 3)]
    clean = clean_run(
        twins,
        [write("/contacts", key=CLEAN_CHANNEL) for _ in (1, 2)] + [write("/deals", [twins[2]])],
    )
    events = [ev("zqrun", i, key=CHANNEL) for i in (1, 2)] + [ev("zqrun", 3)]
    writes = [write("/contacts", key=CHANNEL, at=0.2, status=503), write("/deals", [events[2]])]
    writes[-1] = replace(writes[-1], at=2.0)
    if written:
        writes += [write("/contacts", key=CHANNEL, at=1.5) for _ in (1, 2)]
    deliveries = [ok(e, at=0.1) for e in events[:2]] + [ok(events[2], at=1.9)]
    h = run(events, deliveries, writes, tag="zqrun", baseline=clean)
    return replace(h, faults=[Fault("crm", "status", 0.0, 1.0, {"status": 503})])


def test_events_owing_only_requests_naming_their_record_are_judged_by_the_record() -> None:
    """It said "the target accepted no event while 1 fault window was open; nothing to
    recover": both updates had been accepted during it, and their contact was never written."""
    status, summary, _ = recovery(contact_sync(written=False))
    assert status is Status.FAIL, summary
    assert summary.startswith(
        "1 record each of whose events met the fault window fell short of POST /contacts"
    ), summary
    assert "no event accepted during the fault window or after it could be judged" in summary
    status, summary, _ = recovery(contact_sync(written=True))
    assert status is Status.INCONCLUSIVE, summary
    assert summary.startswith(
        "no event accepted during the fault window or after it could be judged by requests "
        "naming it; 2 events whose requests name no event not judged"
    ), summary
