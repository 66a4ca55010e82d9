"""A retry pace the harness's own lateness may have set: what ``backs_off`` cannot pass.

``backs_off`` fails a refused call made again more than MAX_PER_SECOND times in one second. A
loop that retries at once is held to the pace of its round trips, and on a loaded machine — a CI
runner, the test suite's other workers — those wait for a CPU: the double answering on the
harness's event loop answers late, the automation's process waits to run. Measured on
tests/gallery/hammer_retry.py beside six busy loops on two CPUs: at most 18 calls a second,
5 to 79 ms apart with no growth, while the harness's loop ran 45 to 184 ms late; on a quiet machine
the same automation makes dozens (test_gallery_backoff). Passing that would certify what the
run could not see.

So a refused call's densest second is looked at when it did not fail: where it holds
MIN_CALLS calls or more, their gaps did not grow (the later half's median under GROWTH times
the earlier half's: a backoff that doubles grows four-fold over four gaps), and the loop's
worst lateness in that second (``loop-lag`` marks, engine/_lag) was at least half their median
gap — or, the target's process watched, the seconds it waited for a CPU in that second, taken
off its span, leave a pace over the limit (``_over_without``) —, the pace may be the
machine's: ``backs_off`` is inconclusive, saying so. A machine that kept up leaves no marks
(lateness under 20 ms is not kept), and nothing changes; nor does an in-process app's loop held
still by its own blocking call (``Lag.worst_between``).

Unless the write's whole run of calls — every one it made again, refused or the first let
through, not only the densest second — slowed down by more than the machine could have added:
each gap less what the machine held of it (``Lag.held_between``: the loop's worst lateness, the
target's wait for a CPU), the later half's median at least GROWTH times the earlier half's and
longer than the earlier half's whole gaps. A loop retrying at once leaves next to nothing once
the lateness is taken off; a backoff's later waits outgrow it. The sound demo's backs_off was
inconclusive on a loaded CI runner, and `harness demo` failed there: a doubling from 50 ms
whose first gaps a loop late at the burst's start stretched reads, on its densest second
alone, as a steady pace (test_backs_off).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..core._model import Effect, Fault
from ._facts import timestamp
from ._lag import Lag

# Calls in one second below which a pace says nothing of a loop that retries at once.
MIN_CALLS = 5
# How much the later gaps must exceed the earlier for the calls to show a backoff.
GROWTH = 2.0


@dataclass(frozen=True, slots=True)
class Starved:
    """``calls`` of one write within one second, refused by ``fault``, ``gap`` s apart (the
    median), while the harness's loop ran up to ``late`` s late and the target's watched
    process waited ``waited`` s for a CPU between the first and the last."""

    calls: tuple[Effect, ...]
    fault: Fault
    gap: float
    late: float
    waited: float = 0.0

    def text(self) -> str:
        first = self.calls[0]
        target = (
            f", and the automation's process waited {self.waited * 1000:.0f} ms of their "
            f"{(self.calls[-1].at - first.at) * 1000:.0f} ms for a CPU"
            if self.waited
            else ""
        )
        return (
            f"{first.method.upper()} {first.path} was made {len(self.calls):,} times in "
            f"one second from {timestamp(first.at)}, each refused, at a steady "
            f"{self.gap * 1000:.0f} ms apart (the median gap), while the harness's own event "
            f"loop ran up to {self.late * 1000:.0f} ms late{target}: on this loaded machine that "
            "pace may be the machine's, not the automation's — a loop retrying at once would look "
            "the same — so whether it backs off cannot be told; run it again with the machine's "
            "CPUs free (fewer test workers, nothing else running)"
        )


def starved(
    calls: Sequence[Effect], fault: Fault, lag: Lag, run: Sequence[Effect], limit: int
) -> Starved | None:
    """``calls`` (one write's refused calls within one second, in time order, no more than
    ``limit``) as a pace the machine may have set, or None; ``run`` is all of that write's
    calls made again (``calls`` among them), in time order."""
    if len(calls) < MIN_CALLS:
        return None
    gaps = _gaps(calls)
    if _grew(gaps, gaps):
        return None  # it slowed down: a backoff
    gap = statistics.median(gaps)
    start, end = calls[0].at, calls[-1].at
    late = lag.worst_between(start, end)
    waited = lag.held_between(start, end) - late  # the watched target's wait for a CPU
    if late < gap / 2 and not _over_without(len(calls), end - start, waited, limit):
        return None
    whole = _gaps(run)
    own = [max(0.0, b.at - a.at - lag.held_between(a.at, b.at)) for a, b in pairwise(run)]
    if _grew(own, whole):
        return None  # it slowed down by more than the machine could add
    return Starved(tuple(calls), fault, gap, late, waited)


def _over_without(n: int, span: float, waited: float, limit: int) -> bool:
    """Whether ``n`` calls over ``span`` s, less the ``waited`` s the target's process waited
    for a CPU in it, would have been more than ``limit`` in a second: the pace a quieter
    machine could have let the target keep (tests/gallery/hammer_retry.py retrying at once,
    starved beside busy loops: 10 a second, its loop's lateness under half a gap)."""
    own = span - waited
    return waited > 0 and (own <= 0 or (n - 1) / own > limit)


def _gaps(calls: Sequence[Effect]) -> list[float]:
    return [b.at - a.at for a, b in pairwise(calls)]


def _grew(own: Sequence[float], gaps: Sequence[float]) -> bool:
    """Whether the later half of ``own`` (gaps, or what of them was the target's own) is at
    least GROWTH times the earlier half and longer than the earlier half of ``gaps`` whole."""
    half = len(own) // 2
    if half == 0:
        return False
    later = statistics.median(own[-half:])
    return (
        later > 0
        and later >= GROWTH * statistics.median(own[:half])
        and (later >= statistics.median(gaps[:half]))
    )
