"""The sound demo automation: what a careful engineer builds.

It verifies the signature (whichever provider's scheme the headers show: Standard Webhooks,
Stripe, GitHub, Shopify, Slack, HubSpot v3, Attio or generic HMAC) against every secret it was
given — the one in ``--secret-env`` (HARNESS_SECRET) and, while a rotation is under way, the
next one in the same name with ``_NEXT`` (HARNESS_SECRET_NEXT) — refusing forged, unsigned and
stale deliveries with 401, stores each event in SQLite keyed by its id (a duplicate is
acknowledged and dropped; a HubSpot batch, a JSON array of events, is stored event by event),
acknowledges at once, and leaves the downstream calls to a background worker. The worker handles
one record (order or contact) at a time and different records concurrently; it keeps ledger
events in sequence order (holding a later event a while for a missing earlier one), never
applies a register update older than the last one applied (one of the same time, as Stripe's
whole-second ``created`` gives two updates of a second, is taken as the newer when it arrives
later), and retries transient downstream failures with the event id as the ``Idempotency-Key``.
Processing state lives in SQLite, so a restart resumes where it stopped. Given a token endpoint
(``HARNESS_TOKEN_URL``, with ``HARNESS_CLIENT_ID`` and ``HARNESS_CLIENT_SECRET``), it calls the
downstream with an OAuth bearer token, refreshed before it expires and at once when the
downstream answers 401.

    HARNESS_SECRET=whsec_... [HARNESS_SECRET_NEXT=whsec_...] python -m harness.demo.sound \\
        --downstream http://127.0.0.1:9100 --state-dir .sound-state
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from ..core._errors import InputError
from ..core._model import Model
from ..core._secret_env import next_secret_env
from ..core._signing import detect_scheme, standard_webhooks_signature, verify
from ._common import (
    CLIENT,
    BadEvent,
    HookEvent,
    Options,
    argument_parser,
    base_app,
    common_options,
    json_error,
    parse_batch,
    parse_event,
    serve,
)

PROG = "python -m harness.demo.sound"
DB_NAME = "sound.sqlite3"
STATES = ("pending", "done", "superseded", "failed")

T = TypeVar("T")

MAX_ACTIVE_RECORDS = 32
# After this many events a record's task gives its slot back, so one busy record cannot
# keep others waiting for a free slot forever.
MAX_EVENTS_PER_TURN = 100

BACKOFF_START = 0.05
BACKOFF_FACTOR = 2.0
BACKOFF_CAP = 2.0
MAX_ATTEMPTS = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS events_by_record ON events (state, model, key, sequence);
CREATE TABLE IF NOT EXISTS records (
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    last_sequence INTEGER NOT NULL,
    PRIMARY KEY (model, key)
);
"""


@dataclass(frozen=True, slots=True)
class SoundOptions:
    common: Options
    state_dir: Path
    hold: float


@dataclass(frozen=True, slots=True)
class RecordHead:
    """Where one record with pending events stands.

    ``last_sequence`` is the last processed sequence for a ledger record and the last
    applied one for a register record (0 before any).
    """

    model: Model
    key: str
    next_sequence: int
    first_received: float
    last_sequence: int

    def ready_at(self, hold: float) -> float:
        """Wall-clock time from which the record's next event may be processed (0: now)."""
        if self.model is Model.REGISTER or self.next_sequence <= self.last_sequence + 1:
            return 0.0
        # A gap in a ledger: wait a while for the missing event, then go on without it.
        return self.first_received + hold


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """How processing one stored event ended."""

    state: str
    attempts: int
    error: str | None = None


class Store:
    """Events and per-record progress in one SQLite file (WAL)."""

    def __init__(self, path: Path):
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # An acknowledged event must survive a machine crash: sync every commit.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []

    def close(self) -> None:
        self._flush()
        self._db.close()

    async def _write(self, work: Callable[[], T]) -> T:
        """Runs ``work`` in one transaction with the other writes of this event-loop turn.

        An fsync costs 0.5-2 ms; one commit per batch instead of one per write keeps acks
        fast under a burst, and a write still returns only once it is on disk.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._batch:
            # Runs after the handlers already scheduled in this turn have queued their writes.
            loop.call_soon(self._flush)
        self._batch.append((work, future))
        return await future

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            # The connection as context manager commits, or rolls back on an exception.
            with self._db:
                self._db.execute("BEGIN")
                results = [work() for work, _ in batch]
        except sqlite3.Error as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a cancelled writer's change is kept all the same
                future.set_result(result)

    async def insert(self, event: HookEvent, body: bytes, received_at: float) -> bool:
        """Stores a new event as pending; False when its id is already stored."""

        def work() -> bool:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO events (id, model, key, sequence, body, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (event.id, event.model.value, event.key, event.sequence, body, received_at),
            )
            return cur.rowcount == 1

        return await self._write(work)

    def heads(self, model: Model | None = None, key: str | None = None) -> list[RecordHead]:
        """The records that have pending events (only the given one when model and key are)."""
        where = "" if model is None else "AND e.model = ? AND e.key = ?"
        args = () if model is None else (model.value, key)
        rows = self._db.execute(
            "SELECT e.model, e.key, MIN(e.sequence), MIN(e.received_at),"
            " COALESCE(MAX(r.last_sequence), 0)"
            " FROM events e LEFT JOIN records r ON r.model = e.model AND r.key = e.key"
            f" WHERE e.state = 'pending' {where} GROUP BY e.model, e.key",
            args,
        ).fetchall()
        return [RecordHead(Model(m), k, seq, first, last) for m, k, seq, first, last in rows]

    def next_pending(self, model: Model, key: str) -> HookEvent | None:
        row = self._db.execute(
            "SELECT body FROM events WHERE state = 'pending' AND model = ? AND key = ?"
            " ORDER BY sequence, received_at, rowid LIMIT 1",
            (model.value, key),
        ).fetchone()
        # The body was parsed once before it was stored, so it parses again.
        return None if row is None else parse_event(row[0])

    async def finish(self, event: HookEvent, result: ProcessResult, *, advance: bool) -> None:
        """Records how an event ended; ``advance`` moves its record's last sequence up to it."""

        def work() -> None:
            self._db.execute(
                "UPDATE events SET state = ?, attempts = ?, error = ? WHERE id = ?",
                (result.state, result.attempts, result.error, event.id),
            )
            if advance:
                self._db.execute(
                    "INSERT INTO records (model, key, last_sequence) VALUES (?, ?, ?)"
                    " ON CONFLICT (model, key)"
                    " DO UPDATE SET last_sequence = MAX(last_sequence, excluded.last_sequence)",
                    (event.model.value, event.key, event.sequence),
                )

        await self._write(work)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM events GROUP BY state"):
            counts[state] = n
        return counts


def _retry_after(value: str | None) -> float:
    """Seconds a 429/503 asks to wait; 0 when absent or not a number of seconds."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


class Worker:
    """Processes stored events: one record at a time, up to MAX_ACTIVE_RECORDS at once."""

    def __init__(
        self,
        store: Store,
        client: aiohttp.ClientSession,
        downstream: str,
        hold: float,
        tokens: BearerTokens | None = None,
    ):
        self._tokens = tokens
        self._store = store
        self._client = client
        self._downstream = downstream
        self._hold = hold
        self._wake = asyncio.Event()
        self._active: dict[tuple[Model, str], asyncio.Task[None]] = {}
        # Started at once: events left pending by an earlier run are resumed on startup.
        self._loop_task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Cancels all work; an interrupted event stays pending and is redone after a restart."""
        tasks = [*self._active.values(), self._loop_task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def notify(self) -> None:
        """Tells the worker a new event is stored."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            delay = self._dispatch(time.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    def _dispatch(self, now: float) -> float | None:
        """Starts a task per ready record; returns seconds until a held record is due."""
        due: float | None = None
        for head in self._store.heads():
            record = (head.model, head.key)
            if record in self._active:
                continue
            ready_at = head.ready_at(self._hold)
            if ready_at > now:
                due = ready_at if due is None else min(due, ready_at)
                continue
            if len(self._active) >= MAX_ACTIVE_RECORDS:
                break  # a record task that ends wakes the dispatcher again
            self._active[record] = asyncio.create_task(self._drain(*record))
        return None if due is None else max(0.0, due - now)

    async def _drain(self, model: Model, key: str) -> None:
        try:
            for _ in range(MAX_EVENTS_PER_TURN):
                heads = self._store.heads(model, key)
                if not heads or heads[0].ready_at(self._hold) > time.time():
                    return
                event = self._store.next_pending(model, key)
                if event is None:
                    return
                await self._process(event, heads[0].last_sequence)
        finally:
            del self._active[(model, key)]
            self._wake.set()

    async def _process(self, event: HookEvent, last_sequence: int) -> None:
        # Only an older update is stale: one of the same sequence or time (Stripe's ``created``
        # is whole seconds, and one subscription changes twice in a second) arrived later and is
        # taken as the newer; a redelivery of one event was dropped on receipt by its id.
        if event.model is Model.REGISTER and event.sequence < last_sequence:
            reason = f"sequence {event.sequence} < last applied {last_sequence}"
            await self._store.finish(event, ProcessResult("superseded", 0, reason), advance=False)
            return
        result = await self._deliver(event)
        # A ledger moves on past a failed event; a register's state is only what was applied.
        advance = result.state == "done" or event.model is Model.LEDGER
        await self._store.finish(event, result, advance=advance)

    async def _deliver(self, event: HookEvent) -> ProcessResult:
        call = event.call
        delay = BACKOFF_START
        error = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = delay
            auth: dict[str, str] = {}
            try:
                if self._tokens is not None:
                    auth = await self._tokens.header()
                async with self._client.request(
                    call.method,
                    self._downstream + call.path,
                    json=call.body,
                    headers={"Idempotency-Key": event.id, **auth},
                    allow_redirects=False,
                ) as answer:
                    status = answer.status
                    wait = max(delay, _retry_after(answer.headers.get("Retry-After")))
            except (aiohttp.ClientError, TimeoutError, TokenError) as exc:
                error = f"downstream call failed: {exc!r}"
            else:
                if 200 <= status < 300:
                    return ProcessResult("done", attempt)
                error = f"downstream answered {status}"
                if status == 401 and self._tokens is not None and attempt < MAX_ATTEMPTS:
                    self._tokens.refused(auth)  # expired or revoked: a new one, at once
                    continue
                if status != 429 and status < 500:
                    return ProcessResult("failed", attempt, error)
            if attempt < MAX_ATTEMPTS:
                await asyncio.sleep(min(BACKOFF_CAP, wait))
                delay = min(BACKOFF_CAP, delay * BACKOFF_FACTOR)
        return ProcessResult(
            "failed", MAX_ATTEMPTS, f"{error}; gave up after {MAX_ATTEMPTS} attempts"
        )


WORKER = web.AppKey("worker", Worker)

TOKEN_URL_ENV = "HARNESS_TOKEN_URL"
CLIENT_ID_ENV = "HARNESS_CLIENT_ID"
CLIENT_SECRET_ENV = "HARNESS_CLIENT_SECRET"
# A token is refreshed once less than this share of its life is left, not at its last instant.
REFRESH_MARGIN = 0.2


class TokenError(Exception):
    """The token endpoint did not give a token."""


class BearerTokens:
    """OAuth client credentials: a bearer token from ``url``, refreshed (refresh-token grant,
    else client credentials again) before it expires and whenever the API refuses it."""

    def __init__(
        self, client: aiohttp.ClientSession, url: str, client_id: str, client_secret: str
    ) -> None:
        self._client = client
        self._url = url
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._token = ""
        self._refresh = ""
        self._renew_at = 0.0  # time.monotonic()
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        """The Authorization header with a live token, fetched first if need be."""
        async with self._lock:  # one fetch for all the record tasks waiting on it
            if not self._token or time.monotonic() >= self._renew_at:
                await self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def refused(self, sent: dict[str, str]) -> None:
        """The API answered 401 to ``sent``: its token is not to be used again."""
        if sent.get("Authorization") == f"Bearer {self._token}":
            self._token = ""

    async def _fetch(self) -> None:
        grants = [{"grant_type": "client_credentials"}]
        if self._refresh:
            grants.insert(0, {"grant_type": "refresh_token", "refresh_token": self._refresh})
        problem = ""
        for grant in grants:
            async with self._client.post(self._url, data={**grant, **self._credentials}) as got:
                try:
                    answer = await got.json(content_type=None) if got.status == 200 else None
                except ValueError:
                    answer = None
            if isinstance(answer, dict) and isinstance(answer.get("access_token"), str):
                lifetime = float(answer.get("expires_in") or 3600)
                self._token = answer["access_token"]
                self._refresh = str(answer.get("refresh_token") or "")
                self._renew_at = time.monotonic() + lifetime * (1 - REFRESH_MARGIN)
                return
            problem = f"the token endpoint answered {got.status}"
        raise TokenError(problem)


def bearer_tokens(client: aiohttp.ClientSession) -> BearerTokens | None:
    """The bearer tokens ``HARNESS_TOKEN_URL`` gives, or None when it is not set."""
    url = os.environ.get(TOKEN_URL_ENV, "")
    if not url:
        return None
    return BearerTokens(
        client, url, os.environ.get(CLIENT_ID_ENV, ""), os.environ.get(CLIENT_SECRET_ENV, "")
    )


def build_app(opts: SoundOptions, secrets: Sequence[str], store: Store) -> web.Application:
    """The sound automation as an aiohttp app; it closes ``store`` when it stops."""

    async def on_event(request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        scheme = detect_scheme(headers)
        if scheme is None:
            return json_error(
                401,
                "unsigned delivery; sign it with one provider's scheme (e.g. Standard Webhooks: "
                "webhook-id, webhook-timestamp, webhook-signature) and the shared secret",
            )
        # A replay of a captured delivery under a scheme without a timestamp passes here;
        # the store's dedup by event id keeps it from acting twice.
        if not _verified(scheme, secrets, headers, body, url=str(request.url)):
            return json_error(
                401, f"invalid or stale {scheme} signature; sign with the shared secret, now"
            )
        try:
            batch = parse_batch(body)  # one event, or a HubSpot batch of them
        except BadEvent as exc:
            return exc.response()
        now = time.time()
        # Written together: the batch's events share one transaction (one fsync).
        stored = await asyncio.gather(*(store.insert(event, raw, now) for event, raw in batch))
        new = [event.id for (event, _), fresh in zip(batch, stored, strict=True) if fresh]
        if new:
            request.app[WORKER].notify()
        if len(batch) > 1:
            return web.json_response({"accepted": new, "events": len(batch)}, status=202)
        event_id = batch[0][0].id
        if not new:
            return web.json_response({"duplicate": True, "id": event_id})
        return web.json_response({"accepted": True, "id": event_id}, status=202)

    async def on_stats(_: web.Request) -> web.Response:
        return web.json_response(store.counts())

    async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
        tokens = bearer_tokens(app[CLIENT])
        app[WORKER] = Worker(store, app[CLIENT], opts.common.downstream, opts.hold, tokens)
        yield
        await app[WORKER].stop()
        store.close()

    app = base_app(on_event, opts.common)
    app.router.add_get("/stats", on_stats)
    app.cleanup_ctx.append(worker_ctx)
    return app


def _secret(env: str) -> str:
    """The signing secret from ``env``; raises InputError when it is unset, or when it is
    meant for Standard Webhooks (``whsec_``) but is not base64 after the prefix."""
    secret = os.environ.get(env, "")
    if not secret:
        raise InputError(
            f"environment variable {env!r} is not set; it must hold the signing secret",
            hint=f"export {env}=whsec_<base64>, or name another variable with --secret-env",
        )
    if secret.startswith("whsec_"):
        # Every Standard Webhooks delivery would fail to verify with a 401: say why at once.
        standard_webhooks_signature(secret, "probe", 0, b"")
    return secret


def _secrets(env: str) -> tuple[str, ...]:
    """Every secret a delivery may be signed with: the one in ``env`` and, while the sender
    rotates its secret, the next one in ``<env>_NEXT`` (HARNESS_SECRET_NEXT) when it is set —
    both stay valid until the old one is removed from the environment."""
    upcoming = os.environ.get(next_secret_env(env), "")
    if upcoming.startswith("whsec_"):
        standard_webhooks_signature(upcoming, "probe", 0, b"")
    return (_secret(env), upcoming) if upcoming else (_secret(env),)


def _verified(
    scheme: str, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, *, url: str
) -> bool:
    """Does one of the secrets verify the delivery? A rotation's deliveries carry the old
    secret's signature, both (Stripe, Standard Webhooks: during the overlap), or the new one."""
    now = time.time()
    return any(verify(scheme, s, headers, body, now=now, url=url) for s in secrets)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(PROG, "Careful webhook receiver: verify, dedup, queue, order, retry.")
    parser.add_argument(
        "--state-dir", type=Path, required=True, help=f"directory for the {DB_NAME} database"
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=2.0,
        help="seconds a ledger event waits for a missing earlier one before going on",
    )
    ns = parser.parse_args(argv)
    common = common_options(parser, ns)
    if not ns.hold >= 0:
        parser.error(f"--hold {ns.hold!r} must be a number of seconds >= 0")
    opts = SoundOptions(common, ns.state_dir, ns.hold)
    try:
        secrets = _secrets(common.secret_env)
    except InputError as exc:
        print(f"{PROG}: refusing to start: {exc}", file=sys.stderr)
        return 2
    try:
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        store = Store(opts.state_dir / DB_NAME)
    except (OSError, sqlite3.Error) as exc:
        print(
            f"{PROG}: cannot open state in {str(opts.state_dir)!r}: {exc}; "
            "pass a writable directory with --state-dir",
            file=sys.stderr,
        )
        return 2
    return serve(build_app(opts, secrets, store), common, PROG)


if __name__ == "__main__":
    sys.exit(main())
