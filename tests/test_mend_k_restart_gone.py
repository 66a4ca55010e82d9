"""A deploy restart the run made is no target gone (engine/_gone): a restart hook that keeps the
listener away longer than ``GONE_QUIET`` stopped the run as "the target stopped answering", its
restart never judged. The silence from when a restart is due until ``RESTART_GRACE`` after its
hook returned is the restart's; a target that does not come back counts from then."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.core._model import CONNECT_FAILED
from harness.engine._gone import GONE_AFTER, GONE_QUIET, RESTART_GRACE
from harness.history import load_all
from harness.invariants._restarts import RESTART_MARK

from .conftest import harness
from .test_target_gone import Watched

REFUSED = f"{CONNECT_FAILED}: Connection refused"


def _restarting(w: Watched, due: float) -> list[tuple[str, str]]:
    """``w`` sparing a restart due at ``due``; the marks its Recorder would keep."""
    kept: list[tuple[str, str]] = []
    w.mark = w.watch.restarting([due], lambda name, detail: kept.append((name, detail)))
    return kept


def test_a_restart_hook_longer_than_the_quiet_is_not_the_target_gone() -> None:
    w = Watched()
    _restarting(w, 1.0)
    w.answered()
    w.now = 1.0  # the hook is called: the listener goes away for 3 quiets
    for _ in range(3 * GONE_AFTER):
        w.unanswered(GONE_QUIET / GONE_AFTER, REFUSED)
    assert w.stops == 0, w.watch.reason
    w.mark(RESTART_MARK, "{}")  # the hook returned; the new process starting
    for _ in range(GONE_AFTER):
        w.unanswered(RESTART_GRACE / GONE_AFTER, REFUSED)
    assert w.stops == 0, w.watch.reason


def test_a_target_that_does_not_come_back_is_gone_counted_from_the_grace() -> None:
    w = Watched()
    kept = _restarting(w, 0.0)
    w.mark(RESTART_MARK, "{}")  # returned at 0 s
    assert kept == [(RESTART_MARK, "{}")]
    for _ in range(GONE_AFTER):
        w.unanswered(RESTART_GRACE / GONE_AFTER, REFUSED)
    w.unanswered(GONE_QUIET, REFUSED)
    assert w.stops == 1
    assert (w.watch.reason or "").endswith(
        f"no downstream call came for {GONE_QUIET:.0f} s, from {RESTART_GRACE:.0f} s after the "
        "deploy restart's hook returned"
    ), w.watch.reason


def test_a_restart_not_yet_due_spares_nothing() -> None:
    w = Watched()
    _restarting(w, 10 * GONE_QUIET)
    for _ in range(GONE_AFTER):
        w.unanswered(GONE_QUIET / 2, REFUSED)
    assert w.stops == 1 and "deploy restart" not in (w.watch.reason or "")


# --- through `harness run`: a hook that takes the listener away for longer than the quiet -----


@dataclass
class Deployed:
    """A target on loopback that answers 200, and a restart endpoint that closes its listener,
    waits ``away`` seconds and opens it again on the same port before answering."""

    url: str
    restart: str


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # the http.server name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/restart":
            self.server.restart()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """GONE_QUIET made 1 s, the restart keeping the listener away 3 s: the run stopped as gone
    1 s into it. The grace stays its own."""
    monkeypatch.setattr("harness.engine._gone.GONE_QUIET", 1.0)
    away = 3.0
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    port = target.server_address[1]
    servers = [target]
    threads = [threading.Thread(target=target.serve_forever, daemon=True)]

    def restart() -> None:
        old = servers[-1]
        old.shutdown()
        old.server_close()  # connections refused from here
        time.sleep(away)
        new = ThreadingHTTPServer(("127.0.0.1", port), _Answer)
        servers.append(new)
        threads.append(threading.Thread(target=new.serve_forever, daemon=True))
        threads[-1].start()

    control = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    control.restart = restart  # type: ignore[attr-defined]
    threads.append(threading.Thread(target=control.serve_forever, daemon=True))
    for t in threads:
        t.start()
    try:
        yield Deployed(
            f"http://127.0.0.1:{port}/hooks/orders",
            f"http://127.0.0.1:{control.server_address[1]}/restart",
        )
    finally:
        for s in (control, servers[-1]):
            s.shutdown()
            s.server_close()


ORDERS = """\
name: slow-deploy
restarts: [0.5s]
baseline: false
source:
  synthetic:
    example: {id: evt_1, type: order.paid, data: {order_id: ord_1}}
    events: 50
    records: 50
    over: 5s
    key: $.data.order_id
invariants: [no_lost_events]
settle: {quiet: 0.1s, deadline: 2s}
"""


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_a_restart_that_refuses_connections_longer_than_the_quiet_runs_on(
    deployed: Deployed, tmp_path: Path
) -> None:
    (tmp_path / "harness.yaml").write_text(
        f"target: {deployed.url}\nrestart: {{post: '{deployed.restart}'}}\n"
    )
    (tmp_path / "orders.yaml").write_text(ORDERS)
    journal = tmp_path / "run.db"
    done = harness(
        "run", "orders.yaml", "--journal", str(journal), "--downstream", "127.0.0.1:0",
        cwd=tmp_path,
    )  # fmt: skip
    said = " ".join(done.err.split())
    assert "the target stopped answering" not in said, said
    [h] = load_all(journal)
    assert h.status == "complete", (h.status, said)
    [mark] = [m for m in h.marks if m.name == RESTART_MARK]
    restart = json.loads(mark.detail)
    assert restart["ended"] - restart["started"] >= 3.0  # longer than the quiet, three times
    refused = [d for d in h.deliveries if d.status is None]
    assert len(refused) >= GONE_AFTER, len(refused)  # the watch saw enough to stop
    # Answered again after the hook returned: the run went on sending.
    assert any(d.status == 200 and d.sent_at > restart["ended"] for d in h.deliveries)
