"""Delivery against real loopback servers and an in-process ASGI app."""

import asyncio
import gc
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from harness.core import _gc
from harness.core._errors import (
    InputError,
    OutputError,
    TargetUnreachableError,
    UnsafeTargetError,
)
from harness.core._model import Delivery, Outcome
from harness.core._providers import provider
from harness.core._signing import Signer, verify_standard_webhooks
from harness.drive._deliver import Deliverer
from harness.drive._schedule import GENUINE, Slot
from harness.drive._slots import Slots
from harness.drive._target import check_reachable, parse_target

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[float, dict[str, str], bytes]]]]:
    seen: list[tuple[float, dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((time.monotonic(), dict(request.headers), body))
        mode = json.loads(body).get("mode")
        if mode == "slow":
            await asyncio.sleep(0.8)
        status = {"reject": 422, "error": 503}.get(mode, 200)
        # A long error page whose 200th byte falls inside a two-byte character.
        text = "ok" if status == 200 else "x" * 199 + "é and more after the 200 bytes kept"
        return web.Response(status=status, text=text)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", seen
    await runner.cleanup()


def deliverer(
    target: str, found: list[Delivery], timeout: float = 5.0, concurrency: int = 1000
) -> Deliverer:
    t0 = time.monotonic()
    return Deliverer(
        parse_target(target),
        Signer("standard-webhooks", SECRET),
        timeout=timeout,
        clock=lambda: time.monotonic() - t0,
        on_delivery=found.append,
        concurrency=concurrency,
    )


async def test_network_outcomes_and_signatures(receiver: Any) -> None:
    url, seen = receiver
    bodies = [json.dumps({"mode": m}).encode() for m in ("ok", "reject", "error", "slow")]
    found: list[Delivery] = []
    schedule = [Slot(0.0, 0), Slot(0.0, 0, 1), Slot(0.05, 1), Slot(0.1, 2), Slot(0.1, 3)]
    await deliverer(url, found, timeout=0.3).run(schedule, bodies, ["e0", "e1", "e2", "e3"])
    by_id = {d.id: d for d in found}
    assert [by_id[f"dlv_00000{i}"].outcome for i in range(1, 6)] == [
        Outcome.OK,
        Outcome.OK,
        Outcome.REJECTED,
        Outcome.FAILED,
        Outcome.INDETERMINATE,
    ]
    assert by_id["dlv_000002"].attempt == 2 and by_id["dlv_000001"].attempt == 1
    slow = by_id["dlv_000005"]
    assert slow.answered_at is None and slow.status is None and "0.3 s" in (slow.error or "")
    assert by_id["dlv_000003"].status == 422
    # The start of a non-2xx answer's body is kept (200 bytes, a cut character left out);
    # a 2xx answer's is not.
    assert by_id["dlv_000003"].answer_body == by_id["dlv_000004"].answer_body == "x" * 199
    assert by_id["dlv_000001"].answer_body is None and slow.answer_body is None
    for _, headers, body in seen:
        assert verify_standard_webhooks(SECRET, headers, body, now=time.time())
    assert {h["webhook-id"] for _, h, _ in seen} == {"e0", "e1", "e2", "e3"}


async def test_no_delivery_is_sent_before_its_time(receiver: Any) -> None:
    """Each slot is sent at its time or after, by the deliverer's clock and by the receiver's:
    a schedule ignored would send all three at once. How late they are is a figure of the
    machine's load, measured by benchmarks/bench_burst.py (p99 lateness), not asserted here."""
    url, seen = receiver
    found: list[Delivery] = []
    schedule = [Slot(0.3 * i, 0) for i in range(3)]
    start = time.monotonic()  # the deliverer's clock starts after this
    await deliverer(url, found).run(schedule, [b'{"mode": "ok"}'], ["e0"])
    assert [d.scheduled_at - found[0].scheduled_at for d in found] == pytest.approx([0, 0.3, 0.6])
    assert all(d.sent_at >= d.scheduled_at for d in found)
    assert [at - start >= slot.at for (at, _, _), slot in zip(seen, schedule, strict=True)] == [
        True
    ] * 3


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each garbage collection that starts while the test runs."""
    seen: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)


async def test_a_drive_does_not_collect_its_deliveries_in_flight_again_and_again(
    receiver: Any, collections: list[int]
) -> None:
    # 64 deliveries in flight keep thousands of young objects alive: at Python's default
    # threshold (700) a collection ran every few deliveries, over 250 in these 3,000, each
    # finding them all alive (``core._gc.frozen``).
    url, _ = receiver
    found: list[Delivery] = []
    count = 3000
    threshold = gc.get_threshold()
    await deliverer(url, found, concurrency=64).run(
        [Slot(0.0, n) for n in range(count)],
        [b'{"n": %d}' % n for n in range(count)],
        [f"e{n}" for n in range(count)],
    )
    assert len(found) == count and {d.outcome for d in found} == {Outcome.OK}
    # frozen() starts with a collection of the young generations: seven in all, here.
    assert len(collections) <= 30, collections
    assert gc.get_threshold() == threshold


def test_thresholds_and_heap_are_restored_when_the_last_of_overlapping_drives_ends() -> None:
    before = gc.get_threshold()
    raised = max(before[0], _gc.DRIVE_THRESHOLD)
    first, second = _gc.frozen(), _gc.frozen()
    first.__enter__()
    assert gc.get_threshold()[0] == raised
    second.__enter__()
    first.__exit__(None, None, None)  # the first drive ends while the second runs
    assert gc.get_threshold()[0] == raised
    assert gc.get_freeze_count() > 0  # the second's heap still out of the collector's sight
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_thresholds_are_restored_after_a_drive_that_failed() -> None:
    before = gc.get_threshold()

    async def drive() -> None:
        with _gc.frozen():
            await asyncio.sleep(0)
            raise OSError("the journal could not be written")

    with pytest.raises(OSError, match="journal"):
        await drive()
    assert gc.get_threshold() == before and gc.isenabled()


async def test_a_connection_is_not_reused_after_a_server_error() -> None:
    """uvicorn closes a connection after an app's exception, its 500 (Starlette's) saying
    nothing of it: a delivery sent on it next was reset, and target_available failed the
    target for the harness's reuse (tests/gallery/customer_then_order.py). Here the server
    answers 500 keep-alive and drops whatever comes next on that connection: a delivery sent
    after the error must get its own connection, and its answer."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        status = b"500 Internal Server Error" if connections == 1 else b"200 OK"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read(1)  # the next request on this connection, never answered
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    found: list[Delivery] = []
    async with server:
        schedule = [Slot(0.0, 0), Slot(0.1, 1)]
        await deliverer(f"http://127.0.0.1:{port}/hook", found).run(
            schedule, [b"{}", b"{}"], ["e0", "e1"]
        )
    assert sorted((d.event_id, d.status, d.error) for d in found) == [
        ("e0", 500, None),
        ("e1", 200, None),
    ]


async def test_connection_refused_is_failed_not_indeterminate() -> None:
    found: list[Delivery] = []
    await deliverer("http://127.0.0.1:1/hook", found).run([Slot(0, 0)], [b"{}"], ["e0"])
    (d,) = found
    assert (
        d.outcome is Outcome.FAILED and d.status is None and "connection failed" in (d.error or "")
    )
    with pytest.raises(TargetUnreachableError, match="cannot connect to the target"):
        await check_reachable(parse_target("http://127.0.0.1:1/hook"))


async def test_a_target_is_reachable_though_the_loop_was_held_past_the_timeout() -> None:
    """``harness demo`` prepares one automation's scenarios on the loop while the other's
    target is checked: the check's timeout must not run out on the loop's time alone."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        target = parse_target(f"http://127.0.0.1:{server.getsockname()[1]}/hook")
        check = asyncio.ensure_future(check_reachable(target, timeout=0.2))
        await asyncio.sleep(0)  # the check is under way
        time.sleep(0.6)  # the loop held, as preparing scenarios holds it
        await check


async def test_localhost_is_reachable_at_whichever_address_listens() -> None:
    """localhost may resolve to ::1 first: nothing listens there, 127.0.0.1 answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        await check_reachable(parse_target(f"http://localhost:{port}/hook"), timeout=2.0)
    with pytest.raises(TargetUnreachableError, match="cannot connect to the target"):
        await check_reachable(parse_target(f"http://localhost:{port}/hook"), timeout=2.0)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if b"boom" in body:
        raise RuntimeError("boom")
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_asgi_in_process() -> None:
    found: list[Delivery] = []
    d = deliverer("tests.test_deliver:asgi_app", found)
    assert d.target.in_process
    await d.run([Slot(0, 0), Slot(0, 1)], [b'{"a": 1}', b'{"boom": 1}'], ["e0", "e1"])
    assert sorted((x.event_id, x.status) for x in found) == [("e0", 202), ("e1", 500)]
    assert sorted((x.event_id, x.answer_body) for x in found) == [
        ("e0", None),
        ("e1", ""),  # httpx answers 500 with an empty body for the app that raised
    ]


async def test_deliveries_given_one_at_a_time_stop_where_making_the_next_fails() -> None:
    """A streamed run's next delivery could not be made (its journal refused the event): the
    one already sent ends and is recorded, then the error is raised."""
    found: list[Delivery] = []
    d = deliverer("tests.test_deliver:asgi_app", found)

    def planned() -> Iterator[Slots]:
        yield Slots(0, [0.0], [0], [0], [GENUINE], [(b'{"a": 1}', "e0", "t", {})])
        raise OutputError("the journal could not be written", where="j.db", hint="free space")

    with pytest.raises(OutputError, match="could not be written"):
        await d.send(planned())
    assert [(x.event_id, x.status) for x in found] == [("e0", 202)]


async def test_a_cancelled_run_leaves_no_delivery_running(receiver: Any) -> None:
    """Cancelled while a delivery is in flight and the next is not yet due (Ctrl-C, or the
    other automation of ``harness demo`` failing): the one in flight is cancelled and awaited,
    not left running to record into a run already closed."""
    url, seen = receiver
    found: list[Delivery] = []
    bodies = [json.dumps({"mode": "slow"}).encode()]
    run = asyncio.create_task(
        deliverer(url, found).run([Slot(0.0, 0), Slot(5.0, 0)], bodies, ["e0"])
    )
    while not seen:  # the first delivery is at the receiver, which answers in 0.8 s
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    running = [t.get_coro().__qualname__ for t in asyncio.all_tasks()]
    assert not [name for name in running if name.startswith("Deliverer.")], running
    await asyncio.sleep(1.0)  # past the receiver's answer: nothing is recorded after the end
    assert found == []


async def test_a_cancelled_run_leaves_no_overlapping_attempt_running(receiver: Any) -> None:
    """Slack stops waiting at its ack timeout and retries while the first attempt goes on: a
    run cancelled between the two ends that attempt too, rather than leaving it to record the
    harness closing its own connection as the target's failure."""
    url, _ = receiver
    slack = replace(provider("slack"), timeout=0.2, retries=(5.0,))
    found: list[Delivery] = []
    t0 = time.monotonic()
    d = Deliverer(
        parse_target(url),
        Signer("standard-webhooks", SECRET),
        timeout=5.0,
        clock=lambda: time.monotonic() - t0,
        on_delivery=found.append,
        provider=slack,
    )
    bodies = [json.dumps({"mode": "slow"}).encode()]  # answered in 0.8 s
    run = asyncio.create_task(d.run([Slot(0.0, 0)], bodies, ["e0"]))
    await asyncio.sleep(0.4)  # past the ack timeout, waiting to retry; the attempt goes on
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    running = [t.get_coro().__qualname__ for t in asyncio.all_tasks()]
    assert not [name for name in running if name.startswith("Deliverer.")], running
    await asyncio.sleep(1.0)
    assert found == []


def test_parse_target_refuses_outside_loopback() -> None:
    with pytest.raises(UnsafeTargetError, match=r"--allow-host staging\.example\.com"):
        parse_target("https://staging.example.com/hooks")
    assert parse_target("https://staging.example.com/h", ["staging.example.com"]).url.startswith(
        "https"
    )
    assert parse_target("http://[::1]:8000/h").label == "[::1]:8000"
    assert parse_target("http://localhost:8000/h").label == "localhost:8000"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("ftp://x", "neither a URL nor module:attr"),
        ("no_such_module_x:app", "cannot import 'no_such_module_x'"),
        ("tests.test_deliver:nothing", "has no attribute 'nothing'"),
        ("tests.test_deliver:SECRET", "not an ASGI app"),
        ("http:///path", "has no host"),
    ],
)
def test_parse_target_bad_input(ref: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_target(ref)
