"""Deploy restarts the run made, round two: server errors a stop-then-start deploy caused
(``no_server_errors``), a restart the run was stopped in the middle of, the calendar moment a
year's deploy was due, and the per-record window of ``restart_loss``."""

from __future__ import annotations

from harness.core._model import CONNECT_FAILED, Outcome, Status

from .test_mend_k_restarts import _REFUSED, _restarted

_BAD_GATEWAY = {"status": 502, "outcome": Outcome.FAILED, "error": None}


def test_connections_refused_while_the_deploy_restarted_are_told_with_it() -> None:
    """A deploy that stops the process and starts it again: two deliveries could not connect.
    Before: "2 of 10 deliveries (20%) got a server error: 2 failed (connect failed: Connection
    refused); at most 0% allowed", the restart unsaid."""
    v = _restarted((0.4, 0.5), "no_server_errors", _REFUSED)
    assert v.status is Status.FAIL, v.summary  # the sender saw errors: still loud
    assert (
        "; both of them were sent while the deploy restart at 0.35 s (the restart hook took "
        "0.10 s) took the endpoint away: errors the deploy caused, not a crash — it stopped the "
        "process that answered, and until a new one took deliveries those sent could not "
        "connect or got 5xx; a zero-downtime deploy keeps one answering: a graceful reload"
    ) in v.summary, v.summary
    assert "a second instance behind the proxy" in v.summary


def test_a_5xx_outside_the_restart_is_counted_apart() -> None:
    """The proxy's 502 while the new process starts is the deploy's; one before it is not."""
    v = _restarted((0.2, 0.4), "no_server_errors", _BAD_GATEWAY)
    assert "2 answered 502" in v.summary, v.summary
    assert "; 1 of them was sent while the deploy restart at 0.35 s" in v.summary, v.summary
    alone = _restarted((0.2,), "no_server_errors", _BAD_GATEWAY)
    assert alone.status is Status.FAIL and "deploy restart" not in alone.summary, alone.summary


def test_a_restart_that_started_nothing_is_said_so() -> None:
    v = _restarted(tuple(n / 10 for n in range(4, 10)), "no_server_errors", _REFUSED)
    assert (
        "all 6 of them were sent while the deploy restart at 0.35 s (the restart hook took "
        "0.10 s) took the endpoint away, and the target accepted nothing after it returned"
    ) in v.summary, v.summary
    assert CONNECT_FAILED in v.summary
