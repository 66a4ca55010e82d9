"""The pass-through double (``forward_to``) in front of a second local HTTP server standing in
for a sandbox API, under each fault mode, over real loopback sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from harness.cli._processes import free_port
from harness.core._model import FAULT_MARK, FORWARDED_MARK, Effect, Fault
from harness.core._scenario import DownstreamSpec, Route
from harness.double._downstream import Downstream
from harness.double._forward import _scrub_keys

from .conftest import harness

pytestmark = pytest.mark.integration

TOKEN = "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc"


@asynccontextmanager
async def sandbox() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A real API's stand-in: records each request, answers 201 with a secret in its body."""
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        # Past the 200 bytes a mark keeps, the secret before the cut.
        answer = {"id": "ch_real_1", "client_secret": "cs_test_very_secret", "pad": "x" * 300}
        return web.json_response(answer, status=201, headers={"Request-Id": "req_123"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1", received
    finally:
        await runner.cleanup()


@asynccontextmanager
async def passing(
    forward_to: str, *faults: Fault, routes: tuple[Route, ...] = ()
) -> AsyncIterator[tuple[aiohttp.ClientSession, list[Effect], list[tuple[str, str]]]]:
    effects: list[Effect] = []
    marks: list[tuple[str, str]] = []
    double = Downstream(
        DownstreamSpec("stripe", routes, forward_to=forward_to),
        on_effect=effects.append,
        clock=lambda: 1.0,
        faults=faults,
        on_mark=lambda name, detail: marks.append((name, detail)),
    )
    await double.start()
    try:
        async with aiohttp.ClientSession(
            base_url=double.url, timeout=aiohttp.ClientTimeout(total=10)
        ) as session:
            yield session, effects, marks
    finally:
        await double.stop()


def window(mode: str, **params: Any) -> Fault:
    return Fault("stripe", mode, 0.0, 60.0, params)


async def charge(session: aiohttp.ClientSession) -> tuple[int, bytes, Any]:
    async with session.post(
        "/charges?api_key=sk_query_secret&expand=customer",
        data=b'{"amount": 1999,  "currency": "usd"}',
        headers={"Authorization": TOKEN, "Idempotency-Key": "evt_1"},
    ) as r:
        return r.status, await r.read(), r.headers


async def test_a_call_reaches_the_real_api_and_its_answer_comes_back() -> None:
    async with sandbox() as (url, received), passing(url) as (session, effects, marks):
        status, body, headers = await charge(session)
    assert status == 201 and json.loads(body)["id"] == "ch_real_1"
    assert headers["Request-Id"] == "req_123"
    # Forwarded unchanged: the body's bytes, the query, the credential the real API needs.
    [call] = received
    assert call["path"] == "/v1/charges?api_key=sk_query_secret&expand=customer"
    assert call["body"] == b'{"amount": 1999,  "currency": "usd"}'
    assert call["headers"]["Authorization"] == TOKEN
    assert call["headers"]["Idempotency-Key"] == "evt_1"
    [effect] = effects
    assert (effect.status, effect.committed) == (201, True)
    # The journal keeps no credential of the real API.
    assert effect.headers["Authorization"] == "[redacted]"
    assert effect.path == "/charges?api_key=[redacted]&expand=customer"
    [(name, detail)] = marks
    answer = json.loads(detail)
    assert name == FORWARDED_MARK and answer["effect"] == effect.id and answer["status"] == 201
    assert "cs_test_very_secret" not in detail and "ch_real_1" in detail


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (window("status", status=503), 503),
        (window("throttle", retry_after=2), 429),
        (window("timeout", hold=0.1), 504),
        (window("fail-first-n", count=1, status=500), 500),
    ],
)
async def test_a_refusing_fault_answers_instead_of_forwarding(fault: Fault, status: int) -> None:
    async with sandbox() as (url, received), passing(url, fault) as (session, effects, marks):
        got, body, _ = await charge(session)
    assert got == status and b"harness fault" in body
    assert received == []  # the real API never saw it
    assert [name for name, _ in marks] == [FAULT_MARK]  # the fault answered: nothing forwarded
    assert (effects[0].status, effects[0].committed) == (status, False)
    assert effects[0].headers["Authorization"] == "[redacted]"


async def test_reset_drops_the_connection_and_forwards_nothing() -> None:
    async with sandbox() as (url, received), passing(url, window("reset")) as (session, effects, _):
        with pytest.raises(aiohttp.ClientError):
            await charge(session)
    assert received == []
    assert (effects[0].status, effects[0].committed) == (0, False)


async def test_fail_first_n_forwards_once_the_failures_are_spent() -> None:
    fault = window("fail-first-n", count=1, status=500)
    async with sandbox() as (url, received), passing(url, fault) as (session, effects, _):
        first, _, _ = await charge(session)
        second, _, _ = await charge(session)
    assert (first, second) == (500, 201) and len(received) == 1
    assert [e.committed for e in effects] == [False, True]


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (window("commit-then-fail", status=502), 502),
        (window("commit-then-fail", then="timeout", hold=0.1), 504),
    ],
)
async def test_commit_then_fail_forwards_then_replaces_the_answer(
    fault: Fault, status: int
) -> None:
    async with sandbox() as (url, received), passing(url, fault) as (session, effects, marks):
        got, body, _ = await charge(session)
    assert got == status and b"ch_real_1" not in body  # the caller never sees the real answer
    assert len(received) == 1  # but the real API took the write
    assert (effects[0].status, effects[0].committed) == (status, True)
    assert [name for name, _ in marks] == [FAULT_MARK, FORWARDED_MARK]
    assert json.loads(marks[1][1])["status"] == 201  # and the journal says what it answered


async def test_slow_forwards_then_answers_late() -> None:
    fault = window("slow", latency=0.1)
    async with sandbox() as (url, received), passing(url, fault) as (session, effects, marks):
        got, body, _ = await charge(session)
    assert got == 201 and json.loads(body)["id"] == "ch_real_1" and len(received) == 1
    assert effects[0].committed is True
    assert [name for name, _ in marks] == [FAULT_MARK, FORWARDED_MARK]  # delayed by the fault


async def test_an_unreachable_api_is_a_502_not_committed() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with passing(url) as (session, effects, marks):
        got, body, _ = await charge(session)
    assert got == 502 and b"harness pass-through" in body
    assert (effects[0].status, effects[0].committed) == (502, False)
    assert json.loads(marks[0][1])["error"]


async def test_a_route_of_the_scenario_still_answers_its_stub() -> None:
    routes = (Route("POST", "/charges", status=200, body={"stub": True}),)
    async with sandbox() as (url, received), passing(url, routes=routes) as (session, _, marks):
        got, body, _ = await charge(session)
    assert (got, json.loads(body)) == (200, {"stub": True})
    assert received == [] and marks == []


SCENARIO = """\
name: passthrough
source:
  synthetic:
    example: {{id: evt_1, data: {{order_id: ord_1}}}}
    events: 2
    over: 1s
    records: 2
    id: $.id
    key: $.data.order_id
downstreams:
  - name: stripe
    forward_to: {url}
    stateful: {stateful}
delivery: {{signing: none}}
"""


def test_stateful_with_forward_to_is_refused_with_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "s.scenario.yaml"
    scenario.write_text(SCENARIO.format(url="http://127.0.0.1:9/", stateful="true"))
    done = harness("run", str(scenario), "--no-project", "--target", "http://127.0.0.1:9/")
    assert done.code == 2
    assert "s.scenario.yaml:" in done.err and "forward_to" in done.err and "stateful" in done.err


def test_forward_to_outside_loopback_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    scenario = tmp_path / "s.scenario.yaml"
    scenario.write_text(SCENARIO.format(url="https://api.stripe.com", stateful="false"))
    done = harness("run", str(scenario), "--no-project", "--target", "http://127.0.0.1:9/")
    assert done.code == 2, done.err
    assert "forward_to" in done.err and "--allow-host api.stripe.com" in done.err
    assert "Traceback" not in done.err


def test_an_answer_cut_short_has_keys_written_with_escapes_redacted() -> None:
    """The journal keeps an answer's first 200 bytes: JSON that no longer parses, read as
    ``"key": value`` pairs, each key as JSON reads it (``api\\u005fkey`` is ``api_key``)."""
    start = '{"api\\u005fkey": "ak_live_0123456789", "client_secret": "cs_1", "note": "cut sh'
    kept = _scrub_keys(start)
    assert "ak_live_0123456789" not in kept and "cs_1" not in kept
    assert kept.startswith('{"api\\u005fkey": "[redacted]"') and '"note": "cut sh' in kept


def test_an_answer_cut_short_has_a_long_key_written_all_in_escapes_redacted() -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in "client_secret")  # 65 characters as written
    kept = _scrub_keys('{"' + escaped + '": "cs_live_ABCDEFGH123456", "note": "cut sh')
    assert "cs_live_ABCDEFGH123456" not in kept and "[redacted]" in kept
