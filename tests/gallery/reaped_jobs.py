"""Stripe checkouts -> payouts, by a worker process that dies mid-job and a queue that reaps it.

The receiver answers 200 once the checkout is a row of a job table in SQLite (its key the event
id: a redelivery adds nothing) and keeps ``WORKERS`` worker processes running, each forked
again whenever it exits (a prefork pool's supervisor: Celery's, gunicorn's). A worker takes
the oldest job that is free, leasing it for ``LEASE`` seconds (``locked_until``), pays it out
(``POST /payouts``), then marks it done. A job whose worker died is free again once its lease
runs out, and the next worker runs it: the reaper of Oban and Sidekiq Pro, BullMQ's stalled-job
check, SQS's visibility timeout. Nothing acknowledged is lost.

Its flaw: the worker renders a receipt after each payout, and after ``DIE_AFTER`` payouts its
memory is gone (an OOM kill: here ``os._exit(137)``) — after the payout committed, before the
job was marked done. The job is run again: that checkout is paid twice. With
``REAPED_JOBS=keyed`` each payout carries ``Idempotency-Key: <job id>`` and the API answers the
second run with the first's result.

Must get: ``no_duplicate_effects`` fails naming the checkouts paid twice (not saying their first
call was still open: it had been answered), ``no_lost_events`` passes; keyed passes both.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.reaped_jobs --port 8000
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import tempfile
import time
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
from aiohttp import web

from . import _serve, _stripe
from .leased_jobs import payout

KEYED = os.environ.get("REAPED_JOBS") == "keyed"
WORKERS = 2  # processes
LEASE = 1.0  # s a worker holds the job it took
POLL = 0.05  # s between an idle worker's looks at the table
DIE_AFTER = 10  # payouts a worker makes before it is killed, mid-job
BACKOFF = 0.2  # s before a job whose payout failed is free again

SCHEMA = """
create table if not exists jobs (
    id text primary key,
    body text not null,
    done integer not null default 0,
    locked_until real not null default 0
)
"""
DB: web.AppKey[sqlite3.Connection] = web.AppKey("db", sqlite3.Connection)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=5, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    return db


def _take(db: sqlite3.Connection) -> tuple[str, dict[str, Any]] | None:
    """The oldest free job, leased to this worker; None when there is none."""
    now = time.time()
    row = db.execute(
        "update jobs set locked_until = ? where id = (select id from jobs"
        " where done = 0 and locked_until <= ? order by rowid limit 1) returning id, body",
        (now + LEASE, now),
    ).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def work(db_path: Path, api_url: str) -> None:
    """One worker process: pay out jobs until killed."""
    db = _connect(db_path)
    paid = 0
    with httpx.Client(base_url=api_url, timeout=10) as api:
        while True:
            job = _take(db)
            if job is None:
                time.sleep(POLL)
                continue
            job_id, event = job
            headers = {"Idempotency-Key": job_id} if KEYED else {}
            try:
                api.post("/payouts", json=payout(event), headers=headers).raise_for_status()
            except httpx.HTTPError:
                db.execute(
                    "update jobs set locked_until = ? where id = ?", (time.time() + BACKOFF, job_id)
                )
                continue
            paid += 1
            if paid == DIE_AFTER:  # the receipt's rendering ate the last of its memory
                os._exit(137)
            db.execute("update jobs set done = 1 where id = ?", (job_id,))


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()

    async def jobs(app: web.Application) -> AsyncIterator[None]:
        with tempfile.TemporaryDirectory(prefix="reaped-jobs-") as folder:
            path = Path(folder) / "jobs.db"
            app[DB] = _connect(path)
            app[DB].execute(SCHEMA)
            pool = [asyncio.create_task(_supervise(path, api_url)) for _ in range(WORKERS)]
            yield
            for supervisor in pool:
                supervisor.cancel()
            await asyncio.gather(*pool, return_exceptions=True)
            app[DB].close()

    app.cleanup_ctx.append(jobs)

    def accept(app: web.Application, event: dict[str, Any]) -> None:
        app[DB].execute(
            "insert or ignore into jobs (id, body) values (?, ?)", (event["id"], json.dumps(event))
        )

    app.router.add_post("/webhooks/stripe", _stripe.checkout_hook(secret, accept))
    return app


async def _supervise(db_path: Path, api_url: str) -> None:
    """Keep a worker process running: another forked each time one exits (a prefork pool)."""
    while True:
        pid = os.fork()
        if pid == 0:
            _worker(db_path, api_url)
        try:
            await _exited(pid)
        except asyncio.CancelledError:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
            raise


def _worker(db_path: Path, api_url: str) -> NoReturn:
    """In the fork: the worker, with none of the server's signal handlers."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        work(db_path, api_url)
    except BaseException:
        traceback.print_exc()
    os._exit(1)


async def _exited(pid: int) -> None:
    """Once the child ``pid`` has exited, reaped."""
    loop = asyncio.get_running_loop()
    fd = os.pidfd_open(pid)
    ended: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, lambda: ended.done() or ended.set_result(None))
    try:
        await ended
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    os.waitpid(pid, 0)


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.reaped_jobs", "PAYOUTS_URL", build_app)


if __name__ == "__main__":
    main()
