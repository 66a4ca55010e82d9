"""The locustfile of `harness locust`: one ScenarioUser delivering --harness-scenario."""

from harness_locust import ScenarioUser


class ScenarioEvents(ScenarioUser):
    """Delivers the events of the scenario named by --harness-scenario."""
