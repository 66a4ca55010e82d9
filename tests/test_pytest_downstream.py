"""Where the pytest plugin's doubles listen: a ``--harness-downstream`` (or ``harness_downstream``)
given wins over a project's and a scenario's own downstream ports, as ``harness run --downstream``
does; not given, the own ports are used (docs/pytest.md). The fragile demo automation calls its
downstream once per webhook, so a double listening elsewhere than it calls records no effect.

The plugin could not tell the default address from one given: the own ports always won, and
every reproduce line named ``--harness-downstream``, which, rerun, now would win.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from harness.cli._processes import free_port

from .conftest import SECRET, Automation
from .test_pytest_plugin import ENGINE, INI

pytestmark = pytest.mark.integration
pytest_plugins = ["pytester"]
assert ENGINE  # the engine loaded once for pytester's in-process runs (see there)

# A project whose one downstream, `api`, has a port of its own; duplicate-storm over it.
PROJECT = "hazards: [duplicate-storm]\ndownstreams:\n  - name: api\n    port: {port}\n"

# The same hazard, run by the harness_run fixture.
HARNESS_RUN = """
def test_storm(harness_run):
    harness_run("duplicate-storm")
"""


def run_project(
    pytester: pytest.Pytester, fragile: Automation, own_port: int, *args: str
) -> dict[str, Any]:
    """duplicate-storm over a project whose `api` listens on ``own_port``; the report's run."""
    pytester.makefile(".yaml", harness=PROJECT.format(port=own_port))
    result = pytester.runpytest(
        "--harness-target", fragile.hook, "--harness-seed", "11", "--harness-time-scale", "0.1",
        "--harness-report", "report.json", "-p", "no:cacheprovider", *args,
    )  # fmt: skip
    (run,) = json.loads((pytester.path / "report.json").read_text())["runs"]
    run["said"] = result.stdout.str()[-3000:]
    return dict(run)


@pytest.fixture
def demo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini(INI)
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    return pytester


@pytest.mark.parametrize("where", ["flag, project items", "ini key, harness_run"])
def test_a_downstream_given_wins_over_the_projects_own_port(
    demo: pytest.Pytester, fragile: Automation, where: str
) -> None:
    address = f"127.0.0.1:{fragile.downstream_port}"
    args: tuple[str, ...] = ("--harness-downstream", address)
    if where.startswith("ini"):
        demo.makeini(INI + f"harness_downstream = {address}\n")
        demo.makepyfile(test_storm=HARNESS_RUN)
        args = ("test_storm.py",)  # harness.yaml is the rootdir's project, not collected
    run = run_project(demo, fragile, free_port(), *args)  # a port the automation never calls
    # Heard where the automation calls: effects (the project's own port heard none).
    assert run["counts"]["effects"] > 0, run["said"]
    reproduce = shlex.split(run["reproduce"])
    assert reproduce[reproduce.index("--harness-downstream") + 1] == address


def test_without_a_downstream_given_the_projects_own_port_is_used(
    demo: pytest.Pytester, fragile: Automation
) -> None:
    run = run_project(demo, fragile, fragile.downstream_port)
    assert run["counts"]["effects"] > 0, run["said"]
    # Rerun as printed, it must listen where this run did: a `--harness-downstream
    # 127.0.0.1:9100` there would win over the project's port.
    assert "--harness-downstream" not in shlex.split(run["reproduce"]), run["reproduce"]


@pytest.mark.parametrize(
    ("downstreams", "args", "said"),
    [
        ("  - name: api\n    port: 9231\n", [], "downstream api 127.0.0.1:9231"),
        (
            "  - name: api\n    port: 9231\n  - name: crm\n",
            [],
            "downstreams api 127.0.0.1:9231, crm 127.0.0.1:9101",
        ),
        (
            "  - name: api\n    port: 9231\n",
            ["--harness-downstream", "127.0.0.1:9300"],
            "downstream 127.0.0.1:9300",
        ),
        ("  - name: api\n", [], "downstream 127.0.0.1:9100"),
    ],
)
def test_the_header_says_where_the_doubles_will_listen(
    demo: pytest.Pytester, downstreams: str, args: list[str], said: str
) -> None:
    """The --downstream wins rule, in the session's first line: before, it said the default
    127.0.0.1:9100 where the project's `api` would listen on its own port 9231."""
    demo.makefile(".yaml", harness="hazards: [duplicate-storm]\ndownstreams:\n" + downstreams)
    result = demo.runpytest("--harness-target", "http://127.0.0.1:9/h", "--collect-only", *args)
    result.stdout.fnmatch_lines([f"harness: target http://127.0.0.1:9/h · seed * · {said} · *"])


# harness_explore: the scenario's own port, and the session's settle times.
EXPLORE = """
import dataclasses
import json
import os

import harness
from harness.strategies import Exploration

(STORM,) = harness.resolve(["duplicate-storm"])
OWN = dataclasses.replace(
    STORM,
    downstreams=tuple(
        dataclasses.replace(d, port=int(os.environ["OWN_PORT"])) for d in STORM.downstreams
    ),
)
TWO = Exploration((harness.PlannedDelivery(0), harness.PlannedDelivery(1, 0.3)))


def test_two_events(harness_explore):
    result = harness_explore(OWN, TWO, seed=3)
    seen = {"effects": len(result.history.effects), **result.history.info.settings["settle"]}
    with open("seen.json", "w") as out:
        json.dump(seen, out)
"""


def test_harness_explore_takes_the_given_downstream_and_the_settle_options(
    demo: pytest.Pytester, fragile: Automation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It built its run from target, seed, downstream and journal alone: the settle options
    were ignored (an example's 0.5 s quiet and 10 s deadline), the scenario's own port kept."""
    monkeypatch.setenv("OWN_PORT", str(free_port()))  # where the automation never calls
    demo.makepyfile(test_explore=EXPLORE)
    result = demo.runpytest(
        "--harness-target", fragile.hook,
        "--harness-downstream", f"127.0.0.1:{fragile.downstream_port}",
        "--harness-settle-quiet", "1500ms", "--harness-settle-deadline", "9s",
        "-p", "no:cacheprovider",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    seen = json.loads((demo.path / "seen.json").read_text())
    assert seen == {"effects": 2, "quiet": 1.5, "deadline": 9.0}


# The `downstream` fixture: the same rule for a double of a test written by hand.
FIXTURE = """
import httpx
import pytest

import harness


@pytest.fixture
def harness_downstream_spec():
    return harness.DownstreamSpec("crm", port={own})


def test_listens(downstream):
    assert downstream.url == "http://127.0.0.1:{expected}"
    assert httpx.post(downstream.url + "/contacts", json={{}}, timeout=5).status_code == 201
    assert len(downstream.wait_for(1)) == 1
"""


@pytest.mark.parametrize("given", [True, False])
def test_the_downstream_fixture_follows_the_rule(pytester: pytest.Pytester, given: bool) -> None:
    own, other = free_port(), free_port()
    expected = other if given else own
    pytester.makeini(INI)
    pytester.makepyfile(test_double=FIXTURE.format(own=own, expected=expected))
    args = ("--harness-downstream", f"127.0.0.1:{other}") if given else ()
    pytester.runpytest("-p", "no:cacheprovider", *args).assert_outcomes(passed=1)


def test_a_bad_port_of_the_fixtures_spec_is_said_plainly(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_double=FIXTURE.format(own=70000, expected=70000))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*harness_downstream_spec: port 70000 of downstream 'crm' is not a port — give one*"]
    )
    assert "Traceback" not in result.stdout.str()
