"""The observer: the final state read by an HTTP GET, against real servers on loopback.

Its bad cases (unreachable, non-2xx, not JSON, a path that finds nothing, a host outside
loopback) each say what was wrong and how to fix it; in a run they leave the journal whole and
make final_state_matches_baseline inconclusive with that message.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

import harness
from harness.core._errors import UnsafeTargetError
from harness.core._model import OBSERVER, STATE_UNAVAILABLE_MARK, Status
from harness.core._scenario import ObserverSpec, Scenario, Settle, SyntheticSource
from harness.double._state import StateUnavailable, check_observer, observe
from harness.drive._tracer import trace
from harness.engine import RunOptions, prepare
from harness.history import load, run_ids
from harness.scenario._load import resolve

from .conftest import SECRET
from .fault_scenarios import automation

pytestmark = pytest.mark.integration


def _no_attribution(_: str) -> tuple[tuple[str, ...], str | None]:
    return (), None


@pytest.fixture
async def state_server() -> AsyncIterator[str]:
    """A small state endpoint with one route per case; its base URL."""

    async def state(_: web.Request) -> web.Response:
        return web.json_response(
            {"contacts": [{"id": 7, "name": "Ada zqabcdee0"}, {"id": 8, "name": "Bob"}]}
        )

    async def broken(_: web.Request) -> web.Response:
        return web.json_response({"error": "database down"}, status=503)

    async def text(_: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    async def nested(_: web.Request) -> web.Response:
        return web.json_response({"contacts": {"7": {"id": 7}}})

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_get("/broken", broken)
    app.router.add_get("/text", text)
    app.router.add_get("/nested", nested)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_observe_reads_records_and_attributes_them(state_server: str) -> None:
    tracer = trace([], "zqabcde")
    records = await observe(ObserverSpec(f"{state_server}/state", "$.contacts"), tracer.attribute)
    assert [(r.source, r.collection, r.id, r.body["name"]) for r in records] == [
        (OBSERVER, "/state", "7", "Ada zqabcdee0"),
        (OBSERVER, "/state", "8", "Bob"),
    ]


async def test_observe_says_what_is_wrong_and_how_to_fix_it(state_server: str) -> None:
    cases = {
        f"{state_server}/broken": ('answered 503 (\'{"error": "database down"}\')', "200"),
        f"{state_server}/text": ("is not JSON", "answer JSON"),
    }
    for url, (what, fix) in cases.items():
        with pytest.raises(StateUnavailable) as caught:
            await observe(ObserverSpec(url, "$.contacts"), _no_attribution)
        assert what in caught.value.message and fix in caught.value.hint, str(caught.value)
    with pytest.raises(StateUnavailable, match=r"'\$\.people' finds nothing .*keys contacts"):
        await observe(ObserverSpec(f"{state_server}/state", "$.people"), _no_attribution)
    with pytest.raises(StateUnavailable, match=r"finds an object with keys 7 .*not a list"):
        await observe(ObserverSpec(f"{state_server}/nested", "$.contacts"), _no_attribution)
    with pytest.raises(StateUnavailable, match=r"record 0 .* no value at the key path '\$\.uid'"):
        await observe(ObserverSpec(f"{state_server}/state", "$.contacts", "$.uid"), _no_attribution)


async def test_an_unreachable_observer_says_so() -> None:
    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StateUnavailable) as caught:
        await observe(ObserverSpec(f"http://127.0.0.1:{port}/state"), _no_attribution)
    assert "cannot connect to the observer" in caught.value.message
    assert "check observer.url" in caught.value.hint


def test_an_observer_outside_loopback_is_refused_unless_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    spec = ObserverSpec("http://10.1.2.3:8000/state")
    with pytest.raises(UnsafeTargetError, match=r"s.yaml: observer.url: observer host '10.1.2.3'"):
        check_observer(spec, (), "s.yaml")
    check_observer(spec, ("10.1.2.3",), "s.yaml")
    check_observer(ObserverSpec("http://localhost:1/"), (), "s.yaml")
    scenario = replace(_compact(), observer=spec)
    with pytest.raises(UnsafeTargetError, match=r"--allow-host 10\.1\.2\.3"):
        prepare(scenario, RunOptions.create("http://127.0.0.1:1/hooks", seed=1))
    options = RunOptions.create("http://127.0.0.1:1/hooks", seed=1, allow_hosts=["10.1.2.3"])
    assert prepare(scenario, options).info.settings["observer"]["url"] == spec.url


def _compact() -> Scenario:
    """import-run-twice over 10 orders: a few seconds with its baseline."""
    base = resolve(["import-run-twice"])[0]
    assert isinstance(base.source, SyntheticSource)
    return replace(
        base, source=replace(base.source, events=10, records=10), settle=Settle(0.5, 20.0)
    )


def test_a_run_with_an_observer_keeps_its_state_or_says_why_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    journal = tmp_path / "j.db"
    with automation("harness.demo.sound", state=tmp_path / "state") as (hook, port):
        # The double's own collection listing stands for a state endpoint of the target's.
        seen = replace(
            _compact(), name="seen", observer=ObserverSpec(f"http://127.0.0.1:{port}/payouts")
        )
        lost = replace(
            _compact(), name="lost", observer=ObserverSpec(f"http://127.0.0.1:{dead}/state")
        )
        results = harness.run(
            [seen, lost], hook, seed=5, downstream=f"127.0.0.1:{port}", journal=journal
        )
    found = [{v.invariant: v for v in r.verdicts} for r in results]
    assert found[0]["final_state_matches_baseline"].passed, found[0]
    history = results[0].history
    observed = [r for r in history.states if r.source == OBSERVER]
    assert len(observed) == 10 and all(r.key for r in observed)
    assert len([r for r in history.states if r.source == "api"]) == 10
    # Unreachable: the run is kept whole, the mark says why, the check cannot judge.
    verdict = found[1]["final_state_matches_baseline"]
    assert verdict.status is Status.INCONCLUSIVE
    assert "cannot connect to the observer" in verdict.summary
    assert "hint: check observer.url" in verdict.summary
    assert found[1]["no_lost_events"].passed
    assert len(run_ids(journal)) == 4  # each scenario and its baseline
    kept = load(journal, results[1].history.info.run_id)
    assert kept.status == "complete" and len(kept.deliveries) == 20
    assert [m.name for m in kept.marks].count(STATE_UNAVAILABLE_MARK) == 1
