"""pytest-xdist: one run per scenario, a downstream port per worker, one network run at a time.

* The items of a scenario share one run, so they go to one worker: a scheduler like xdist's
  ``loadgroup`` whose groups are the scenarios. (xdist's own ``xdist_group`` marks do not
  reach its scheduler on pytest 9, which builds node ids differently.)
* In-process apps get a port per worker (``Settings.in_process_downstream``).
* A network target calls one fixed double address, so runs against it take a file lock
  beside the journal: the workers take turns.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._settings import Settings, is_scenario_file

_LOCK_POLL = 0.1
LOCK_TIMEOUT = 3600.0  # seconds a worker waits for the others' runs against the network target


def make_scheduler(config: pytest.Config, log: Any, settings: Settings) -> Any:
    """xdist's ``loadgroup`` scheduling, each scenario's items one group."""
    from xdist.scheduler import LoadGroupScheduling  # type: ignore[import-untyped]

    class ScenarioScheduling(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path, _, rest = nodeid.partition("::")
            scenario = rest.partition("::")[0]
            if (
                "@" not in nodeid
                and scenario
                and is_scenario_file(config.rootpath / path, settings)
            ):
                return f"{path}::{scenario}"
            return str(super()._split_scope(nodeid))

    return ScenarioScheduling(config, log)


@contextlib.contextmanager
def network_lock(path: Path | None) -> Iterator[None]:
    """Hold the lock at ``path`` (None: no lock needed) for the length of a run."""
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no lock; a second run finds the port taken and says so
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"waited {LOCK_TIMEOUT:g} s for other pytest-xdist workers' runs "
                        f"against the network target (lock {path}); run with fewer workers",
                        pytrace=False,
                    )
                time.sleep(_LOCK_POLL)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
