"""Provider retries against a real loopback receiver whose answers each test scripts.

The receiver answers the n-th request of an event (by its ``script`` in the body) with the
n-th step: a status, answer headers, and how long to take. Provider profiles are shortened
with ``with_overrides`` so each test runs in well under a second.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from harness._deliver import Deliverer
from harness._model import Delivery, Outcome
from harness._perturb import Slot
from harness._providers import PROVIDERS, Provider
from harness._signing import Signer, verify
from harness._target import parse_target

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

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield found
    await runner.cleanup()


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
