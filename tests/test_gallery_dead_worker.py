"""A background worker thread that dies on the first event it cannot read
(tests/gallery/dead_worker.py), driven the way a new user drives theirs: ``harness init`` for
Stripe checkouts, then ``harness run`` of one hazard, the automation started afresh for each
(a dead thread stays dead for the process's life).

The server answers 200 and queues on; nothing is posted again. Every checkout from the first
one without its email on is lost, the sound ones too: ``no_lost_events`` must say that the
target stopped making calls at one moment — where its log shows why — not that it passed
the checkouts over one by one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import said
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0dead0worker0not0real"}  # the test's own
CHECKOUTS = "stripe:checkout.session.completed"


@pytest.mark.parametrize("guard", [False, True], ids=["dies", "guarded"])
def test_a_worker_thread_dead_on_a_missing_email_loses_every_later_checkout_said_as_a_stop(
    tmp_path: Path, guard: bool
) -> None:
    """missing-field drops the email of a share of the checkouts. The worker dies on the
    first: every checkout after it is lost, named from that one on, and the summary says the
    target stopped at it — it said 'it passed these over rather than queued them'
    (fails before); drift_is_loud fails on the checkout it died on alone, the later drifted
    ones lost because it had stopped. Guarded (the bad checkout logged and skipped), only the
    checkouts without an email are lost, interleaved with ones posted: no stop is claimed."""
    env = {**STRIPE, **({"WORKER_GUARD": "1"} if guard else {})}
    with project(tmp_path, "dead_worker", "/webhooks/stripe", env, CHECKOUTS):
        done, found = hazards(tmp_path, "missing-field", env=STRIPE)
    verdicts = found["missing-field"]
    lost = verdicts["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert verdicts["drift_is_loud"]["status"] == "fail", said(verdicts["drift_is_loud"])
    assert verdicts["no_duplicate_effects"]["status"] == "pass"
    assert done.code == 1
    stopped = re.search(
        r"^\d+ of 40 accepted events produced no effect \(lost\).*all (\d+) events it accepted "
        r"from event (\S+) \(seq (\d+)\), [\d.]+ s into the run, on are lost, none before: "
        r"it stopped working then",
        lost["summary"],
    )
    if guard:
        assert stopped is None, said(lost)
        assert "passed these over rather than queued them" in lost["summary"], said(lost)
        assert "stopped" not in verdicts["drift_is_loud"]["summary"]
        return
    assert stopped, said(lost)
    count, first, seq = int(stopped[1]), stopped[2], int(stopped[3])
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [run] = [r for r in load_all(db) if r.baseline is not None]
    assert count == sum(e.seq >= seq for e in run.events)  # every checkout from the bad one on
    assert "a worker or thread that died on an event" in lost["summary"]
    assert f"event {first} (record" in lost["evidence"]["lines"][0]
    # drift_is_loud's witness is the checkout the worker died on, not the later ones (drifted
    # or not) it lost because it was dead: it named 13 of 14 drifted checkouts (fails before).
    drift = verdicts["drift_is_loud"]
    assert drift["evidence"]["events"] == [first], said(drift)
    assert "it stopped working here" in drift["evidence"]["lines"][0], said(drift)
    assert drift["summary"].startswith("1 drifted event of "), said(drift)
    assert (
        f"not counted against the drift: the target stopped working at event {first} (seq "
        f"{seq})" in drift["summary"]
    ), said(drift)


def test_a_worker_thread_with_every_field_it_reads_holds_under_duplicates(
    tmp_path: Path,
) -> None:
    """Every checkout whole, redelivered: each posted once, nothing lost, nothing stopped."""
    with project(tmp_path, "dead_worker", "/webhooks/stripe", STRIPE, CHECKOUTS):
        done, found = hazards(tmp_path, "duplicate-storm", env=STRIPE)
    verdicts = found["duplicate-storm"]
    for name in ("no_lost_events", "no_duplicate_effects", "per_key_order"):
        assert verdicts[name]["status"] == "pass", said(verdicts[name])
    assert done.code == 0, done.out
