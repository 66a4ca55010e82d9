"""The project a command runs in: ``harness.yaml`` (found in the current directory, or named
by ``--project``; ignored with ``--no-project``) with what the flags give in place of its own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core._errors import InputError
from ..core._files import not_a_file
from ..scenario._project import PROJECT_FILE, Project, find_project, load_project, with_flags

if TYPE_CHECKING:
    from ..core._scenario import Scenario
    from ..engine import RunOptions


def project_from(
    path: Path | None,
    no_project: bool,
    *,
    provider: str | None = None,
    secret_env: str | None = None,
    events: Sequence[str] = (),
    target: str | None = None,
    read: bool = True,
) -> Project | None:
    """The project of this invocation, or None. ``target``: --target, whose path picks a HAR's
    deliveries in ``events``; ``read=False``: no events read, neither
    the project's nor ``events`` (what is checked before them: ``check_unread``). Raises
    ScenarioError (file:line) for a bad project file and InputError for bad flags, before
    anything is sent."""
    if path is not None and no_project:
        raise InputError(
            "--project and --no-project contradict each other",
            where="--no-project",
            hint="give one of them",
        )
    why = None if path is None else not_a_file(path)
    if path is not None and why is not None:
        inside = f" (in it: {path / PROJECT_FILE})" if path.is_dir() else ""
        raise InputError(
            f"no project file {str(path)!r}"
            if not path.exists()
            else f"{str(path)!r} {why}, not a project file",
            where="--project",
            hint=f"give the path of a {PROJECT_FILE}{inside}, or leave --project out to use "
            "the one in the current directory",
        )
    found = None if no_project else (path or find_project())
    project = load_project(found, events=read) if found is not None else None
    return with_flags(
        project,
        provider=provider,
        secret_env=secret_env,
        events=events,
        target=target,
        read=read,
    )


def check_unread(scenarios: Sequence[Scenario], options: RunOptions) -> None:
    """The bad input no event shows, told before any recording is read (a 60 MB export takes
    seconds to parse): the journal's path, and for each scenario, as known before its events
    (``resolve_hazards(..., events=False)`` of a project read without them), the secrets its
    signing reads and the hosts it reaches (``engine.check_unread``)."""
    from ..engine import check_unread as check_scenario
    from ..history import check_journal_path

    check_journal_path(options.journal)
    for scenario in scenarios:
        check_scenario(scenario, options)


def target_of(target: str | None, project: Project | None) -> str:
    """``--target``, else the project's target; InputError when neither gives one."""
    chosen = target or (project.target if project is not None else None)
    if chosen is None:
        raise InputError(
            "no target: nothing says where the automation listens",
            where="--target",
            hint="pass --target http://127.0.0.1:8000/hooks/orders, or set target: in "
            + PROJECT_FILE,
        )
    return chosen


def scenario_names(names: Sequence[str], project: Project | None) -> tuple[str, ...]:
    """The scenarios named, else the project's hazards; InputError when neither names any."""
    if names:
        return tuple(names)
    if project is not None:
        return project.hazards
    raise InputError(
        "no scenario named",
        where="SCENARIOS",
        hint=f"name built-in scenarios or suites (`harness scenarios` lists them), e.g. "
        f"`harness run standard`, or run in a folder with a {PROJECT_FILE}",
    )
