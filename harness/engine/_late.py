"""Effects that arrive after their run: given back to the run whose tracer values they carry.

A target still working when its run settled makes its last calls while the next run of the
invocation goes, to that run's doubles. They carry the earlier run's tracer tag, not the
current one's, so the current run cannot attribute them; counted there they read as "effects
that could not be attributed" and, in a stateful double, as records the run never wrote. The
Recorder asks ``EarlierRuns`` instead: an unattributed effect that carries an earlier run's tag
goes to that run's journal rows as a late effect, and never counts in the current run. A run
without tokens (a recording sent with ids of its own, ``drive._own_ids``) claims what its own
attribution ties to one of its events or records: its ids are no other run's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..core._model import Effect
from ..double._downstream import Attribution


@dataclass(frozen=True, slots=True)
class _Finished:
    run_id: str
    # A tracer token of the run: its tag, then e or k and a number; None for a run without
    # tokens, whose attribution alone says what is its.
    token: re.Pattern[str] | None
    attribute: Callable[[str], Attribution]
    t0: float  # time.monotonic() when its clock started

    def owns(self, text: str) -> Attribution | None:
        """What of this run ``text`` names (its events, its record), or None."""
        if self.token is not None and self.token.search(text) is None:
            return None
        found = self.attribute(text)
        return found if self.token is not None or found[0] or found[1] is not None else None


class EarlierRuns:
    """The runs an invocation has finished, for the runs after them (one per ``run_scenarios``).

    ``touched`` names the runs that were given late effects after they were judged: their
    History must be read again from the journal to show them. ``called``: the latest run that
    recorded calls to its doubles (its scenario and how many): a later run that sees none
    knows the address was right then (``invariants._no_calls``).
    """

    def __init__(self) -> None:
        self._runs: list[_Finished] = []
        self.touched: set[str] = set()
        self.called: tuple[str, int] | None = None

    def add(
        self,
        run_id: str,
        tag: str,
        attribute: Callable[[str], Attribution],
        t0: float,
        *,
        tokens: bool = True,
    ) -> None:
        """A run that has taken its final state: effects carrying ``tag`` (or, for a run
        without ``tokens``, that ``attribute`` ties to it) are late from now."""
        token = re.compile(re.escape(tag) + r"[ek]\d") if tokens else None
        self._runs.append(_Finished(run_id, token, attribute, t0))

    def carries(self, text: str) -> bool:
        """Does ``text`` name an earlier run's event or record?"""
        return any(run.owns(text) is not None for run in self._runs)

    def claim(self, effect: Effect, t0: float, tag: str) -> tuple[str, Effect] | None:
        """The earlier run an effect recorded by the run ``tag`` (clock started at ``t0``)
        belongs to, and the effect as that run keeps it: attributed by that run's tracer, its
        time on that run's clock, its id ``eff_7@<tag>`` (unique among that run's effects).
        None when it names no earlier run's; the newest such run wins."""
        text = f"{effect.path}\n{effect.body}"
        for run in reversed(self._runs):
            found = run.owns(text)
            if found is None:
                continue
            event_ids, key = found
            self.touched.add(run.run_id)
            late = replace(
                effect,
                id=f"{effect.id}@{tag}",
                at=effect.at + (t0 - run.t0),
                event_ids=event_ids,
                key=key,
            )
            return run.run_id, late
        return None
