"""The deploy restarts a run made (``restart`` marks, ``engine/_restarts``), as the report
shows them: on the timeline beside the fault windows, and in the JSON."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from ..history import History
from ..invariants._restarts import Restart, restarts_of


@dataclass(frozen=True, slots=True)
class Deploy(Restart):
    """One restart of the target as the report shows it (``invariants._restarts.Restart``:
    when it was due, when its hook was called and returned, whether Ctrl-C stopped the hook,
    and — in a month of a year — the calendar moment it was due)."""

    @property
    def label(self) -> str:
        when = f" (due {self.calendar})" if self.calendar else ""
        stopped = ", when Ctrl-C stopped it" if self.interrupted else ""
        return (
            f"deploy restart at {self.started:.2f} s{when}: the restart hook took "
            f"{self.took:.2f} s{stopped}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "started": self.started,
            "ended": self.ended,
            "took": round(self.took, 6),
            "interrupted": self.interrupted,
            "calendar": self.calendar,
        }


def deploys(history: History) -> tuple[Deploy, ...]:
    """The run's restarts, in their order (none: most runs), read as the invariants read them."""
    return tuple(Deploy(*astuple(r)) for r in restarts_of(history))
