"""Provider retries and HubSpot batches against real loopback receivers that tests script.

The receiver answers the n-th request of an event (by its ``script`` in the body) with the
n-th step: a status, answer headers, and how long to take. Provider profiles are shortened
with ``with_overrides`` so each test runs in well under a second.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from harness.core._model import Delivery, Outcome
from harness.core._providers import MAX_RETRY_AFTER, PROVIDERS, Provider
from harness.core._signing import Signer, verify
from harness.drive._batch import batches
from harness.drive._deliver import Deliverer
from harness.drive._schedule import Slot
from harness.drive._target import parse_target
from harness.engine import RunOptions, prepare
from harness.scenario._load import resolve

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Seen:
    at: float
    headers: dict[str, str]
    raw: bytes
    in_flight: int  # requests of the same event still running when this one arrived


@dataclass
class Receiver:
    url: str
    seen: dict[str, list[Seen]] = field(default_factory=dict)


@asynccontextmanager
async def serving(hook: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """``hook`` answering POST /hook on a loopback port; its URL."""
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


@pytest.fixture
async def rec() -> AsyncIterator[Receiver]:
    found = Receiver("")
    running: dict[str, int] = {}

    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        eid = body["id"]
        seen = found.seen.setdefault(eid, [])
        seen.append(Seen(time.monotonic(), dict(request.headers), raw, running.get(eid, 0)))
        script = body["script"]
        step = script[min(len(seen), len(script)) - 1]
        running[eid] = running.get(eid, 0) + 1
        try:
            await asyncio.sleep(step.get("sleep", 0))
        finally:
            running[eid] -= 1
        return web.Response(status=step.get("status", 200), headers=step.get("headers", {}))

    async with serving(hook) as found.url:
        yield found


async def deliver(
    rec: Receiver,
    provider: Provider,
    scripts: Sequence[Sequence[dict[str, Any]]],
    *,
    timeout: float = 5.0,
    slots: Sequence[Slot] | None = None,
) -> dict[str, Delivery]:
    t0 = time.monotonic()
    found: list[Delivery] = []
    deliverer = Deliverer(
        parse_target(rec.url),
        Signer(provider.scheme, SECRET),
        timeout=timeout,
        clock=lambda: time.monotonic() - t0,
        on_delivery=found.append,
        provider=provider,
    )
    ids = [f"evt_{i}" for i in range(len(scripts))]
    bodies = [
        json.dumps({"id": i, "script": list(s)}).encode() for i, s in zip(ids, scripts, strict=True)
    ]
    await deliverer.run(slots or [Slot(0.0, i) for i in range(len(scripts))], bodies, ids)
    return {d.id: d for d in found}


def profile(name: str, retries: tuple[float, ...], timeout: float = 1.0) -> Provider:
    return PROVIDERS[name].with_overrides(retries, timeout)


async def test_standard_webhooks_retries_until_a_2xx_with_the_same_id(rec: Receiver) -> None:
    found = await deliver(
        rec, profile("standard-webhooks", (0.02, 0.02, 0.02)), [[{"status": 503}] * 2 + [{}]]
    )
    assert list(found) == ["dlv_000001", "dlv_000001.r1", "dlv_000001.r2"]
    assert [d.attempt for d in found.values()] == [1, 2, 3]
    assert [d.outcome for d in found.values()] == [Outcome.FAILED] * 2 + [Outcome.OK]
    seen = rec.seen["evt_0"]
    assert {s.headers["webhook-id"] for s in seen} == {"evt_0"}
    for s in seen:  # re-signed for every attempt, with the same id
        assert verify("standard-webhooks", SECRET, s.headers, s.raw, now=time.time())


async def test_retries_are_bounded_by_the_schedule(rec: Receiver) -> None:
    found = await deliver(rec, profile("stripe", (0.01, 0.01)), [[{"status": 500}]])
    assert len(found) == 3 and len(rec.seen["evt_0"]) == 3
    assert found["dlv_000001.r2"].status == 500


async def test_410_ends_standard_webhooks_retries_but_not_slacks(rec: Receiver) -> None:
    gone = [[{"status": 410}]]
    assert list(await deliver(rec, profile("standard-webhooks", (0.01, 0.01)), gone)) == [
        "dlv_000001"
    ]
    rec.seen.clear()
    assert len(await deliver(rec, profile("slack", (0.01, 0.01)), gone)) == 3


async def test_retry_after_is_honoured_where_the_profile_says(rec: Receiver) -> None:
    throttled = [[{"status": 429, "headers": {"Retry-After": "0.3"}}, {}]]
    found = await deliver(rec, profile("standard-webhooks", (0.01,)), throttled)
    first, retry = found["dlv_000001"], found["dlv_000001.r1"]
    assert first.answered_at is not None and retry.scheduled_at - first.answered_at >= 0.3
    assert retry.outcome is Outcome.OK
    rec.seen.clear()
    found = await deliver(rec, profile("stripe", (0.01,)), throttled)
    first, retry = found["dlv_000001"], found["dlv_000001.r1"]
    assert first.answered_at is not None and retry.scheduled_at - first.answered_at < 0.3


def test_a_retry_after_longer_than_a_minute_is_cut_to_one() -> None:
    sender = PROVIDERS["standard-webhooks"]
    assert sender.retry_wait(429, {"Retry-After": "86400"}) == MAX_RETRY_AFTER == 60.0
    assert sender.retry_wait(503, {"Retry-After": "2"}) == 2.0


async def test_a_timeout_is_retried_after_the_first_request_was_given_up(rec: Receiver) -> None:
    found = await deliver(
        rec, profile("standard-webhooks", (0.0,), timeout=0.2), [[{"sleep": 0.6}, {}]]
    )
    first = found["dlv_000001"]
    assert first.outcome is Outcome.INDETERMINATE and "0.2 s" in (first.error or "")
    assert found["dlv_000001.r1"].outcome is Outcome.OK


async def test_slack_retries_while_the_first_request_still_runs(rec: Receiver) -> None:
    found = await deliver(
        rec, profile("slack", (0.0, 0.05), timeout=0.2), [[{"sleep": 0.6}, {}]], timeout=5.0
    )
    seen = rec.seen["evt_0"]
    assert len(seen) == 2 and seen[1].in_flight == 1  # the first was still running
    assert seen[1].headers["X-Slack-Retry-Num"] == "1"
    assert seen[1].headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert "X-Slack-Retry-Num" not in seen[0].headers
    # The first request was left running up to delivery.timeout, and its answer recorded.
    assert found["dlv_000001"].status == 200 and found["dlv_000001.r1"].status == 200


async def test_slack_retry_headers_count_and_give_the_reason(rec: Receiver) -> None:
    await deliver(rec, profile("slack", (0.0, 0.01, 0.01)), [[{"status": 500}]])
    seen = rec.seen["evt_0"]
    assert [s.headers.get("X-Slack-Retry-Num") for s in seen] == [None, "1", "2", "3"]
    assert {s.headers.get("X-Slack-Retry-Reason") for s in seen[1:]} == {"http_error"}
    for s in seen:
        assert verify("slack", SECRET, s.headers, s.raw, now=time.time())


async def test_x_slack_no_retry_stops_slack(rec: Receiver) -> None:
    script = [[{"status": 500, "headers": {"X-Slack-No-Retry": "1"}}]]
    assert len(await deliver(rec, profile("slack", (0.0, 0.01)), script)) == 1


async def test_a_tampered_delivery_is_never_retried(rec: Receiver) -> None:
    slots = [Slot(0.0, 0, tamper="forged")]
    found = await deliver(rec, profile("slack", (0.0,)), [[{"status": 401}]], slots=slots)
    assert list(found) == ["dlv_000001"] and found["dlv_000001"].status == 401
    headers = rec.seen["evt_0"][0].headers
    assert not verify("slack", SECRET, headers, rec.seen["evt_0"][0].raw, now=time.time())


# --- HubSpot batches ----------------------------------------------------------------------


@dataclass
class BatchReceiver:
    url: str
    statuses: list[int]  # answers in turn; the last one repeats
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    most_in_flight: int = 0
    hold: float = 0.0


@pytest.fixture
async def hub() -> AsyncIterator[BatchReceiver]:
    found = BatchReceiver("", [200])
    running = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal running
        found.requests.append((dict(request.headers), await request.read()))
        running += 1
        found.most_in_flight = max(found.most_in_flight, running)
        try:
            await asyncio.sleep(found.hold)
        finally:
            running -= 1
        n = min(len(found.requests), len(found.statuses)) - 1
        return web.Response(status=found.statuses[n])

    async with serving(hook) as found.url:
        yield found


async def deliver_batches(
    hub: BatchReceiver, provider: Provider, slots: list[Slot]
) -> list[Delivery]:
    t0 = time.monotonic()
    found: list[Delivery] = []
    events = sorted({s.event for s in slots})
    bodies = [json.dumps({"eventId": i, "objectId": 100 + i}).encode() for i in events]
    await Deliverer(
        parse_target(hub.url),
        Signer(provider.scheme, SECRET),
        timeout=5.0,
        clock=lambda: time.monotonic() - t0,
        on_delivery=found.append,
        provider=provider,
    ).run(slots, bodies, [f"evt_{i}" for i in events])
    return found


async def test_hubspot_batches_up_to_100_events_signed_over_the_array(hub: BatchReceiver) -> None:
    found = await deliver_batches(hub, profile("hubspot", ()), [Slot(0.0, i) for i in range(250)])
    arrays = [json.loads(body) for _, body in hub.requests]
    assert sorted(len(a) for a in arrays) == [50, 100, 100]
    assert sorted(e["eventId"] for a in arrays for e in a) == list(range(250))
    for headers, body in hub.requests:
        assert verify("hubspot", SECRET, headers, body, now=time.time(), url=hub.url)
    # One Delivery per event of a batch, each the planned slot's id.
    assert sorted(d.id for d in found) == [f"dlv_{n + 1:06d}" for n in range(250)]
    assert len({(d.sent_at, d.answered_at) for d in found}) == 3
    assert all(d.outcome is Outcome.OK and d.attempt == 1 for d in found)


async def test_hubspot_keeps_at_most_10_requests_in_flight(hub: BatchReceiver) -> None:
    hub.hold = 0.2
    hubspot = PROVIDERS["hubspot"].with_overrides((), None, batch_window=0.0)
    found = await deliver_batches(hub, hubspot, [Slot(i * 0.001, i) for i in range(30)])
    assert len(hub.requests) == 30 and len(found) == 30
    assert hub.most_in_flight == 10


async def test_a_failed_batch_is_retried_whole(hub: BatchReceiver) -> None:
    hub.statuses = [500, 200]
    found = await deliver_batches(
        hub, profile("hubspot", (0.01, 0.01)), [Slot(0.0, 0), Slot(0.0, 1)]
    )
    assert [d.id for d in found] == ["dlv_000001", "dlv_000002", "dlv_000001.r1", "dlv_000002.r1"]
    assert [d.attempt for d in found] == [1, 1, 2, 2]
    assert [d.status for d in found] == [500, 500, 200, 200]
    assert hub.requests[0][1] == hub.requests[1][1]  # the same array again


async def test_hubspot_counts_its_retries_in_each_events_attempt_number(
    hub: BatchReceiver,
) -> None:
    """HubSpot's events carry ``attemptNumber`` (0, then 1, 2 on its retries): the same array
    again was a retry no receiver deduplicating by a hash of the event could be caught by."""
    hub.statuses = [500, 503, 200]
    hubspot = profile("hubspot", (0.01, 0.01))
    t0 = time.monotonic()
    bodies = [
        json.dumps({"eventId": i, "attemptNumber": 0, "objectId": 100 + i}).encode()
        for i in range(2)
    ]
    await Deliverer(
        parse_target(hub.url),
        Signer(hubspot.scheme, SECRET),
        timeout=5.0,
        clock=lambda: time.monotonic() - t0,
        on_delivery=lambda _: None,
        provider=hubspot,
    ).run([Slot(0.0, 0), Slot(0.0, 1)], bodies, ["evt_0", "evt_1"])
    arrays = [json.loads(body) for _, body in hub.requests]
    assert [[e["attemptNumber"] for e in a] for a in arrays] == [[0, 0], [1, 1], [2, 2]]
    assert all([{**e, "attemptNumber": 0} for e in a] == arrays[0] for a in arrays)
    for headers, body in hub.requests:  # each signed over the body it carried
        assert verify("hubspot", SECRET, headers, body, now=time.time(), url=hub.url)


def test_batches_group_by_window_and_size_and_send_tampered_slots_alone() -> None:
    slots = [Slot(0.0, 0), Slot(0.5, 1), Slot(1.2, 2), Slot(1.3, 3, tamper="forged"), Slot(1.4, 4)]
    assert batches(slots, 100, 1.0) == [(0, 1), (2,), (3,), (4,)]
    assert batches(slots[:2], 1, 1.0) == [(0,), (1,)]
    assert batches([], 100, 1.0) == []


@pytest.mark.parametrize(
    ("name", "waited"),
    [
        ("provider-retry-storm", 0.5),  # Standard Webhooks gives a request up at its ack timeout
        ("provider-retry-storm-slack", 5.0),  # Slack leaves it running up to delivery.timeout
        ("duplicate-storm", 5.0),  # no provider: delivery.timeout
    ],
)
def test_one_request_is_waited_for_as_the_engine_waits(
    name: str, waited: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    options = RunOptions.create("http://127.0.0.1:9/hooks", seed=1, journal="unused.db")
    assert prepare(resolve([name])[0], options).attempt_timeout == waited
