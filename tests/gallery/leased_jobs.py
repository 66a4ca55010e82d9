"""Stripe checkouts -> payouts, by workers that take each job off a queue for a lease.

The receiver answers 200 once the checkout is queued as a job (its id the event id, so a
redelivery adds nothing: BullMQ's ``jobId``, an SQS FIFO deduplication id). ``WORKERS``
workers each take the next visible job and hold it for a lease of ``LEASE`` seconds — SQS's
visibility timeout, BullMQ's lock (n8n's queue mode calls the job *stalled* when it runs out),
Celery's ``visibility_timeout`` under ``acks_late``, a Sidekiq or Oban reaper's timeout. A job
done is deleted; a job whose lease runs out first is visible again and the next free worker
runs it too: the queue's promise is at least once. A payout the API refuses is tried again
after ``BACKOFF``, up to ``ATTEMPTS`` runs, then moved to the dead-letter list (BullMQ's
failed set, SQS's redrive after ``maxReceiveCount``) and logged: Stripe heard 200 long ago,
and nothing will pay that checkout now.

How a worker holds its job (``LEASED_JOBS``):

- ``plain`` (the default): it takes the lease and lets it run: a payout call slower than the
  lease lets the other worker take the job and pay it again;
- ``renewed``: it extends its lease every third of it while it works (SQS's
  ``ChangeMessageVisibility``, BullMQ's lock renewal): the job stays its own while it lives;
- ``keyed``: as ``plain``, each payout carrying ``Idempotency-Key: <job id>``: the API answers
  the second run with the first one's result.

Must get: under a downstream slower than the lease, ``plain`` fails ``no_duplicate_effects``
naming the checkouts paid twice, saying the second payout came while the first call was still
open; ``renewed`` and ``keyed`` pass it, and every variant passes the clean run and the quick
hazards. Under an outage longer than its attempts, ``no_lost_events`` fails naming the
dead-lettered checkouts, said to have been tried and given up.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.leased_jobs --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("leased_jobs")

HOLD = os.environ.get("LEASED_JOBS", "plain")
WORKERS = 10  # n8n's queue-mode worker runs 10 jobs at once by default
LEASE = 1.0  # s a worker holds the job it took
POLL = 0.05  # s between a free worker's looks at the queue
ATTEMPTS = 3  # runs of a failing job before it is dead-lettered
BACKOFF = (0.1, 0.2)  # s before a failed job is visible again: after its 1st, 2nd failure


@dataclass
class Job:
    id: str
    event: dict[str, Any]
    visible_at: float = 0.0
    failures: int = 0


class Jobs:
    """The queue: jobs by id in the order added, each visible from ``visible_at``."""

    def __init__(self) -> None:
        self.waiting: dict[str, Job] = {}
        self.added: set[str] = set()
        self.dead: list[Job] = []

    def add(self, job_id: str, event: dict[str, Any]) -> None:
        if job_id not in self.added:
            self.added.add(job_id)
            self.waiting[job_id] = Job(job_id, event)

    def take(self) -> Job | None:
        """The oldest visible job, hidden for a lease."""
        now = time.monotonic()
        for job in self.waiting.values():
            if job.visible_at <= now:
                job.visible_at = now + LEASE
                return job
        return None

    def extend(self, job: Job) -> None:
        job.visible_at = time.monotonic() + LEASE

    def done(self, job: Job) -> None:
        self.waiting.pop(job.id, None)

    def failed(self, job: Job, error: Exception) -> None:
        job.failures += 1
        if job.failures >= ATTEMPTS:
            self.waiting.pop(job.id, None)
            self.dead.append(job)
            log.error("job %s dead-lettered after %d attempts: %s", job.id, ATTEMPTS, error)
            return
        job.visible_at = time.monotonic() + BACKOFF[min(job.failures, len(BACKOFF)) - 1]


JOBS: web.AppKey[Jobs] = web.AppKey("jobs", Jobs)
API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def payout(event: dict[str, Any]) -> dict[str, Any]:
    session = event["data"]["object"]
    details = session.get("customer_details") or {}
    return {
        "checkout": session["id"],
        "amount": session.get("amount_total"),
        "currency": session.get("currency"),
        "email": details.get("email"),
    }


async def _renew(jobs: Jobs, job: Job) -> None:
    while True:
        await asyncio.sleep(LEASE / 3)
        jobs.extend(job)


async def run(api: aiohttp.ClientSession, jobs: Jobs, job: Job) -> None:
    headers = {"Idempotency-Key": job.id} if HOLD == "keyed" else {}
    renewing = asyncio.create_task(_renew(jobs, job)) if HOLD == "renewed" else None
    try:
        async with api.post("/payouts", json=payout(job.event), headers=headers) as answer:
            answer.raise_for_status()
    except (aiohttp.ClientError, TimeoutError) as error:
        jobs.failed(job, error)
    else:
        jobs.done(job)
    finally:
        if renewing is not None:
            renewing.cancel()


async def work(app: web.Application) -> None:
    api, jobs = app[API], app[JOBS]
    while True:
        job = jobs.take()
        if job is None:
            await asyncio.sleep(POLL)
        else:
            await run(api, jobs, job)


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[JOBS] = Jobs()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))
    app.cleanup_ctx.append(_serve.worker_tasks(WORKERS, work))

    def accept(app: web.Application, event: dict[str, Any]) -> None:
        app[JOBS].add(event["id"], event)

    app.router.add_post("/webhooks/stripe", _stripe.checkout_hook(secret, accept))
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.leased_jobs", "PAYOUTS_URL", build_app)


if __name__ == "__main__":
    main()
