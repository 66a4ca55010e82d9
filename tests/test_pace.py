"""The clean run's pace (``engine/_pace``) with a real downstream double on loopback: each
"delivery" is a job that calls the double as a target would — before answering (synchronous),
or after it (a worker that acks first) — or never (a type the automation ignores).

* a synchronous automation is never waited for;
* one that works after it answers is waited for, each event's call made before the next is sent;
* an event type it ignores costs one event deadline, not one per event;
* one that defers its work (a batch) costs IN_VAIN event deadlines, not one per event.

Counts, never durations: how many waits, how many reached the event deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from harness.core._scenario import DownstreamSpec, Settle
from harness.double._downstream import Downstream
from harness.engine._pace import IN_VAIN, CleanPace

pytestmark = pytest.mark.integration

SETTLE = Settle(event_quiet=0.05, event_deadline=1.0)
Job = Callable[[], Awaitable[object]]


class Target:
    """Plays an automation against one double: ``job(type, after=…)`` is one delivery."""

    def __init__(self, url: str, client: aiohttp.ClientSession) -> None:
        self.url, self.client = url, client
        self.background: set[asyncio.Task[None]] = set()

    async def call(self) -> None:
        async with self.client.post(f"{self.url}/payouts", json={}) as answer:
            assert answer.status == 201

    async def _later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.call()

    def job(self, *, before: bool = False, after: float | None = None) -> Job:
        """A delivery whose call is made before it is answered, ``after`` s after, or never."""

        async def deliver() -> None:
            if before:
                await self.call()
            if after is not None:
                task = asyncio.ensure_future(self._later(after))
                self.background.add(task)
                task.add_done_callback(self.background.discard)

        return deliver


@pytest.fixture
async def double() -> AsyncIterator[tuple[Downstream, Target, Callable[[], float]]]:
    t0 = time.monotonic()

    def clock() -> float:
        return time.monotonic() - t0

    d = Downstream(DownstreamSpec("api"), on_effect=lambda e: None, clock=clock)
    url = await d.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as client:
        target = Target(url, client)
        try:
            yield d, target, clock
        finally:
            await asyncio.gather(*target.background)
            await d.stop()


def detail(pace: CleanPace) -> dict[str, object]:
    found: dict[str, object] = json.loads(pace.detail())
    return found


async def test_a_synchronous_automation_is_never_waited_for(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    for _ in range(5):
        await pace(target.job(before=True), "order.paid")
    assert d.effects_recorded == 5
    assert detail(pace) == {
        "events": 5,
        "waits": 0,
        "capped": 0,
        "deferring": False,
        "waited": 0.0,
        "after_answer": False,
        "ignored_types": [],
    }


async def test_an_automation_that_answers_first_is_sent_the_next_event_once_it_worked(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    """Answered at once, the call made 0.1 s later: answered is not done. Before, every event
    was sent while the previous one's call was still to come."""
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    calls_at_send = []
    for _ in range(4):
        calls_at_send.append(d.effects_recorded)
        await pace(target.job(after=0.1), "issues")
    assert calls_at_send == [0, 1, 2, 3]
    found = detail(pace)
    assert (found["waits"], found["capped"], found["after_answer"]) == (4, 0, True)


async def test_a_type_the_automation_ignores_costs_one_event_deadline(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    """A worker that acks everything and acts on order.paid only: the first ping waits the
    event deadline for a call that never comes; the next ones wait the quiet alone."""
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    await pace(target.job(after=0.05), "order.paid")
    for _ in range(5):
        await pace(target.job(), "ping")
    await pace(target.job(after=0.05), "order.paid")
    found = detail(pace)
    assert (found["waits"], found["capped"]) == (7, 1)
    assert found["ignored_types"] == ["ping"]
    assert d.effects_recorded == 2


async def test_a_synchronous_automation_s_ignored_type_is_waited_for_once(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    for _ in range(3):
        await pace(target.job(before=True), "order.paid")
        await pace(target.job(), "ping")
    found = detail(pace)
    assert (found["waits"], found["capped"], found["after_answer"]) == (1, 1, False)
    assert found["ignored_types"] == ["ping"]


async def test_a_synchronous_automation_that_skips_events_is_waited_for_once(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    """Calls made before answering; some events of the type skipped (no call): the first skip
    is waited for in vain, and shows the automation synchronous."""
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    for _ in range(3):
        await pace(target.job(before=True), "order.paid")
        await pace(target.job(), "order.paid")
    found = detail(pace)
    assert (found["waits"], found["capped"], found["ignored_types"]) == (1, 1, [])


async def test_a_type_that_acted_once_is_never_taken_as_ignored(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    """An event of a type it acts on that made no call (skipped by a condition) waits the
    event deadline each time: the type's later events are still waited for."""
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    await pace(target.job(after=0.05), "issues")
    await pace(target.job(), "issues")
    await pace(target.job(), "issues")
    found = detail(pace)
    assert (found["waits"], found["capped"], found["ignored_types"]) == (3, 2, [])


async def test_an_automation_that_defers_its_work_costs_a_few_deadlines_not_one_an_event(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    """A batching automation (a join node, a buffer flushed on a count or a timer) makes no call
    for most events: after IN_VAIN waits for a first call that saw none, the events after them
    wait for the quiet alone (a Node-RED join of 10 with a 2 s timeout cost 0.5 s an event: 200
    events, 99 s of its clean run)."""
    d, target, clock = double
    pace = CleanPace(clock, [d], SETTLE)
    await pace(target.job(after=0.05), "order.paid")  # seen working after it answers
    for _ in range(8):
        await pace(target.job(), "order.paid")  # buffered: no call of its own
    found = detail(pace)
    assert (found["waits"], found["capped"], found["deferring"]) == (9, IN_VAIN, True)


async def test_event_deadline_0_sends_each_event_once_answered(
    double: tuple[Downstream, Target, Callable[[], float]],
) -> None:
    d, target, clock = double
    pace = CleanPace(clock, [d], Settle(event_deadline=0.0))
    for _ in range(3):
        await pace(target.job(after=0.1), "issues")
    assert detail(pace)["waits"] == 0
