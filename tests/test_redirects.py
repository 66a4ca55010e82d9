"""A redirect is the target's answer: recorded and shown, never followed (docs/security.md).

A target on loopback that answers 307 towards another address must not make the harness
re-send signed deliveries there: the journal shows the 307, and the other server sees nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from .conftest import SECRET, free_port

pytestmark = pytest.mark.integration

SCENARIO = """\
name: redirected
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: 6
    records: 3
    over: 0.3s
    key: $.data.order_id
delivery: {signing: none}
downstreams: [{name: api}]
settle: {quiet: 0.3s, deadline: 5s}
baseline: false
"""


class _Counter:
    def __init__(self, location: str | None = None) -> None:
        self.hits = 0
        self.location = location

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        await request.read()
        if self.location is not None:
            raise web.HTTPTemporaryRedirect(self.location)
        return web.Response(status=200)


async def _serve(counter: _Counter, host: str, port: int) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", counter.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


@pytest.fixture
async def servers() -> AsyncIterator[tuple[int, _Counter, _Counter]]:
    """A target on 127.0.0.1 that redirects every request to a server on 127.0.0.2."""
    port, other = free_port(), free_port()
    elsewhere = _Counter()
    redirector = _Counter(f"http://127.0.0.2:{other}/hooks")
    runners = [await _serve(redirector, "127.0.0.1", port)]
    runners.append(await _serve(elsewhere, "127.0.0.2", other))
    try:
        yield port, redirector, elsewhere
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_a_307_is_recorded_and_not_followed(
    servers: tuple[int, _Counter, _Counter], tmp_path: Path
) -> None:
    port, redirector, elsewhere = servers
    scenario = tmp_path / "redirected.scenario.yaml"
    scenario.write_text(SCENARIO)
    report = tmp_path / "r.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "harness",
        "run",
        str(scenario),
        "--target",
        f"http://127.0.0.1:{port}/hooks",
        "--downstream",
        f"127.0.0.1:{free_port()}",
        "--journal",
        str(tmp_path / "j.db"),
        "--report",
        str(report),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HARNESS_SECRET": SECRET},
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert "Traceback" not in err.decode()
    assert redirector.hits == 6
    assert elsewhere.hits == 0, "a delivery followed the redirect"
    (run,) = json.loads(report.read_text())["runs"]
    assert run["counts"]["deliveries_by_answer"]["accepted"] == 0
    assert run["counts"]["most_common_answer"]["status"] == 307
