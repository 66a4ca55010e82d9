"""The stateful downstream double: its resource store and Idempotency-Key, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest

from harness.core._model import Effect, Fault
from harness.core._scenario import DownstreamSpec, Route
from harness.double._downstream import Downstream

from .doubles import Started, started

pytestmark = pytest.mark.integration


def crm(*routes: Route, faults: tuple[Fault, ...] = ()) -> AbstractAsyncContextManager[Started]:
    """A started stateful double named crm, its recorded effects and a client to it."""
    return started(DownstreamSpec("crm", routes, stateful=True), faults=faults)


async def call(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any, dict[str, str]]:
    async with session.request(method, path, **kwargs) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, dict(response.headers)


async def test_post_creates_get_reads_back_and_lists() -> None:
    async with crm() as (double, effects, session):
        status, ada, _ = await call(session, "POST", "/v1/contacts", json={"name": "Ada"})
        assert (status, ada) == (201, {"name": "Ada", "id": "ds_1"})
        status, bob, _ = await call(session, "POST", "/v1/contacts", json={"name": "Bob"})
        assert (status, bob["id"]) == (201, "ds_2")
        assert (await call(session, "GET", "/v1/contacts/ds_1"))[:2] == (200, ada)
        status, listed, _ = await call(session, "GET", "/v1/contacts")
        assert (status, listed) == (200, [ada, bob])
        status, body, _ = await call(session, "GET", "/v1/contacts/ds_9")
        assert status == 404 and "no resource at /v1/contacts/ds_9" in body["error"]
        # A collection nothing was written to lists empty.
        assert (await call(session, "GET", "/deals"))[:2] == (200, [])
        assert (await call(session, "GET", "/v1/deals/d1"))[0] == 404
        assert [r.body for r in double.resources() or []] == [ada, bob]
        assert [(e.method, e.status, e.committed) for e in effects][:2] == [
            ("POST", 201, True),
            ("POST", 201, True),
        ]


async def test_put_replaces_or_creates_patch_merges_delete_removes() -> None:
    async with crm() as (double, effects, session):
        status, body, _ = await call(session, "PUT", "/contacts/c1", json={"name": "A", "x": 1})
        assert (status, body) == (201, {"name": "A", "x": 1, "id": "c1"})
        status, body, _ = await call(session, "PUT", "/contacts/c1", json={"name": "B"})
        assert (status, body) == (200, {"name": "B", "id": "c1"})  # replaced: x is gone
        status, body, _ = await call(
            session, "PATCH", "/contacts/c1", json={"company": {"city": "Ldn"}, "name": None}
        )
        assert (status, body) == (200, {"id": "c1", "company": {"city": "Ldn"}})
        status, body, _ = await call(session, "PATCH", "/contacts/nope", json={"a": 1})
        assert status == 404
        assert effects[-1].committed is False  # a refused write changed nothing
        assert (await call(session, "DELETE", "/contacts/c1"))[0] == 204
        assert (await call(session, "DELETE", "/contacts/c1"))[0] == 404
        assert double.resources() == []
        status, body, _ = await call(session, "POST", "/contacts", data="not json")
        assert status == 400 and "needs a JSON object body" in body["error"]


async def test_same_idempotency_key_replays_the_first_answer_and_writes_once() -> None:
    async with crm() as (double, effects, session):
        key = {"Idempotency-Key": "evt_1"}
        first = await call(session, "POST", "/payouts", json={"amount": 5}, headers=key)
        again = await call(session, "POST", "/payouts", json={"amount": 5}, headers=key)
        assert first[:2] == again[:2] == (201, {"amount": 5, "id": "ds_1"})
        assert again[2].get("Idempotent-Replayed") == "true"
        assert "Idempotent-Replayed" not in first[2]
        assert len(double.resources() or []) == 1
        # The replay did not change the store: its effect is not a committed write.
        assert [e.committed for e in effects] == [True, False]
        status, body, _ = await call(session, "POST", "/payouts", json={"amount": 6}, headers=key)
        assert status == 400 and "Idempotency-Key 'evt_1' was first used" in body["error"]
        assert len(double.resources() or []) == 1
        # Another key is another request; a key is per downstream, not per path only.
        other = await call(
            session, "POST", "/payouts", json={"amount": 5}, headers={"Idempotency-Key": "e2"}
        )
        assert other[1]["id"] == "ds_2"


async def test_explicit_routes_come_first_and_commit_then_fail_writes_then_errs() -> None:
    fault = Fault("crm", "commit-then-fail", 0.0, 100.0, {"status": 502, "route": "POST /p"})
    stub = Route("GET", "/health", status=200, body={"ok": True})
    async with crm(stub, faults=(fault,)) as (double, effects, session):
        assert (await call(session, "GET", "/health"))[:2] == (200, {"ok": True})
        status, _, _ = await call(
            session, "POST", "/p", json={"a": 1}, headers={"Idempotency-Key": "k"}
        )
        assert status == 502
        assert [r.body for r in double.resources() or []] == [{"a": 1, "id": "ds_1"}]
        assert effects[-1].committed is True
        # The retry with the same key gets the first (successful) answer; nothing new is made.
        status, _, _ = await call(
            session, "POST", "/p", json={"a": 1}, headers={"Idempotency-Key": "k"}
        )
        assert status == 502  # still inside the window: the fault answers, the store replays
        assert effects[-1].committed is False
        assert len(double.resources() or []) == 1


async def test_concurrent_writes_of_one_key_make_one_resource() -> None:
    async with crm() as (double, _, session):
        key = {"Idempotency-Key": "same"}
        answers = await asyncio.gather(
            *(call(session, "POST", "/orders", json={"n": 1}, headers=key) for _ in range(10))
        )
        assert {a[1]["id"] for a in answers} == {"ds_1"}
        assert len(double.resources() or []) == 1


async def test_a_double_without_stateful_keeps_its_stub_answers() -> None:
    effects: list[Effect] = []
    double = Downstream(DownstreamSpec("api"), on_effect=effects.append, clock=lambda: 0.0)
    await double.start()
    try:
        async with aiohttp.ClientSession(base_url=double.url) as session:
            assert (await call(session, "GET", "/contacts/x"))[:2] == (200, {})
        assert double.resources() is None
    finally:
        await double.stop()


async def test_a_collection_get_is_filtered_by_the_fields_its_query_names() -> None:
    """Find-or-create: ``GET /contacts?email=…`` then POST when none is found. The query was
    ignored, so the lookup of a new customer found every contact: an automation that took the
    first attached the order to someone else's contact and never created its own."""
    async with crm() as (_, _effects, session):
        for email, city in (("ada+x@example.com", "London"), ("bob@example.com", "Paris")):
            body = {"email": email, "address": {"city": city}, "vip": email.startswith("b")}
            await call(session, "POST", "/contacts", json=body)
        # As requests and aiohttp encode it: "+" as %2B.
        _, found, _ = await call(session, "GET", "/contacts", params={"email": "ada+x@example.com"})
        assert [c["id"] for c in found] == ["ds_1"]
        _, found, _ = await call(session, "GET", "/contacts?email=carol%40example.com")
        assert found == []
        _, found, _ = await call(session, "GET", "/contacts?address.city=Paris&vip=true")
        assert [c["id"] for c in found] == ["ds_2"]
        # A parameter no contact has a field for is not a filter (a limit, a credential).
        _, found, _ = await call(session, "GET", "/contacts?limit=10&api_key=k")
        assert [c["id"] for c in found] == ["ds_1", "ds_2"]
