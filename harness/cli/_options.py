"""Options that several commands share (``run``, ``locust``), defined once so they read alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

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
