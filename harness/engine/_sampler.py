"""The target's memory during a run: its resident set size every few real seconds, read from
``/proc/PID/status`` (``--target-pid``) or a Prometheus metrics URL on loopback
(``--metrics-url``, ``process_resident_memory_bytes``), each kept as a ``sample`` mark whose
detail is ``{"rss_bytes": n, "source": "pid" | "metrics"}`` (the year's report reads them)."""

from __future__ import annotations

import asyncio
import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..core._errors import InputError
from ..core._model import SAMPLE_MARK
from ..drive._target import is_loopback

DEFAULT_EVERY = 1.0
MAX_SAMPLES = 100_000  # a bound on one run's samples (28 hours at one a second)
READ_TIMEOUT = 2.0
_METRIC = re.compile(r"^process_resident_memory_bytes(?:\{[^}]*\})?\s+(\S+)", re.MULTILINE)
_VMRSS = re.compile(r"^VmRSS:\s+(\d+)\s+kB", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class MemorySource:
    """Where the target's memory is read: a process id or a metrics URL; every ``every`` s."""

    pid: int | None = None
    url: str | None = None
    every: float = DEFAULT_EVERY

    @property
    def kind(self) -> str:
        return "pid" if self.pid is not None else "metrics"


def memory_source(
    pid: int | None, url: str | None, every: float = DEFAULT_EVERY
) -> MemorySource | None:
    """The checked source, None when neither is given; read once now, so that a bad pid or URL
    is an InputError before anything is sent."""
    if pid is None and url is None:
        return None
    if pid is not None and url is not None:
        raise InputError(
            "both --target-pid and --metrics-url were given",
            where="--metrics-url",
            hint="give one: the process id on this machine, or its metrics URL",
        )
    if isinstance(every, bool) or not math.isfinite(every) or every <= 0:
        raise InputError(
            f"sampling interval {every!r} is not a number of seconds > 0",
            where="--sample-every",
            hint="give real seconds between samples, e.g. 1",
        )
    source = MemorySource(pid, url, float(every))
    if url is not None:
        _check_url(url)
    read_rss(source)
    return source


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"metrics URL {url!r} is not an http(s) URL",
            where="--metrics-url",
            hint="give the target's Prometheus endpoint, e.g. http://127.0.0.1:9464/metrics",
        )
    if not is_loopback(parts.hostname):
        raise InputError(
            f"metrics URL host {parts.hostname!r} is outside loopback",
            where="--metrics-url",
            hint="memory is sampled from a target on this machine only: 127.0.0.1, ::1 or "
            "localhost",
        )


def read_rss(source: MemorySource) -> int:
    """The target's resident set size in bytes, now. Raises InputError saying why not."""
    if source.pid is not None:
        return _read_pid(source.pid)
    assert source.url is not None
    try:
        with urllib.request.urlopen(source.url, timeout=READ_TIMEOUT) as answer:
            text = answer.read(4_000_000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(
            f"cannot read the metrics URL {source.url!r}: {reason}",
            where="--metrics-url",
            hint="check the target is running and serves Prometheus text at that URL",
        ) from None
    return parse_metrics(text, source.url)


def parse_metrics(text: str, url: str) -> int:
    """``process_resident_memory_bytes`` from Prometheus text. Raises InputError."""
    found = _METRIC.search(text)
    try:
        value = float(found.group(1)) if found else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(
            f"the metrics at {url!r} hold no process_resident_memory_bytes",
            where="--metrics-url",
            hint="a Prometheus client's process collector exports it (prometheus_client, "
            "prom-client's collectDefaultMetrics); or give --target-pid instead",
        )
    return int(value)


def _read_pid(pid: int) -> int:
    path = Path(f"/proc/{pid}/status")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot read the memory of process {pid} ({path}: {exc.strerror or exc})",
            where="--target-pid",
            hint="give the id of the running target process on this machine (Linux), e.g. "
            "$(pgrep -f my_automation)",
        ) from None
    found = _VMRSS.search(text)
    if found is None:
        raise InputError(
            f"process {pid} reports no resident memory (VmRSS) in {path}",
            where="--target-pid",
            hint="give the id of the target's own process, not a kernel thread",
        )
    return int(found.group(1)) * 1024


async def sample(source: MemorySource, mark: Callable[[str, str], None]) -> None:
    """Mark the target's memory every ``source.every`` seconds until cancelled (at most
    MAX_SAMPLES times); a read that fails is marked with its reason and sampling goes on."""
    for _ in range(MAX_SAMPLES):
        try:
            rss = await asyncio.to_thread(read_rss, source)
            detail = {"rss_bytes": rss, "source": source.kind}
        except InputError as exc:
            detail = {"error": exc.message, "source": source.kind}
        mark(SAMPLE_MARK, json.dumps(detail))
        await asyncio.sleep(source.every)
