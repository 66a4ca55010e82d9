"""A batch of synthetic events' instants, as microseconds, for writing their timestamps.

An event's instant is its source's start plus ``timedelta(seconds=at)``; a Unix time written
from it is ``int(instant.timestamp())`` (or its milliseconds, or Slack's ``%.6f``). Made as a
datetime, then a timedelta, then a timestamp, per event and time atom, that cost about 2 µs of
an event's 10 µs of draws. Here they are numpy's: the seconds made microseconds exactly as
``timedelta`` rounds them (``micros``), moved in integer microseconds, divided as
``timestamp()`` divides them (the microseconds since 1970, exact in a double, over 10**6:
both correctly rounded). The same numbers, bit for bit; an instant beyond what a double holds
exactly in microseconds (before 1685 or after 2255), and a source whose ``epoch`` is in a zone
with DST (its times moved on the wall clock), are made the datetime way, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Micros = npt.NDArray[np.int64]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # a source's start without an ``epoch``
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_EXACT = 2**53  # microseconds a double holds exactly


class Instants:
    """The instants of a batch of events ``at`` seconds after ``epoch`` (2026 without one),
    as datetimes in the epoch's zone (``whens``, made when asked for) and as microseconds since
    1970 (``micros``; None where one is not exact in a double: the datetimes are used)."""

    def __init__(self, at: list[float], epoch: datetime | None) -> None:
        import numpy as np  # here: imported only when a synthetic source is made

        self._at = at
        self._epoch = epoch
        self._whens: list[datetime] | None = None
        self.micros: Micros | None = None
        if epoch is not None and not isinstance(epoch.tzinfo, timezone):
            # A zone's datetime moved by a timedelta moves on its wall clock (an hour off in
            # elapsed time across a DST change): that is the datetimes' own arithmetic.
            return
        seconds = np.array(at, dtype=np.float64)
        if len(at) and not float(np.abs(seconds).max()) < _EXACT / 1e6:
            return  # (or not a number): its microseconds would not fit, nor be exact
        start = _EPOCH if epoch is None else epoch
        made = micros(seconds) + (start - _UNIX) // _MICRO
        if not len(at) or int(np.abs(made).max()) < _EXACT:
            self.micros = made

    def __len__(self) -> int:
        return len(self._at)

    @property
    def whens(self) -> list[datetime]:
        """Each event's instant: from the ``epoch`` (counted in elapsed seconds, so a DST day
        is 23 or 25 hours long) in the epoch's zone, else from 2026."""
        if self._whens is None:
            epoch = self._epoch
            if epoch is None:
                self._whens = [_EPOCH + timedelta(seconds=at) for at in self._at]
            else:
                start, zone = epoch.astimezone(UTC), epoch.tzinfo
                self._whens = [(start + timedelta(seconds=at)).astimezone(zone) for at in self._at]
        return self._whens


def micros(seconds: npt.NDArray[np.float64]) -> Micros:
    """``timedelta(seconds=s) // timedelta(microseconds=1)`` for each ``s``: CPython's own
    steps (``accum`` and ``delta_new`` in ``_datetimemodule.c``) — the whole seconds exact, the
    fraction's microseconds truncated, what is left rounded to the nearest, a half to the even
    total."""
    import numpy as np

    fraction, whole = np.modf(seconds)
    left, inner = np.modf(fraction * 1e6)
    total = whole.astype(np.int64) * 1_000_000 + inner.astype(np.int64)
    # round(): a half away from zero; exactly a half, the total made even.
    rounded = np.where(np.abs(left) >= 0.5, np.sign(left), 0.0).astype(np.int64)
    half = np.abs(left) == 0.5
    rounded = np.where(half, np.where(total & 1, np.sign(left).astype(np.int64), 0), rounded)
    return total + rounded


def unix_times(unit: str, made: Micros) -> list[Any]:
    """The instants ``made`` (microseconds since 1970) as a time atom of ``unit`` writes them
    (``_vary.render_time``): Unix seconds or milliseconds as integers, Slack's ``%.6f``."""
    import numpy as np

    stamps = made.astype(np.float64) / 1e6  # ``timestamp()``: the microseconds over 10**6
    if unit == "s":
        return np.trunc(stamps).astype(np.int64).tolist()  # type: ignore[no-any-return]
    if unit == "ms":
        return np.trunc(stamps * 1000).astype(np.int64).tolist()  # type: ignore[no-any-return]
    return [f"{t:.6f}" for t in stamps.tolist()]
