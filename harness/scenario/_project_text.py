"""The text of a new project: ``harness.yaml`` (with comments and its schema line) and a pytest
file that runs the project's hazards. ``harness init`` writes them; nothing here does I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core._secret_env import next_secret_env

PROJECT_FILE = "harness.yaml"
SCHEMA_FILE = Path(__file__).with_name("project.schema.json")
TEST_FILE = "tests/test_harness_hazards.py"
# An events reference that names a library payload, not a file.
_LIBRARY_NAME = re.compile(r"^[a-z][a-z-]*:[\w./-]+$")

# What a plain YAML scalar may hold without quotes and still read back as the same string.
_PLAIN = re.compile(r"[A-Za-z0-9_$][A-Za-z0-9_$.\-/:\[\]'@]*")
_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


@dataclass(frozen=True, slots=True)
class EventsItem:
    """One item of ``events:``: ``kind`` is example, recorded or library; ``ref`` its file
    (relative to harness.yaml) or library name; ``paths`` the id/key/type/time paths to write."""

    kind: str
    ref: str
    paths: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # field -> why that path, as a comment
    har_path: str | None = None  # a HAR's requests to this path are the deliveries
    # ``model:`` guessed from the type where no library payload knows it: (model, why).
    model: tuple[str, str] | None = None
    # The header its provider sends the type in, where an example's type no path holds: the
    # hazards send 'event' there unless ``types:`` names it, offered commented out.
    type_header: str | None = None


@dataclass(frozen=True, slots=True)
class Downstream:
    name: str
    port: int


@dataclass(frozen=True, slots=True)
class Project:
    target: str
    provider: str
    secret_env: str | None
    events: tuple[EventsItem, ...]
    downstreams: tuple[Downstream, ...]
    hazards: tuple[str, ...] = ("standard",)


def project_yaml(project: Project, schema: str) -> str:
    """``harness.yaml`` for ``project``; ``schema`` is where its JSON Schema is, for editors."""
    lines = [
        f"# yaml-language-server: $schema={schema}",
        "# harness.yaml — written by `harness init`; edit freely (docs/five-minutes.md).",
        "",
        "# The automation under test: a URL, or module:attr of an ASGI app (module:attr/path).",
        f"target: {_scalar(project.target)}",
        "# How deliveries are signed and retried (docs/providers.md).",
        f"provider: {_scalar(project.provider)}",
    ]
    if project.secret_env:
        lines += [
            "# The environment variable that holds the signing secret (never the secret itself).",
            f"secret_env: {_scalar(project.secret_env)}",
        ]
    lines += ["", "# The project's events; the hazards perturb these.", "events:"]
    for item in project.events:
        lines.append(f"  - {item.kind}: {_scalar(item.ref)}")
        if item.har_path is not None:
            lines.append(
                f"    har: {{path: {_scalar(item.har_path)}}}   # its requests to the target's path"
            )
        for name, path in item.paths.items():
            note = item.notes.get(name)
            comment = f"   # {note}" if note else ""
            lines.append(f"    {name}: {_scalar(path)}{comment}")
        if item.model is not None:
            lines.append(f"    model: {item.model[0]}   # {item.model[1]}")
        if item.type_header is not None:
            lines.append(
                f"    # types: [...]   # what the hazards send in {item.type_header} ('event' if "
                "unset): the one your automation routes on"
            )
    lines += [
        "",
        "# The APIs the automation writes to, played by the downstream double: point the",
        "# automation's API base URL at http://127.0.0.1:<port> while the harness runs.",
        "downstreams:",
    ]
    for downstream in project.downstreams:
        lines += [
            f"  - name: {_scalar(downstream.name)}",
            f"    port: {downstream.port}",
            "    stateful: true   # POST creates, PUT/PATCH update, GET reads back",
            # Nothing init reads tells whether the API pages its lists; an automation written
            # for pages fails on a whole list (docs/state.md), so the key is offered, not set.
            "    # page_size: 100   # if the API answers its lists in pages (data, next)",
        ]
    lines += [
        "",
        "# What `harness run` runs when no scenario is named (`harness scenarios` lists them).",
        f"hazards: [{', '.join(_scalar(h) for h in project.hazards)}]",
        *_rotation_offered(project.secret_env),
        "",
        "# How your deploy restarts the automation: deploy-restart (in standard) calls it 2 s into",
        "# a steady stream; without it, that hazard is not tried and no report reads Ready",
        "# (docs/project.md#restart).",
        "# restart: {command: [sh, -c, 'kill -HUP $(cat /run/orders/gunicorn.pid)']}",
        "",
        "# An invariant that cannot apply to this automation, left out of every hazard with the",
        "# reason: not judged, and every report says so (docs/project.md#leave-out).",
        "# leave_out:",
        "#   per_key_order: each invoice event is about its own invoice",
        "",
    ]
    return "\n".join(lines)


def _rotation_offered(secret_env: str | None) -> list[str]:
    """The comment on secret-rotation (in standard) of a project whose deliveries are signed:
    the variable of the second secret it needs, without which it is not tried."""
    if not secret_env:
        return []
    following = next_secret_env(secret_env)
    return [
        "# secret-rotation (in standard) rolls the signing secret mid-run to a second one: set",
        f"# {following}=<a second secret> and give the automation the same value beside",
        f"# {secret_env}. Unset, the hazard is not tried and no report reads Ready",
        "# (docs/scenarios.md#secret-rotation).",
    ]


def test_file(hazards: Sequence[str], skipped: Sequence[str] = ()) -> str:
    """A pytest file with one test per hazard, run by the harness pytest plugin over the
    project in harness.yaml (its target, provider, events and downstreams); the hazards that
    do not apply to the project, or were not tried, are named in comments, with why
    (``Skipped.said``)."""
    names = "".join(f"    {json.dumps(h)},\n" for h in hazards)
    names += "".join(f"    # {line}\n" for line in skipped)
    return (
        '"""The hazards of harness.yaml as pytest tests (written by `harness init`).\n'
        "\n"
        "Each test drives one hazard against the target in harness.yaml and fails on any\n"
        "invariant that does not hold (an inconclusive verdict fails too: nothing was judged;\n"
        "one that cannot apply to the automation is left out in harness.yaml, with the reason:\n"
        "docs/project.md#leave-out).\n"
        "Run: pytest " + TEST_FILE + "\n"
        '"""\n'
        "\n"
        "import pytest\n"
        "\n"
        "HAZARDS = [\n" + names + "]\n"
        "\n"
        "\n"
        '@pytest.mark.parametrize("hazard", HAZARDS)\n'
        "def test_hazard_holds(harness_run, hazard):\n"
        "    result = harness_run(hazard)\n"
        "    assert result.passed, result.failures\n"
    )


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    if (
        _PLAIN.fullmatch(text)
        and not text.endswith(":")
        and text.lower() not in _WORDS
        and not _number(text)
    ):
        return text
    return json.dumps(text)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
