"""Late or lost? What a run's end says about the effects it did not see.

An accepted event without its expected effects is lost only if the target never acted on it.
Two things in a History say it may have acted after the run stopped watching
(docs/troubleshooting.md, "Lost or late?"):

* settling stopped at its deadline while the target was still working (its last call came
  less than the quiet period before): every effect still missing may be on its way;
* an effect that arrived after the run's final state was taken (a late effect) names it;
* the user stopped the run before settling had waited for it as long as a complete run would
  have (``_stopped``).

``no_lost_events`` does not call such events lost, and the clean run does not teach that such
events are ignored by design (``_expected``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..core._model import SETTLED_MARK
from ..history import History
from ._stopped import Stop, stop_of


def settled(history: History) -> Mapping[str, Any] | None:
    """The run's ``settled`` mark, decoded: how settling ended (``_settle.Settled``)."""
    for mark in history.marks:
        if mark.name == SETTLED_MARK:
            try:
                found = json.loads(mark.detail)
            except ValueError:
                return None
            return found if isinstance(found, dict) else None
    return None


def quiet_of(history: History) -> float | None:
    """The real seconds of quiet the run settled by, when its settings keep them."""
    settle = history.info.settings.get("settle")
    if isinstance(settle, Mapping) and isinstance(settle.get("quiet"), int | float):
        return float(settle["quiet"])
    return None


@dataclass(frozen=True, slots=True)
class Unfinished:
    """What of a run may have been done after it stopped watching.

    ``cut``: settling stopped at its deadline with the target still working — a sentence
    saying so, "" otherwise. ``late``: the events an effect names that came after the final
    state was taken; ``late_keys``: the records such effects name; ``stop``: where the user
    stopped the run, and the accepted events it left unseen (``_stopped``)."""

    cut: str
    late: frozenset[str]
    late_keys: frozenset[str] = frozenset()  # the records late effects name
    # Settling gave up on events still without an effect after this many seconds of quiet:
    # what a loss found then says (a slower target — a rate limit, a schedule — is not lost).
    gave_up: float | None = None
    stop: Stop | None = None

    def gave_up_note(self, ended: str = "") -> str:
        """``; settling stopped after 2 s of quiet …``, or ""; ``ended``: that the events may
        have died with a process the run did not see end (``_went_away.unseen_end``)."""
        if self.gave_up is None:
            return ""
        late = f": late{ended};" if ended else ":"
        return (
            f"; settling stopped after {self.gave_up:g} s without a call from the target, these "
            f"events still without their effects{late} if it works slower than that (a rate limit, "
            "a queue paused between events, a schedule), raise the settle quiet "
            "(`settle: {quiet: …}` or --settle-quiet) and run again"
        )

    @property
    def any(self) -> bool:
        """Did the run stop watching before its target was done, by any sign?"""
        return bool(self.cut or self.late or self.late_keys)

    def maybe_late(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` (events short of an effect) that may be late rather than lost."""
        if self.cut:
            return set(ids)
        found = {i for i in ids if i in self.late} if self.late else set()
        if self.stop is not None:
            found |= self.stop.unseen(ids)
        return found

    def why(self, n: int) -> str:
        """Why ``n`` events short of an effect are not called lost, and what to do."""
        if self.cut:
            return (
                f"{self.cut}: {'it' if n == 1 else 'they'} may be late rather than lost — raise "
                "the settle deadline (`settle: {deadline: …}` or --settle-deadline) and run again"
            )
        return (
            f"effects naming {'it' if n == 1 else 'them'} arrived after the run's final state "
            "was taken (late effects, kept, not judged): late, not lost — raise the settle quiet "
            "or deadline for this target (`settle:` in the scenario, --settle-quiet, "
            "--settle-deadline)"
        )


def unfinished(history: History) -> Unfinished:
    """What ``history`` may have left undone when it stopped watching."""
    late = frozenset(eid for e in history.late_effects for eid in e.event_ids)
    keys = frozenset(e.key for e in history.late_effects if e.key is not None)
    ended, quiet = settled(history), quiet_of(history)
    cut = ""
    if ended is not None and ended.get("ended") == "deadline" and quiet is not None:
        idle, waited = float(ended.get("idle", 0.0)), float(ended.get("waited", 0.0))
        if idle < quiet:
            cut = (
                f"settling stopped at its deadline after {waited:.1f} s with the target still "
                f"working (its last call {idle:.2f} s before, under the {quiet:g} s quiet)"
            )
    gave_up = None
    if ended is not None and ended.get("ended") == "pending" and ended.get("pending"):
        gave_up = round(float(ended.get("idle", 0.0)), 1)
    return Unfinished(cut, late, keys, gave_up, stop_of(history))
