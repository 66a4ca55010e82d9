"""Fault windows on a downstream double: what to do with a call that arrives at time t.

The run turns each FaultSpec into a Fault on the run's clock (its window scaled by the time
scale); the double asks ``FaultPlan.decide`` for every call. The decision is pure except for
the counter of ``fail-first-n``, the seeded jitter of ``slow`` and the bucket of
``rate-limit``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ..core._model import Effect, Fault
from ..core._scenario import FaultSpec
from ._routes import RouteMatcher, compile_route, route_matches


@dataclass(frozen=True, slots=True)
class Action:
    """How the double answers one call under a fault.

    ``status`` None: answer as the route says. ``committed``: the write takes effect (it is an
    effect the target caused) even though the answer says otherwise. ``reset``: drop the
    connection without an answer. ``delay``: seconds before answering.
    """

    fault: Fault
    status: int | None = None
    committed: bool = False
    delay: float = 0.0
    reset: bool = False
    headers: tuple[tuple[str, str], ...] = ()


def to_fault(spec: FaultSpec, scale: float) -> Fault:
    """A scenario's fault on the run's clock: its window (``at``, ``for``) times ``scale``.

    What one call meets (hold, latency, jitter, Retry-After, a rate limit's calls per second)
    is not scaled: the automation
    lives through it on its own clock and measures it against its own timeouts, which no time
    scale compresses (the delivery timeout is not scaled for the same reason).
    """
    params = {
        "status": spec.status,
        "retry_after": spec.retry_after,
        "hold": spec.hold,
        "latency": spec.latency,
        "jitter": spec.jitter,
        "count": spec.count,
        "then": spec.then,
        "route": spec.route,
        "rate": spec.rate,
    }
    start = spec.at * scale
    return Fault(spec.downstream, spec.mode, start, start + spec.duration * scale, params)


class FaultPlan:
    """The faults of one downstream, asked call by call."""

    def __init__(self, faults: Sequence[Fault], seed: int = 0):
        self.faults = tuple(faults)
        self._routes = [_route(f) for f in self.faults]
        self._failed: dict[int, int] = {}  # fail-first-n: calls failed so far, per fault
        self._buckets: dict[int, _Bucket] = {}  # rate-limit: per fault
        self._rng = random.Random(seed)

    def decide(self, method: str, path: str, at: float) -> Action | None:
        for n, fault in enumerate(self.faults):
            if fault.start <= at < fault.end and _matches(self._routes[n], method, path):
                action = self._act(n, fault, at)
                if action is not None:
                    return action
        return None

    def _act(self, n: int, fault: Fault, at: float) -> Action | None:
        p = fault.params
        status = int(p.get("status", 503))
        if fault.mode == "status":
            return Action(fault, status)
        if fault.mode == "rate-limit":
            bucket = self._buckets.get(n)
            if bucket is None:
                bucket = self._buckets[n] = _Bucket(float(p.get("rate", 0.0)), fault.start)
            refill = bucket.take(at)
            if refill is None:
                return None
            return Action(fault, 429, headers=(("Retry-After", str(max(1, math.ceil(refill)))),))
        if fault.mode == "throttle":
            return Action(fault, 429, headers=(("Retry-After", str(_throttle_wait(fault))),))
        if fault.mode == "timeout":
            return Action(fault, 504, delay=float(p.get("hold", 30.0)))
        if fault.mode == "reset":
            return Action(fault, reset=True)
        if fault.mode == "slow":
            jitter = float(p.get("jitter", 0.0))
            delay = float(p.get("latency", 1.0)) + self._rng.uniform(-jitter, jitter)
            return Action(fault, None, committed=True, delay=max(0.0, delay))
        if fault.mode == "commit-then-fail":
            if p.get("then") == "timeout":
                return Action(fault, 504, committed=True, delay=float(p.get("hold", 30.0)))
            return Action(fault, status, committed=True)
        if fault.mode == "fail-first-n":
            failed = self._failed.get(n, 0)
            if failed >= int(p.get("count", 1)):
                return None
            self._failed[n] = failed + 1
            return Action(fault, status)
        raise ValueError(f"unknown fault mode {fault.mode!r}")


def on_route(fault: Fault, effect: Effect) -> bool:
    """Did the call recorded as ``effect`` go to ``fault``'s downstream, on its route?"""
    if effect.downstream != fault.downstream:
        return False
    route = _route(fault)
    return route is None or route_matches(route, effect.method, effect.path)


def meets(fault: Fault, effect: Effect) -> bool:
    """Did the call recorded as ``effect`` reach ``fault``'s downstream while its window was
    open, on its route?"""
    return fault.start <= effect.at < fault.end and on_route(fault, effect)


def acted_on(fault: Fault, effect: Effect) -> bool:
    """Did ``fault`` act on the call the double recorded as ``effect``, judged by its answer?

    For journals written before the double kept a FAULT_MARK for each call a fault answered:
    the call met the fault (``meets``) and was answered the way the fault answers. A rate limit
    and fail-first-n let some calls in the window through, and a call the double refused for
    its token or its size (401, 413) is not the fault's. Where an answer with the fault's own
    status came from elsewhere (a route answering 429 under a rate limit; overlapping windows,
    of which only the first answers) this cannot tell: the marks can.
    """
    if not meets(fault, effect):
        return False
    p = fault.params
    if fault.mode == "slow":
        return not refused_by_the_double(effect)
    if fault.mode == "commit-then-fail":
        return effect.status == (504 if p.get("then") == "timeout" else int(p.get("status", 503)))
    refused = _REFUSED_WITH.get(fault.mode)
    status = int(p.get("status", 503)) if refused is None else refused
    return not effect.committed and effect.status == status


def least_retry_after(fault: Fault) -> int | None:
    """The least ``Retry-After`` (whole seconds, real time: not time-scaled) ``fault`` answers a
    call it refuses with; None for a mode that sends none. A throttle's is always the same; a
    rate limit's is the time until its bucket refills, rounded up, and never under 1 s."""
    if fault.mode == "throttle":
        return _throttle_wait(fault)
    if fault.mode == "rate-limit":
        return 1
    return None


def _throttle_wait(fault: Fault) -> int:
    return max(1, math.ceil(float(fault.params.get("retry_after", 1.0))))


def refused_by_the_double(effect: Effect) -> bool:
    """Was the call refused before any fault was asked: a bad token (401), a body over the
    double's limit (413)?"""
    return not effect.committed and effect.status in (401, 413)


# The answer each mode refuses a call with, where the scenario does not choose it (0: reset).
_REFUSED_WITH = {"throttle": 429, "rate-limit": 429, "timeout": 504, "reset": 0}


def _route(fault: Fault) -> RouteMatcher | None:
    route = fault.params.get("route")
    if not route:
        return None
    return _compiled(str(route), fault.downstream)


@cache
def _compiled(route: str, downstream: str) -> RouteMatcher:
    return compile_route(route, where=f"faults on {downstream!r}: route")


def _matches(route: RouteMatcher | None, method: str, path: str) -> bool:
    return route is None or route_matches(route, method, path)


class _Bucket:
    """A token bucket: ``rate`` calls a second, bursts of at most ``max(1, rate)``."""

    def __init__(self, rate: float, start: float) -> None:
        self._rate = rate
        self._size = max(1.0, rate)
        self._tokens = self._size
        self._at = start

    def take(self, at: float) -> float | None:
        """None when a call at ``at`` is allowed (and counted); else seconds until one is."""
        if self._rate <= 0:
            return 1.0  # nothing is allowed: come back later
        self._tokens = min(self._size, self._tokens + (at - self._at) * self._rate)
        self._at = max(self._at, at)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / self._rate
