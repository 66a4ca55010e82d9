"""Orders acknowledged at once and paid out by a background thread, under gunicorn, redeployed
by ``kill -HUP`` (a graceful reload).

A Flask receiver as a small service writes it: the view puts each order on an in-memory
queue and answers 200; one thread per gunicorn worker (started in ``post_worker_init``) pays
each order out ``--work`` seconds after it came. A deploy reloads gunicorn — ``kill -HUP $(cat
PIDFILE)``: new workers start, the old ones finish the requests they are serving and exit — and
the old worker's queue dies with it: every order accepted in the last ``--work`` seconds before
the reload is lost, though each was answered 200.

``DRAIN=1`` (the sound variant): gunicorn's ``worker_exit`` hook tells the thread to stop and
joins it, so the old worker pays out what it holds before it exits.

Must get: under deploy-restart (``restart: {command: [sh, -c, "kill -HUP $(cat PIDFILE)"]}``)
``no_lost_events`` fails naming the orders accepted before the restart, "accepted (2xx) before
the deploy restart at …: work held in memory died with the old process"; with ``DRAIN=1``
every verdict holds.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.deploy_drain --pidfile app.pid
"""

from __future__ import annotations

import argparse
import os
import queue
import threading
import time
from typing import Any

import requests
from flask import Flask, request

from . import _gunicorn, _serve

WORK = 0.3  # seconds from an order's 200 to its payout (--work)
DRAIN = os.environ.get("DRAIN") == "1"
_STOP = None  # what worker_exit puts on the queue for the thread to end on


class Payouts:
    """The worker's queue of orders and the thread that pays them out, each ``work`` seconds
    after it came."""

    def __init__(self, api_url: str, work: float) -> None:
        self.api_url, self.work = api_url, work
        self.orders: queue.Queue[tuple[float, dict[str, Any]] | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def start(self, worker: object) -> None:  # gunicorn's post_worker_init: in each worker
        self.thread = threading.Thread(target=self._pay, name="payouts", daemon=True)
        self.thread.start()

    def drain(self, server: object, worker: object) -> None:  # gunicorn's worker_exit
        if self.thread is not None:
            self.orders.put(_STOP)
            self.thread.join(timeout=10)

    def _pay(self) -> None:
        with requests.Session() as api:
            while (item := self.orders.get()) is not _STOP:
                due, event = item
                time.sleep(max(0.0, due - time.monotonic()))
                data = event["data"]  # the event id as the payout's reference
                payout = {"order_id": data["order_id"], "amount": data["amount"]}
                payout["ref"] = event["id"]
                api.post(f"{self.api_url}/payouts", json=payout, timeout=10)


def build_app(payouts: Payouts) -> Flask:
    app = Flask("deploy_drain")

    @app.post("/webhook/orders")
    def webhook() -> tuple[str, int]:
        payouts.orders.put((time.monotonic() + payouts.work, request.get_json()))
        return "", 200

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.gallery.deploy_drain")
    parser.add_argument("--pidfile", required=True, help="where gunicorn writes its pid")
    parser.add_argument("--work", type=float, default=WORK, help="seconds before a payout")
    opts, rest = parser.parse_known_args()
    served = _serve.options("python -m tests.gallery.deploy_drain", "PAYOUTS_URL", rest)
    payouts = Payouts(served.downstream, opts.work)
    options: dict[str, Any] = {
        "workers": 1,
        "worker_class": "gthread",
        "threads": 1,  # one request at a time: queued in the order answered
        "graceful_timeout": 10,
        "pidfile": opts.pidfile,
        "post_worker_init": payouts.start,
    }
    if DRAIN:
        options["worker_exit"] = payouts.drain
    _gunicorn.serve(build_app(payouts), served.port, options)


if __name__ == "__main__":
    main()
