"""The memory sampler (engine/_sampler): the target's RSS from /proc/PID/status or a Prometheus
metrics URL on loopback, journaled as ``sample`` marks; bad input refused before anything is
sent."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.core._errors import InputError
from harness.core._model import SAMPLE_MARK
from harness.engine import RunOptions
from harness.engine._sampler import MemorySource, memory_source, parse_metrics, read_rss, sample

from .conftest import harness

METRICS = (
    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
    "# TYPE process_resident_memory_bytes gauge\n"
    "process_resident_memory_bytes 5.24288e+07\n"
)


@pytest.fixture
def metrics_url() -> Iterator[str]:
    """A Prometheus endpoint on loopback, as a target's client library serves it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path in ("/metrics", "/other")
            body = (
                METRICS if self.path == "/metrics" else "process_cpu_seconds_total 1\n"
            ).encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()


def test_a_process_memory_is_read_from_proc() -> None:
    source = memory_source(os.getpid(), None)
    assert source is not None and source.kind == "pid"
    assert read_rss(source) > 1_000_000


def test_a_metrics_url_is_read_and_parsed(metrics_url: str) -> None:
    source = memory_source(None, metrics_url, 0.5)
    assert source == MemorySource(None, metrics_url, 0.5)
    assert read_rss(source) == 52_428_800
    labelled = 'process_resident_memory_bytes{job="x"} 1024\n'
    assert parse_metrics(labelled, "u") == 1024


@pytest.mark.parametrize(
    ("pid", "url", "where", "says"),
    [
        (2**22 + 12345, None, "--target-pid", "cannot read the memory of process"),
        (None, "http://10.1.2.3:9464/metrics", "--metrics-url", "outside loopback"),
        (None, "ftp://127.0.0.1/metrics", "--metrics-url", "not an http(s) URL"),
        ("self", "http://127.0.0.1:1/metrics", "--metrics-url", "both"),
    ],
)
def test_bad_sources_are_input_errors_naming_the_flag(
    pid: int | str | None, url: str | None, where: str, says: str
) -> None:
    # The ids stay the same in every xdist worker: this process's pid is looked up here.
    resolved = os.getpid() if pid == "self" else pid
    assert not isinstance(resolved, str)
    with pytest.raises(InputError) as caught:
        memory_source(resolved, url)
    assert caught.value.where == where and says in caught.value.message
    assert caught.value.hint


def test_a_url_without_the_metric_says_what_is_missing(metrics_url: str) -> None:
    with pytest.raises(InputError, match="no process_resident_memory_bytes"):
        memory_source(None, metrics_url.replace("/metrics", "/other"))
    with pytest.raises(InputError, match=r"cannot read the metrics URL .*: Not Found"):
        memory_source(None, metrics_url.replace("/metrics", "/gone"))


def test_samples_are_marks_with_json_details() -> None:
    marks: list[tuple[str, str]] = []
    source = MemorySource(os.getpid(), None, 0.01)

    async def go() -> None:
        task = asyncio.create_task(sample(source, lambda n, d: marks.append((n, d))))
        while len(marks) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(go(), 10))
    assert {n for n, _ in marks} == {SAMPLE_MARK}
    detail = json.loads(marks[0][1])
    assert detail["source"] == "pid" and detail["rss_bytes"] > 0


def test_run_options_carry_the_source() -> None:
    options = RunOptions.create("http://127.0.0.1:8000/", target_pid=os.getpid())
    assert options.memory is not None and options.memory.pid == os.getpid()


def test_the_cli_refuses_a_bad_pid_before_anything_is_sent(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    done = harness(
        "run",
        "duplicate-storm",
        "--target",
        "http://127.0.0.1:9/",
        "--journal",
        str(journal),
        "--target-pid",
        str(2**22 + 12345),
    )
    assert done.code != 0
    assert "--target-pid: cannot read the memory of process" in done.err
    assert "Traceback" not in done.err
    assert not journal.exists()
