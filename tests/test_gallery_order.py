"""The gallery's automations that out-of-order delivery and an ambiguous downstream answer put to
the test, through the real ``harness`` command (``tests/test_gallery.py`` has the way).

``stale_guard`` skips stale contact updates on purpose and must not be failed for it;
``arrival_wins`` lets a stale update overwrite a newer one and must be; ``retry_no_key`` retries
a payout the API booked and then failed, and books it twice — unless it sends an
``Idempotency-Key``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.history import load_all

from .conftest import Completed, harness
from .test_gallery import QUICK, SCENARIOS, Target, automation, run, said, verdicts

pytestmark = pytest.mark.integration

CONTACTS = "/webhooks/contacts"
REORDERED = SCENARIOS / "contacts-reordered.yaml"
PAYOUTS = SCENARIOS / "payouts-commit-then-fail.yaml"
KEYED = {"PAYOUT_IDEMPOTENCY_KEY": "1"}


def variant(tmp_path: Path, source: Path, old: str, new: str) -> str:
    """``source`` with ``old`` (found exactly once) replaced, as a scenario file of the test's."""
    text = source.read_text()
    assert text.count(old) == 1, old
    changed = tmp_path / source.name
    changed.write_text(text.replace(old, new))
    return str(changed)


def test_stale_guard_skips_stale_updates_on_purpose_and_is_not_failed(tmp_path: Path) -> None:
    """Updates older than the contact's applied one are answered 200 and not written: under
    reordering some are, and each contact still ends on its newest change."""
    with automation("stale_guard", CONTACTS) as target:
        done, report = run(target, str(REORDERED), tmp_path, *QUICK)
    found = verdicts(report)
    assert all(v["status"] == "pass" for v in found.values()), found
    [judged] = report["runs"]
    assert judged["counts"]["effects"] < judged["counts"]["events"], judged["counts"]
    assert "superseded updates skipped (not loss)" in found["no_lost_events"]["summary"]
    assert done.code == 0, done.out


def test_stale_guard_on_whole_second_times_is_not_failed_for_an_order_nothing_told(
    tmp_path: Path,
) -> None:
    """The same updates stamped to the second: several of a contact's share one, and arrive
    shuffled. Applying an equal-time update after the other is all a correct automation can do;
    per_key_order did not judge those writes, but final_state_matches_baseline failed the
    contacts left on the older of two equal-time updates."""
    seconds = variant(tmp_path, REORDERED, '"2026-01-01T00:00:00.000Z"', '"2026-01-01T00:00:00Z"')
    with automation("stale_guard", CONTACTS) as target:
        done, report = run(target, seconds, tmp_path, *QUICK)
    found = verdicts(report)
    assert not [v for v in found.values() if v["status"] == "fail"], found
    final = found["final_state_matches_baseline"]
    assert (
        "with the same time at $.timestamp (or the older's the later), and the two reached the "
        "target together" in (final["summary"])
    ), said(final)
    assert (
        "not judged: between events of one record with the same time at $.timestamp"
        in (found["per_key_order"]["summary"])
    ), said(found["per_key_order"])
    assert done.code == 0, done.out


def test_arrival_wins_lets_a_stale_update_win_under_reordering(tmp_path: Path) -> None:
    with automation("arrival_wins", CONTACTS) as target:
        done, report = run(target, str(REORDERED), tmp_path, *QUICK)
    found = verdicts(report)
    order = found["per_key_order"]
    assert order["status"] == "fail", said(order)
    stale = set(re.findall(r"record (\S+) went back to an older state", said(order)))
    assert stale, said(order)
    # The cause named: the sender's order, written as it came.
    assert (
        "the sender delivered the older event after the newer was accepted, and the "
        in (order["summary"])
    ), said(order)
    assert "an ambiguous acknowledgement" not in order["summary"]
    final = found["final_state_matches_baseline"]
    assert final["status"] == "fail", said(final)
    ended = set(re.findall(r"^record (\S+) \(the final state\)", said(final), re.MULTILINE))
    assert ended and ended <= stale, said(final)  # each ends on a stale overwrite named above
    for name in ("no_lost_events", "no_duplicate_effects", "target_available"):
        assert found[name]["status"] == "pass", said(found[name])
    assert done.code == 1


def test_arrival_wins_passes_when_the_updates_come_in_order(tmp_path: Path) -> None:
    in_order = variant(tmp_path, REORDERED, "  - reorder: {window: 6, rate: 1}\n", "  []\n")
    with automation("arrival_wins", CONTACTS) as target:
        done, report = run(target, in_order, tmp_path, *QUICK)
    found = verdicts(report)
    assert all(v["status"] == "pass" for v in found.values()), found
    assert done.code == 0, done.out


def test_retry_no_key_pays_twice_when_the_api_fails_after_booking(tmp_path: Path) -> None:
    """Each call in the commit-then-fail window booked a payout and answered 502; the retries
    booked it again. The events named are exactly those with more than one payout booked."""
    with automation("retry_no_key", "/webhook/orders") as target:
        done, report = run(target, str(PAYOUTS), tmp_path, *QUICK)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    booked: dict[str, int] = {}
    for e in h.effects:
        if e.committed:
            for eid in e.event_ids:
                booked[eid] = booked.get(eid, 0) + 1
    twice = {eid for eid, n in booked.items() if n > 1}
    dup = found["no_duplicate_effects"]
    if not twice:
        # On a loaded machine the target may make no call in the window's 0.25 s (its calls
        # at 0.285 s, then 0.69 s): nothing booked twice, and the run says the fault met no
        # call rather than pass or fail how the automation recovers.
        assert dup["status"] == "pass", said(dup)
        recovered = found["recovers_after_outage"]
        assert recovered["status"] == "inconclusive", said(recovered)
        assert "no call reached api while it was open" in recovered["summary"], said(recovered)
        return
    assert dup["status"] == "fail", said(dup)
    assert set(dup["evidence"]["events"]) == twice, said(dup)
    assert all("POST /payouts" in line for line in dup["evidence"]["lines"]), said(dup)
    final = found["final_state_matches_baseline"]
    assert final["status"] == "fail", said(final)
    assert "(all alike) where the baseline has 1" in said(final), said(final)
    for name in ("no_lost_events", "recovers_after_outage", "target_available"):
        assert found[name]["status"] == "pass", said(found[name])
    assert done.code == 1


def test_retry_no_key_passes_without_faults(tmp_path: Path) -> None:
    calm = variant(
        tmp_path,
        PAYOUTS,
        "  - {downstream: api, at: 0.4s, for: 0.25s, mode: commit-then-fail, status: 502}\n",
        "  []\n",
    )
    calm = variant(tmp_path, Path(calm), "  - recovers_after_outage: {deadline: 30}\n", "")
    with automation("retry_no_key", "/webhook/orders") as target:
        done, report = run(target, calm, tmp_path, *QUICK)
    found = verdicts(report)
    assert all(v["status"] == "pass" for v in found.values()), found
    assert done.code == 0, done.out


@pytest.mark.parametrize("stateful", [True, False])
def test_retries_with_an_idempotency_key_are_not_failed(tmp_path: Path, stateful: bool) -> None:
    """The same retries, each with ``Idempotency-Key: payout-<event id>``. The stateful double
    honours the key as Stripe does: a retry gets the first answer replayed and books nothing.
    The stub double honours nothing and books every call; a real API that honours the key would
    not, so no_duplicate_effects counts such repeats as harmless."""
    scenario = str(PAYOUTS)
    if not stateful:
        scenario = variant(
            tmp_path,
            PAYOUTS,
            "    stateful: true\n",
            "    routes:\n      - {method: POST, path: /payouts, status: 201}\n",
        )
    with automation("retry_no_key", "/webhook/orders", KEYED) as target:
        done, report = run(target, scenario, tmp_path, *QUICK)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    assert len(h.effects) > len(h.events), "no payout was retried"
    dup = found["no_duplicate_effects"]
    if not stateful:
        assert "repeats with the same Idempotency-Key: harmless" in dup["summary"], said(dup)
    assert all(v["status"] == "pass" for v in found.values()), found
    assert done.code == 0, done.out


def test_stale_guard_upserting_is_not_failed_for_a_contact_put_where_the_clean_run_patched(
    tmp_path: Path,
) -> None:
    """The same guard, writing by PATCH and PUT on a 404: shuffled whole, some contacts' newest
    update arrives first and creates the contact with a PUT, where the clean run PATCHed it.
    no_lost_events called that the newest update's loss ('never PATCH /contacts/{id}')."""
    shuffled = variant(
        tmp_path,
        REORDERED,
        "  - reorder: {window: 6, rate: 1}\n",
        "  - reorder: {window: 36, rate: 1}\n",
    )
    with automation("stale_guard", CONTACTS, {"CONTACT_WRITE": "upsert"}) as target:
        done, report = run(target, shuffled, tmp_path, *QUICK)
    [judged] = load_all(tmp_path / "journal.db")
    # The run's premise (the seed's shuffle): some contact's newest update made its PUT.
    newest: dict[str, int] = {}
    for e in judged.events:
        newest[e.key] = max(e.seq, newest.get(e.key, e.seq))
    events = {e.id: e for e in judged.events}
    put = [
        events[eid]
        for w in judged.effects
        if w.method == "PUT" and w.committed
        for eid in w.event_ids
    ]
    assert any(e.seq == newest[e.key] for e in put), "no contact's newest update came first"
    found = verdicts(report)
    assert all(v["status"] == "pass" for v in found.values()), found
    assert (
        "PUT /contacts/{id} made where the clean run made PATCH /contacts/{id}"
        in found["no_lost_events"]["summary"]
    ), said(found["no_lost_events"])
    assert done.code == 0, done.out


HUBSPOT = {"HUBSPOT_CLIENT_SECRET": "gallery-hubspot-secret-not-real"}


def test_member_sync_leaves_a_member_on_an_older_email_and_the_final_state_sees_it(
    tmp_path: Path,
) -> None:
    """The library's HubSpot changes, shuffled: each brings a new email, so a member left on an
    older change ends on another email than in the clean run. When every change of the library's
    payload set lifecyclestage to 'customer', no write carried a value of its event (nothing
    attributed: per_key_order and no_lost_events inconclusive), the same stale overwrites ended
    as the clean run did, and final_state_matches_baseline passed on nothing it could see."""
    project = [
        "--events", "hubspot:contact.propertyChange", "--provider", "hubspot",
        "--secret-env", "HUBSPOT_CLIENT_SECRET",
    ]  # fmt: skip
    with automation("member_sync", "/hubspot/webhook") as target:
        # Seed 3's shuffle leaves members on an older change (the last --seed is the one taken).
        done, report = run(
            target, "out-of-order", tmp_path, *project, "--seed", "3", *QUICK, env=HUBSPOT
        )
    found = verdicts(report)
    order = found["per_key_order"]
    assert order["status"] == "fail", said(order)
    final = found["final_state_matches_baseline"]
    assert final["status"] == "fail", said(final)
    assert "merge_fields.email" in final["evidence"]["lines"][0], said(final)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    assert done.code == 1


def _newsletter_project(tmp_path: Path, target: Target) -> Path:
    """The project a user's `harness init` writes for newsletter_sync: the library's Standard
    Webhooks changes, a stateful newsletter API."""
    project = tmp_path / "harness.yaml"
    project.write_text(
        f"target: {target.url}\n"
        "provider: standard-webhooks\n"
        "secret_env: NEWSLETTER_SECRET\n"
        "events:\n  - library: standard-webhooks:contact.updated\n"
        "downstreams:\n"
        f"  - name: newsletter\n    port: {target.downstream_port}\n    stateful: true\n"
    )
    return project


def _newsletter_run(tmp_path: Path, member_by: str) -> tuple[Completed, dict[str, Any]]:
    env = {"MEMBER_BY": member_by}
    secret = {"NEWSLETTER_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    with automation("newsletter_sync", "/webhooks/contacts", env) as target:
        report = tmp_path / "report.json"
        done = harness(
            "run", "out-of-order", "--project", str(_newsletter_project(tmp_path, target)),
            # Seed 3's shuffle leaves contacts on an older change (seed 7's on their newest).
            "--seed", "3", "--report", str(report), "--journal", str(tmp_path / "j.db"),
            env=secret,
        )  # fmt: skip
    assert report.exists(), done.out + done.err
    return done, json.loads(report.read_text())


@pytest.mark.parametrize("member_by", ["email", "contact"])
def test_a_member_per_contact_left_on_an_older_change_fails_its_hashed_id_not_compared(
    tmp_path: Path, member_by: str
) -> None:
    """One member per contact, whose id is the md5 of its email (Mailchimp's subscriber hash)
    or of its id: a value the automation made, another in every run, left out of the
    comparison; overwritten by a change that arrives late, the member is left on the older
    change's name, and both verdicts fail on it. By email, each change drew an email of its
    own at first (the tracer marked each event's copy), so each wrote a member of its own and
    nothing was overwritten; a contact's changes carry its email, as real ones do."""
    done, report = _newsletter_run(tmp_path, member_by)
    found = verdicts(report)
    final = found["final_state_matches_baseline"]
    assert final["status"] == "fail", said(final)
    assert "merge_fields.NAME" in said(final), said(final)
    assert "not compared: id in " in final["summary"], said(final)
    assert found["per_key_order"]["status"] == "fail", said(found["per_key_order"])
    assert done.code == 1
