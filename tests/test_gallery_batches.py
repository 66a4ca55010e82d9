"""Automations that batch, judged through ``harness run``: final_state_matches_baseline judges
a batch call by its items (harness/invariants/_batch_items.py).

tests/gallery/buffered_upsert.py buffers contact updates and writes them ten to a ``POST
/contacts/batch/upsert`` call, or 200 ms after the first: which updates share a call differs
between the clean run and the hazard. Before, that grouping was the difference — "20 of 20
records end in another state … (the final state): 6 differ, 14 missing" for the correct
variant under a burst, "19 of 20 … 5 differ, 14 missing" under an outage it recovers from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.history import History, load_all

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

HOOK = "/webhook/contacts"
NAME = "final_state_matches_baseline"
JUDGED = "the writes to POST /contacts/batch/upsert judged by their items"


def journal(tmp_path: Path) -> History:
    """The hazard's run (its clean run as its ``baseline``)."""
    return next(h for h in load_all(tmp_path / "journal.db") if h.baseline is not None)


def calls(history: History) -> set[frozenset[int]]:
    """The committed batch calls, each as the events (seqs) its items carry."""
    token = re.compile(re.escape(history.info.tracer_tag) + r"e(\d+)")
    return {
        frozenset(int(n) for n in token.findall(e.body)) for e in history.effects if e.committed
    }


def left_behind(history: History) -> set[str]:
    """The contacts whose last committed item is not their newest event's (or who have none)."""
    token = re.compile(re.escape(history.info.tracer_tag) + r"e(\d+)")
    last: dict[str, int] = {}
    for e in history.effects:  # in time order
        if e.committed:
            for item in json.loads(e.body)["inputs"]:
                last[item["id"]] = int(token.findall(json.dumps(item))[0])
    newest: dict[str, int] = {}
    for event in history.events:
        newest[event.key] = max(newest.get(event.key, -1), event.seq)
    return {key for key, seq in newest.items() if last.get(key) != seq}


def hazard(
    tmp_path: Path, scenario: str, *options: str
) -> tuple[int, dict[str, dict[str, Any]], History]:
    """``harness run`` the scenario against buffered_upsert (``options``: its variant): the
    exit code, the verdicts by invariant and the run."""
    with automation("buffered_upsert", HOOK, options=options) as target:
        done, report = run(target, str(SCENARIOS / f"{scenario}.yaml"), tmp_path)
    return done.code, verdicts(report), journal(tmp_path)


def held(state: dict[str, Any]) -> None:
    """final_state_matches_baseline passed, every contact compared item by item."""
    assert state["status"] == "pass", said(state)
    assert "; 20 records compared; " + JUDGED in state["summary"], said(state)


def refused(history: History) -> bool:
    """Did the outage refuse a call? Not on a machine so loaded that no flush met it."""
    return any(not e.committed for e in history.effects)


def test_buffered_upsert_holds_a_burst_grouped_otherwise_than_its_clean_run(
    tmp_path: Path,
) -> None:
    code, found, h = hazard(tmp_path, "contacts-batched-burst")
    assert h.baseline is not None
    grouped, clean = calls(h), calls(h.baseline)
    assert max(map(len, grouped)) > 1 and grouped != clean, (grouped, clean)
    held(found[NAME])
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert found[name]["status"] == "pass", said(found[name])
    assert code == 0


def test_buffered_upsert_retries_a_refused_batch_and_ends_as_its_clean_run(
    tmp_path: Path,
) -> None:
    code, found, h = hazard(tmp_path, "contacts-batched-outage")
    held(found[NAME])
    assert not left_behind(h)
    if refused(h):
        recovers = found["recovers_after_outage"]
        assert recovers["status"] == "pass", said(recovers)
    assert code == 0


def test_buffered_upsert_dropping_a_refused_batch_fails_naming_the_contacts_it_left(
    tmp_path: Path,
) -> None:
    code, found, h = hazard(tmp_path, "contacts-batched-outage", "--drop-failed")
    state, left = found[NAME], left_behind(h)
    if not refused(h):
        held(state)
        return
    assert left, "a refused batch whose contacts all got a newer state later"
    assert state["status"] == "fail" and state["class"] == "silent", said(state)
    assert state["summary"].startswith(f"{len(left)} of 20 records end in another state"), said(
        state
    )
    named = {m[1] for line in state["evidence"]["lines"] if (m := re.match(r"record (\S+) ", line))}
    assert named and named <= left, (named, left)
    assert len(named) == min(len(left), 10), (named, left)
    assert code == 1
