"""The ``harness`` command. Exit codes: 0 every invariant holds, 1 an invariant failed,
2 bad input or usage, 3 the run could not be completed (target unreachable, aborted)."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..core._errors import HarnessError, InputError, RunAborted
from ._exits import EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from ._explore import explore as explore_command
from ._export import export as export_command
from ._init import init as init_command
from ._inspect import inspect as inspect_command
from ._locust import locust as locust_command
from ._options import (
    for_option,
    listen_option,
    project_options,
    run_options,
    seconds,
    settle_options,
    stop_after,
)
from ._record import record as record_command
from ._report import report as report_command
from ._show import show as show_command

if TYPE_CHECKING:
    from ..core._scenario import Scenario
    from ..history import History

F = TypeVar("F", bound=Callable[..., Any])

_TIME_SCALE_HELP = (
    "Run seconds per scenario second, e.g. 0.02: a 4 min outage runs in 4.8 s. Compresses "
    "schedules and fault windows; not the delivery timeout, nor settle times below 1 s of "
    "quiet and 20 s of deadline (default: the scenario's time_scale, else 1)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="automation-harness")
def cli() -> None:
    """Prove an event-driven automation holds: replay perturbed events, record its effects on
    its downstreams, and judge idempotency and ordering invariants over the history."""


cli.add_command(report_command)
cli.add_command(locust_command)
cli.add_command(export_command)
cli.add_command(init_command)
cli.add_command(show_command)
cli.add_command(record_command)
cli.add_command(inspect_command)
cli.add_command(explore_command)


@cli.command()
@click.argument("scenarios", nargs=-1)
@click.option(
    "--target",
    default=None,
    help="URL of the automation's webhook endpoint, or module:attr of an ASGI app (module:attr/"
    "path to drive it at a path); default: the project's target.",
)
@run_options
@project_options
@click.option(
    "--events",
    multiple=True,
    metavar="FILE|NAME",
    help="The events the built-in hazards send (repeatable): a JSON example payload, a "
    "recorded file (.jsonl, a provider's export, a HAR, a capture), or a library payload like "
    "stripe:checkout.session.completed.",
)
@click.option(
    "--provider",
    default=None,
    help="The provider whose signing (and retry storm) the built-in hazards use, e.g. stripe.",
)
@click.option(
    "--secret-env",
    default=None,
    metavar="VAR",
    help="The environment variable holding the signing secret, e.g. STRIPE_WEBHOOK_SECRET.",
)
@click.option("--time-scale", type=float, default=None, help=_TIME_SCALE_HELP)
@settle_options
@click.option(
    "--no-baseline",
    is_flag=True,
    help="Never drive a clean run first (for a target that cannot take a second run): loss is "
    "then judged by the declared expect:, else by any effect.",
)
@click.option(
    "--target-pid",
    type=int,
    default=None,
    metavar="PID",
    help="Sample the target process's memory (RSS, /proc/PID/status) during each run; the "
    "report shows it per month of a year.",
)
@click.option(
    "--metrics-url",
    default=None,
    metavar="URL",
    help="Sample the target's memory from its Prometheus metrics on loopback "
    "(process_resident_memory_bytes) during each run.",
)
@click.option(
    "--sample-every",
    metavar="SECONDS",
    default=None,
    help="Real seconds between memory samples (default 1).",
)
@click.option(
    "--events-per-day",
    type=int,
    default=None,
    metavar="N",
    help="A year (`harness run year`): the events of an average day (default: its calendar's).",
)
@click.option(
    "--months",
    type=int,
    default=None,
    metavar="M",
    help="A year: how many months to run, from its calendar's start (default: its calendar's).",
)
@click.option(
    "--day-seconds",
    type=float,
    default=None,
    metavar="S",
    help="A year: wall seconds one calendar day takes (default: chosen from the volume, "
    "docs/year.md).",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    metavar="JOURNAL",
    help="A year: go on with the journal of an earlier run of it; its complete months are not "
    "run again.",
)
def run(
    scenarios: tuple[str, ...],
    target: str | None,
    target_name: str | None,
    downstream: str,
    seed: int | None,
    report: Path | None,
    journal: Path | None,
    allow_host: tuple[str, ...],
    listen_beyond_loopback: bool,
    project_file: Path | None,
    no_project: bool,
    events: tuple[str, ...],
    provider: str | None,
    secret_env: str | None,
    time_scale: float | None,
    settle_quiet: str | None,
    settle_deadline: str | None,
    no_baseline: bool,
    target_pid: int | None,
    metrics_url: str | None,
    sample_every: str | None,
    events_per_day: int | None,
    months: int | None,
    day_seconds: float | None,
    resume: Path | None,
) -> None:
    """Run SCENARIOS (built-in names, suites or .yaml files) against an automation; without
    SCENARIOS, the hazards of the project file (harness.yaml). `harness run year` runs a year
    of months (docs/year.md)."""
    from dataclasses import replace

    from ..drive._formats._shared import shared_reads
    from ..engine import RunOptions, without_baseline
    from ..scenario._hazards import resolve_hazards
    from ..scenario._project import without_own_ports
    from ._project import check_unread, project_from, scenario_names, target_of

    # An export read whole is parsed once: for the project, the hazards and the runs' prepares.
    click.get_current_context().with_resource(shared_reads())
    quiet = seconds(settle_quiet, "--settle-quiet")
    deadline = seconds(settle_deadline, "--settle-deadline")
    _check_report_path(report)
    given_downstream = _given(click.get_current_context(), "downstream")

    def project(read: bool) -> Any:
        return project_from(
            project_file,
            no_project,
            provider=provider,
            secret_env=secret_env,
            events=events,
            target=target,
            read=read,
        )

    # What no event shows is told before the recordings are read (seconds for a big export).
    unread = project(read=False)
    names = scenario_names(scenarios, unread)
    options = RunOptions.create(
        target_of(target, unread),
        seed=seed,
        downstream=downstream,
        journal=journal,
        target_name=target_name,
        allow_hosts=allow_host,
        time_scale=time_scale,
        settle_quiet=quiet,
        settle_deadline=deadline,
        listen_beyond_loopback=listen_beyond_loopback,
        target_pid=target_pid,
        metrics_url=metrics_url,
        sample_every=seconds(sample_every, "--sample-every"),
    )
    year_flags: dict[str, object] = {"--events-per-day": events_per_day, "--months": months}
    year_flags |= {"--day-seconds": day_seconds, "--resume": resume}
    unread_scenarios = resolve_hazards(names, unread, events=False).scenarios
    year = _year_of(
        unread_scenarios,
        [flag for flag, value in year_flags.items() if value is not None],
        time_scale=time_scale is not None,
        journal=journal is not None,
    )
    if year is not None:
        from ._year import calendar_for, resuming

        calendar = calendar_for(year, events_per_day, months, day_seconds)
        options, state = resuming(resume, year.name, options)
    check_unread(unread_scenarios, options)
    hazards = resolve_hazards(names, project(read=True))
    resolved = without_own_ports(hazards.scenarios, given_downstream)
    if no_baseline:
        resolved = without_baseline(resolved, "--no-baseline")
    years = [s for s in resolved if s.calendar is not None]
    if year is not None and years:  # a year the project's events left standing
        from ._year import drive_year

        if len(years) > 1:
            raise InputError(
                f"the project has {len(years)} event sources; a year runs over one",
                where="events",
                hint="keep one source in the project's events: (or give --events once), or "
                "run a scenario file with a calendar: block",
            )
        skipped = hazards.skipped
        _exit(
            drive_year(years[0], calendar, options, report=report, skipped=skipped, resumed=state)
        )
    untried = tuple((s.name, s.reason) for s in hazards.skipped if s.not_tried)
    options = replace(options, not_tried=untried)
    _exit(_drive_and_report(resolved, options, report, hazards.skipped))


def _year_of(
    scenarios: Sequence[Scenario], given: Sequence[str], *, time_scale: bool, journal: bool
) -> Scenario | None:
    """The year among the scenarios named (known before their events: ``resolve_hazards(...,
    events=False)``), or None; InputError for the flags of ``harness run`` that contradict
    them: a year's flags without a year, a year beside other scenarios, --time-scale for a
    year, --resume with --journal."""
    years = [s for s in scenarios if s.calendar is not None]
    if not years:
        if given:
            raise InputError(
                f"{given[0]} is for a year, and no scenario named has a calendar",
                where=given[0],
                hint="run `harness run year`, or a scenario file with a calendar: block",
            )
        return None
    if time_scale:
        raise InputError(
            "--time-scale does not pace a year: its days do",
            where="--time-scale",
            hint="give --day-seconds, the wall seconds one calendar day takes",
        )
    if len(scenarios) > 1:
        raise InputError(
            f"{years[0].name!r} is a year and runs alone; {len(scenarios) - 1} other "
            "scenarios were named with it",
            where="SCENARIOS",
            hint=f"run `harness run {years[0].name}` on its own",
        )
    if "--resume" in given and journal:
        raise InputError(
            "--resume names the journal the year goes on in; --journal another",
            where="--journal",
            hint="leave --journal out when resuming",
        )
    return years[0]


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user gave option ``name`` (not its default)."""
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def _check_report_path(report: Path | None) -> None:
    """A report the writers cannot handle, or cannot write where it is named, is bad input:
    say so before the run, not after it."""
    if report is not None:
        from ..report._writers import check_report_path

        check_report_path(report)


def _drive_and_report(
    scenarios: Sequence[Any], options: Any, report: Path | None, skipped: Sequence[Any] = ()
) -> int:
    from dataclasses import replace

    from rich.markup import escape

    from ..engine import run_scenarios
    from ..engine._gone import TargetGone
    from ..engine._restarts import RestartFailed
    from ..report.json import write_report
    from ._console import err, print_skipped, print_verdicts
    from ._exits import judged_exit, notes
    from ._job_summary import append_runs
    from ._progress import ProgressView

    options = replace(options, listeners=(*options.listeners, ProgressView()))
    err.print(f"seed {options.seed} · journal {options.journal}")
    print_skipped(skipped)
    gone, results = None, []
    try:
        if scenarios:
            results = _run_async(run_scenarios(scenarios, options), options.journal)
    except (TargetGone, RestartFailed) as stopped:  # the runs judged are reported, then it
        results, gone = stopped.results, stopped
    runs = [(r.history, r.verdicts) for r in results]
    if runs or gone is None:  # a run stopped before any was judged: its error alone
        print_verdicts(runs, skipped=skipped)
    if report is not None:
        write_report(report, runs, options.journal, skipped=skipped)
        err.print(f"report written to {report}")
    append_runs(runs, options.journal)
    for line in notes([h for h, _ in runs]):
        err.print(f"[yellow]{escape(line)}[/]")
    if gone is not None:
        raise gone
    return judged_exit(runs)


def _run_async(coro: Any, journal: Path) -> Any:
    import asyncio

    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        raise RunAborted(
            f"interrupted; what was recorded is kept in {journal}\n"
            f"  hint: judge it with `harness check {journal}`"
        ) from None


@cli.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a report; the format follows the extension: .html, .md, .json, .xml (JUnit).",
)
def check(journal: Path, report: Path | None) -> None:
    """Re-judge a stored run offline, without touching the target."""
    from ..core import _gc

    _check_report_path(report)
    # No collection while the runs are read, judged and reported: their millions of objects all
    # live on, and each collection would walk them again (a tenth of a 1M-delivery check's
    # time). Nothing else is left to do with them once the verdicts are out: a process of its
    # own leaves freeing them to the OS (half a second for 1M deliveries); else they are freed
    # when _checked's answer is dropped, before the collector runs again.
    with _gc.paused():
        code, histories = _checked(journal, report)
        if _own_process():
            _exit_now(code)
        del histories
    _exit(code)


def _checked(journal: Path, report: Path | None) -> tuple[int, list[History]]:
    """``harness check``'s work: the exit code of its verdicts, and the runs it judged."""
    from rich.markup import escape

    from ..core._scenario import not_tried_in
    from ..history import load_all
    from ..invariants import judge
    from ..report.json import write_report
    from ._console import err, print_verdicts
    from ._exits import judged_exit, notes
    from ._job_summary import append_runs

    histories = load_all(journal)
    if not histories:
        raise HarnessError(f"{journal}: the journal holds no run")
    runs = [(h, judge(h)) for h in histories]
    # The hazards the runs' invocation did not try: said again, never read as held.
    untried = not_tried_in(h.info.settings for h in histories)
    print_verdicts(runs, skipped=untried)
    if report is not None:
        write_report(report, runs, journal, skipped=untried)
    append_runs(runs, journal)
    for line in notes(histories):
        err.print(f"[yellow]{escape(line)}[/]")
    return judged_exit(runs), histories


@cli.command()
def scenarios() -> None:
    """List the built-in scenarios and suites, one line each."""
    from ..scenario._load import builtin_catalogue
    from ._console import out

    for name, kind, description in builtin_catalogue():
        tag = f" ({kind})" if kind != "scenario" else ""
        out.print(f"[bold]{name}[/]{tag}  {description}")


@cli.command()
@click.option(
    "--listen", default="127.0.0.1:9100", show_default=True, help="HOST:PORT to listen on."
)
@click.option("--scenario", default=None, help="Answer with the stub routes of this scenario.")
@for_option
@listen_option
def downstream(
    listen: str, scenario: str | None, duration: str | None, listen_beyond_loopback: bool
) -> None:
    """Run the downstream double alone and print every call it records."""
    import asyncio

    from ._downstream import serve

    limit = stop_after(duration, "leave it out to run until Ctrl-C")
    try:
        _exit(asyncio.run(serve(listen, scenario, limit, listen_beyond_loopback)))
    except KeyboardInterrupt:
        _exit(EXIT_OK)  # Ctrl-C is how a standalone double is meant to stop


@cli.command()
@click.argument("body", type=click.File("rb", lazy=True), default="-")
@click.option("--provider", "provider_name", required=True, help="A provider profile.")
@click.option("--secret", required=True, help="The signing secret.")
@click.option("--id", "msg_id", default="msg_harness", show_default=True, help="Delivery id.")
@click.option("--timestamp", type=int, default=None, help="Unix seconds (default: now).")
@click.option("--type", "event_type", default="", help="Event type, for providers that send it.")
@click.option("--url", default="", help="The receiver's URL (HubSpot signs it).")
@click.option("--header", default="X-Signature", show_default=True, help="Generic hmac header.")
@click.option(
    "--next-secret",
    default=None,
    help="Sign with this secret too, as during a rotation's overlap (stripe, standard-webhooks).",
)
def sign(
    body: Any,
    provider_name: str,
    secret: str,
    msg_id: str,
    timestamp: int | None,
    event_type: str,
    url: str,
    header: str,
    next_secret: str | None,
) -> None:
    """Print the headers a provider would send with BODY (a file, or - for stdin)."""
    import time

    from ..core._providers import provider
    from ..core._signing import Rotation, Signer, check_rotation
    from ._console import out

    with body:  # closed on a refusal too, not left to the garbage collector
        data = body.read()
    if not secret:
        raise InputError(
            "--secret is empty: a signature made with an empty secret verifies nothing",
            where="--secret",
            hint='pass the secret the receiver verifies with, e.g. --secret "$HARNESS_SECRET"',
        )
    scheme = provider(provider_name).scheme
    rotation = None
    if next_secret is not None:
        why = check_rotation(scheme, math.inf) if next_secret else "the next secret is empty"
        if why is not None:
            raise InputError(
                f"--next-secret is not allowed — {why}",
                where="--next-secret",
                hint="sign with each secret alone instead (two runs of harness sign)",
            )
        rotation = Rotation(next_secret, 0.0, math.inf)  # both secrets sign
    stamp = timestamp if timestamp is not None else int(time.time())
    signer = Signer(scheme, secret, header, rotation)
    signer.check(where="--secret" if next_secret is None else "--secret, --next-secret")
    headers = signer.headers(data, msg_id, stamp, event_type=event_type, url=url)
    for name, value in headers.items():
        out.print(f"{name}: {value}", markup=False, highlight=False)


@cli.command()
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    default=Path("harness-demo/report.json"),
    show_default=True,
    help="Where to write the JSON report.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the schedules.")
@click.option("--time-scale", type=float, default=None, help=_TIME_SCALE_HELP)
def demo(report: Path, seed: int, time_scale: float | None) -> None:
    """Run the standard suite against a fragile and a sound sample automation."""
    from ..engine import check_time_scale
    from ._demo import run_demo

    if time_scale is not None:
        check_time_scale(time_scale, "--time-scale")
    _exit(run_demo(report, seed, time_scale))


def _exit(code: int) -> None:
    sys.exit(code)


def _own_process() -> bool:
    """Whether this invocation is its process's command (``main()`` without arguments, as
    the ``harness`` script and ``python -m harness`` call it), not a call of a process that
    goes on after it (a test's ``main(args)``)."""
    invocation = click.get_current_context().find_root().obj
    return isinstance(invocation, _Invocation) and invocation.own_process


def _exit_now(code: int) -> None:
    """End the process with ``code`` at once, once what it printed is written: what it holds
    is the OS's to free, not the interpreter's, object by object. Only for a command whose
    work is done and written (files closed), in a process of its own with no thread, child or
    exit handler of its own. A stream that cannot take the rest of the output (a closed
    pipe) ends the process as Python's own exit does."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # the interpreter's exit says so, as without this
    os._exit(code)


class _Invocation:
    """What ``main`` tells the commands about how it was called (click's ``obj``)."""

    def __init__(self, own_process: bool) -> None:
        self.own_process = own_process


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: map HarnessError to its exit code with one clear message, no traceback."""
    from ._console import begin, error, stderr

    begin()
    # SIGTERM (a CI job cancelled, `kill`) ends a run as Ctrl-C does: aborted, journal kept,
    # exit 3 with a message, instead of dying silently mid-write.
    # The process's until it exits (not restored: a SIGTERM after the outcome is decided
    # would otherwise kill it, exit -15 for 3); in-process callers restore them (tests).
    signal.signal(signal.SIGTERM, _interrupt)
    # Started with SIGINT ignored (a background job of a non-interactive shell, nohup, some CI
    # runners), SIGTERM's SIGINT would be ignored too: Python's own handler back, so that
    # asyncio's graceful one is installed over it and either signal ends a run cleanly.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli.main(
            args=argv, prog_name="harness", standalone_mode=False, obj=_Invocation(argv is None)
        )
    except click.exceptions.Abort:
        _ending()
        error("aborted")
        sys.exit(EXIT_INCOMPLETE)
    except click.ClickException as exc:
        _ending()
        exc.show(file=stderr)  # redacted, as every line printed
        sys.exit(EXIT_USAGE)
    except HarnessError as exc:
        _ending()
        error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _ending()
        error("interrupted")
        sys.exit(EXIT_INCOMPLETE)
    except Exception:  # a bug of ours: one line for the user, the traceback in a file
        _ending()
        crash = _write_crash_file()
        error(
            f"internal error in harness (a bug, not your input); the traceback is in {crash}\n"
            "  hint: please report it with that file"
        )
        sys.exit(EXIT_INTERNAL)


def _ending() -> None:
    """Ending with a message and an exit code: a second Ctrl-C or SIGTERM (a `timeout` and a
    `kill` both) would otherwise interrupt the message with a traceback. Ignored from here on;
    and what a run cut short by a second Ctrl-C leaves behind (a coroutine never finished, a
    task destroyed pending) is not printed as if it were news: the message says what happened."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.unraisablehook = _unraisable_ignored
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def _unraisable_ignored(_: object) -> None:
    pass


def _write_crash_file() -> str:
    """The current exception's traceback in a new file under the temp folder; its path."""
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile(
        "w", prefix="harness-crash-", suffix=".txt", delete=False, encoding="utf-8"
    ) as f:
        traceback.print_exc(file=f)
    return f.name


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM: a Ctrl-C, once. Further SIGTERMs (a runner signalling every second, `timeout`
    and `kill` both) are ignored while the run ends as on the first: a second Ctrl-C would make
    asyncio drop the run's cleanup half-way. The run is ending from here: what asyncio's
    shutdown logs of the run cut short (the main task's RunAborted, when it ends while the
    other tasks are cancelled) is not printed with a traceback, as in ``_ending``."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    signal.raise_signal(signal.SIGINT)
