"""``harness locust``: load-test an automation with a scenario's events, in Locust.

It checks the scenario and the target, then runs Locust on the adapter's bundled locustfile
(``harness_locust/locustfiles``) with everything after ``--`` passed to Locust as it is. The
run, the verdicts, the report and the exit code are Locust's process's (docs/load-testing.md).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import click

from ..core._data_paths import data_dir
from ..core._errors import InputError
from ..core._flag_text import exact
from ._options import project_options, run_options, seconds, settle_options


@click.command("locust", context_settings={"ignore_unknown_options": True})
@click.argument("scenario")
@click.option(
    "--target",
    default=None,
    help="URL of the automation's webhook endpoint (default: the project's target).",
)
@run_options
@project_options
@settle_options
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=None,
    help="How many events a synthetic source makes (records and pace scale alike).",
)
@click.option(
    "--timeline",
    is_flag=True,
    help="Replay the scenario's own timeline (bursts) instead of a fixed user count.",
)
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def locust(
    scenario: str,
    target: str | None,
    downstream: str,
    seed: int | None,
    report: Path | None,
    journal: Path | None,
    events: int | None,
    timeline: bool,
    target_name: str | None,
    allow_host: tuple[str, ...],
    listen_beyond_loopback: bool,
    project_file: Path | None,
    no_project: bool,
    settle_quiet: str | None,
    settle_deadline: str | None,
    locust_args: tuple[str, ...],
) -> None:
    """Load-test an automation with SCENARIO's events in Locust, then judge the invariants.

    Everything after `--` goes to Locust, e.g. `-- --headless -u 200 -r 50 -t 2m`, or
    `-- --master --expect-workers 2 ...` / `-- --worker` for a distributed run.
    """
    from ..engine import RunOptions
    from ..scenario._hazards import resolve_hazards
    from ._commands import _check_report_path, _given
    from ._console import err
    from ._project import check_unread, project_from, target_of

    _check_report_path(report)
    # Given, it wins over the downstreams' own ports (a project's, a scenario file's), as for
    # `harness run`; left out, Locust is not told it, and they are kept.
    given = _given(click.get_current_context(), "downstream")
    address = ["--harness-downstream", downstream] if given else []
    quiet = seconds(settle_quiet, "--settle-quiet")
    deadline = seconds(settle_deadline, "--settle-deadline")
    # What no event shows is told before the recordings are read (seconds for a big export),
    # and a secret the scenario signs with that is not set before Locust's web UI starts.
    unread = project_from(project_file, no_project, read=False)
    target = target_of(target, unread)
    listen = _loopback_listens(locust_args, listen_beyond_loopback)
    options = RunOptions.create(
        target,
        seed=seed,
        downstream=downstream,
        journal=journal,
        target_name=target_name,
        allow_hosts=allow_host,
        settle_quiet=quiet,
        settle_deadline=deadline,
        listen_beyond_loopback=listen_beyond_loopback,
    )
    check_unread(resolve_hazards([scenario], unread, events=False).scenarios, options)
    project = project_from(project_file, no_project)
    # Bad names, files and a hazard that does not apply are reported before Locust starts.
    resolve_hazards([scenario], project).one(scenario, "a load test", "SCENARIO")
    # Seconds, as checked: Locust's process reads them as numbers.
    settle = [
        *(["--harness-settle-quiet", exact(quiet)] if quiet is not None else []),
        *(["--harness-settle-deadline", exact(deadline)] if deadline is not None else []),
    ]
    harness_args = [
        "--host", target,
        "--harness-scenario", scenario,
        "--harness-seed", str(options.seed),
        *address,
        "--harness-journal", str(options.journal),
        *(["--harness-report", str(report)] if report is not None else []),
        *(["--harness-events", str(events)] if events is not None else []),
        *settle,
        *(["--harness-target-name", target_name] if target_name else []),
        *[arg for host in allow_host for arg in ("--harness-allow-host", host)],
        *(["--harness-listen-beyond-loopback"] if listen_beyond_loopback else []),
        *(["--harness-project", project.origin] if project is not None else []),
    ]  # fmt: skip
    reproduce = shlex.join(
        ["harness", "locust", scenario, "--target", target, "--seed", str(options.seed)]
        + (["--events", str(events)] if events is not None else [])
        + [arg.replace("--harness-", "--", 1) for arg in [*address, *settle]]
        + (["--timeline"] if timeline else [])
        + ["--", *locust_args]
    )
    locustfile = _locustfiles() / ("timeline.py" if timeline else "scenario.py")
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), *harness_args]
    command += ["--harness-reproduce", reproduce, *listen, *locust_args]
    err.print(f"seed {options.seed} · journal {options.journal}")
    sys.exit(_run_locust(command))


_LISTENS = ("--web-host", "--master-bind-host")
"""Locust's options for where its web UI and a master listen: every interface by default."""
_UNSHARED = len("--master-bind-h")  # the shortest start of --master-bind-host Locust takes


def _loopback_listens(locust_args: tuple[str, ...], beyond: bool) -> list[str]:
    """Locust's web UI and a master (``--master``) listen on 127.0.0.1 unless the arguments
    after ``--`` name a host: a loopback one, or any with ``--listen-beyond-loopback`` (the
    web UI starts and stops the load, a master hands out the work). The options to add."""
    given: dict[str, str] = {}
    for i, arg in enumerate(locust_args):
        name, equals, value = arg.partition("=")
        # Locust's parser takes an option by any start of its name no other option shares:
        # --master-bind-h (but no start of --web-host: --web-host-display-name shares each).
        if len(name) >= _UNSHARED and "--master-bind-host".startswith(name):
            name = "--master-bind-host"
        if name in _LISTENS:
            if not equals:
                value = locust_args[i + 1] if i + 1 < len(locust_args) else ""
            given[name] = value
    from ..drive._target import require_loopback_listen

    for name, host in given.items():
        if not beyond:
            require_loopback_listen(
                host,
                what=f"Locust ({name})",
                reach="reach it and start or steer the load",
                where="the arguments after --",
                hint="other machines must reach it (a worker on another machine)",
            )
    return [f"{name}=127.0.0.1" for name in _LISTENS if name not in given]


def _locustfiles() -> Path:
    """The adapter's locustfiles: installed as the ``harness_locust`` package, or in a checkout
    at ``plugins/harness_locust``."""
    spec = importlib.util.find_spec("harness_locust")
    if spec is not None and spec.origin:
        folder = Path(spec.origin).parent / "locustfiles"
    else:
        folder = data_dir("plugins") / "harness_locust" / "locustfiles"
    if not folder.is_dir() or importlib.util.find_spec("locust") is None:
        raise InputError(
            "Locust is not installed in this environment",
            hint="pip install 'automation-harness[locust]' (or pip install locust)",
        )
    return folder


class _Process(Protocol):
    def send_signal(self, sig: int, /) -> None: ...
    def wait(self) -> int: ...


def _popen(command: list[str], env: dict[str, str]) -> _Process:
    """How Locust's process starts: a plain child of this one. The seam the test suite
    replaces with Locust forked from a process that has imported it (tests/locust_zygote.py)."""
    return subprocess.Popen(command, env=env)


def _run_locust(command: list[str]) -> int:
    """Run Locust with ``harness`` and ``harness_locust`` importable; its exit code."""
    import harness

    roots = [Path(harness.__file__).resolve().parents[1], _locustfiles().parents[1]]
    inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    path = os.pathsep.join(p for p in dict.fromkeys([*map(str, roots), *inherited]) if p)
    process = _popen(command, {**os.environ, "PYTHONPATH": path})
    # SIGTERM (a CI job cancelled, `kill`) reaches this process alone: passed on, Locust ends
    # the run as on Ctrl-C (aborted, journal kept, exit 3) instead of sending on unwatched.
    previous = signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
    try:
        try:
            code = process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached Locust too: it ends the run (aborted, journal kept) and says how.
            code = process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code < 0:  # killed by a signal: Locust sets no handler of its own until its test runs
        from ._console import error

        try:
            ended = signal.Signals(-code).name
        except ValueError:
            ended = f"signal {-code}"
        error(
            f"Locust was ended by {ended} before it could end the load test: nothing judged; "
            "what it sent, if anything, is in the journal"
        )
        return 3
    return code
