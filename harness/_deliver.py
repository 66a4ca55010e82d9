"""Delivery: keep the schedule's timeline, sign, send, and record every attempt.

The network path uses aiohttp (about 11,000 POST/s on this class of machine, where httpx's
pool tops out near 600); the in-process path drives an ASGI app through httpx's ASGITransport.
A timeout is *indeterminate* (the target may have acted), never "failed". Retries follow the
scenario's provider (``_providers``); tampered slots are signed by ``_tamper``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import _gc
from ._model import Delivery, Outcome
from ._perturb import Slot
from ._providers import Provider
from ._signing import Signer
from ._tamper import tampered_headers
from ._target import Target

Clock = Callable[[], float]


def outcome_of(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.OK
    if 400 <= status < 500:
        return Outcome.REJECTED
    return Outcome.FAILED


class Deliverer:
    """Sends a schedule's deliveries at their times and reports each finished attempt.

    With a ``provider`` (delays already on the run's clock) a delivery that is not answered
    2xx within the provider's ack timeout is sent again after the provider's next delay, as
    delivery ``<id>.r<k>``, until a 2xx, an answer that ends retries, or the schedule's end.
    """

    def __init__(
        self,
        target: Target,
        signer: Signer,
        *,
        timeout: float,
        clock: Clock,
        on_delivery: Callable[[Delivery], None],
        headers: dict[str, str] | None = None,
        concurrency: int = 1000,
        provider: Provider | None = None,
    ):
        self.target = target
        self.signer = signer
        self.clock = clock
        self.on_delivery = on_delivery
        self.headers = {"Content-Type": "application/json", "User-Agent": "harness/0.1"}
        self.headers.update(headers or {})
        self.concurrency = concurrency
        self.attempts: dict[int, int] = {}
        self.provider = provider
        # The ack timeout is the sender's patience, in real time: never scaled.
        self.ack = provider.timeout if provider and provider.timeout else timeout
        # A sender that retries while the first request runs (Slack) leaves it running up to
        # delivery.timeout; the others give a request up at the ack timeout.
        self.timeout = timeout if provider is None or provider.overlap else self.ack

    async def run(
        self,
        schedule: Sequence[Slot],
        bodies: Sequence[bytes],
        event_ids: Sequence[str],
        event_headers: Sequence[dict[str, str]] | None = None,
        event_types: Sequence[str] | None = None,
    ) -> None:
        """Deliver every slot at ``start + slot.at`` (start = now); return when all answered.

        At most ``concurrency`` deliveries are in flight (an event being retried holds its
        place until its retries end). A slot that finds them all busy waits (its lateness
        shows in ``sent_at - scheduled_at``) instead of queueing inside the connection pool,
        where the wait would be counted as the target's latency.
        """
        retrying = self.provider is not None and bool(self.provider.retries)
        async with _open_transport(self.target, self.concurrency, self.timeout) as send:
            loop = asyncio.get_running_loop()
            free = asyncio.Semaphore(self.concurrency)
            tasks: set[asyncio.Task[Any]] = set()

            def done(task: asyncio.Task[Any]) -> None:
                tasks.discard(task)
                free.release()

            with _gc.frozen():
                start = self.clock()
                for n, slot in enumerate(schedule):
                    delay = start + slot.at - self.clock()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await free.acquire()
                    extra = event_headers[slot.event] if event_headers else {}
                    etype = event_types[slot.event] if event_types else ""
                    args = (
                        send,
                        f"dlv_{n + 1:06d}",
                        slot,
                        start + slot.at,
                        bodies[slot.event],
                        event_ids[slot.event],
                        etype,
                        extra,
                    )
                    # Tampered deliveries come from an attacker: the provider never retries them.
                    one: Coroutine[Any, Any, object] = (
                        self._with_retries(*args)
                        if retrying and not slot.tamper
                        else self._one(*args)
                    )
                    task = loop.create_task(one)
                    tasks.add(task)
                    task.add_done_callback(done)
                if tasks:
                    await asyncio.gather(*tasks)

    async def _with_retries(
        self,
        send: _Send,
        delivery_id: str,
        slot: Slot,
        scheduled: float,
        body: bytes,
        event_id: str,
        event_type: str,
        extra: dict[str, str],
    ) -> None:
        """One planned delivery and the provider's retries of it."""
        provider = self.provider
        assert provider is not None  # run() retries only with a provider
        running: list[asyncio.Task[_Answer | None]] = []
        headers = extra
        for k in range(len(provider.retries) + 1):
            call = self._one(
                send,
                delivery_id if k == 0 else f"{delivery_id}.r{k}",
                slot,
                scheduled,
                body,
                event_id,
                event_type,
                headers,
            )
            if provider.overlap:
                # The sender stops waiting at its ack timeout; the request goes on.
                task: asyncio.Task[_Answer | None] = asyncio.ensure_future(call)
                running.append(task)
                finished, _ = await asyncio.wait({task}, timeout=self.ack)
                answer = task.result() if finished else None
            else:
                answer = await call
            if k == len(provider.retries) or (wait := _retry_wait(provider, answer)) is None:
                break
            reason = "http_timeout" if answer is None or answer.status is None else "http_error"
            headers = {**extra, **provider.retry_headers(k + 2, reason)}
            delay = max(provider.retries[k], wait)
            scheduled = self.clock() + delay
            await asyncio.sleep(delay)
        if running:
            await asyncio.gather(*running)

    async def _one(
        self,
        send: _Send,
        delivery_id: str,
        slot: Slot,
        scheduled: float,
        body: bytes,
        event_id: str,
        event_type: str,
        extra: dict[str, str],
    ) -> _Answer | None:
        """Send one attempt, record it, and return its answer (None: no answer came)."""
        attempt = self.attempts.get(slot.event, 0) + 1
        self.attempts[slot.event] = attempt
        headers = {**extra, **self.headers}
        url = self.target.url
        if slot.tamper:
            signed = tampered_headers(
                self.signer, slot, body, event_id, event_type=event_type, url=url
            )
        else:
            signed = self.signer.headers(
                body, event_id, int(time.time()), event_type=event_type, url=url
            )
        headers.update(signed)
        sent = self.clock()
        status: int | None = None
        error: str | None = None
        answer: _Answer | None = None
        try:
            answer = await send(body, headers)
            status = answer.status
            outcome = Outcome.FAILED if status is None else outcome_of(status)
        except TimeoutError:
            outcome, error = Outcome.INDETERMINATE, f"no answer within {self.timeout:g} s"
        except _ConnectFailed as exc:
            outcome, error = Outcome.FAILED, f"connection failed: {exc}"
            answer = _Answer(None, {})
        except _Broken as exc:
            outcome, error = Outcome.INDETERMINATE, f"connection broke before an answer: {exc}"
        answered = self.clock() if outcome is not Outcome.INDETERMINATE else None
        self.on_delivery(
            Delivery(
                delivery_id, event_id, attempt, scheduled, sent, answered, status, outcome, error
            )
        )
        return answer


@dataclass(frozen=True, slots=True)
class _Answer:
    """What came back: a status (None: the connection failed) and the answer's headers."""

    status: int | None
    headers: Mapping[str, str]


def _retry_wait(provider: Provider, answer: _Answer | None) -> float | None:
    """None when the provider stops retrying after ``answer``, else the least wait (s) the
    receiver asked for (Retry-After, where the provider honours it; real time)."""
    if answer is None:
        return 0.0  # no answer within the ack timeout
    status = answer.status
    if status is not None and (200 <= status < 300 or status in provider.gives_up_on):
        return None
    header = provider.no_retry_header
    if header is not None and answer.headers.get(header) == "1":
        return None
    if provider.honours_retry_after:
        return parse_retry_after(answer.headers.get("Retry-After"))
    return 0.0


def parse_retry_after(value: str | None) -> float:
    """Seconds in a Retry-After header given as a number of seconds; 0 when absent or not."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


class _ConnectFailed(Exception):
    """Nothing was sent: the target certainly did not act."""


class _Broken(Exception):
    """The request may have reached the target: indeterminate."""


_Send = Callable[[bytes, dict[str, str]], Awaitable[_Answer]]


class _open_transport:
    """An async context giving ``send(body, headers) -> status`` for the target."""

    def __init__(self, target: Target, concurrency: int, timeout: float):
        self.target = target
        self.concurrency = concurrency
        self.timeout = timeout
        self._close: Callable[[], Any] | None = None

    async def __aenter__(self) -> _Send:
        if self.target.in_process:
            return await self._asgi()
        return await self._network()

    async def _network(self) -> _Send:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.concurrency, force_close=False)
        session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        self._close = session.close
        url = self.target.url

        async def send(body: bytes, headers: dict[str, str]) -> _Answer:
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    return _Answer(resp.status, resp.headers)
            except aiohttp.ClientConnectorError as exc:
                raise _ConnectFailed(str(exc.os_error.strerror or exc)) from None
            except (aiohttp.ClientError, ConnectionError) as exc:
                raise _Broken(type(exc).__name__ + (f": {exc}" if str(exc) else "")) from None

        return send

    async def _asgi(self) -> _Send:
        import httpx

        client = httpx.AsyncClient(
            # An exception in the app is a 500 to a real sender, so let httpx answer one.
            transport=httpx.ASGITransport(app=self.target.app, raise_app_exceptions=False),
            base_url=self.target.url,
            timeout=self.timeout,
        )
        self._close = client.aclose

        async def send(body: bytes, headers: dict[str, str]) -> _Answer:
            try:
                resp = await asyncio.wait_for(
                    client.post("", content=body, headers=headers), self.timeout
                )
            except httpx.TimeoutException:
                raise TimeoutError from None
            return _Answer(resp.status_code, resp.headers)

        return send

    async def __aexit__(self, *_: object) -> None:
        if self._close is not None:
            await self._close()
