"""harness_locust: load-test an automation with a harness scenario's events, in Locust.

    from harness_locust import ScenarioUser

    class Orders(ScenarioUser):
        scenario = "bulk-import-burst"

Users deliver the scenario's events (signed, with its duplicates and drift) as Locust tasks,
named by event type in Locust's stats. Every delivery lands in the run's History; when the test
stops the harness settles, judges the invariants, writes the report, and Locust's exit code
follows the verdicts. Distributed runs use Locust's own master/worker mode. See
docs/load-testing.md.

Names are imported on first use: importing ``locust`` monkey-patches the process with gevent,
which the recorder process (``python -m harness_locust._recorder``) must not get.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._user import ScenarioShape, ScenarioUser

_WHERE = {"ScenarioShape": "_user", "ScenarioUser": "_user"}

__all__ = ["ScenarioShape", "ScenarioUser"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'harness_locust' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"harness_locust.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
