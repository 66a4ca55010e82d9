"""The locustfile of `harness locust --timeline`: the scenario's own timeline (ScenarioShape)."""

from harness_locust import ScenarioShape, ScenarioUser

__all__ = ["ScenarioEvents", "ScenarioShape"]


class ScenarioEvents(ScenarioUser):
    """Delivers the events of the scenario named by --harness-scenario, each at its time."""
