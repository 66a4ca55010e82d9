"""The plugin's options: each a ``--harness-*`` flag and a ``harness_*`` ini key, flag first.

One table, so the flags, the ini keys and docs/pytest.md say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

Kind = Literal["text", "list", "path", "paths", "flag"]


@dataclass(frozen=True, slots=True)
class Option:
    name: str  # "target" -> --harness-target, harness_target
    kind: Kind
    help: str
    metavar: str | None = None
    ini: str | None = None  # the ini key when it differs from harness_<name> (plurals)

    @property
    def flag(self) -> str:
        return "--harness-" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        return "harness_" + self.name

    @property
    def ini_key(self) -> str:
        return self.ini or self.dest


OPTIONS = (
    Option(
        "target",
        "text",
        "the automation under test: its webhook URL, or module:attr of an ASGI app driven "
        "in-process. Without it, scenario items are skipped",
        "URL|MODULE:ATTR",
    ),
    Option(
        "project",
        "path",
        "the project file (default: harness.yaml in the rootdir, if any): its target, provider, "
        "secret variable, events and downstreams, which the built-in scenarios apply to",
        "FILE",
    ),
    Option("no_project", "flag", "ignore harness.yaml: run the scenarios as written"),
    Option("target_name", "text", "a label for the target in reports (default host:port)", "NAME"),
    Option(
        "allow_host",
        "list",
        "a non-loopback target host you own (repeatable); other hosts are refused",
        "HOST",
        ini="harness_allow_hosts",
    ),
    Option(
        "downstream",
        "text",
        "HOST:PORT where the downstream double listens (default 127.0.0.1:9100, or a "
        "downstream's own port); given, it wins over the downstreams' own ports. Point the "
        "automation's API base URL here",
        "HOST:PORT",
    ),
    Option("seed", "text", "seed of the schedules (default: random, shown in the header)", "N"),
    Option(
        "time_scale",
        "text",
        "run seconds per scenario second, e.g. 0.02 runs a 4 min outage in 4.8 s (default: each "
        "scenario's time_scale, else 1)",
        "FACTOR",
    ),
    Option(
        "report",
        "paths",
        "write a report after the session, its format by extension (repeatable)",
        "PATH",
        ini="harness_reports",
    ),
    Option(
        "journal",
        "path",
        "the SQLite journal of the runs (default harness-runs/<UTC time>.db)",
        "PATH",
    ),
    Option(
        "scenario_glob",
        "list",
        "file names collected as scenarios (repeatable; default *.scenario.yaml)",
        "GLOB",
    ),
    Option(
        "scenarios_dir",
        "path",
        "a folder whose every .yaml/.yml file is a scenario (suites excepted)",
        "DIR",
    ),
    Option(
        "settle_quiet",
        "text",
        "real seconds of quiet that end a run, replacing every scenario's settle.quiet "
        "(seconds, or 500ms / 3s / 4m; not time-scaled)",
        "DURATION",
    ),
    Option(
        "settle_deadline",
        "text",
        "real seconds a run waits at most for the target to finish, replacing every "
        "scenario's settle.deadline (seconds, or 500ms / 3s / 4m; not time-scaled)",
        "DURATION",
    ),
    Option(
        "secret_env",
        "text",
        "the environment variable holding the signing secret, overriding the scenarios' "
        "delivery.secret_env (a variable name, never the secret)",
        "VAR",
    ),
    Option(
        "httpx_route",
        "list",
        "in-process targets: route the app's httpx calls to BASE_URL to the downstream "
        "double (NAME=BASE_URL for a named downstream; repeatable; needs respx)",
        "[NAME=]BASE_URL",
        ini="harness_httpx_routes",
    ),
    Option(
        "listen_beyond_loopback",
        "flag",
        "let the downstream double listen on a non-loopback address given in "
        "--harness-downstream (e.g. 0.0.0.0 for a staging target elsewhere); anyone who can "
        "reach it can send it effects",
    ),
    Option(
        "traceback",
        "flag",
        "show harness's own Python traceback under a failure, not only the verdict",
    ),
)

_INI_TYPES: dict[Kind, Literal["string", "args", "paths", "bool"]] = {
    "text": "string",
    "list": "args",
    "path": "string",
    "paths": "args",
    "flag": "bool",
}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: reliability scenarios against an automation")
    for opt in OPTIONS:
        if opt.kind == "flag":
            group.addoption(
                opt.flag, action="store_true", default=None, dest=opt.dest, help=opt.help
            )
        else:
            many = opt.kind in ("list", "paths")
            group.addoption(
                opt.flag,
                action="append" if many else "store",
                default=None,
                dest=opt.dest,
                metavar=opt.metavar,
                help=opt.help,
            )
        parser.addini(opt.ini_key, f"{opt.help} (as {opt.flag})", type=_INI_TYPES[opt.kind])


def text(config: pytest.Config, name: str) -> str | None:
    """A single value: the flag if given, else the ini key, else None."""
    opt = _option(name)
    given = config.getoption(opt.dest)
    if given is not None:
        return str(given)
    value = str(config.getini(opt.ini_key)).strip()
    return value or None


def values(config: pytest.Config, name: str) -> tuple[str, ...]:
    """A repeatable value: the flags if any were given (they replace the ini list), else ini."""
    opt = _option(name)
    given = config.getoption(opt.dest)
    if given:
        return tuple(given)
    return tuple(str(v) for v in config.getini(opt.ini_key))


def path(config: pytest.Config, name: str) -> Path | None:
    """A path: a flag is relative to where pytest was started, an ini key to the ini file."""
    opt = _option(name)
    given = config.getoption(opt.dest)
    if given is not None:
        return config.invocation_params.dir / str(given)
    value = str(config.getini(opt.ini_key)).strip()
    return _ini_dir(config) / value if value else None


def paths(config: pytest.Config, name: str) -> tuple[Path, ...]:
    opt = _option(name)
    given = config.getoption(opt.dest)
    if given:
        return tuple(config.invocation_params.dir / g for g in given)
    return tuple(_ini_dir(config) / str(v) for v in config.getini(opt.ini_key))


def flag(config: pytest.Config, name: str) -> bool:
    opt = _option(name)
    given = config.getoption(opt.dest)
    return bool(given) if given is not None else bool(config.getini(opt.ini_key))


def _ini_dir(config: pytest.Config) -> Path:
    return config.inipath.parent if config.inipath else config.rootpath


def _option(name: str) -> Option:
    return next(o for o in OPTIONS if o.name == name)
