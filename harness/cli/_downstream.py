"""``harness downstream``: the double alone, printing every call it records."""

from __future__ import annotations

import asyncio
import time

from ..core._model import Effect
from ..core._scenario import DownstreamSpec
from ..double._downstream import Downstream, parse_address, require_loopback_listen
from ._console import err, out


async def serve(
    listen: str, scenario: str | None, duration: float | None, beyond_loopback: bool = False
) -> int:
    host, port = parse_address(listen)
    if not beyond_loopback:
        require_loopback_listen(host, "--listen")
    spec = DownstreamSpec()
    if scenario is not None:
        from ..scenario._load import resolve

        specs = [d for s in resolve([scenario]) for d in s.downstreams]
        spec = DownstreamSpec(spec.name, tuple(r for d in specs for r in d.routes))
    t0 = time.monotonic()

    def show(e: Effect) -> None:
        out.print(
            f"{e.at:8.3f}s  {e.method:6} {e.path}  -> {e.status}  ({len(e.body)} bytes)",
            markup=False,
        )

    double = Downstream(spec, on_effect=show, clock=lambda: time.monotonic() - t0)
    url = await double.start(host, port, allow_non_loopback=beyond_loopback)
    err.print(f"downstream double listening at {url} (Ctrl-C to stop)")
    try:
        if duration is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(duration)
    finally:
        await double.stop()
        err.print(f"{double.effects_recorded} calls recorded")
    return 0
