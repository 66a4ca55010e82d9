"""The downstream double, over real loopback sockets with a real aiohttp client."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from harness.core._errors import DownstreamBindError, InputError, ScenarioError, UnsafeTargetError
from harness.core._model import ISSUED_MARK, Effect
from harness.core._scenario import DownstreamSpec, Route
from harness.double import _downstream
from harness.double._downstream import Attribute, Attribution, Downstream, parse_address

from .doubles import Started, started


def running(
    *routes: Route,
    on_effect: Callable[[Effect], None] | None = None,
    attribute: Attribute | None = None,
) -> AbstractAsyncContextManager[Started]:
    """A started double named "crm" whose clock ticks 1.0, 2.0, ... and its effects."""
    spec = DownstreamSpec(name="crm", routes=routes)
    return started(spec, on_effect=on_effect, attribute=attribute)


async def call(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, str, CIMultiDict[str]]:
    async with session.request(method, path, **kwargs) as response:
        return response.status, await response.text(), CIMultiDict(response.headers)


@pytest.mark.integration
async def test_every_request_becomes_one_effect() -> None:
    async with running() as (double, effects, session):
        headers = CIMultiDict([("X-Trace", "t1"), ("X-Tag", "a"), ("X-Tag", "b")])
        status, _, _ = await call(
            session, "POST", "/v1/contacts?source=hook", json={"email": "a@x.io"}, headers=headers
        )
        await call(session, "GET", "/v1/contacts/7")

    assert status == 201
    first, second = effects
    assert (first.id, first.downstream, first.at, first.method) == ("eff_1", "crm", 1.0, "POST")
    assert first.path == "/v1/contacts?source=hook"
    assert first.body == '{"email": "a@x.io"}'
    assert first.header("x-trace") == "t1"
    assert first.header("X-Tag") == "a, b"  # a repeated header keeps all its values
    assert (first.status, first.event_ids, first.key) == (201, (), None)
    assert (second.id, second.at, second.path, second.status) == (
        "eff_2",
        2.0,
        "/v1/contacts/7",
        200,
    )
    assert double.effects_recorded == 2
    assert double.last_effect_at == 2.0


@pytest.mark.integration
async def test_body_that_is_not_utf8_is_recorded_with_replacement_characters() -> None:
    async with running() as (_, effects, session):
        await call(session, "POST", "/raw", data=b"ok \xff\xfe")
    assert effects[0].body == "ok \ufffd\ufffd"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("method", "body", "status", "answer"),
    [
        ("POST", '{"name": "Ada"}', 201, '{"name": "Ada", "id": "ds_1"}'),
        ("POST", '{"id": "mine"}', 201, '{"id": "ds_1"}'),
        ("POST", "not json", 201, '{"id": "ds_1"}'),
        ("POST", "[1, 2]", 201, '{"id": "ds_1"}'),
        ("PUT", '{"name": "Ada"}', 200, '{"name": "Ada"}'),
        ("PATCH", '{"name": "Ada"}', 200, '{"name": "Ada"}'),
        ("GET", "", 200, "{}"),
        ("DELETE", "", 204, ""),
        ("OPTIONS", "", 200, "{}"),
        ("HEAD", "", 200, ""),
    ],
)
async def test_defaults_make_a_rest_api_work(
    method: str, body: str, status: int, answer: str
) -> None:
    async with running() as (_, effects, session):
        got = await call(session, method, "/v1/contacts", data=body.encode())
    assert got[:2] == (status, answer)
    assert effects[0].status == status
    if answer:
        assert got[2]["Content-Type"] == "application/json"


@pytest.mark.integration
async def test_generated_ids_count_up() -> None:
    async with running() as (_, _effects, session):
        answers = [(await call(session, "POST", "/v1/deals", json={}))[1] for _ in range(3)]
    assert answers == ['{"id": "ds_1"}', '{"id": "ds_2"}', '{"id": "ds_3"}']


ROUTES = (
    Route("get", "/v1/contacts/{id}", status=200, body={"found": True}),
    Route("POST", "/v1/deals/*", status=409, body={"error": "conflict"}, headers={"X-Why": "dup"}),
    Route("*", "/v1/limited*", status=429, headers={"Retry-After": "3"}),
    Route("GET", "/v1/contacts/{id}", status=500),  # shadowed: the first match wins
    Route("POST", "/v1/text", status=202, body="ok", headers={"Content-Type": "text/plain"}),
)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("method", "path", "status", "answer"),
    [
        ("GET", "/v1/contacts/42", 200, '{"found": true}'),
        ("GET", "/v1/contacts/42?expand=1", 200, '{"found": true}'),
        ("GET", "/v1/contacts/42/notes", 200, "{}"),  # {id} is one segment: default GET
        ("GET", "/v1/contacts/", 200, "{}"),  # {id} is never empty
        ("POST", "/v1/deals", 409, '{"error": "conflict"}'),  # "/*" covers the collection
        ("POST", "/v1/deals/1/lines", 409, '{"error": "conflict"}'),
        ("POST", "/v1/dealsX", 201, '{"id": "ds_1"}'),
        ("PUT", "/v1/deals/1", 200, "{}"),  # method differs: default PUT echo
        ("DELETE", "/v1/limited", 429, "{}"),
        ("GET", "/v1/limited-more/x", 429, "{}"),
        ("POST", "/v1/text", 202, '"ok"'),
    ],
)
async def test_routes_match_by_method_and_path(
    method: str, path: str, status: int, answer: str
) -> None:
    async with running(*ROUTES) as (_, effects, session):
        got = await call(session, method, path, data=b"")
    assert got[:2] == (status, answer)
    assert effects[0].status == status


@pytest.mark.integration
async def test_route_headers_are_answered() -> None:
    async with running(*ROUTES) as (_, _effects, session):
        _, _, limited = await call(session, "GET", "/v1/limited")
        _, _, conflict = await call(session, "POST", "/v1/deals/1")
        _, _, text = await call(session, "POST", "/v1/text")
    assert limited["Retry-After"] == "3"
    assert conflict["X-Why"] == "dup"
    assert conflict["Content-Type"] == "application/json"
    assert text["Content-Type"] == "text/plain"


@pytest.mark.integration
async def test_route_without_body_echoes_and_adds_an_id_only_for_201() -> None:
    """The id it made up is marked with its effect, for a later call naming it."""
    routes = (Route("POST", "/v1/orders", status=201), Route("POST", "/v1/quotes", status=200))
    spec = DownstreamSpec(name="crm", routes=routes)
    marks: list[tuple[str, str]] = []
    async with started(spec, on_mark=lambda *mark: marks.append(mark)) as (_, effects, session):
        created = await call(session, "POST", "/v1/orders", json={"sku": "A1"})
        quoted = await call(session, "POST", "/v1/quotes", json={"sku": "A1"})
    assert created[:2] == (201, '{"sku": "A1", "id": "ds_1"}')
    assert quoted[:2] == (200, '{"sku": "A1"}')
    assert marks == [(ISSUED_MARK, json.dumps({"effect": effects[0].id, "id": "ds_1"}))]


@pytest.mark.integration
async def test_delay_holds_the_answer_and_the_effect_is_recorded_on_arrival() -> None:
    async with running(Route("POST", "/slow", status=201, delay=0.5)) as (_, effects, session):
        started = time.monotonic()
        pending = asyncio.create_task(call(session, "POST", "/slow", json={"a": 1}))
        await asyncio.sleep(0.2)
        recorded_while_pending = len(effects)
        status, answer, _ = await pending
        elapsed = time.monotonic() - started
    assert recorded_while_pending == 1
    assert (status, answer) == (201, '{"a": 1, "id": "ds_1"}')
    assert elapsed >= 0.5


@pytest.mark.integration
async def test_stop_cuts_off_a_long_delay_within_a_bounded_time() -> None:
    async with running(Route("GET", "/stuck", delay=30)) as (double, effects, session):
        pending = asyncio.create_task(call(session, "GET", "/stuck"))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await double.stop()
        stopped_in = time.monotonic() - started
        with pytest.raises(aiohttp.ClientError):
            await pending
    assert stopped_in < 3
    assert len(effects) == 1


@pytest.mark.integration
async def test_attribute_gets_method_path_query_headers_and_body() -> None:
    seen: list[tuple[str, str, str | None, str]] = []

    def attribute(method: str, path: str, headers: Mapping[str, str], body: str) -> Attribution:
        seen.append((method, path, headers.get("X-Order"), body))
        return ("evt_1", "evt_2"), "rec_9"

    async with running(attribute=attribute) as (_, effects, session):
        await call(
            session,
            "POST",
            "/v1/contacts?ref=evt_1",
            data=b'{"k": "rec_9"}',
            headers={"X-Order": "ord_3"},
        )
    assert seen == [("POST", "/v1/contacts?ref=evt_1", "ord_3", '{"k": "rec_9"}')]
    assert (effects[0].event_ids, effects[0].key) == (("evt_1", "evt_2"), "rec_9")


@pytest.mark.integration
async def test_attribute_that_raises_leaves_the_effect_unattributed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def attribute(method: str, path: str, headers: Mapping[str, str], body: str) -> Attribution:
        raise ValueError("broken correlation")

    async with running(attribute=attribute) as (_, effects, session):
        status, _, _ = await call(session, "POST", "/v1/contacts", json={})
    assert status == 201
    assert (effects[0].event_ids, effects[0].key) == ((), None)
    assert "attribution failed" in caplog.text


@pytest.mark.integration
async def test_on_effect_that_raises_does_not_break_the_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def on_effect(effect: Effect) -> None:
        raise RuntimeError("journal full")

    async with running(on_effect=on_effect) as (double, _effects, session):
        with caplog.at_level(logging.ERROR, logger="harness.downstream"):
            first = await call(session, "POST", "/v1/contacts", json={"n": 1})
            second = await call(session, "GET", "/v1/contacts")
    assert first[:2] == (201, '{"n": 1, "id": "ds_1"}')
    assert second[:2] == (200, "{}")
    assert double.effects_recorded == 2
    assert "on_effect failed for crm POST /v1/contacts" in caplog.text
    assert "journal full" in caplog.text


@pytest.mark.integration
async def test_a_body_over_the_limit_is_answered_413_and_still_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_downstream, "_MAX_BODY", 1000)
    async with running() as (_, effects, session):
        status, _, _ = await call(session, "POST", "/v1/files", data=b"x" * 5000)
    assert status == 413
    assert (effects[0].status, len(effects[0].body)) == (413, 1000)


@pytest.mark.integration
async def test_port_in_use_is_a_bind_error_with_a_hint() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        double = Downstream(DownstreamSpec(), on_effect=lambda e: None, clock=time.monotonic)
        with pytest.raises(DownstreamBindError) as caught:
            await double.start("127.0.0.1", port)
    message = str(caught.value)
    assert f"could not listen on 127.0.0.1:{port}: address already in use" in message
    assert "hint: stop what holds the port, or pass --downstream 127.0.0.1:0" in message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
async def test_non_loopback_hosts_are_refused(host: str) -> None:
    double = Downstream(DownstreamSpec(), on_effect=lambda e: None, clock=time.monotonic)
    with pytest.raises(UnsafeTargetError, match="not a loopback address") as caught:
        await double.start(host, 0)
    assert "--listen-beyond-loopback" in str(caught.value)


@pytest.mark.integration
async def test_localhost_listens_on_127_0_0_1_and_url_needs_start() -> None:
    double = Downstream(DownstreamSpec(), on_effect=lambda e: None, clock=time.monotonic)
    with pytest.raises(RuntimeError, match="await start"):
        _ = double.url
    url = await double.start("localhost", 0)
    try:
        assert url.startswith("http://127.0.0.1:")
        assert double.url == url
        with pytest.raises(RuntimeError, match="already listening"):
            await double.start()
    finally:
        await double.stop()
        await double.stop()  # stopping twice is harmless


@pytest.mark.parametrize(
    "path",
    ["v1/contacts", "/v1/*/notes", "/v1/{id", "/v1/a{id}", "/v1/{1x}", "/v1/**"],
)
def test_bad_route_paths_are_scenario_errors(path: str) -> None:
    spec = DownstreamSpec(name="crm", routes=(Route("GET", "/ok"), Route("GET", path)))
    with pytest.raises(ScenarioError) as caught:
        Downstream(spec, on_effect=lambda e: None, clock=time.monotonic)
    message = str(caught.value)
    assert message.startswith("downstream 'crm', routes[1].path: route path")
    assert repr(path) in message
    assert "hint:" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9100", ("127.0.0.1", 9100)),
        (":9100", ("127.0.0.1", 9100)),
        ("9100", ("127.0.0.1", 9100)),
        ("0", ("127.0.0.1", 0)),
        (" localhost:80 ", ("localhost", 80)),
        ("[::1]:65535", ("::1", 65535)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "the port '' is not a number"),
        ("abc", "the port 'abc' is not a number"),
        ("127.0.0.1:", "the port '' is not a number"),
        ("127.0.0.1:70000", "the port '70000' is not a number from 0 to 65535"),
        ("127.0.0.1:-1", "the port '-1' is not a number"),
        ("::1:80", "an IPv6 host must be in brackets"),
        ("http://127.0.0.1:9100", "give an address, not a URL"),
        ("my host:80", "the host has spaces"),
    ],
)
def test_parse_address_rejects_bad_input(text: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_address(text)
    message = str(caught.value)
    assert message.startswith(f"bad downstream address {text!r}: {why}")
    assert "hint: write HOST:PORT, :PORT or PORT" in message


def test_the_flag_lets_a_run_listen_beyond_loopback() -> None:
    from harness import RunOptions, UnsafeTargetError

    with pytest.raises(UnsafeTargetError, match="--listen-beyond-loopback"):
        RunOptions.create("http://127.0.0.1:8000/h", downstream="0.0.0.0:0")
    options = RunOptions.create(
        "http://127.0.0.1:8000/h", downstream="0.0.0.0:0", listen_beyond_loopback=True
    )
    assert (options.downstream_host, options.listen_beyond_loopback) == ("0.0.0.0", True)
