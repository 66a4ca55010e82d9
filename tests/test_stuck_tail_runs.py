"""Two automations that write contacts ten to a call and only ten, run for real: Node-RED's
``join`` node in count mode with no timeout (tests/node-red/batch.json,
``/hooks/stripe/batched-by-count``) and tests/gallery/count_batcher.py, written the same way.

tests/gallery/scenarios/stripe-checkouts-first-retried.yaml: sixteen checkouts, the first four
redelivered. The clean run's sixteen leave its last six waiting for a tenth; the run's twenty
deliveries complete that batch and one more, and leave the same last six waiting. Before
invariants/_held.py, no_lost_events took the clean run's silence for them as design ("made no
effect in the clean run either (not owed one)") and passed a run that never wrote six
customers. Now: inconclusive, saying why. The rule over hand-built Histories:
test_stuck_tail.py.

The Node-RED test is skipped only when npm cannot reach its registry (tests/node_red.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import harness

from .node_red import FILES, started
from .test_gallery import SCENARIOS, STRIPE, automation, run, said, verdicts
from .test_node_red import TIMEOUT, harness_run, red

__all__ = ["red"]  # the session's Node-RED install, a fixture shared with test_node_red

pytestmark = pytest.mark.integration

SCENARIO = str(SCENARIOS / "stripe-checkouts-first-retried.yaml")
HELD = (
    "6 of 16 accepted events lack expected effects, but their clean twins were among the clean "
    "run's last events of their type, which made no effect there either though it acted on all "
    "the others: an automation that holds its last events until more come"
)


def _unwritten(history: harness.History) -> list[int]:
    """The seqs of the events no committed effect names (a batch names each of its events)."""
    made = {i for e in history.effects if e.committed for i in e.event_ids}
    return sorted(e.seq for e in history.events if e.id not in made)


def _held_last_six(history: harness.History) -> None:
    """The run and its clean run each left the same last six events unwritten."""
    assert history.baseline is not None
    last_six = list(range(10, 16))
    assert _unwritten(history.baseline) == last_six
    assert _unwritten(history) == last_six


@pytest.mark.timeout(TIMEOUT)
def test_node_red_join_by_count_holds_the_clean_runs_last_six_again(
    red: Path, tmp_path: Path
) -> None:
    with started(red, tmp_path / "engine", FILES / "batch.json") as fresh:  # its join empty
        target = fresh.url + "/hooks/stripe/batched-by-count"
        options = ("--target", target, "--downstream", fresh.downstream)
        r = harness_run(fresh, tmp_path, SCENARIO, *options, code=1, env=STRIPE)
    _held_last_six(r.history)
    lost = r.verdicts["no_lost_events"]
    assert lost["status"] == "inconclusive", lost
    assert lost["summary"].startswith(HELD), lost["summary"]
    assert "made no effect in the clean run either" not in lost["summary"]


def test_count_batcher_holds_the_clean_runs_last_six_again(tmp_path: Path) -> None:
    with automation("count_batcher", "/webhooks/stripe", STRIPE) as target:
        done, report = run(target, SCENARIO, tmp_path, env=STRIPE)
    [history] = harness.load_all(tmp_path / "journal.db")
    _held_last_six(history)
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "inconclusive", said(lost)
    assert lost["summary"].startswith(HELD), said(lost)
    assert done.code == 1
