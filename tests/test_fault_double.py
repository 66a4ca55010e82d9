"""The downstream double under fault windows, over real loopback sockets; ``committed`` kept
in the journal."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from harness.core._model import FAULT_MARK, Effect, Fault, Model
from harness.core._scenario import AuthSpec, DownstreamSpec, Route
from harness.double._faults import acted_on
from harness.history import Journal, RunInfo, load

from .doubles import Started, started

pytestmark = pytest.mark.integration


def window(mode: str, start: float = 0.0, end: float = 60.0, **params: Any) -> Fault:
    return Fault("crm", mode, start, end, params)


def double(
    *faults: Fault, routes: Sequence[Route] = (), clock_at: float = 1.0, timeout: float = 5.0
) -> AbstractAsyncContextManager[Started]:
    """A started double named "crm" whose clock stands at ``clock_at``, and its effects."""
    spec = DownstreamSpec("crm", tuple(routes))
    return started(spec, clock=lambda: clock_at, faults=faults, timeout=timeout)


async def post(session: aiohttp.ClientSession, path: str = "/payouts") -> tuple[int, Any, Any]:
    async with session.post(path, json={"amount": 1}) as r:
        return r.status, await r.json(), r.headers


async def test_outside_a_window_the_route_answers_and_commits() -> None:
    async with double(window("status", 5.0, 6.0)) as (_, effects, session):
        status, body, _ = await post(session)
    assert (status, body["amount"]) == (201, 1)
    assert (effects[0].status, effects[0].committed) == (201, True)


async def test_a_route_error_answer_is_not_committed() -> None:
    async with double(routes=[Route("POST", "/payouts", status=409)]) as (_, effects, session):
        status, _, _ = await post(session)
    assert status == 409
    assert effects[0].committed is False


async def test_status_fault_refuses_the_write() -> None:
    async with double(window("status", status=503)) as (_, effects, session):
        status, body, _ = await post(session)
    assert status == 503
    assert body == {"error": "harness fault on downstream 'crm': status"}
    assert (effects[0].status, effects[0].committed) == (503, False)


async def test_a_fault_on_another_downstream_or_route_does_not_apply() -> None:
    other = Fault("payments", "status", 0.0, 60.0, {"status": 500})
    routed = window("status", route="PUT /contacts/{id}")
    async with double(other, routed) as (_, effects, session):
        status, _, _ = await post(session)
        async with session.put("/contacts/7", json={}) as r:
            put_status = r.status
    assert (status, put_status) == (201, 503)
    assert [e.committed for e in effects] == [True, False]


async def test_throttle_answers_429_with_retry_after() -> None:
    async with double(window("throttle", retry_after=2.5)) as (_, effects, session):
        status, _, headers = await post(session)
    assert (status, headers["Retry-After"]) == (429, "3")  # whole seconds, rounded up
    assert (effects[0].status, effects[0].committed) == (429, False)


async def test_timeout_holds_the_call_then_answers_504() -> None:
    async with double(window("timeout", hold=0.3)) as (_, effects, session):
        started = time.monotonic()
        status, _, _ = await post(session)
        held = time.monotonic() - started
    assert status == 504 and held >= 0.3
    assert effects[0].committed is False


async def test_a_held_call_ends_when_its_caller_hangs_up() -> None:
    async with double(window("timeout", hold=30.0), timeout=0.3) as (ds, effects, session):
        with pytest.raises(TimeoutError):
            await post(session)
        for _ in range(50):  # the handler is cancelled once the server sees the hang-up
            if not ds.in_flight:
                break
            await asyncio.sleep(0.02)
        assert ds.in_flight == 0
    assert len(effects) == 1


async def test_stop_cuts_off_a_held_call_within_a_bounded_time() -> None:
    async with double(window("timeout", hold=30.0), timeout=10) as (ds, effects, session):
        pending = asyncio.create_task(post(session))
        await asyncio.sleep(0.2)
        assert ds.in_flight == 1
        started = time.monotonic()
        await ds.stop()
        stopped_in = time.monotonic() - started
        with pytest.raises(aiohttp.ClientError):
            await pending
    assert stopped_in < 3
    assert len(effects) == 1


async def test_reset_drops_the_connection_unanswered() -> None:
    async with double(window("reset", route="POST /payouts")) as (_, effects, session):
        with pytest.raises(aiohttp.ClientOSError) as caught:
            await post(session)
        status, _, _ = await post(session, "/other")  # other calls are still served
    assert "reset" in str(caught.value).lower()
    assert status == 201
    assert (effects[0].status, effects[0].committed) == (0, False)


async def test_slow_answers_as_the_route_says_after_the_latency() -> None:
    async with double(window("slow", latency=0.3, jitter=0.05)) as (ds, effects, session):
        started = time.monotonic()
        pending = asyncio.create_task(post(session))
        await asyncio.sleep(0.1)
        busy = ds.in_flight
        status, body, _ = await pending
        took = time.monotonic() - started
    assert (status, body["id"]) == (201, "ds_1")
    assert 0.25 <= took < 2 and busy == 1
    assert effects[0].committed is True


async def test_commit_then_fail_records_a_committed_write_answered_5xx() -> None:
    async with double(window("commit-then-fail", status=502)) as (_, effects, session):
        status, _, _ = await post(session)
    assert status == 502
    assert (effects[0].status, effects[0].committed) == (502, True)


async def test_commit_then_time_out_holds_a_committed_write() -> None:
    fault = window("commit-then-fail", then="timeout", hold=0.2)
    async with double(fault) as (_, effects, session):
        status, _, _ = await post(session)
    assert status == 504
    assert (effects[0].status, effects[0].committed) == (504, True)


async def test_fail_first_n_fails_the_first_calls_then_succeeds() -> None:
    async with double(window("fail-first-n", count=2, status=500)) as (_, effects, session):
        statuses = [(await post(session))[0] for _ in range(4)]
    assert statuses == [500, 500, 201, 201]
    assert [e.committed for e in effects] == [False, False, True, True]


@pytest.mark.parametrize(
    ("faults", "routes", "met", "by_answer"),
    [
        ([window("status", status=502)], [], [True, True, True], True),
        ([window("throttle")], [], [True, True, True], True),
        ([window("timeout", hold=0.05)], [], [True, True, True], True),
        ([window("reset")], [], [True, True, True], True),
        ([window("slow", latency=0.01)], [], [True, True, True], True),
        ([window("commit-then-fail", status=502)], [], [True, True, True], True),
        ([window("commit-then-fail", then="timeout", hold=0.05)], [], [True] * 3, True),
        ([window("fail-first-n", count=2, status=500)], [], [True, True, False], True),
        ([window("rate-limit", rate=1.0)], [], [False, True, True], True),  # one a second
        ([window("status", route="PUT /contacts/{id}")], [], [False] * 3, True),
        ([window("status", 5.0, 6.0)], [], [False, False, False], True),  # the clock is at 1.0
        # Answers with the fault's own status that the fault did not give: only the double's
        # marks can tell them apart.
        ([window("rate-limit", rate=100.0)], [Route("POST", "/payouts", 429)], [False] * 3, False),
        (
            [window("fail-first-n", count=1, status=409)],
            [Route("POST", "/payouts", 409)],
            [True, False, False],
            False,
        ),
    ],
    ids=lambda v: (
        "-".join(f.mode for f in v) if isinstance(v, list) and v and isinstance(v[0], Fault) else ""
    ),
)
async def test_the_double_marks_each_call_its_fault_answered(
    faults: list[Fault], routes: list[Route], met: list[bool], by_answer: bool
) -> None:
    """What recovers_after_outage counts as a call the outage met: the double's FAULT_MARKs of
    three real calls, and, for journals without them, ``acted_on`` from the calls' answers."""
    marks: list[tuple[str, str]] = []
    async with started(
        DownstreamSpec("crm", tuple(routes)),
        clock=lambda: 1.0,
        faults=faults,
        on_mark=lambda name, detail: marks.append((name, detail)),
    ) as (_, effects, session):
        for _ in range(3):
            try:
                await post(session)
            except aiohttp.ClientError:  # reset: the connection is dropped
                pass
    assert len(effects) == 3
    marked = [json.loads(d) for name, d in marks if name == FAULT_MARK]
    assert all(m["fault"] == 0 for m in marked)
    assert [e.id in {m["effect"] for m in marked} for e in effects] == met
    if by_answer:
        assert [acted_on(faults[0], e) for e in effects] == met


async def test_of_overlapping_windows_the_first_answers_and_is_marked() -> None:
    later = window("commit-then-fail", status=503)
    marks: list[tuple[str, str]] = []
    async with started(
        DownstreamSpec("crm"),
        clock=lambda: 1.0,
        faults=[Fault("other", "status", 0.0, 60.0), window("status"), later],
        on_mark=lambda name, detail: marks.append((name, detail)),
    ) as (_, effects, session):
        status, _, _ = await post(session)
    assert (status, effects[0].committed) == (503, False)
    assert [json.loads(d) for n, d in marks if n == FAULT_MARK] == [
        {"effect": effects[0].id, "fault": 1}  # its position among all the run's faults
    ]


async def test_a_call_the_gate_refused_is_not_the_slow_faults() -> None:
    fault = window("slow", latency=0.01)
    marks: list[tuple[str, str]] = []
    async with started(
        DownstreamSpec("crm", auth=AuthSpec("oauth")),
        clock=lambda: 1.0,
        faults=[fault],
        on_mark=lambda name, detail: marks.append((name, detail)),
    ) as (_, effects, session):
        status, _, _ = await post(session)  # no token
    assert (status, effects[0].committed) == (401, False)
    assert not [d for n, d in marks if n == FAULT_MARK]
    assert not acted_on(fault, effects[0])


def test_committed_survives_the_journal(tmp_path: Path) -> None:
    info = RunInfo("r1", "s", 1, "http://127.0.0.1:1/", "t", Model.LEDGER, (), "", "tag")
    journal = Journal(tmp_path / "j.db")
    fault = window("commit-then-fail", 0.5, 2.0, status=502)
    journal.begin(info, [], [fault])
    refused = Effect("eff_1", "crm", 0.1, "POST", "/p", {}, "{}", 503, ("e1",), committed=False)
    ambiguous = Effect("eff_2", "crm", 0.6, "POST", "/p", {}, "{}", 502, ("e1",), committed=True)
    reset = Effect("eff_3", "crm", 0.7, "POST", "/p", {}, "{}", 0, (), committed=False)
    for e in (refused, ambiguous, reset):
        journal.effect(e)
    journal.end("complete", 3.0)
    journal.close()
    history = load(tmp_path / "j.db", "r1")
    assert history.effects == [refused, ambiguous, reset]
    assert history.faults == [fault]
