"""Options that several commands share (``run``, ``locust``), defined once so they read alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def run_options(command: F) -> F:
    """--target-name, --downstream, --seed, --report, --journal and --allow-host."""
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
        )
    ):
        command = option(command)
    return command
