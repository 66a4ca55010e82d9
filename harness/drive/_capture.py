"""``harness record``: a capture proxy in front of an automation.

Each delivery the sender makes to the proxy is forwarded unchanged to the automation (method,
path, query, body bytes, headers except hop-by-hop ones), the automation's answer goes back to
the sender as it was given (status, headers, body; redirects are answers, never followed), and
the delivery is appended to a capture file (docs/recording.md, ``capture``) as the Scrubber
leaves it: signature and credential headers dropped, secrets redacted, PII pseudonymised.
Lines are written in the order deliveries arrived, each flushed once its answer is known.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import web

from ..core._errors import DownstreamBindError
from ..core._http import end_to_end, not_added
from ..core._sensitive import is_sensitive_header
from ._pseudonym import Scrubber

_MAX_BODY = 32 * 1024 * 1024
_SHUTDOWN_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Captured:
    """One delivery as the console shows it (already scrubbed)."""

    method: str
    path: str
    status: int
    ms: float
    size: int


class CaptureProxy:
    """Listens, forwards to ``forward_to`` (a base URL the request path is appended to) and
    writes each delivery to ``output``; ``on_capture`` sees each one written. ``limit``: stop
    after this many deliveries (``done`` is set)."""

    def __init__(
        self,
        forward_to: str,
        output: Path,
        scrubber: Scrubber,
        *,
        limit: int | None = None,
        timeout: float = 30.0,
        on_capture: Callable[[Captured], None] = lambda _: None,
    ) -> None:
        self._base = forward_to.rstrip("/")
        self._output = output
        self._scrubber = scrubber
        self._limit = limit
        self._timeout = timeout
        self._on_capture = on_capture
        self._file: IO[str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._arrived = 0
        self._next = 0  # the arrival number of the next line to write
        self._ready: dict[int, str] = {}
        self.captured = 0
        self.done = asyncio.Event()

    async def start(self, host: str, port: int) -> str:
        """Listen on ``host:port`` and return the proxy's URL."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise DownstreamBindError(
                f"harness record could not listen on {host}:{port}: "
                f"{(exc.strerror or str(exc)).lower()}\n"
                "  hint: stop what holds the port, or choose another with --listen"
            ) from exc
        self._runner = runner
        self._file = self._output.open("a", encoding="utf-8")
        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=self._timeout)
        )
        bound = runner.addresses[0][1]
        return f"http://{f'[{host}]' if ':' in host else host}:{bound}"

    async def stop(self) -> None:
        """Finish the deliveries in flight, then write what is left and close the file."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
        if self._file is not None:
            for n in sorted(self._ready):  # lines behind one that never finished
                self._file.write(self._ready.pop(n))
            self._file.close()
            self._file = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        number = self._arrived
        self._arrived += 1
        received_at = datetime.now(UTC)
        t0 = time.monotonic()
        raw = await request.read()
        try:
            answer = await self._forward(request, raw)
        except TimeoutError:
            answer = _failure(504, f"the automation did not answer within {self._timeout:g} s")
        except aiohttp.ClientError as exc:
            answer = _failure(502, f"the automation could not be reached ({type(exc).__name__})")
        ms = round((time.monotonic() - t0) * 1000, 1)
        if self._limit is None or number < self._limit:
            self._write(number, self._line(request, raw, received_at, answer.status, ms))
        return answer

    async def _forward(self, request: web.Request, raw: bytes) -> web.Response:
        assert self._session is not None  # started
        headers = end_to_end(request.headers.items())
        skip = not_added(headers)
        url = self._base + request.raw_path
        async with self._session.request(
            request.method,
            url,
            data=raw,
            headers=headers,
            skip_auto_headers=skip,
            allow_redirects=False,
        ) as resp:
            body = await resp.read()
            return web.Response(
                status=resp.status, body=body, headers=end_to_end(resp.headers.items())
            )

    def _line(self, request: web.Request, raw: bytes, at: datetime, status: int, ms: float) -> str:
        scrub = self._scrubber
        body = scrub.body(raw)
        record: dict[str, Any] = {
            "received_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": request.method,
            "path": scrub.text(request.path),
            "query": scrub.query(request.query_string),
            "headers": _kept(request.headers, scrub),
        }
        try:
            record["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            record["body_base64"] = base64.b64encode(body).decode("ascii")
        record["response"] = {"status": status, "ms": ms}
        self._on_capture(Captured(request.method, record["path"], status, ms, len(body)))
        return json.dumps(record, ensure_ascii=False) + "\n"

    def _write(self, number: int, line: str) -> None:
        """Write the lines that arrived up to ``number``, in arrival order."""
        assert self._file is not None  # started
        self._ready[number] = line
        while self._next in self._ready:
            self._file.write(self._ready.pop(self._next))
            self._next += 1
        self._file.flush()
        self.captured += 1
        if self._limit is not None and self.captured >= self._limit:
            self.done.set()


def _kept(headers: Any, scrub: Scrubber) -> dict[str, str]:
    """The headers a capture writes: no hop-by-hop, signature or credential header; a
    repeated header's values joined with ", "."""
    kept: dict[str, str] = {}
    for name, value in end_to_end(headers.items()).items():
        if is_sensitive_header(name):
            continue
        value = scrub.text(value)
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def _failure(status: int, why: str) -> web.Response:
    return web.Response(status=status, text=f"harness record: {why}\n")
