"""The ``downstream`` fixture: a downstream double on loopback, for tests written by hand.

The double is asyncio-based; it runs on its own event loop in a background thread, so a test
(synchronous, or async on a loop of its own) can drive its automation while the double answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from ._failure import fail_plainly

if TYPE_CHECKING:
    from harness import DownstreamSpec, Effect

    from ._settings import Settings

T = TypeVar("T")

_START_TIMEOUT = 10.0
_POLL = 0.02


def listen_address(settings: Settings, spec: DownstreamSpec) -> tuple[str, int]:
    """Where the ``downstream`` fixture's double listens, by the rule of every run: a given
    --harness-downstream wins over the spec's own ``port`` (under pytest-xdist, the worker's
    port of it, as an in-process run's: the test hands ``url`` on); not given, the spec's own
    port; neither, a free loopback port."""
    if settings.downstream_given:
        return settings.in_process_downstream()
    if spec.port is not None and not 0 <= spec.port <= 65535:
        fail_plainly(
            f"harness_downstream_spec: port {spec.port!r} of downstream {spec.name!r} is not a "
            "port — give one from 1 to 65535, or None (a free one)"
        )
    return "127.0.0.1", spec.port or 0


class DownstreamDouble:
    """A started double: ``url`` to point the automation at, ``effects`` it recorded."""

    def __init__(
        self,
        spec: DownstreamSpec,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_non_loopback: bool = False,
    ) -> None:
        import asyncio

        from harness import Downstream

        self._lock = threading.Lock()
        self._effects: list[Effect] = []
        self._t0 = time.monotonic()
        self._double = Downstream(
            spec, on_effect=self._record, clock=lambda: time.monotonic() - self._t0
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="harness-downstream", daemon=True
        )
        self._thread.start()
        try:
            self.url: str = self._call(
                self._double.start(host, port, allow_non_loopback=allow_non_loopback)
            )
        except BaseException:
            self._close_loop()
            raise

    @property
    def effects(self) -> list[Effect]:
        """The requests recorded so far, oldest first (a copy)."""
        with self._lock:
            return list(self._effects)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Effect]:
        """The effects once at least ``count`` arrived; raises TimeoutError after ``timeout`` s.

        For automations that answer the webhook first and call their API afterwards.
        """
        deadline = time.monotonic() + timeout
        while len(effects := self.effects) < count:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the double at {self.url} recorded {len(effects)} effects in {timeout} s, "
                    f"{count} expected"
                )
            time.sleep(_POLL)
        return effects

    def clear(self) -> None:
        with self._lock:
            self._effects.clear()

    def stop(self) -> None:
        self._call(self._double.stop())
        self._close_loop()

    def _record(self, effect: Effect) -> None:
        with self._lock:
            self._effects.append(effect)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_START_TIMEOUT)

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_START_TIMEOUT)
        self._loop.close()
