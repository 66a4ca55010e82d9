"""``harness explore SCENARIO --target URL``: search delivery schedules for one that breaks an
invariant, shrink it, write it as a scenario that replays it, and draw it."""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._options import project_options, run_options

if TYPE_CHECKING:
    from ..engine import RunResult


@click.command()
@click.argument("scenario")
@click.option(
    "--target",
    default=None,
    help="URL of the automation's webhook endpoint, or module:attr of an ASGI app; default: "
    "the project's target.",
)
@run_options
@project_options
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Schedules to try, each one short run (Hypothesis's max_examples).",
)
@click.option(
    "--budget",
    metavar="SECONDS",
    default=None,
    help="Start no new example after this long (or 90s, 5m); a failure found is still shrunk.",
)
@click.option(
    "--events",
    "pool",
    type=click.IntRange(min=1),
    default=None,
    help="The source's first N events that schedules are drawn from (default: 4, or as many "
    "as hold two events of one record, up to 16).",
)
@click.option(
    "--max-deliveries",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Deliveries per schedule, at most.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="MODE",
    help="Let schedules open fault windows of this mode on the downstreams (repeatable): "
    "status, throttle, timeout, reset, slow, commit-then-fail, fail-first-n.",
)
@click.option("--tamper", is_flag=True, help="Let schedules forge, unsign or age signatures.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the minimal scenario (default: .harness/explore/<name>-minimal.yaml).",
)
@click.option(
    "--database",
    type=click.Path(path_type=Path),
    default=Path(".harness") / "explore-db",
    show_default=True,
    help="Hypothesis's example database: failures found are tried first next time.",
)
@click.option("--no-database", is_flag=True, help="Neither read nor write the example database.")
@click.option(
    "--settle-quiet",
    metavar="SECONDS",
    default=None,
    help="Real seconds of quiet that end each example's run (default 0.5 s; raise it for a "
    "target that works on in the background).",
)
def explore(
    scenario: str,
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
    max_examples: int,
    budget: str | None,
    pool: int | None,
    max_deliveries: int,
    faults: tuple[str, ...],
    tamper: bool,
    out: Path | None,
    database: Path,
    no_database: bool,
    settle_quiet: str | None,
) -> None:
    """Search delivery schedules of SCENARIO for one that breaks its invariants; shrink it to a
    minimal one, write it as a scenario file that replays it, and draw it. Exit 1 when one was
    found, 0 when none (docs/explore.md)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    from ..core._errors import InputError
    from ..core._model import Status
    from ..core._scenario import FAULT_MODES
    from ..engine import RunOptions
    from ..explore import ExploreSettings, failure_lines, write_minimal
    from ..explore import explore_schedules as search
    from ..invariants._facts import plural
    from ..scenario._hazards import resolve_hazards
    from ..scenario._project import without_own_ports
    from ._commands import _check_report_path, _given
    from ._options import seconds
    from ._project import check_unread, project_from, scenario_names, target_of

    for mode in faults:
        if mode not in FAULT_MODES:
            raise InputError(
                f"fault mode {mode!r} is not one of {', '.join(FAULT_MODES)}",
                where="--fault",
                hint="e.g. --fault status --fault timeout",
            )
    spent = seconds(budget, "--budget")
    quiet = seconds(settle_quiet, "--settle-quiet")
    _check_report_path(report)
    # What no event shows is told before the recordings are read (seconds for a big export).
    unread = project_from(project_file, no_project, read=False)
    names = scenario_names((scenario,), unread)
    target_ref = target_of(target, unread)
    options = RunOptions.create(
        target_ref,
        seed=seed,
        downstream=downstream,
        journal=journal,
        target_name=target_name,
        allow_hosts=allow_host,
        settle_quiet=quiet,
        listen_beyond_loopback=listen_beyond_loopback,
    )
    check_unread(resolve_hazards(names, unread, events=False).scenarios, options)
    project = project_from(project_file, no_project)
    hazards = resolve_hazards(names, project)
    if len(hazards.scenarios) != 1:
        raise InputError(
            f"{scenario!r} names {len(hazards.scenarios)} scenarios; explore takes one",
            where="harness explore",
            hint="name one scenario file or built-in scenario, not a suite",
        )
    # As `harness run`: a --downstream given, not the downstreams' own ports, says where the
    # doubles listen (the search listened on the project's, the reproduce line named another).
    given_downstream = _given(click.get_current_context(), "downstream")
    (chosen,) = without_own_ports(hazards.scenarios, given_downstream)
    if chosen.restarts:
        raise InputError(
            f"{chosen.name!r} restarts the target mid-run (restarts:); explore searches "
            "delivery schedules and does not restart it",
            where="harness explore",
            hint=f"run it with `harness run {chosen.name}`",
        )
    if chosen.reset is None and project is not None and project.reset is not None:
        chosen = replace(chosen, reset=project.reset)
    how = ExploreSettings(
        max_examples=max_examples,
        budget=spent,
        seed=seed,
        database=None if no_database else database,
        pool=pool,
        max_deliveries=max_deliveries,
        faults=faults,
        tamper=tamper,
    )
    from ._console import err
    from ._console import out as stdout

    # Hypothesis's own cache (not the example database) under .harness, not .hypothesis.
    set_hypothesis_home_dir(str(Path(".harness") / "hypothesis"))
    err.print(f"seed {options.seed} · exploring {chosen.name} against {options.target_name}")

    def progress(n: int, exploration: object, result: RunResult) -> None:
        failed = [v.invariant for v in result.verdicts if v.status is Status.FAIL]
        said = "fails " + ", ".join(failed) if failed else "holds"
        err.print(f"  example {n}: {exploration!r} — {said}", markup=False)

    found = search(chosen, options, how, on_example=progress)
    if found.found is None:
        drawn = f"the first {plural(found.pool, 'event')}, about {plural(found.records, 'record')}"
        if found.paired:
            drawn += f" ({found.paired:,} with more than one event)"
        stdout.print(
            f"{found.examples} examples in {found.seconds:.1f} s, drawn from {drawn}: no "
            f"schedule of {chosen.name} broke an invariant",
            markup=False,
        )
        if found.records == found.pool > 1:
            # No record's events together: an order, a race or a lost update between them
            # was never put to the target, which is no evidence that it holds.
            stdout.print(
                "  note: each of these events is about a record of its own, so no schedule "
                "sent two events of one record, out of order or at once; to search those, "
                "raise --events until two of the source's first events share a record",
                markup=False,
            )
        if report is not None:
            err.print(
                f"no report written to {report}: the report is of the minimal failing run, and "
                "no schedule failed",
                markup=False,
            )
        return
    minimal = found.found
    path = write_minimal(
        chosen,
        minimal.exploration,
        out or Path(".harness") / "explore" / f"{chosen.name}-minimal.yaml",
        project,
    )
    stdout.print(
        f"{found.examples} examples in {found.seconds:.1f} s: {chosen.name} fails "
        f"{', '.join(minimal.failed)} under this minimal schedule:",
        markup=False,
    )
    for line in failure_lines(minimal.result):
        stdout.print(line, markup=False)
    if minimal.flaky:
        stdout.print(
            "  note: this schedule failed once and then held when Hypothesis replayed it — a "
            "race narrower than the schedule pins; rerun the scenario a few times",
            markup=False,
        )
    stdout.print(
        f"minimal scenario written to {path}; its run's journal: {minimal.journal}", markup=False
    )
    # The written file keeps its downstreams' own ports: --downstream only where one has none
    # (a default 9100 said beside a file that listens elsewhere misled).
    where = [] if all(d.port for d in chosen.downstreams) else ["--downstream", downstream]
    reproduce = ["harness", "run", str(path), "--target", target_ref, *where]
    reproduce += ["--seed", str(options.seed)]
    stdout.print("reproduce: " + shlex.join(reproduce), markup=False)
    if report is not None:
        from ..report.json import write_report

        write_report(report, [(minimal.result.history, minimal.result.verdicts)], minimal.journal)
        err.print(f"report written to {report}")
    sys.exit(1)
