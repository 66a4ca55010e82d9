"""The sound demo automation survives every downstream fault mode: it acknowledges at once,
queues, and retries with the event id as Idempotency-Key until the downstream is back.

The modes with a built-in scenario (status, throttle, commit-then-fail, slow) are run against it
in the standard suite (test_end_to_end.py, and `harness demo`); here are the others.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import harness
from harness.core._model import Status

from .conftest import SECRET
from .fault_scenarios import automation, fault_scenario

pytestmark = pytest.mark.integration


def test_sound_survives_resets_timeouts_and_first_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenarios = [
        fault_scenario("reset", quiet=50),
        # Held past the automation's 1 s timeout: it gives up on the call and retries it.
        fault_scenario("timeout", quiet=50, hold=3.0),
        fault_scenario("fail-first-n", quiet=50, count=3, status=500),
    ]
    with automation("harness.demo.sound", "--timeout", "1", state=tmp_path) as (hook, port):
        results = harness.run(
            scenarios, hook, seed=3, downstream=f"127.0.0.1:{port}", journal=tmp_path / "j.db"
        )
    bad = [
        (r.history.info.scenario, v.invariant, v.summary)
        for r in results
        for v in r.verdicts
        if not v.passed
    ]
    assert bad == []
    for r in results:
        [recovers] = [v for v in r.verdicts if v.invariant == "recovers_after_outage"]
        assert recovers.status is Status.PASS
        assert recovers.summary.startswith("all ")
        refused = [e for e in r.history.effects if not e.committed]
        assert refused, r.history.info.scenario  # calls were refused, and retried
        retried = {e.header("Idempotency-Key") for e in refused}
        assert None not in retried
