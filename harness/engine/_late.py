"""Effects that arrive after their run: given back to the run whose tracer values they carry.

A target still working when its run settled makes its last calls while the next run of the
invocation goes, to that run's doubles. They carry the earlier run's tracer tag, not the
current one's, so the current run cannot attribute them; counted there they read as "effects
that could not be attributed" and, in a stateful double, as records the run never wrote. The
Recorder asks ``EarlierRuns`` instead: an unattributed effect that carries an earlier run's tag
goes to that run's journal rows as a late effect, and never counts in the current run.
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
    token: re.Pattern[str]  # a tracer token of the run: its tag, then e or k and a number
    attribute: Callable[[str], Attribution]
    t0: float  # time.monotonic() when its clock started


class EarlierRuns:
    """The runs an invocation has finished, for the runs after them (one per ``run_scenarios``).

    ``touched`` names the runs that were given late effects after they were judged: their
    History must be read again from the journal to show them.
    """

    def __init__(self) -> None:
        self._runs: list[_Finished] = []
        self.touched: set[str] = set()

    def add(
        self, run_id: str, tag: str, attribute: Callable[[str], Attribution], t0: float
    ) -> None:
        """A run that has taken its final state: effects carrying ``tag`` are late from now."""
        token = re.compile(re.escape(tag) + r"[ek]\d")
        self._runs.append(_Finished(run_id, token, attribute, t0))

    def carries(self, text: str) -> bool:
        """Does ``text`` carry a tracer token of an earlier run?"""
        return any(run.token.search(text) for run in self._runs)

    def claim(self, effect: Effect, t0: float, tag: str) -> tuple[str, Effect] | None:
        """The earlier run an effect recorded by the run ``tag`` (clock started at ``t0``)
        belongs to, and the effect as that run keeps it: attributed by that run's tracer, its
        time on that run's clock, its id ``eff_7@<tag>`` (unique among that run's effects).
        None when it carries no earlier run's token; the newest such run wins."""
        text = f"{effect.path}\n{effect.body}"
        for run in reversed(self._runs):
            if run.token.search(text) is None:
                continue
            event_ids, key = run.attribute(text)
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
