"""Options that several commands share (``run``, ``locust``), defined once so they read alike."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..core._errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


listen_option = click.option(
    "--listen-beyond-loopback",
    is_flag=True,
    default=False,
    help="Let the downstream double listen on a non-loopback address (e.g. 0.0.0.0, for a "
    "staging target on another machine): anyone who can reach it can send it effects.",
)


def run_options(command: F) -> F:
    """--target-name, --downstream, --seed, --report, --journal, --allow-host and
    --listen-beyond-loopback."""
    for option in reversed(
        (
            click.option(
                "--target-name",
                default=None,
                help="A label for the target in reports (default: host:port).",
            ),
            click.option(
                "--downstream",
                default="127.0.0.1:9100",
                show_default=True,
                help="HOST:PORT where the downstream double listens; point the automation's "
                "API base URL here.",
            ),
            click.option(
                "--seed", type=int, default=None, help="Seed of the schedule (default: random)."
            ),
            click.option(
                "--report",
                type=click.Path(path_type=Path),
                default=None,
                help="Write a report; the extension picks the format: .html, .md, .json, "
                ".xml (JUnit).",
            ),
            click.option(
                "--journal",
                type=click.Path(path_type=Path),
                default=None,
                help="SQLite journal of the run (default: harness-runs/<time>.db).",
            ),
            click.option(
                "--allow-host",
                multiple=True,
                help="A non-loopback target host you own (repeatable).",
            ),
            listen_option,
        )
    ):
        command = option(command)
    return command


def settle_options(command: F) -> F:
    """--settle-quiet and --settle-deadline: real seconds that replace every scenario's settle
    (``run``, ``locust``); the command reads them with ``seconds``."""
    for option in reversed(
        (
            click.option(
                "--settle-quiet",
                metavar="SECONDS",
                default=None,
                help="Real seconds without a call from the target that end a run (or 500ms, "
                "3s, 2m), replacing every scenario's settle.quiet; not time-scaled. Raise it "
                "when events are called lost but their effects come late "
                "(docs/troubleshooting.md).",
            ),
            click.option(
                "--settle-deadline",
                metavar="SECONDS",
                default=None,
                help="Real seconds a run waits at most for the target to finish (or 500ms, 3s, "
                "2m), replacing every scenario's settle.deadline; not time-scaled.",
            ),
        )
    ):
        command = option(command)
    return command


def project_options(command: F) -> F:
    """--project and --no-project: which harness.yaml the command reads (docs/project.md)."""
    for option in reversed(
        (
            click.option(
                "--project",
                "project_file",
                type=click.Path(path_type=Path),
                default=None,
                help="The project file (default: harness.yaml in the current directory, if any).",
            ),
            click.option(
                "--no-project",
                is_flag=True,
                help="Ignore harness.yaml: run the scenarios as written.",
            ),
        )
    ):
        command = option(command)
    return command


for_option = click.option(
    "--for",
    "duration",
    default=None,
    metavar="DURATION",
    help="Stop after this long: seconds, or 90s, 10m, 2h.",
)


def seconds(text: str | None, flag: str) -> float | None:
    """A duration flag's value in seconds (``5``, ``500ms``, ``3s``, ``2m``), as scenario files
    write durations; the command then checks it is usable."""
    if text is None:
        return None
    from ..scenario._values import DURATION_FORMS, parse_duration

    try:
        found: float | None = float(text)
    except ValueError:
        found = parse_duration(text)
    if found is None:
        raise InputError(
            f"{text!r} is not a duration", where=flag, hint=f"write {DURATION_FORMS}, e.g. 5"
        )
    return found


def stop_after(text: str | None, otherwise: str) -> float | None:
    """``--for``'s seconds, refused unless finite and above 0; None: no limit (``otherwise``
    says what leaving it out does)."""
    found = seconds(text, "--for")
    if found is not None and not (math.isfinite(found) and found > 0):
        raise InputError(
            f"--for {text!r} is not a usable duration",
            where="--for",
            hint=f"give a duration > 0, e.g. --for 60 or --for 10m, or {otherwise}",
        )
    return found
