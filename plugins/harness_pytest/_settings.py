"""The session's settings, read once from flags and ini keys and checked before anything runs.

Only the standard library here: pytest loads this plugin in every project where harness is
installed, so reading settings must not import the engine.
"""

from __future__ import annotations

import fnmatch
import math
import os
import random
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from harness.core._flag_text import exact

from . import _options

if TYPE_CHECKING:
    from harness import Project

DEFAULT_DOWNSTREAM = "127.0.0.1:9100"
DEFAULT_GLOBS = ("*.scenario.yaml",)
# Under pytest-xdist, worker gwN's in-process runs listen on base + STRIDE * (N + 1): room for
# scenarios with several downstreams (they take the ports after the first one).
WORKER_PORT_STRIDE = 10

_ADDRESS = re.compile(r"^(?:(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]\s/]*):)?(?P<port>\d{1,5})$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$")
# Decimal, rounded to a float once, as scenario files' durations: "700ms" is 0.7 s.
_UNIT_SECONDS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
_SUITES = (".suite.yaml", ".suite.yml")


@dataclass(frozen=True, slots=True)
class HttpxRoute:
    """The app's httpx calls to ``base_url`` go to the double of ``downstream`` (None: first)."""

    base_url: str
    downstream: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    target: str | None
    target_name: str | None
    allow_hosts: tuple[str, ...]
    downstream_host: str
    downstream_port: int
    # --harness-downstream / harness_downstream given (not the default): it then wins over the
    # downstreams' own ports, as `harness run --downstream` does (harness.without_own_ports).
    downstream_given: bool
    seed: int
    time_scale: float | None
    reports: tuple[Path, ...]
    journal: Path
    globs: tuple[str, ...]
    scenarios_dir: Path | None
    settle_quiet: float | None
    settle_deadline: float | None
    secret_env: str | None
    httpx_routes: tuple[HttpxRoute, ...]
    traceback: bool
    listen_beyond_loopback: bool = False
    worker: int | None = None  # N of the pytest-xdist worker gwN; None outside xdist
    project: Project | None = None  # harness.yaml: what the built-in scenarios apply to
    project_path: Path | None = None

    def downstream_for(self, target: str) -> tuple[str, int]:
        """Where the double listens for a run against ``target``.

        A network target calls one fixed address, so its runs use the configured port (xdist
        workers take turns on it, ``_xdist.network_lock``). An in-process app is routed to
        wherever its double is, so each xdist worker gets ports of its own.
        """
        if is_network(target):
            return self.downstream_host, self.downstream_port
        return self.in_process_downstream()

    def in_process_downstream(self) -> tuple[str, int]:
        """Where the double listens for an in-process app: a port per xdist worker."""
        if self.worker is None or self.downstream_port == 0:
            return self.downstream_host, self.downstream_port
        return self.downstream_host, self.downstream_port + WORKER_PORT_STRIDE * (self.worker + 1)


def is_network(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def connect_host(host: str) -> str:
    """The address to call a double on that listens on ``host`` (any-address -> loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def is_scenario_file(path: Path, settings: Settings) -> bool:
    name = path.name
    if name.endswith(_SUITES):
        return False
    if any(fnmatch.fnmatch(name, glob) for glob in settings.globs):
        return True
    folder = settings.scenarios_dir
    return folder is not None and path.suffix in (".yaml", ".yml") and path.is_relative_to(folder)


def read_settings(config: pytest.Config) -> Settings:
    """The settings of this session. Raises pytest.UsageError saying which value is wrong."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    project_path = _project_path(config)
    project = _project(project_path, config)
    target = _options.text(config, "target") or (project.target if project else None)
    address = _options.text(config, "downstream")
    host, port = parse_address(address or DEFAULT_DOWNSTREAM)
    routes = tuple(parse_route(r) for r in _options.values(config, "httpx_route"))
    if routes and target is not None and is_network(target):
        raise pytest.UsageError(
            f"--harness-httpx-route applies to in-process targets (module:attr), not to the "
            f"network target {target!r}: point that automation's API base URL at the double"
        )
    if routes and port == 0:
        raise pytest.UsageError(
            "--harness-httpx-route needs a fixed downstream port, not 0: "
            f"pass --harness-downstream {host}:9100 (or another free port)"
        )
    seed, journal = _seed_and_journal(config, workerinput)
    beyond = _options.flag(config, "listen_beyond_loopback")
    _check_listen(host, beyond)
    allow_hosts = _options.values(config, "allow_host")
    reports = _options.paths(config, "report")
    _check_target_and_reports(target, allow_hosts, reports, journal)
    quiet, deadline = _duration(config, "settle_quiet"), _duration(config, "settle_deadline")
    if quiet is not None and deadline is not None and deadline < quiet:
        raise pytest.UsageError(
            f"--harness-settle-deadline / harness_settle_deadline: {exact(deadline)} s "
            f"is shorter than the quiet period it bounds ({exact(quiet)} s) — give at "
            "least the settle quiet"
        )
    return Settings(
        target=target,
        target_name=_options.text(config, "target_name"),
        allow_hosts=allow_hosts,
        downstream_host=host,
        downstream_port=port,
        downstream_given=address is not None,
        seed=seed,
        time_scale=_time_scale(config),
        reports=reports,
        journal=journal,
        globs=_options.values(config, "scenario_glob") or DEFAULT_GLOBS,
        scenarios_dir=_options.path(config, "scenarios_dir"),
        settle_quiet=quiet,
        settle_deadline=deadline,
        secret_env=_secret_env(config),
        httpx_routes=routes,
        traceback=_options.flag(config, "traceback"),
        listen_beyond_loopback=beyond,
        worker=int(workerinput["workerid"].removeprefix("gw")) if workerinput else None,
        project=project,
        project_path=project_path if project is not None else None,
    )


_PROJECT_FILE = "harness.yaml"


def _project_path(config: pytest.Config) -> Path | None:
    """--harness-project (harness_project), else harness.yaml in the rootdir; None with
    --harness-no-project or when there is none."""
    if _options.flag(config, "no_project"):
        return None
    given = _options.path(config, "project")
    if given is not None:
        if not given.is_file():
            raise pytest.UsageError(
                f"--harness-project / harness_project: no project file {str(given)!r} — give "
                f"the path of a {_PROJECT_FILE}, or leave it out to use the rootdir's"
            )
        return given
    found = config.rootpath / _PROJECT_FILE
    return found if found.is_file() else None


def _project(path: Path | None, config: pytest.Config) -> Project | None:
    """The project in ``path``, loaded (the engine's validation: file:line messages)."""
    if path is None:
        return None
    from harness import HarnessError, load_project

    try:
        return load_project(Path(relative(path, config)))
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None


def _check_target_and_reports(
    target: str | None, allow_hosts: tuple[str, ...], reports: tuple[Path, ...], journal: Path
) -> None:
    """The checks `harness run` makes before anything is sent, at configure time: a bad target,
    a report or a journal that cannot be written is a usage error, not an INTERNALERROR or a
    failure after the whole suite ran. (The report check loads the writers, only when one is
    asked.)"""
    from harness import HarnessError, UnsafeTargetError, check_journal_path, check_target

    try:
        if target is not None:
            check_target(target, allow_hosts)
            check_journal_path(journal, "--harness-journal / harness_journal")
        if reports:
            from harness import check_report_path  # the writers: Jinja, 0.2 CPU-s to import

            for path in reports:
                check_report_path(path, f"--harness-report {path}")
    except UnsafeTargetError:
        host = urlsplit(target or "").hostname
        raise pytest.UsageError(
            f"--harness-target: the host {host!r} is outside loopback; the harness fires "
            "duplicate and burst traffic, so it only talks to hosts you name — if "
            f"{host} is a staging system you own, add --harness-allow-host {host} "
            "(harness_allow_hosts in [tool.pytest.ini_options])"
        ) from None
    except HarnessError as exc:
        raise pytest.UsageError(str(exc).replace("--target", "--harness-target")) from None


def _check_listen(host: str, beyond: bool) -> None:
    """The double listens on loopback unless --harness-listen-beyond-loopback says otherwise."""
    from harness import is_loopback

    if not beyond and not is_loopback(host):
        raise pytest.UsageError(
            f"--harness-downstream / harness_downstream: the double would listen on {host!r}, "
            "which other machines can reach — pass --harness-listen-beyond-loopback "
            "(harness_listen_beyond_loopback = true) if a staging target elsewhere must call it"
        )


def _seed_and_journal(
    config: pytest.Config, workerinput: dict[str, Any] | None
) -> tuple[int, Path]:
    """xdist workers take the controller's seed and journal, so one session has one of each."""
    if workerinput is not None and "harness_seed" in workerinput:
        base = Path(workerinput["harness_journal"])
        worker = workerinput["workerid"]
        return int(workerinput["harness_seed"]), base.with_name(f"{base.stem}-{worker}.db")
    seed_text = _options.text(config, "seed")
    journal = _options.path(config, "journal") or (
        config.invocation_params.dir
        / "harness-runs"
        / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{secrets.token_hex(3)}.db")
    )
    return parse_seed(seed_text), journal


def parse_seed(text: str | None) -> int:
    if text is None:
        return random.SystemRandom().randrange(1, 2**31)
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(
            f"--harness-seed / harness_seed: {text!r} is not an integer — pass a whole number, "
            "e.g. the seed a failure's reproduce line shows"
        ) from None


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` (``[::1]:PORT`` for IPv6); host 127.0.0.1 by default."""
    found = _ADDRESS.match(text.strip())
    if found is None or int(found["port"]) > 65535:
        raise pytest.UsageError(
            f"--harness-downstream / harness_downstream: {text!r} is not an address — write "
            "HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:9100 (port 0 picks a free one)"
        )
    host = (found["host"] or "").strip("[]") or "127.0.0.1"
    return host, int(found["port"])


def parse_route(text: str) -> HttpxRoute:
    name, sep, url = text.partition("=")
    if not sep:
        name, url = "", text
    if not url.startswith(("http://", "https://")) or not re.fullmatch(r"[\w.-]*", name):
        raise pytest.UsageError(
            f"--harness-httpx-route / harness_httpx_routes: {text!r} is not a route — write "
            "BASE_URL or NAME=BASE_URL, e.g. https://api.stripe.com or "
            "crm=https://api.hubapi.com (NAME: a downstream of the scenario)"
        )
    return HttpxRoute(url.rstrip("/"), name or None)


def parse_duration(text: str, where: str) -> float:
    found = _DURATION.match(text.strip())
    if found is None:
        raise pytest.UsageError(
            f"{where}: {text!r} is not a duration — write seconds as a number, "
            'or a string like "500ms", "3s", "4m", "2h"'
        )
    return float(Decimal(found[1]) * _UNIT_SECONDS[found[2] or "s"])


def _duration(config: pytest.Config, name: str) -> float | None:
    value = _options.text(config, name)
    if value is None:
        return None
    where = f"--harness-{name.replace('_', '-')} / harness_{name}"
    seconds = parse_duration(value, where)
    if seconds <= 0:
        raise pytest.UsageError(f"{where}: {value!r} is not allowed — it must be above 0")
    return seconds


def _time_scale(config: pytest.Config) -> float | None:
    value = _options.text(config, "time_scale")
    if value is None:
        return None
    try:
        scale = float(value)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and scale > 0):
        raise pytest.UsageError(
            f"--harness-time-scale / harness_time_scale: {value!r} is not allowed — give run "
            "seconds per scenario second, a number above 0 (0.02 runs a 4 min outage in 4.8 s)"
        )
    return scale


def _secret_env(config: pytest.Config) -> str | None:
    name = _options.text(config, "secret_env")
    if name is None:
        return None
    from harness import InputError, check_secret_env

    try:
        return check_secret_env(name, "--harness-secret-env / harness_secret_env")
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None


def relative(path: Path, config: pytest.Config) -> str:
    """``path`` as the user would type it where pytest was started."""
    try:
        return os.path.relpath(path, config.invocation_params.dir)
    except ValueError:  # another drive on Windows
        return str(path)
