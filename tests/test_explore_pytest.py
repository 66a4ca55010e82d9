"""``harness_explore`` in a user's own Hypothesis test, run by pytest (pytester) against the
fragile demo over real sockets: the settings are Hypothesis's own, and the failure pytest shows
is the shrunk schedule with its sequence diagram."""

from __future__ import annotations

import pytest

from .conftest import SECRET, Automation
from .test_pytest_plugin import ENGINE, INI

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.timeout(600)]
pytest_plugins = ["pytester"]
assert ENGINE

USER_TEST = """
from hypothesis import Phase, given, settings

import harness
from harness.strategies import explorations

(STORM,) = harness.resolve(["duplicate-storm"])


@settings(max_examples=40, deadline=None, database=None, phases=[Phase.generate, Phase.shrink])
@given(exploration=explorations(STORM, seed=3))
def test_each_payment_pays_once(harness_explore, exploration):
    harness_explore(STORM, exploration, seed=3)
"""


def test_a_hypothesis_test_shows_the_minimal_schedule(
    pytester: pytest.Pytester, fragile: Automation, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_storm=USER_TEST)
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    # The examples settle on 0.1 s of quiet, not explore's 0.5 s (3 s while an effect is
    # pending: 27 of the test's 42 s): fragile makes its call before it answers.
    result = pytester.runpytest(
        "--harness-target",
        fragile.hook,
        "--harness-downstream",
        f"127.0.0.1:{fragile.downstream_port}",
        "--harness-settle-quiet",
        "0.1",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*duplicate-storm fails under Exploration(e1@0s, e1@0.3s):",
            "*-> delivery 1 : 200*",
            "*-> delivery 2 : 200*",
            "*no_duplicate_effects: 1 of 1 event produced duplicate effects*",
        ]
    )
    assert SECRET not in result.stdout.str()


BAD_CALLS = """
from hypothesis import given, settings

import harness
from harness.strategies import explorations

(STORM,) = harness.resolve(["duplicate-storm"])


@settings(max_examples=1, deadline=None, database=None)
@given(exploration=explorations(STORM, seed=3))
def test_no_target(harness_explore, exploration):
    harness_explore(STORM, exploration, seed=3)


@settings(max_examples=1, deadline=None, database=None)
@given(exploration=explorations(STORM, seed=3))
def test_bad_downstream(harness_explore, exploration):
    harness_explore(STORM, exploration, target="http://127.0.0.1:9/hook", downstream="nowhere")
"""


def test_a_bad_call_of_harness_explore_is_said_without_a_traceback(
    pytester: pytest.Pytester,
) -> None:
    """No target, a downstream that is no address: each test fails saying what was wrong and
    how to fix it — harness's own frames and the InputError's traceback not shown."""
    pytester.makeini(INI)
    pytester.makepyfile(test_calls=BAD_CALLS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "harness_explore needs a target: pass --harness-target" in out, out
    assert "could not run" in out and "nowhere" in out, out
    assert "Traceback" not in out and "raise harness.InputError" not in out, out


ONE_DELIVERY = """
import harness
from harness.strategies import Exploration

(STORM,) = harness.resolve(["duplicate-storm"])


def test_one_delivery(harness_explore):
    result = harness_explore(STORM, Exploration((harness.PlannedDelivery(0),)), seed=3)
    assert [d.status for d in result.history.deliveries] == [200]
"""


@pytest.mark.parametrize("option", ["--harness-allow-host", "--harness-secret-env"])
def test_harness_explore_honours_the_sessions_allowed_hosts_and_secret_variable(
    pytester: pytest.Pytester,
    fragile: Automation,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
) -> None:
    """As the run fixtures and `harness explore` do. Before, the fixture refused a target
    the session allowed ("target host '0.0.0.0' is outside loopback", though the session was
    given --harness-allow-host 0.0.0.0), and signed with the scenario's HARNESS_SECRET, not
    the variable --harness-secret-env named. (0.0.0.0 is no loopback address by name; Linux
    connects a call to it to this machine's loopback listeners.)"""
    pytester.makeini(INI)
    pytester.makepyfile(test_one=ONE_DELIVERY)
    target, args = fragile.hook, ["--harness-secret-env", "SIGNING_KEY"]
    if option == "--harness-allow-host":
        target = fragile.hook.replace("127.0.0.1", "0.0.0.0")
        args = ["--harness-allow-host", "0.0.0.0"]
        monkeypatch.setenv("HARNESS_SECRET", SECRET)
    else:
        monkeypatch.delenv("HARNESS_SECRET", raising=False)
        monkeypatch.setenv("SIGNING_KEY", SECRET)
    result = pytester.runpytest(
        "--harness-target", target,
        "--harness-downstream", f"127.0.0.1:{fragile.downstream_port}",
        "--harness-settle-quiet", "0.1",
        "-p", "no:cacheprovider", *args,
    )  # fmt: skip
    result.assert_outcomes(passed=1)
