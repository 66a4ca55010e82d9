"""A downstream double's life over a year: OAuth tokens that expire, an API key rotated on a
date, list endpoints in pages, answers that change shape, a rate limit, a store carried from
one run to the next — each over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from harness.core._errors import InputError
from harness.core._model import OBSERVER, Fault, StateRecord
from harness.core._scenario import AuthSpec, DownstreamSpec, Route, ShapeChange
from harness.double._auth import TOKEN_MARK
from harness.double._carry import Carried
from harness.double._resources import Resource, ResourceStore
from harness.report import _describe

from .doubles import started

pytestmark = pytest.mark.integration


async def call(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any, Any]:
    async with session.request(method, path, **kwargs) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, response.headers


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- OAuth ----------------------------------------------------------------------------------


async def test_oauth_issues_tokens_and_refuses_calls_without_a_live_one() -> None:
    marks: list[tuple[str, str]] = []
    spec = DownstreamSpec("crm", auth=AuthSpec("oauth", lifetime=3600.0))
    scale = 0.3 / 3600  # an hour's token lives 0.3 real seconds
    async with started(spec, on_mark=lambda n, d: marks.append((n, d)), time_scale=scale) as (
        _,
        effects,
        session,
    ):
        status, body, headers = await call(session, "POST", "/deals", json={"a": 1})
        assert status == 401 and body["error"] == "invalid_token"
        assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert "no bearer token" in body["error_description"]
        form = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
        status, token, _ = await call(session, "POST", "/oauth/token", data=form)
        assert status == 200 and token["token_type"] == "Bearer"
        assert token["expires_in"] == pytest.approx(0.3)
        status, _, _ = await call(session, "POST", "/deals", json={}, headers=bearer("nope"))
        assert status == 401
        status, _, _ = await call(
            session, "POST", "/deals", json={}, headers=bearer(token["access_token"])
        )
        assert status == 201
        await asyncio.sleep(0.4)  # past the token's lifetime
        status, body, _ = await call(
            session, "POST", "/deals", json={}, headers=bearer(token["access_token"])
        )
        assert status == 401 and "expired" in body["error_description"]
        # A JSON body works too; the refresh grant gives a new live token.
        grant = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        status, fresh, _ = await call(session, "POST", "/oauth/token", json=grant)
        assert status == 200 and fresh["access_token"] != token["access_token"]
        status, _, _ = await call(
            session, "POST", "/deals", json={}, headers=bearer(fresh["access_token"])
        )
        assert status == 201
        status, body, _ = await call(
            session, "POST", "/oauth/token", json={"grant_type": "refresh_token"}
        )
        assert (status, body["error"]) == (400, "invalid_grant")
        status, body, _ = await call(session, "POST", "/oauth/token", data={"grant_type": "x"})
        assert (status, body["error"]) == (400, "unsupported_grant_type")
    # Token calls are marks, not effects: no event caused them.
    assert [e.path for e in effects] == ["/deals"] * 5
    assert [(e.status, e.committed) for e in effects] == [
        (401, False),
        (401, False),
        (201, True),
        (401, False),
        (201, True),
    ]
    grants = [json.loads(d)["grant"] for n, d in marks if n == TOKEN_MARK]
    assert grants == ["client_credentials", "refresh_token", "refresh_token", "x"]
    # No token reaches what is recorded.
    recorded = json.dumps([m for m in marks]) + "".join(
        json.dumps(dict(e.headers)) for e in effects
    )
    for secret in (token["access_token"], token["refresh_token"], fresh["access_token"]):
        assert secret not in recorded
    assert all(e.header("Authorization") in (None, "[redacted]") for e in effects)


async def test_issued_tokens_stay_live_into_the_next_run() -> None:
    """The API does not forget its tokens when a run ends: a token of the clean run, or of a
    year's earlier month, works in the next run until it expires."""
    spec = DownstreamSpec("tokens-kept", auth=AuthSpec("oauth", lifetime=60.0))
    async with started(spec) as (_, _, session):
        _, token, _ = await call(
            session, "POST", "/oauth/token", data={"grant_type": "client_credentials"}
        )
    async with started(spec) as (_, _, session):
        status, _, _ = await call(session, "GET", "/x", headers=bearer(token["access_token"]))
        assert status == 200
    other = DownstreamSpec("another-api", auth=AuthSpec("oauth"))
    async with started(other) as (_, _, session):  # another API knows no token of this one
        status, _, _ = await call(session, "GET", "/x", headers=bearer(token["access_token"]))
        assert status == 401


# --- API key --------------------------------------------------------------------------------


async def test_an_api_key_is_rotated_on_its_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KEY", "key-one")
    monkeypatch.setenv("CRM_KEY_NEXT", "key-two")
    auth = AuthSpec(
        "api-key", header="X-Api-Key", key_env="CRM_KEY", next_key_env="CRM_KEY_NEXT", rotate_at=100
    )
    now = [1.0]
    spec = DownstreamSpec("crm", auth=auth)
    async with started(spec, clock=lambda: now[0], time_scale=0.1) as (_, effects, session):
        assert (await call(session, "GET", "/x", headers={"X-Api-Key": "key-one"}))[0] == 200
        assert (await call(session, "GET", "/x", headers={"X-Api-Key": "key-two"}))[0] == 401
        assert (await call(session, "GET", "/x"))[0] == 401
        now[0] = 10.0  # 100 scenario seconds at 0.1: rotated
        status, body, _ = await call(session, "GET", "/x", headers={"X-Api-Key": "key-one"})
        assert status == 401 and "rotated" in body["error_description"]
        assert (await call(session, "GET", "/x", headers={"X-Api-Key": "key-two"}))[0] == 200
    assert all(e.header("X-Api-Key") in (None, "[redacted]") for e in effects)
    assert "key-one" not in repr(effects) and "key-two" not in repr(effects)


async def test_an_api_key_whose_variable_is_empty_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    spec = DownstreamSpec("crm", auth=AuthSpec("api-key", key_env="NO_SUCH_KEY"))
    with pytest.raises(InputError, match="NO_SUCH_KEY holds no API key"):
        async with started(spec):
            pass


# --- pagination -----------------------------------------------------------------------------


async def test_a_paged_collection_yields_every_record_once_by_following_next() -> None:
    spec = DownstreamSpec("crm", stateful=True, page_size=3)
    async with started(spec) as (_, _, session):
        created = [(await call(session, "POST", "/contacts", json={"n": n}))[1] for n in range(7)]
        status, page, headers = await call(session, "GET", "/contacts")
        assert status == 200 and page["data"] == created[:3]
        assert headers["Link"] == f'<{page["next"]}>; rel="next"'
        seen, url = list(page["data"]), page["next"]
        # Created while paging: still reached, after the others.
        extra = (await call(session, "POST", "/contacts", json={"n": 7}))[1]
        for _ in range(10):
            if url is None:
                break
            _, page, headers = await call(session, "GET", url)
            seen.extend(page["data"])
            url = page["next"]
        assert seen == [*created, extra]
        assert "Link" not in headers
        # A resource still reads alone; an empty collection is one empty page.
        assert (await call(session, "GET", f"/contacts/{created[0]['id']}"))[1] == created[0]
        assert (await call(session, "GET", "/deals"))[1] == {"data": [], "next": None}
        status, body, _ = await call(session, "GET", "/contacts?cursor=abc")
        assert status == 400 and "follow next" in body["error"]


def test_a_deleted_record_does_not_shift_the_pages() -> None:
    store = ResourceStore([Resource("/c", f"r{n}", {"n": n}) for n in range(5)])
    first = store.handle("GET", "/c", "", None, page_size=2)
    assert first.body == {"data": [{"n": 0}, {"n": 1}], "next": "/c?cursor=2"}
    store.handle("DELETE", "/c/r1", "", None)
    store.handle("DELETE", "/c/r2", "", None)
    second = store.handle("GET", "/c", "", None, query="cursor=2", page_size=2)
    assert second.body == {"data": [{"n": 3}, {"n": 4}], "next": None}


def test_a_filtered_list_pages_over_the_resources_it_keeps() -> None:
    """Filtered first, then paged: a match beyond the first page of the whole collection is on
    the first page of the filtered one, as a real API answers a search."""
    store = ResourceStore([Resource("/c", f"r{n}", {"n": n, "odd": n % 2}) for n in range(7)])
    first = store.handle("GET", "/c", "", None, query="odd=1", page_size=2)
    assert first.body == {"data": [{"n": 1, "odd": 1}, {"n": 3, "odd": 1}], "next": "/c?cursor=4"}
    second = store.handle("GET", "/c", "", None, query="odd=1&cursor=4", page_size=2)
    assert second.body == {"data": [{"n": 5, "odd": 1}], "next": None}
    none = store.handle("GET", "/c", "", None, query="n=9", page_size=2)
    assert none.body == {"data": [], "next": None}


# --- a store that starts from records, carried from run to run -------------------------------


def test_a_store_starts_from_given_records_and_generates_ids_past_theirs() -> None:
    given = [Resource("/contacts", "ds_41", {"id": "ds_41", "k": "a"})]
    store = ResourceStore(given)
    created = store.handle("POST", "/contacts", '{"k": "b"}', None)
    assert created.body == {"k": "b", "id": "ds_42"}
    assert [r.id for r in store.records()] == ["ds_41", "ds_42"]
    # The run's own state: what it wrote, not what it was given and left alone.
    assert [r.id for r in store.resources()] == ["ds_42"]
    store.handle("PATCH", "/contacts/ds_41", '{"k": "c"}', None)
    assert [r.id for r in store.resources()] == ["ds_41", "ds_42"]


async def test_carried_records_are_the_next_runs_start() -> None:
    carried = Carried({"crm": [Resource("/contacts", "c0", {"id": "c0"})]})
    spec = DownstreamSpec("crm", stateful=True)
    async with started(spec, carried=carried) as (double, _, session):
        await call(session, "POST", "/contacts", json={"k": 1})
        assert [r.id for r in double.resources() or []] == ["ds_1"]
    async with started(spec, carried=carried) as (double, _, session):
        _, listed, _ = await call(session, "GET", "/contacts")
        assert [r["id"] for r in listed] == ["c0", "ds_1"]
        assert double.resources() == []  # nothing written in this run yet
    assert [r.id for r in carried.records("crm")] == ["c0", "ds_1"]


def test_carried_stores_are_rebuilt_from_the_final_states_of_earlier_runs() -> None:
    """A resumed year: each complete month's final state, oldest first, makes the store."""
    months = [
        StateRecord("crm", "/contacts", "ds_1", {"id": "ds_1", "v": 1}),
        StateRecord("crm", "/contacts", "ds_2", {"id": "ds_2", "v": 1}),
        StateRecord(OBSERVER, "/state", "x", {"id": "x"}),
        StateRecord("crm", "/contacts", "ds_1", {"id": "ds_1", "v": 2}),  # a later month's PATCH
    ]
    carried = Carried.from_states(months)
    assert [(r.id, r.body["v"]) for r in carried.records("crm")] == [("ds_1", 2), ("ds_2", 1)]
    assert carried.records(OBSERVER) == []
    created = carried.store("crm").handle("POST", "/contacts", "{}", None)
    assert created.body == {"id": "ds_3"}


# --- shape changes and the rate limit -------------------------------------------------------


async def test_answers_change_shape_from_their_date() -> None:
    now = [1.0]
    change = ShapeChange(at=50.0, rename={"amount": "amount_cents"}, route="GET /deals/*")
    spec = DownstreamSpec(
        "crm",
        routes=(Route("GET", "/deals/{id}", body={"amount": 5, "lines": [{"amount": 1}]}),),
        shape_changes=(change,),
    )
    async with started(spec, clock=lambda: now[0], time_scale=0.1) as (_, _, session):
        assert (await call(session, "GET", "/deals/1"))[1]["amount"] == 5
        now[0] = 5.0
        _, body, _ = await call(session, "GET", "/deals/1")
        assert body == {"amount_cents": 5, "lines": [{"amount_cents": 1}]}
        # Another route keeps its shape.
        assert (await call(session, "POST", "/deals", json={"amount": 2}))[1]["amount"] == 2


async def test_a_rate_limit_refuses_calls_beyond_its_rate_with_retry_after() -> None:
    now = [10.0]
    fault = Fault("crm", "rate-limit", 0.0, 100.0, {"rate": 2.0})
    spec = DownstreamSpec("crm")
    async with started(spec, clock=lambda: now[0], faults=(fault,)) as (_, effects, session):
        answers = [(await call(session, "POST", "/p", json={}))[0] for _ in range(3)]
        assert answers == [201, 201, 429]
        _, _, headers = await call(session, "POST", "/p", json={})
        assert headers["Retry-After"] == "1"
        now[0] = 10.5  # half a second refills one call
        assert (await call(session, "POST", "/p", json={}))[0] == 201
        assert (await call(session, "POST", "/p", json={}))[0] == 429
    assert [e.committed for e in effects] == [True, True, False, False, True, False]


def test_a_rate_limit_is_described_in_plain_words() -> None:
    window = Fault("crm", "rate-limit", 0.0, 30.0, {"rate": 5.0, "route": "POST /payouts"})
    assert _describe.fault(window) == (
        "crm rate-limiting to 5 calls/s (429 beyond) on POST /payouts for 30 s from 0.0 s"
    )
