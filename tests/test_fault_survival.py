"""The sound demo automation survives every downstream fault mode: it acknowledges at once,
queues, and retries with the event id as Idempotency-Key until the downstream is back.

The modes with a built-in scenario in the standard suite (status, throttle, commit-then-fail,
slow) are run against it there (test_end_to_end.py, and `harness demo`); here are the others, and
timeout's built-in, downstream-hangs, which runs by name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._model import Status

from .conftest import SECRET
from .fault_scenarios import fault_scenario, run_side_by_side_on

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
    results = run_side_by_side_on(
        "harness.demo.sound",
        scenarios,
        tmp_path / "j.db",
        *("--timeout", "1"),
        seed=3,
        state=tmp_path / "state",
        instances=3,
    )
    bad = [
        (r.history.info.scenario, v.invariant, v.summary)
        for r in results
        for v in r.verdicts
        if not v.passed and v.invariant != "recovers_after_outage"
    ]
    assert bad == []
    for r in results:
        [recovers] = [v for v in r.verdicts if v.invariant == "recovers_after_outage"]
        refused = [e for e in r.history.effects if not e.committed]
        # The window is 0.4 s of wall time: on a loaded machine every call the automation
        # makes can come after it; then nothing met the fault, and nothing is certified.
        (window,) = r.history.faults
        met = [e for e in r.history.effects if window.start <= e.at < window.end]
        if not met:
            assert recovers.status is Status.INCONCLUSIVE, recovers.summary
            assert recovers.summary.startswith("the fault acted on no call"), recovers.summary
            continue
        assert recovers.status is Status.PASS, recovers.summary
        assert recovers.summary.startswith("all ")
        assert refused, r.history.info.scenario  # calls were refused, and retried
        retried = {e.header("Idempotency-Key") for e in refused}
        assert None not in retried


def test_sound_passes_downstream_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in hazard of an API that holds its calls 30 s (not in the standard suite: its
    held calls cost the demo its client timeout's 10 s of wall): acknowledged at once, each
    held call given up at the client timeout and made again once the API answers."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    [result] = run_side_by_side_on(
        "harness.demo.sound", ["downstream-hangs"], tmp_path / "j.db", seed=3, state=tmp_path
    )
    held = [v for v in result.verdicts if not v.passed]
    assert held == [], [(v.invariant, v.summary) for v in held]
    assert any(e.status == 504 for e in result.history.effects)  # the hang met its calls
