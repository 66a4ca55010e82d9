"""Delivery: keep the schedule's timeline, sign, send, and record every attempt.

The network path uses aiohttp (about 11,000 POST/s on this class of machine, where httpx's
pool tops out near 600); the in-process path drives an ASGI app through httpx's ASGITransport.
A timeout is *indeterminate* (the target may have acted), never "failed". Retries follow the
scenario's provider (``_providers``); tampered slots are signed by ``_tamper``.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

from ..core import _gc
from ..core._model import (
    ANSWER_BODY_BYTES,
    CONNECT_FAILED,
    CONNECTION_BROKE,
    NO_ANSWER_WITHIN,
    Delivery,
    Outcome,
)
from ..core._providers import Provider, attempt_timeout
from ..core._signing import Signer
from ._batch import Batch, batches
from ._recorded import under_own
from ._schedule import Schedule, Slot, delivery_id
from ._slots import Held, Slots
from ._tamper import signed_headers
from ._target import Target

Clock = Callable[[], float]
# A job of the paced loop: when it is due (run clock), and what starts it.
_Job = tuple[float, Callable[[], Coroutine[Any, Any, object]]]
# How a one-at-a-time run sends: ``pace(job, event_type)`` runs the job (one delivery and its
# retries, or one batch: event type "") and returns once the next may be sent (engine._pace).
Pace = Callable[[Callable[[], Awaitable[object]], str], Coroutine[Any, Any, None]]
# The slots of a schedule prepared whole handed to ``send`` at a time: each chunk's columns are
# sliced from the schedule's as the one before is sent.
_RUN_CHUNK = 256


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
        anchor: Callable[[], float] | None = None,
        pace: Pace | None = None,
    ):
        self.target = target
        # Where slot 0 falls on ``clock``, asked once the connections are ready: None, then.
        # A run restarts its clock there (``Recorder.restart_clock``), the origin of its fault
        # windows too: its setup, however slow on a loaded machine, no longer moves the
        # schedule past the windows.
        self.anchor = anchor
        self.signer = signer
        self.clock = clock
        self.on_delivery = on_delivery
        self.headers = {"Content-Type": "application/json", "User-Agent": "harness/0.1"}
        self.headers.update(headers or {})
        self.concurrency = concurrency
        self.pace = pace
        self.attempts: dict[int, int] = {}
        self.provider = provider
        # The ack timeout is the sender's patience, in real time: never scaled.
        self.ack = provider.timeout if provider and provider.timeout else timeout
        self.timeout = attempt_timeout(provider, timeout)

    async def run(
        self,
        schedule: Sequence[Slot],
        bodies: Sequence[bytes],
        event_ids: Sequence[str],
        event_headers: Sequence[dict[str, str]] | None = None,
        event_types: Sequence[str] | None = None,
    ) -> None:
        """Deliver every slot at ``start + slot.at`` (start: ``anchor()``, else now); return
        when all answered.

        At most ``concurrency`` deliveries are in flight (an event being retried holds its
        place until its retries end). A slot that finds them all busy waits (its lateness
        shows in ``sent_at - scheduled_at``) instead of queueing inside the connection pool,
        where the wait would be counted as the target's latency. A batching provider
        (HubSpot) sends slots close together as one request: see ``_batch``.
        """
        provider = self.provider
        if provider is not None and provider.max_batch > 1:
            await self._run_batches(schedule, bodies, event_ids, event_headers)
            return
        slots = schedule if isinstance(schedule, Schedule) else Schedule.of(schedule)

        def held(seq: int) -> Held:
            return (
                bodies[seq],
                event_ids[seq],
                event_types[seq] if event_types else "",
                event_headers[seq] if event_headers else {},
            )

        await self.send(
            Slots.of_schedule(slots, start, min(start + _RUN_CHUNK, len(slots)), held)
            for start in range(0, len(slots), _RUN_CHUNK)
        )

    async def send(self, given: Iterable[Slots]) -> None:
        """``run`` for deliveries given a few slots at a time, in the schedule's order, as a
        streamed run makes them (``engine/_feed``): the next slots are taken when the last of
        those before has started, each slot's request made as it is sent. Not for a batching
        provider (its batches look ahead: ``run``)."""
        retrying = self.provider is not None and bool(self.provider.retries)
        async with _open_transport(self.target, self.concurrency, self.timeout) as send:

            def jobs() -> Iterator[_Job]:
                # The first delivery is made before the origin is taken: however long making
                # it takes, the schedule starts with it, on time.
                ahead = iter(given)
                first = next(ahead, None)
                start = self._origin()
                chunks = chain((first,) if first else (), ahead)
                rows = chain.from_iterable(chunk.rows() for chunk in chunks)
                for n, slot, body, event_id, etype, extra in rows:
                    dlv, due = delivery_id(n), start + slot.at
                    # Tampered deliveries come from an attacker: the provider never retries them.
                    if retrying and not slot.tamper:
                        attempt = self._single(send, dlv, slot, body, event_id, etype, extra)
                        yield due, self._paced_job(partial(self._with_retries, attempt, due), etype)
                    else:
                        args = (send, dlv, slot, due, body, event_id, etype, extra)
                        yield due, self._paced_job(partial(self._one, *args), etype)

            await self._paced(jobs(), self.concurrency)

    def _paced_job(
        self, job: Callable[[], Coroutine[Any, Any, object]], event_type: str
    ) -> Callable[[], Coroutine[Any, Any, object]]:
        """``job``, followed by the run's wait before the next job (``pace``), if it has one."""
        return job if self.pace is None else partial(self.pace, job, event_type)

    def _origin(self) -> float:
        """Where slot 0 falls on the clock: the anchor's answer, else now."""
        return self.clock() if self.anchor is None else self.anchor()

    async def _paced(self, jobs: Iterable[_Job], limit: int) -> None:
        """Start each job at its due time (run clock) with at most ``limit`` running; return when
        all have ended. A job that finds them all busy waits (its lateness shows in ``sent_at -
        scheduled_at``) instead of queueing inside the connection pool, where the wait would be
        counted as the target's latency. The garbage collector is frozen meanwhile. A job that
        raises (the journal could not be written), or ``jobs`` itself, stops the sending; the
        first such error is raised once the jobs already running have ended. Cancelled, it
        cancels the jobs running and waits for them to end: none outlives the run."""
        loop = asyncio.get_running_loop()
        free = asyncio.Semaphore(limit)
        tasks: set[asyncio.Task[Any]] = set()
        failed: list[BaseException] = []

        def done(task: asyncio.Task[Any]) -> None:
            tasks.discard(task)
            free.release()
            if not task.cancelled() and (error := task.exception()) is not None:
                failed.append(error)

        with _gc.frozen():
            try:
                for due, job in jobs:
                    delay = due - self.clock()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await free.acquire()
                    if failed:
                        break
                    task = loop.create_task(job())
                    tasks.add(task)
                    task.add_done_callback(done)
            except Exception as error:  # making the next job failed (a streamed run's journal)
                failed.append(error)
            except BaseException:  # cancelled (Ctrl-C, another run failed): none left running
                for task in list(tasks):
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        if failed:
            raise failed[0]

    def _single(
        self,
        send: _Send,
        delivery_id: str,
        slot: Slot,
        body: bytes,
        event_id: str,
        event_type: str,
        extra: dict[str, str],
    ) -> _Attempt:
        """Attempt k of one planned delivery, for ``_with_retries``."""

        retried = self.provider.retry_body if self.provider is not None else None

        def attempt(k: int, due: float, retry_headers: Mapping[str, str]) -> _Sent:
            return self._one(
                send,
                delivery_id if k == 0 else f"{delivery_id}.r{k}",
                slot,
                due,
                body if k == 0 or retried is None else retried(body, k),
                event_id,
                event_type,
                {**extra, **retry_headers},
            )

        return attempt

    async def _with_retries(self, attempt: _Attempt, scheduled: float) -> None:
        """One planned request and the provider's retries of it."""
        provider = self.provider
        assert provider is not None  # run() retries only with a provider
        running: list[asyncio.Task[_Answer | None]] = []
        retry_headers: Mapping[str, str] = {}
        try:
            for k in range(len(provider.retries) + 1):
                call = attempt(k, scheduled, retry_headers)
                if provider.overlap:
                    # The sender stops waiting at its ack timeout; the request goes on.
                    task: asyncio.Task[_Answer | None] = asyncio.ensure_future(call)
                    running.append(task)
                    finished, _ = await asyncio.wait({task}, timeout=self.ack)
                    answer = task.result() if finished else None
                else:
                    answer = await call
                # No answer within the ack timeout: retried like an error answer.
                wait = 0.0 if answer is None else provider.retry_wait(answer.status, answer.headers)
                if k == len(provider.retries) or wait is None:
                    break
                reason = "http_timeout" if answer is None else "http_error"
                retry_headers = provider.retry_headers(k + 2, reason)
                delay = max(provider.retries[k], wait)
                scheduled = self.clock() + delay
                await asyncio.sleep(delay)
        except BaseException:  # cancelled: the attempts still going on end with it
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
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
        # Signed at its send time, retries too: during a rotation the secrets of that moment.
        sent = self.clock()
        signed = signed_headers(
            self.signer,
            slot,
            body,
            event_id,
            int(time.time()),
            event_type=event_type,
            url=self.target.url,
            at=sent,
        )
        headers = under_own(extra, {**self.headers, **signed})
        answer, status, outcome, error = await self._exchange(send, body, headers)
        answered = self.clock() if outcome is not Outcome.INDETERMINATE else None
        self.on_delivery(
            Delivery(
                delivery_id,
                event_id,
                attempt,
                scheduled,
                sent,
                answered,
                status,
                outcome,
                error,
                _body_text(answer),
            )
        )
        return answer

    async def _exchange(
        self, send: _Send, body: bytes, headers: dict[str, str]
    ) -> tuple[_Answer | None, int | None, Outcome, str | None]:
        """Send one request: its answer (None: none came), status, outcome and error."""
        try:
            answer = await send(body, headers)
        except TimeoutError:
            return None, None, Outcome.INDETERMINATE, f"{NO_ANSWER_WITHIN} {self.timeout:g} s"
        except _ConnectFailed as exc:
            return _Answer(None, {}), None, Outcome.FAILED, f"{CONNECT_FAILED}: {exc}"
        except _Broken as exc:
            return None, None, Outcome.INDETERMINATE, f"{CONNECTION_BROKE}: {exc}"
        status = answer.status
        return answer, status, Outcome.FAILED if status is None else outcome_of(status), None

    # --- batches (HubSpot) ------------------------------------------------------------------

    async def _run_batches(
        self,
        schedule: Sequence[Slot],
        bodies: Sequence[bytes],
        event_ids: Sequence[str],
        event_headers: Sequence[dict[str, str]] | None,
    ) -> None:
        """Send the schedule as batches: a JSON array of the events of slots close together,
        at most ``provider.max_in_flight`` requests at once, each retried as a whole."""
        provider = self.provider
        assert provider is not None
        limit = min(self.concurrency, provider.max_in_flight or self.concurrency)
        async with _open_transport(self.target, limit, self.timeout) as send:

            def jobs() -> Iterator[_Job]:
                start = self._origin()
                for members in batches(schedule, provider.max_batch, provider.batch_window):
                    # A batch goes out once its last event is due: the sender collects, then sends.
                    first, due = schedule[members[0]], start + schedule[members[-1]].at
                    extra = event_headers[first.event] if event_headers else {}
                    request = Batch(
                        members,
                        tuple(schedule[n] for n in members),
                        b"[" + b",".join(bodies[schedule[n].event] for n in members) + b"]",
                        tuple(event_ids[schedule[n].event] for n in members),
                    )
                    batch = self._batch(send, request, extra)
                    # A batch holding a tampered slot is the attacker's one request: not retried.
                    if first.tamper or not provider.retries:
                        yield due, self._paced_job(partial(batch, 0, due, {}), "")
                    else:
                        yield due, self._paced_job(partial(self._with_retries, batch, due), "")

            await self._paced(jobs(), limit)

    def _batch(self, send: _Send, request: Batch, extra: dict[str, str]) -> _Attempt:
        """Attempt k of one batch: one request, one Delivery per event in it."""

        retried = self.provider.retry_body if self.provider is not None else None

        async def attempt(k: int, due: float, retry_headers: Mapping[str, str]) -> _Answer | None:
            headers = {**extra, **retry_headers, **self.headers}
            body = request.body if k == 0 or retried is None else retried(request.body, k)
            sent = self.clock()
            headers.update(
                signed_headers(
                    self.signer,
                    request.slots[0],
                    body,
                    request.event_ids[0],
                    int(time.time()),
                    event_type="",
                    url=self.target.url,
                    at=sent,
                )
            )
            answer, status, outcome, error = await self._exchange(send, body, headers)
            answered = self.clock() if outcome is not Outcome.INDETERMINATE else None
            answer_body = _body_text(answer)
            suffix = f".r{k}" if k else ""
            for n, slot, event_id in zip(
                request.members, request.slots, request.event_ids, strict=True
            ):
                number = self.attempts[slot.event] = self.attempts.get(slot.event, 0) + 1
                self.on_delivery(
                    Delivery(
                        delivery_id(n) + suffix,
                        event_id,
                        number,
                        due,
                        sent,
                        answered,
                        status,
                        outcome,
                        error,
                        answer_body,
                    )
                )
            return answer

        return attempt


@dataclass(frozen=True, slots=True)
class _Answer:
    """What came back: a status (None: the connection failed), the answer's headers and, for a
    status other than 2xx, the start of its body (ANSWER_BODY_BYTES at most)."""

    status: int | None
    headers: Mapping[str, str]
    body: bytes = b""


def _kept(status: int, body: bytes) -> bytes:
    """What of an answer's body a Delivery keeps: nothing of a 2xx (the sender reads no more
    than the status), the start of any other (why the target refused)."""
    return b"" if 200 <= status < 300 else body[:ANSWER_BODY_BYTES]


def _body_text(answer: _Answer | None) -> str | None:
    """The kept start of an answer's body as text; a character cut at the limit is left out."""
    if answer is None or answer.status is None or 200 <= answer.status < 300:
        return None
    return codecs.getincrementaldecoder("utf-8")("replace").decode(answer.body)


class _ConnectFailed(Exception):
    """Nothing was sent: the target certainly did not act."""


class _Broken(Exception):
    """The request may have reached the target: indeterminate."""


_Send = Callable[[bytes, dict[str, str]], Awaitable[_Answer]]
_Sent = Coroutine[Any, Any, _Answer | None]
# Attempt k (0: the first) of a planned request, due at a time, with the retry's headers.
_Attempt = Callable[[int, float, Mapping[str, str]], _Sent]


def _closing_after_error(aiohttp: Any) -> type[Any]:
    """aiohttp's response, its connection never reused after a 5xx answer: servers close it
    after one without saying so (uvicorn after an app's exception, its 500 Starlette's), and a
    delivery sent on it next would be reset by the harness's reuse, not by the target."""

    class Response(aiohttp.ClientResponse):  # type: ignore[misc]
        async def start(self, connection: Any) -> Any:
            protocol = connection.protocol
            started = await super().start(connection)
            if self.status >= 500 and protocol is not None:
                if self.connection is None:  # read whole already, and back in the pool
                    protocol.close()
                else:
                    protocol.force_close()  # closed when the body has been read
            return started

    return Response


class _open_transport:
    """An async context giving ``send(body, headers) -> _Answer`` for the target."""

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
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            response_class=_closing_after_error(aiohttp),
        )
        self._close = session.close
        url = self.target.url

        async def send(body: bytes, headers: dict[str, str]) -> _Answer:
            try:
                # A redirect is the target's answer, recorded as such: following it would
                # re-send signed deliveries to wherever a Location header points, off loopback.
                async with session.post(
                    url, data=body, headers=headers, allow_redirects=False
                ) as resp:
                    # Read whole, so that the connection can be reused.
                    data = await resp.read()
                    return _Answer(resp.status, resp.headers, _kept(resp.status, data))
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
            timeout=self.timeout,
        )
        self._close = client.aclose
        # The whole URL, not a base_url: httpx would end a base_url's path with '/'.
        url = self.target.url

        async def send(body: bytes, headers: dict[str, str]) -> _Answer:
            try:
                resp = await asyncio.wait_for(
                    client.post(url, content=body, headers=headers), self.timeout
                )
            except httpx.TimeoutException:
                raise TimeoutError from None
            return _Answer(resp.status_code, resp.headers, _kept(resp.status_code, resp.content))

        return send

    async def __aexit__(self, *_: object) -> None:
        if self._close is not None:
            await self._close()
