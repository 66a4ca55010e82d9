"""What the plugin keeps for one pytest session: its settings and the runs made so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._settings import Settings

if TYPE_CHECKING:
    from harness import History, RunResult, Verdict

Run = tuple["History", tuple["Verdict", ...]]


@dataclass
class State:
    config: pytest.Config
    settings: Settings
    runs: list[Run] = field(default_factory=list)
    # (journal, run id) of the runs xdist workers made; the controller reads them at the end.
    remote: list[tuple[str, str]] = field(default_factory=list)
    final: list[Run] = field(default_factory=list)  # every run, once the session finished
    report_error: str | None = None
    # The hazards asked for but not tried for want of a setting (``Skipped.not_tried``): name
    # to reason. Never held: the reports and the readiness total say so.
    untried: dict[str, str] = field(default_factory=dict)

    def not_tried(self, name: str, reason: str) -> None:
        self.untried.setdefault(name, reason)
        workeroutput: dict[str, Any] | None = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput.setdefault("harness_untried", {})[name] = reason

    def record(self, result: RunResult, journal: Path) -> None:
        self.runs.append((result.history, result.verdicts))
        workeroutput: dict[str, Any] | None = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            # The journal is the record: the controller re-judges from it, offline.
            workeroutput.setdefault("harness_runs", []).append(
                [str(journal), result.history.info.run_id]
            )

    def all_runs(self) -> list[Run]:
        """Every run of the session; under xdist, the workers' runs read from their journals."""
        if not self.remote:
            return list(self.runs)
        from harness import judge, load

        loaded = [load(journal, run_id) for journal, run_id in self.remote]
        return [*self.runs, *((h, tuple(judge(h))) for h in loaded)]


STATE = pytest.StashKey[State]()


def state_of(config: pytest.Config) -> State:
    return config.stash[STATE]
