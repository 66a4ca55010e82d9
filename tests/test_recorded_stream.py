"""Recorded JSONL files: validated one line at a time (memory stays flat whatever the file's
size), and replayed without the headers that framed the recorded request."""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from harness import load_scenario
from harness.drive._recorded import NOT_REPLAYED

from .conftest import harness

pytestmark = pytest.mark.integration


def _line(n: int) -> str:
    payload = {"id": f"evt_{n}", "type": "order.paid", "data": {"order_id": f"ord_{n % 50}"}}
    payload["data"]["note"] = "x" * 1_200
    return json.dumps({"id": f"evt_{n}", "key": f"ord_{n % 50}", "payload": payload}) + "\n"


def test_a_recorded_file_is_validated_in_flat_memory(tmp_path: Path) -> None:
    """Five megabytes of lines, read for the source's paths, a drift's path and the survey of
    every line: the peak stays far below the file (a whole read would hold it twice)."""
    events = tmp_path / "events.jsonl"
    with events.open("w") as f:
        f.writelines(_line(n) for n in range(4_000))
    size = events.stat().st_size
    assert size > 5_000_000
    (tmp_path / "s.scenario.yaml").write_text(
        "source:\n  recorded:\n    file: events.jsonl\n    over: 10s\n"
        "    key: $.data.order_id\n    type: $.type\n"
        "perturbations: [{rename_field: {path: $.data.note, to: memo, rate: 0.1}}]\n"
        "delivery: {signing: none}\n"
    )
    tracemalloc.start()
    try:
        scenario = load_scenario(tmp_path / "s.scenario.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scenario.source.path == events  # type: ignore[union-attr]
    assert peak < size / 4, f"peak {peak:,} bytes for a file of {size:,}"


class _Recording(BaseHTTPRequestHandler):
    """Answers 200 and keeps each request's headers, repeats included."""

    seen: ClassVar[list[list[tuple[str, str]]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self.seen.append(list(self.headers.items()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def recording_target() -> Iterator[str]:
    _Recording.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()


def test_recorded_framing_headers_are_never_replayed(recording_target: str, tmp_path: Path) -> None:
    recorded = {
        "Content-Length": "999",
        "Transfer-Encoding": "chunked",
        "Host": "shop.example",
        "Connection": "close",
        "Content-Encoding": "gzip",
        "X-Shop-Domain": "shop.example",
        "WEBHOOK-SIGNATURE": "v1,recorded-and-stale",
    }
    (tmp_path / "events.jsonl").write_text(
        "".join(
            json.dumps({"id": f"evt_{n}", "payload": {"n": n}, "headers": recorded}) + "\n"
            for n in range(3)
        )
    )
    (tmp_path / "s.scenario.yaml").write_text(
        "source:\n  recorded:\n    file: events.jsonl\n    over: 0.3s\n"
        "baseline: false\nsettle: {quiet: 0.3s, deadline: 2s}\n"
    )
    done = harness(
        "run",
        str(tmp_path / "s.scenario.yaml"),
        "--target",
        recording_target,
        "--downstream",
        "127.0.0.1:0",
        "--journal",
        str(tmp_path / "j.db"),
    )
    assert done.code in (0, 1), done.out + done.err
    assert len(_Recording.seen) == 3
    for headers in _Recording.seen:
        names = [name.lower() for name, _ in headers]
        got = dict((name.lower(), value) for name, value in headers)
        assert got["x-shop-domain"] == "shop.example"  # the others are replayed
        assert got["content-length"] == str(len(json.dumps({"n": 0}).encode()))
        assert "transfer-encoding" not in names and "content-encoding" not in names
        assert got["host"] == recording_target.split("/")[2]
        assert names.count("webhook-signature") == 1  # the fresh one, not the recorded one
        assert got["webhook-signature"] != "v1,recorded-and-stale"
    assert {"content-length", "transfer-encoding", "host"} <= NOT_REPLAYED
