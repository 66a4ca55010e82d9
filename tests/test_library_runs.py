"""A synthetic run of each provider's library payload, signed its provider's way, through a
real loopback receiver that verifies the signature and writes every event downstream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness
from harness.cli._processes import free_port
from harness.core import _library

from .conftest import SECRET, start_module, unmet

# One entry per provider: the first of each.
PER_PROVIDER = {name.partition(":")[0]: name for name in reversed(_library.names())}

SCENARIO = """\
name: library-{provider}
model: ledger
provider: {{name: {provider}, retries: 0}}
source:
  synthetic:
    library: "{name}"
    events: 8
    records: 3
    over: 1s
downstreams:
  - name: store
invariants: [no_lost_events, no_duplicate_effects]
delivery: {{secret_env: HARNESS_SECRET, timeout: 5s}}
settle: {{quiet: 500ms, deadline: 20s}}
"""


@pytest.mark.integration
def test_every_provider_s_payload_is_accepted_and_attributed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    files = []
    for provider, name in sorted(PER_PROVIDER.items()):
        path = tmp_path / f"{provider}.yaml"
        path.write_text(SCENARIO.format(provider=provider, name=name))
        files.append(str(path))
    port = free_port()
    receiver = start_module(
        "library_receiver",
        "tests.library_receiver",
        ["--port", "0", "--downstream", f"http://127.0.0.1:{port}"],
        {"HARNESS_SECRET": SECRET},
    )
    try:
        results = harness.run(
            files,
            receiver.url + "/hooks/library",
            seed=5,
            downstream=f"127.0.0.1:{port}",
            journal=tmp_path / "j.db",
            baseline=False,
        )
    finally:
        receiver.stop()
    assert len(results) == len(PER_PROVIDER) == 7
    for result in results:
        h = result.history
        name = h.info.scenario
        refused = [(d.status, d.answer_body) for d in h.deliveries if d.status != 200]
        assert not refused, (name, refused)
        written = [json.loads(e.body)["event"] for e in h.effects]
        assert len(written) == len(h.events) == 8, name
        # Each event reached the receiver as made (its own payload), and each write is
        # attributed back to its record, by tracer tokens or by the ids carried verbatim.
        assert sorted(map(json.dumps, written)) == sorted(json.dumps(e.payload) for e in h.events)
        unattributed = [e.body for e in h.effects if not (e.event_ids and e.key)]
        assert not unattributed, (name, unattributed)
        assert not unmet(result.verdicts), name
