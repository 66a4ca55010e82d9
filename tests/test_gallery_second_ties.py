"""Newest ``created`` wins, skipping a change not newer than the last written
(tests/gallery/second_ties.py), judged through ``harness run`` and read against the run's
journal: a subscription is left behind where its final write is not its newest change's.

Stripe's ``created`` is whole seconds: a subscription changed twice in one second keeps the
first change, in order or not — in the clean run as in the hazard's, so matching the clean run
shows nothing of it; the register model owes each record its newest change, and
``no_lost_events`` fails it. Where the clean run itself ended a record behind the hazard's run,
the reason said "an automation that answers first and works on several threads", which this one
is not (it writes before it answers): it now says the clean run skipped the change, sent alone,
with the same ``created`` as the one it wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.history import History, load_all
from harness.invariants._facts import is_write

from .test_gallery import QUICK, SCENARIOS, automation, run, said, verdicts
from .test_gallery_round8 import hazards, project
from .test_init import LIBRARY

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0ties0secret0not0real"}  # the test's own
SUBSCRIPTIONS = "stripe:customer.subscription.updated"


def left_behind(run: History) -> set[str]:
    """The records whose last committed write is not their newest event's."""
    seq = {e.id: (e.key, e.seq) for e in run.events}
    newest: dict[str, int] = {}
    for e in run.events:
        newest[e.key] = max(newest.get(e.key, -1), e.seq)
    final: dict[str, int] = {}
    for w in sorted(run.effects, key=lambda w: w.at):
        if w.committed and is_write(w) and w.event_ids:
            key, n = seq[w.event_ids[0]]
            final[key] = n
    return {key for key, n in newest.items() if final.get(key) != n}


def test_a_change_in_the_same_second_as_the_last_written_is_lost(tmp_path: Path) -> None:
    """Three changes of 8 subscriptions at once, 36 over 3 s: most subscriptions' newest change
    shares its second with an older one, which is kept. The clean run leaves them behind too,
    so the final states match; ``no_lost_events`` names each record left behind."""
    with project(tmp_path, "second_ties", "/webhooks/stripe", STRIPE, SUBSCRIPTIONS):
        _, found = hazards(tmp_path, "simultaneous-same-record", *QUICK, env=STRIPE)
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [ties] = load_all(db)
    assert ties.baseline is not None and left_behind(ties.baseline)  # one at a time, too
    behind = left_behind(ties)
    assert behind, "no subscription had two changes in one second"
    verdicts_ = found["simultaneous-same-record"]
    lost = verdicts_["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert lost["summary"].startswith(
        f"{len(behind)} of 12 records never got an effect of their latest accepted event (lost)"
    ), said(lost)
    assert "made no effect in the clean run, though events like them did here" in said(lost)
    for name in ("no_duplicate_effects", "per_key_order"):
        assert verdicts_[name]["status"] == "pass", said(verdicts_[name])
    state = verdicts_["final_state_matches_baseline"]
    assert state["status"] != "fail", said(state)
    if "the clean run itself left each" in state["summary"]:
        assert "several threads" not in state["summary"], said(state)
        assert (
            "though the target does its work before it answers: it skipped that event, sent "
            "alone, whose time at $.created"
        ) in state["summary"], said(state)


def test_a_change_skipped_in_both_runs_in_the_same_order_is_not_passed(tmp_path: Path) -> None:
    """Duplicates, in the clean run's order: each subscription's second change of a second is
    skipped there and here alike, and nothing acted here that did not there. It passed — '8
    events made no effect in the clean run either (not owed one)' — with 8 subscriptions left
    on an older change; now not judged, naming the tie at ``$.created`` (a skip by content on
    purpose looks the same)."""
    with project(tmp_path, "second_ties", "/webhooks/stripe", STRIPE, SUBSCRIPTIONS):
        _, found = hazards(tmp_path, "duplicate-storm", *QUICK, env=STRIPE)
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [storm] = load_all(db)
    behind = left_behind(storm)
    lost = found["duplicate-storm"]["no_lost_events"]
    if not behind:  # no subscription had two changes in one second
        assert lost["status"] == "pass", said(lost)
        return
    assert lost["status"] == "inconclusive", said(lost)
    one = len(behind) == 1
    whose = "1 record's" if one else f"{len(behind)} records'"
    assert lost["summary"].startswith(f"not judged: {whose} latest accepted"), said(lost)
    assert "with the same time at $.created was written (record sub_" in lost["summary"]
    assert set(lost["evidence"]["events"]) <= {e.id for e in storm.events if e.key in behind}
    assert "was left at seq" in said(lost)


def test_changes_a_second_apart_are_ordered_by_created(tmp_path: Path) -> None:
    """Each change a second of its own (50 s apart), shuffled and some sent twice: the newest
    ``created`` orders them all: every verdict holds, and every subscription ends on its newest
    change (with ``<`` for ``<=``, ``TIES=apply``, the same: seen by hand)."""
    scenario = str(SCENARIOS / "subscriptions-reordered.yaml")
    with automation("second_ties", "/webhooks/stripe", STRIPE) as target:
        done, report = run(target, scenario, tmp_path, *QUICK, env=STRIPE)
    [reordered] = load_all(tmp_path / "journal.db")
    assert not left_behind(reordered)
    for name, verdict in verdicts(report).items():
        assert verdict["status"] == "pass", f"{name}: {said(verdict)}"
    assert done.code == 0, done.out


def newest_first(path: Path) -> Path:
    """24 changes of 8 subscriptions, each in a second of its own, written newest first as
    ``stripe events list`` prints them, a line each (``jq -c '.data[]'``)."""
    example = json.loads((LIBRARY / "stripe" / "customer.subscription.updated.json").read_text())
    lines = []
    for n in range(24):
        event = json.loads(json.dumps(example["payload"]))
        event["id"], event["created"] = f"evt_nf{n:03d}", 1722249417 + 10 * n
        event["data"]["object"]["id"] = f"sub_nf{n % 8:02d}"
        event["data"]["object"]["status"] = ["trialing", "active", "past_due"][n // 8]
        lines.append(json.dumps(event))
    path.write_text("\n".join(reversed(lines)) + "\n")
    return path


def test_a_newest_first_export_is_replayed_oldest_first_and_judged(tmp_path: Path) -> None:
    """Every change in a second of its own: newest created wins is right. Replayed in the
    file's order, each subscription's newest change went first and its older ones were
    skipped; numbered in that order, a record's 'latest' was its oldest change, owed its
    write: no_lost_events inconclusive over 8 of 8 'held at the clean run's end', per_key_order
    'no order to keep' (fails before). Taken oldest first, every change is written, in order,
    and the run says the file was newest first."""
    events = str(newest_first(tmp_path / "events.jsonl"))
    with project(tmp_path, "second_ties", "/webhooks/stripe", STRIPE, events):
        done, found = hazards(tmp_path, "duplicate-storm", *QUICK, env=STRIPE)
    note = (
        "The recorded file events.jsonl lists its 24 lines newest first (each line's time at "
        "or before the one above it, as `stripe events list` prints them): replayed and "
        "numbered oldest first, so each record's latest event is its newest."
    )
    assert note in done.err.replace("\n", " ")
    [run_] = json.loads((tmp_path / "report.json").read_text())["runs"]
    assert note in run_["done"]
    for name, verdict in found["duplicate-storm"].items():
        assert verdict["status"] == "pass", (name, said(verdict))
    assert done.code == 0, done.out
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [storm] = load_all(db)
    created = {e.id: e.payload["created"] for e in storm.events}
    by_seq = sorted(storm.events, key=lambda e: e.seq)
    assert [created[e.id] for e in by_seq] == sorted(created.values())
    assert not left_behind(storm)
