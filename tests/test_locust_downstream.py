"""Where ``harness locust``'s doubles listen: a ``--downstream`` given wins over a project's own
downstream ports, as for ``harness run`` and ``harness explore``; not given, the project's own
ports are used (docs/cli.md). Real Locust against the fragile demo automation, which calls its
downstream once per webhook: a double listening elsewhere than it calls records no effect.

It kept the project's ports whatever ``--downstream`` said: the plugin could not tell the
default address from one given, as ``harness locust`` always passed ``--harness-downstream``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from harness.cli._processes import free_port

from .conftest import Automation, harness
from .test_locust import forked_locust  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("forked_locust")]

HEADLESS = ("--headless", "--only-summary", "--loglevel", "WARNING")


def project_listening_on(tmp: Path, port: int) -> None:
    """A project whose one downstream, ``api``, has its own ``port``."""
    (tmp / "harness.yaml").write_text(f"downstreams:\n  - name: api\n    port: {port}\n")


def load_test(automation: Automation, tmp: Path, *args: str) -> dict[str, Any]:
    """``harness locust`` of 12 events in the project of ``tmp``; the report's run."""
    done = harness(
        "locust", "bulk-import-burst", "--target", automation.hook, "--events", "12",
        "--seed", "5", "--journal", str(tmp / "run.db"), "--report", str(tmp / "report.json"),
        *args, "--", *HEADLESS, "-u", "4", "-r", "4", "-t", "40s", cwd=tmp,
    )  # fmt: skip
    (run,) = json.loads((tmp / "report.json").read_text())["runs"]
    assert run["counts"]["deliveries"] == 12, done.out + done.err
    run["said"] = done.out + done.err
    return dict(run)


def test_a_downstream_given_wins_over_the_projects_own_port(
    fragile: Automation, tmp_path: Path
) -> None:
    project_listening_on(tmp_path, free_port())  # where the automation never calls
    run = load_test(fragile, tmp_path, "--downstream", f"127.0.0.1:{fragile.downstream_port}")
    # Heard where the automation calls: an effect a delivery (the project's port heard none).
    assert run["counts"]["effects"] == 12, run["said"]
    reproduce = shlex.split(run["reproduce"])
    assert reproduce[reproduce.index("--downstream") + 1] == f"127.0.0.1:{fragile.downstream_port}"


def test_without_a_downstream_given_the_projects_own_port_is_used(
    fragile: Automation, tmp_path: Path
) -> None:
    project_listening_on(tmp_path, fragile.downstream_port)
    run = load_test(fragile, tmp_path)
    assert run["counts"]["effects"] == 12, run["said"]
    # Rerun as printed, it must listen where this run did: a `--downstream 127.0.0.1:9100`
    # there would now win over the project's port.
    assert "--downstream" not in shlex.split(run["reproduce"]), run["reproduce"]
