"""ScenarioUser: a FastHttpUser that delivers a scenario's events; ScenarioShape: its timeline."""

from __future__ import annotations

import time
from bisect import bisect_left
from typing import TYPE_CHECKING, Any, ClassVar

import gevent
from gevent import GreenletExit
from locust import FastHttpUser, LoadTestShape, constant, task

from . import _hooks

if TYPE_CHECKING:
    from harness import Scenario

IDLE = 0.1  # seconds a user waits when there is nothing (yet, or any more) to deliver


class ScenarioUser(FastHttpUser):
    """A Locust user that delivers a harness scenario's events, one slot of its schedule a task.

    Set ``scenario`` to a built-in name, a ``.yaml`` path or a Scenario (or pass
    ``--harness-scenario``); ``host`` (or ``--host``) plus ``path`` is the webhook URL. Requests
    are named by event type in Locust's stats. ``event_count`` (or ``--harness-events``) sizes a
    synthetic source. Users take the schedule's slots in order and stop the test when all are
    delivered; with ScenarioShape in the locustfile each slot waits for its time in the plan.
    """

    abstract = True
    scenario: ClassVar[str | Scenario | None] = None
    path: ClassVar[str] = ""
    event_count: ClassVar[int | None] = None
    wait_time = constant(0)

    def __init__(self, environment: Any) -> None:
        sender = _hooks.sender_of(environment)
        if sender is not None:
            # A late answer must count as a timeout exactly as the scenario says; never retry:
            # a retry would be a duplicate the History does not know about.
            self.network_timeout = self.connection_timeout = sender.timeout
            self.max_retries = 0
        super().__init__(environment)

    @task
    def deliver(self) -> None:
        sender = _hooks.sender_of(self.environment)
        n = sender.take() if sender is not None else None
        if sender is None or n is None:
            gevent.sleep(IDLE)
            return
        prepared = sender.prepared
        scheduled = sender.due(n)
        if scheduled is not None:
            try:
                gevent.sleep(max(0.0, scheduled - time.time()))
            except GreenletExit:
                sender.give_back(n)
                raise
        event = prepared.schedule.event[n]
        body, headers = prepared.slot_request(n, int(time.time()))
        sender.sending(n, scheduled)
        try:
            answer = self.client.post(
                self.path,
                data=body,
                headers=headers,
                allow_redirects=False,  # a 3xx is the target's answer, as in the engine
                name=prepared.events[event].type,
                context={_hooks.CONTEXT_KEY: (sender, n)},
            )
        except GreenletExit:
            sender.interrupted(n)
            raise
        if answer.status_code >= 500:
            # Servers close a connection after a 5xx without saying so (uvicorn after an app's
            # exception): the next delivery sent on it would be reset by this reuse, not by the
            # target. As the engine does (drive/_deliver), the next one opens its own.
            self.client.client.clientpool.close()


class ScenarioShape(LoadTestShape):
    """Replays the scenario's timeline: each slot is sent at its planned time, and the user
    count rises ahead of every burst to the deliveries due within ``lookahead`` seconds.

    Import it into the locustfile to use it. The count never drops during the run: a stopped
    user would cut a delivery in flight. The test ends when every slot was delivered.
    """

    lookahead: ClassVar[float] = 2.0
    min_users: ClassVar[int] = 1
    max_users: ClassVar[int] = 500
    # After the last planned slot, stop at the latest this long past the delivery timeout.
    grace: ClassVar[float] = 10.0

    def __init__(self) -> None:
        super().__init__()
        self._users = 0

    def reset_time(self) -> None:
        super().reset_time()
        self._users = 0

    def tick(self) -> tuple[int, float] | None:
        timeline = _hooks.timeline_of(self.runner.environment) if self.runner else None
        if timeline is None:
            return None
        times, done, timeout, wall0 = timeline
        if wall0 is None:  # the recorder is starting: hold, the run's clock has not begun
            return self.min_users, float(self.min_users)
        now = time.time() - wall0
        if done or not times or now > min(times[-1] + timeout + self.grace, self._run_time()):
            return None
        due = bisect_left(times, now + self.lookahead) - bisect_left(times, now)
        self._users = max(self._users, min(self.max_users, max(self.min_users, due)))
        # Spawned within a quarter second: users wait for their slots' times anyway.
        return self._users, float(self._users * 4)

    def _run_time(self) -> float:
        """Locust's ``-t``, which Locust itself leaves to a shape to honour."""
        options = self.runner.environment.parsed_options if self.runner else None
        run_time = getattr(options, "run_time", None) if options is not None else None
        return float(run_time) if run_time else float("inf")
