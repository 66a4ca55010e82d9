"""The pytest plugin of harness (entry point ``pytest11: harness``).

pytest imports this module in every project where harness is installed, so it imports only
pytest, the standard library and the plugin's own small modules; the engine (aiohttp, httpx,
pydantic, faker, rich) is imported when a scenario file is collected or a scenario runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import _options
from ._collect import ProjectFile, ScenarioFile, ScenarioItem
from ._double import DownstreamDouble, listen_address
from ._drive import listening_at, routing_for
from ._explore import Explorer
from ._failure import fail_plainly
from ._redaction import redacted
from ._routing import HttpxRouting
from ._runner import Runner
from ._settings import is_scenario_file, read_settings, relative
from ._state import STATE, State, state_of
from ._summary import readiness_lines, write_reports
from ._xdist import make_scheduler

if TYPE_CHECKING:
    from harness import DownstreamSpec


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    settings = read_settings(config)
    config.stash[STATE] = State(config, settings)
    config.addinivalue_line(
        "markers", "harness: an item of a harness scenario file (one scenario x invariant)"
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    settings = state_of(parent.config).settings
    if settings.project_path is not None and file_path.resolve() == settings.project_path.resolve():
        return ProjectFile.from_parent(parent, path=file_path)
    if is_scenario_file(file_path, settings):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    settings = state_of(config).settings
    if settings.target is None:
        return None
    listening = listening_at(settings, settings.target)
    journal = relative(settings.journal, config)
    return [
        redacted(
            f"harness: target {settings.target} · seed {settings.seed} · {listening} · "
            f"journal {journal}"
        )
    ]


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = state_of(session.config)
    if hasattr(session.config, "workerinput"):
        return  # the controller reports for the whole session
    state.final = state.all_runs()
    if not state.final or not state.settings.reports:
        return
    from harness import HarnessError

    journal = None if state.remote else state.settings.journal
    try:
        write_reports(state.settings.reports, state.final, journal, state.untried)
    except HarnessError as exc:
        state.report_error = str(exc)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = state_of(config)
    reports = state.settings.reports
    if not state.final and not reports:
        return
    terminalreporter.write_sep("-", "harness readiness")
    for line, colour in readiness_lines(state.final, state.untried) if state.final else ():
        terminalreporter.write_line(line, **({colour: True} if colour else {}))
    if not state.final:
        terminalreporter.write_line("harness: no scenario ran, so no report was written")
    elif state.report_error is not None:
        journals = relative(state.settings.journal.parent, config)
        terminalreporter.write_line(
            redacted(
                f"harness: no report written: {state.report_error}\n"
                f"  the runs are kept in the journals in {journals}/"
            ),
            red=True,
        )
    else:
        for path in reports:
            terminalreporter.write_line(f"harness: report written to {relative(path, config)}")


# How many runs the session had made when an item started: the runs after it are the item's.
_RUNS_BEFORE = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_RUNS_BEFORE] = len(state_of(item.config).runs)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """The captured output of an item that ran a scenario (an in-process target's prints, a
    log line) is redacted as the report of its run, in the terminal and in JUnit."""
    report = yield
    state = state_of(item.config)
    histories = [h for h, _ in state.runs[item.stash.get(_RUNS_BEFORE, len(state.runs)) :]]
    shared = item.scenario_node.result if isinstance(item, ScenarioItem) else None
    if shared is not None and all(h is not shared.history for h in histories):
        histories.append(shared.history)  # driven by an earlier item of its scenario
    if report.sections and histories:
        report.sections = [(title, redacted(text, histories)) for title, text in report.sections]
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker runs with the controller's seed and journal name."""
    settings = state_of(node.config).settings
    node.workerinput["harness_seed"] = settings.seed
    node.workerinput["harness_journal"] = str(settings.journal)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist: a scenario's items go to one worker, which drives its run once."""
    settings = state_of(config).settings
    if settings.target is None:  # scenario items skip: nothing to keep together
        return None
    if getattr(config.option, "dist", "no") not in ("load", "loadgroup"):
        return None  # loadscope and loadfile keep a scenario's items together already
    return make_scheduler(config, log, settings)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: collect where a finished worker journaled its runs."""
    output = getattr(node, "workeroutput", {})
    state = state_of(node.config)
    state.remote.extend((journal, run_id) for journal, run_id in output.get("harness_runs", []))
    for name, reason in output.get("harness_untried", {}).items():
        state.not_tried(name, reason)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def harness_target(pytestconfig: pytest.Config) -> str:
    """The target of --harness-target (harness_target); skips the test when none is given."""
    __tracebackhide__ = True
    target = state_of(pytestconfig).settings.target
    if target is None:
        pytest.skip("no harness target: pass --harness-target, or set harness_target")
    return target


@pytest.fixture
def harness_downstream_spec() -> DownstreamSpec:
    """The stub routes of the ``downstream`` fixture. Override it to answer differently."""
    from harness import DownstreamSpec

    return DownstreamSpec()


@pytest.fixture
def downstream(
    pytestconfig: pytest.Config, harness_downstream_spec: DownstreamSpec
) -> Iterator[DownstreamDouble]:
    """A downstream double: ``url``, ``effects``. It listens where --harness-downstream says
    when given, else on the spec's own ``port``, else on a free loopback port."""
    __tracebackhide__ = True
    from harness import DownstreamBindError

    settings = state_of(pytestconfig).settings
    host, port = listen_address(settings, harness_downstream_spec)
    try:
        double = DownstreamDouble(
            harness_downstream_spec,
            host,
            port,
            allow_non_loopback=settings.listen_beyond_loopback,
        )
    except DownstreamBindError as exc:
        message = str(exc).replace("--downstream", "--harness-downstream")
        fail_plainly(f"the downstream fixture: {message}")
    yield double
    double.stop()


@pytest.fixture
def harness_respx(pytestconfig: pytest.Config) -> Iterator[HttpxRouting]:
    """respx routes from an in-process app's httpx calls to the double of ``harness_run``.

    ``harness_respx.forward("https://api.stripe.com")``; the routes of --harness-httpx-route
    are already in place.
    """
    with routing_for(state_of(pytestconfig).settings) as routing:
        yield routing


@pytest.fixture(scope="session")
def harness_explore(pytestconfig: pytest.Config) -> Explorer:
    """One example of your Hypothesis test over ``harness.strategies.explorations``:
    ``harness_explore(scenario, exploration)`` runs the scenario with exactly that schedule and
    fails with its sequence diagram (session-scoped, as ``@given`` tests need)."""
    return Explorer(state_of(pytestconfig))


@pytest.fixture
def harness_run(request: pytest.FixtureRequest) -> Runner:
    """Run a scenario against a target: ``harness_run("duplicate-storm")`` -> HarnessResult."""
    routing = (
        request.getfixturevalue("harness_respx")
        if "harness_respx" in request.fixturenames
        else None
    )
    node = request.node
    selector = relative(node.path, request.config) + "::" + node.nodeid.partition("::")[2]
    return Runner(state_of(request.config), selector, routing)
