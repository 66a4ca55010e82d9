"""A downstream double started on loopback for a test, with its effects and a client to it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import aiohttp

from harness.core._model import Effect, Fault
from harness.core._scenario import DownstreamSpec
from harness.double._carry import Carried
from harness.double._downstream import Attribute, Downstream

Started = tuple[Downstream, list[Effect], aiohttp.ClientSession]


@asynccontextmanager
async def started(
    spec: DownstreamSpec,
    *,
    clock: Callable[[], float] | None = None,
    faults: Sequence[Fault] = (),
    on_effect: Callable[[Effect], None] | None = None,
    attribute: Attribute | None = None,
    timeout: float = 5.0,
    on_mark: Callable[[str, str], None] | None = None,
    time_scale: float = 1.0,
    carried: Carried | None = None,
) -> AsyncIterator[Started]:
    """The double of ``spec``, listening; ``clock`` ticks 1.0, 2.0, ... unless given. The effects
    list fills unless ``on_effect`` takes them. Stopped on the way out."""
    effects: list[Effect] = []
    ticks = itertools.count(1.0)
    double = Downstream(
        spec,
        on_effect=on_effect or effects.append,
        clock=clock or (lambda: next(ticks)),
        attribute=attribute,
        faults=faults,
        on_mark=on_mark,
        time_scale=time_scale,
        carried=carried,
    )
    await double.start()
    try:
        async with aiohttp.ClientSession(
            base_url=double.url, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as session:
            yield double, effects, session
    finally:
        await double.stop()
