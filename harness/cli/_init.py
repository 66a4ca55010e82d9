"""``harness init``: a project file and a pytest file from a provider and an example event.

It guesses where the event id, record key, type and time live (``scenario._guess``), says why,
asks in a terminal (flags answer everything in CI), writes ``harness.yaml`` and
``tests/test_harness_hazards.py``, and prints the next command.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import click
from rich.markup import escape

from ..core._errors import HarnessError, InputError
from ..core._providers import PROVIDERS, provider
from ..core._secret_env import check_secret_env, next_secret_env
from ..core._sensitive import is_sensitive_key
from ..scenario._guess import (
    FIELDS,
    HEADERS,
    MEANING,
    Guess,
    given_path,
    guess_model,
    guess_paths,
    guess_sequence,
)
from ..scenario._project_text import (
    PROJECT_FILE,
    SCHEMA_FILE,
    TEST_FILE,
    Downstream,
    EventsItem,
    Project,
    project_yaml,
    test_file,
)
from ..scenario._samples import Sample, lacking, read_sample
from ._console import out

# The variable each provider's documentation calls its signing secret, as a default.
_SECRET_ENVS = {
    "stripe": "STRIPE_WEBHOOK_SECRET",
    "github": "GITHUB_WEBHOOK_SECRET",
    "shopify": "SHOPIFY_WEBHOOK_SECRET",
    "slack": "SLACK_SIGNING_SECRET",
    "hubspot": "HUBSPOT_CLIENT_SECRET",
    "attio": "ATTIO_WEBHOOK_SECRET",
    "standard-webhooks": "WEBHOOK_SECRET",
    "hmac": "WEBHOOK_SECRET",
}
_DOWNSTREAM = re.compile(r"([A-Za-z][\w-]*)(?:=(\d{1,5}))?")
_FIRST_PORT = 9100
# An event needs an id and a record key; a type and a time are used where the payload has them.
_REQUIRED = ("id", "key")
# What a recorded line's event gets for a field without a path (drive._sources.recorded).
_RECORDED_DEFAULTS = {
    "id": "each event numbered by its line",
    "key": "the event id (each event its own record)",
    "type": "the type 'event'",
}
_FLAG = {"id": "--id", "key": "--key", "type": "--type", "time": "--time"}


@click.command()
@click.option(
    "--provider",
    "provider_name",
    default=None,
    help=f"Who sends the events: {', '.join(PROVIDERS)} (default: a library payload's).",
)
@click.option(
    "--events",
    multiple=True,
    metavar="FILE|NAME",
    help="An example payload (.json), recorded events (.jsonl, a provider's export, a HAR), "
    "or a library payload such as stripe:checkout.session.completed (`harness show` lists "
    "them). Repeatable.",
)
@click.option("--target", default=None, help="The automation's webhook URL, or module:attr.")
@click.option(
    "--secret-env",
    default=None,
    metavar="VAR",
    help="The environment variable holding the signing secret (default: the provider's usual).",
)
@click.option(
    "--downstream",
    "downstreams",
    multiple=True,
    metavar="NAME[=PORT]",
    help="An API the automation writes to, played by the double (default: api=9100). Repeatable.",
)
@click.option("--id", "id_path", default=None, metavar="PATH", help="Where the event id is.")
@click.option("--key", "key_path", default=None, metavar="PATH", help="Where the record key is.")
@click.option("--type", "type_path", default=None, metavar="PATH", help="Where the type is.")
@click.option("--time", "time_path", default=None, metavar="PATH", help="Where the time is.")
@click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Ask nothing: take the flags and the guesses (also when stdin is not a terminal).",
)
@click.option("--force", is_flag=True, help=f"Overwrite an existing {PROJECT_FILE} and test file.")
def init(
    provider_name: str | None,
    events: tuple[str, ...],
    target: str | None,
    secret_env: str | None,
    downstreams: tuple[str, ...],
    id_path: str | None,
    key_path: str | None,
    type_path: str | None,
    time_path: str | None,
    yes: bool,
    force: bool,
) -> None:
    """Write harness.yaml and a pytest file for your automation, guessing the paths of its
    events (id, record key, type, time) from an example."""
    ask = not yes and sys.stdin.isatty()
    _refuse_overwrite(force)
    given = {
        name: path
        for name, path in zip(FIELDS, (id_path, key_path, type_path, time_path), strict=True)
        if path is not None
    }
    for name, path in given.items():
        _check_path_syntax(path, _FLAG[name])
    # The flags no event says anything about, before the events are read (an export: seconds).
    if target is not None:
        _target(target, "", ask=False)
    if provider_name is not None:
        _known(provider_name)
    if secret_env is not None:
        check_secret_env(secret_env, "--secret-env")
    ports = _downstreams(downstreams)
    if provider_name is None and not events and ask:
        provider_name = click.prompt("Provider", type=click.Choice(list(PROVIDERS)))
    from ..drive._target import target_path  # imported here, as _target does: start-up time

    webhook_path = target_path(target) if target is not None else None
    samples = [
        read_sample(ref, "--events", webhook_path) for ref in _events(events, provider_name, ask)
    ]
    provider_name = _provider(provider_name, samples, ask)
    items = tuple(_item(sample, provider_name, given, ask) for sample in samples)
    project = Project(
        target=_target(target, provider_name, ask),
        provider=provider_name,
        secret_env=_secret_env(secret_env, provider_name, ask),
        events=items,
        downstreams=ports,
    )
    _write(project)


def _refuse_overwrite(force: bool) -> None:
    if force:
        return
    for name in (PROJECT_FILE, TEST_FILE):
        if Path(name).exists():
            raise InputError(
                f"{name} already exists in {Path.cwd()}",
                where="harness init",
                hint="edit it, or pass --force to overwrite it (and the test file)",
            )


def _events(events: tuple[str, ...], provider_name: str | None, ask: bool) -> tuple[str, ...]:
    if events:
        return events
    if not ask:
        raise InputError(
            "no events given",
            where="--events",
            hint="pass --events with an example payload (.json), recorded events (.jsonl), or "
            "a library payload such as stripe:checkout.session.completed (`harness show`)",
        )
    from ..core._library import names

    offered = [n for n in names() if provider_name is None or n.startswith(f"{provider_name}:")]
    if offered:
        out.print("Library payloads: " + ", ".join(offered))
    answer = click.prompt(
        "Example payload (.json), recorded events (.jsonl) or a library payload",
        default=offered[0] if offered else None,
    )
    return (str(answer),)


def _provider(name: str | None, samples: Sequence[Sample], ask: bool) -> str:
    from_library = next((s.provider for s in samples if s.provider), None)
    if name is None and from_library is not None:
        name = from_library
    if name is None and ask:
        name = click.prompt("Provider", type=click.Choice(list(PROVIDERS)))
    if name is None:
        raise InputError(
            "no provider given",
            where="--provider",
            hint=f"pass --provider with one of {', '.join(PROVIDERS)}",
        )
    _known(name)
    for sample in samples:
        if sample.provider is not None and sample.provider != name:
            raise InputError(
                f"--events {sample.ref} is a {sample.provider} event, but the provider is {name}",
                where="--provider",
                hint=f"pass --provider {sample.provider}, or a {name} payload as --events",
            )
    return name


def _known(name: str) -> None:
    """InputError at --provider unless ``name`` is a provider's."""
    try:
        provider(name)
    except InputError as exc:
        raise InputError(str(exc), where="--provider") from None


def _item(sample: Sample, provider_name: str, given: dict[str, str], ask: bool) -> EventsItem:
    fields = FIELDS if sample.kind != "recorded" else FIELDS[:3]
    if sample.kind == "library":
        # The entry's paths are the library's word: shown, not guessed, written only if changed.
        found = guess_paths(sample.payload, provider_name, {**sample.paths, **given})
        guesses = {
            name: Guess(name, g.path, "the library entry's", g.value)
            if name in sample.paths and name not in given
            else g
            for name, g in found.items()
            if name in sample.paths or name in given or name in HEADERS.get(provider_name, {})
        }
    else:
        found = guess_paths(sample.payload, provider_name, given)
        guesses = {name: g for name, g in found.items() if name in fields}
        sequence = guess_sequence(sample.payload) if sample.kind == "example" else None
        if sequence is not None:
            guesses["sequence"] = sequence
        for name in sample.members:
            if name not in given:
                guesses[name] = Guess(name, None, f"each line's own {name!r} member")
        key = guesses["key"].path
        if sample.exported and "key" not in given and key is not None:
            line = lacking(sample, key)
            if line is not None:  # the loader would refuse it: the reader's record instead
                guesses["key"] = Guess(
                    "key",
                    None,
                    f"{key} is not in every event (line {line}): each event's own object, "
                    "the reader's 'key' member",
                )
    needed = {
        name
        for name in _REQUIRED
        if sample.kind != "recorded" and name not in HEADERS.get(provider_name, {})
    }
    _show_guesses(sample, guesses, needed)
    if ask and not click.confirm("Use these paths?", default=True):
        guesses = {name: _ask_path(sample, g) for name, g in guesses.items()}
    for guess in guesses.values():
        if guess.path is None and ask and guess.field in needed:
            guesses[guess.field] = _ask_path(sample, guess)
    for guess in guesses.values():
        _check_found(sample, guess, needed)
    id_path, key_path = (guesses[n].path if n in guesses else None for n in ("id", "key"))
    if id_path is not None and id_path == key_path:
        raise InputError(
            f"the event id and the record key are both {id_path} in {sample.ref}",
            where="--key",
            hint="the key names the record the event is about (a customer, an order), which "
            "its events share; give it with --key",
        )
    # A library entry's own paths go unwritten: the loader takes them from the library.
    written = {
        name: g.path
        for name, g in guesses.items()
        if g.path is not None and g.path != sample.paths.get(name)
    }
    notes = {name: guesses[name].reason for name in written}
    model = _model(sample, guesses)
    header = HEADERS.get(provider_name, {}).get("type")
    untyped = sample.kind == "example" and guesses["type"].path is None and header is not None
    return EventsItem(
        sample.kind,
        _relative(sample),
        written,
        notes,
        sample.har_path,
        model,
        header if untyped else None,
    )


def _model(sample: Sample, guesses: Mapping[str, Guess]) -> tuple[str, str] | None:
    """``model:`` from an example's type where no library payload knows it (a library entry
    has its own, a recording's known types theirs), shown as the paths are; else None."""
    from ..scenario._project import library_of  # imported here, as _target is: start-up time

    if sample.kind != "example" or library_of(sample.payload) is not None:
        return None
    kind = guesses.get("type")
    model = guess_model(kind.value if kind is not None else None)
    if model is not None:
        out.print(f"  model {model[0]}  ({model[1]})", markup=False)
    return model


def _show_guesses(sample: Sample, guesses: dict[str, Guess], needed: set[str]) -> None:
    out.print(f"[bold]{escape(sample.ref)}[/] ({sample.kind}):", markup=True)
    if sample.har_path is not None:
        out.print(
            f"  deliveries: the requests to {sample.har_path} (the target's path; the HAR's "
            "other requests are left out)",
            markup=False,
        )
    for name, guess in guesses.items():
        if guess.path is None:
            out.print(f"  {name:<4}  ?  {_fallback(sample, guess, needed)}", markup=False)
            continue
        out.print(
            f"  {name:<4}  {guess.path}  = {_shown(guess.path, guess.value)}  ({guess.reason})",
            markup=False,
        )


# What a type header holds, to show in the advice to name it (``types:``).
_TYPE_LIKE = {"X-Shopify-Topic": "orders/create", "X-GitHub-Event": "issues"}


def _fallback(sample: Sample, guess: Guess, needed: set[str]) -> str:
    if (
        guess.reason.endswith("header carries it")
        and guess.field == "type"
        and sample.kind == "example"
    ):
        like = _TYPE_LIKE.get(guess.reason.split()[1], "...")
        return (
            f"no path: {guess.reason}, 'event' unless harness.yaml names it "
            f"(types: [{like}], the one your automation routes on)"
        )
    if guess.reason.endswith(("header carries it", "member")):
        return f"no path: {guess.reason}"
    if sample.kind == "recorded":
        return f"no path found: {_RECORDED_DEFAULTS[guess.field]}"
    if guess.field in needed:
        return f"not found — {MEANING[guess.field]}; give it with {_FLAG[guess.field]} PATH"
    return f"not in the payload ({MEANING[guess.field]}); optional"


def _shown(path: str, value: object) -> str:
    """The value a path found, to judge the guess by — unless it may be a secret or PII (a
    secret-looking field name, an email address): then only its kind."""
    name = path.rsplit(".", 1)[-1]
    if is_sensitive_key(name) or (isinstance(value, str) and "@" in value):
        return f"(a {type(value).__name__}, not shown)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _ask_path(sample: Sample, guess: Guess) -> Guess:
    answer = click.prompt(
        f"{guess.field} path ({MEANING[guess.field]})",
        default=guess.path or "",
        show_default=bool(guess.path),
    ).strip()
    if not answer:
        return Guess(guess.field, None, "none given")
    _check_path_syntax(answer, _FLAG[guess.field])
    return given_path(sample.payload, guess.field, answer)


def _check_path_syntax(path: str, flag: str) -> None:
    from ..core import _paths

    try:
        _paths.parse(path)
    except InputError as exc:
        raise InputError(str(exc), where=flag) from None


def _check_found(sample: Sample, guess: Guess, needed: set[str]) -> None:
    from ..drive._sample import existing

    if guess.path is None:
        if guess.field in needed:
            raise InputError(
                f"cannot guess the {guess.field} path of {sample.ref} ({MEANING[guess.field]})",
                where=_FLAG[guess.field],
                hint=f"give it with {_FLAG[guess.field]} '$.path.to.it'; the payload has "
                f"{existing(sample.payload, '$')}",
            )
        return
    if guess.reason == "given" and guess.value is None:
        raise InputError(
            f"{guess.path} is not in {sample.ref}",
            where=_FLAG[guess.field],
            hint=f"the payload has {existing(sample.payload, guess.path)}",
        )


def _relative(sample: Sample) -> str:
    if sample.kind == "library":
        return sample.ref
    return Path(os.path.relpath(Path(sample.ref).resolve(), Path.cwd())).as_posix()


def _target(target: str | None, provider_name: str, ask: bool) -> str:
    from ..drive._target import check_target, checked_url

    if target is None and ask:
        target = click.prompt(
            "Target (your webhook URL)", default=f"http://127.0.0.1:8000/webhooks/{provider_name}"
        )
    if target is None:
        raise InputError(
            "no target given",
            where="--target",
            hint="pass the URL your automation receives webhooks at, e.g. "
            "--target http://127.0.0.1:8000/webhooks/stripe",
        )
    if target.startswith(("http://", "https://")):
        # Only its shape here: a staging host is allowed at run time with --allow-host.
        checked_url(target, "--target", "target URL")
    else:
        check_target(target)
    return target


def _secret_env(name: str | None, provider_name: str, ask: bool) -> str | None:
    if provider_name == "none":
        return None
    default = _SECRET_ENVS.get(provider_name, "WEBHOOK_SECRET")
    if name is None and ask:
        name = click.prompt("Environment variable holding the signing secret", default=default)
    name = default if name is None else name
    check_secret_env(name, "--secret-env", default)
    return name


def _downstreams(flags: tuple[str, ...]) -> tuple[Downstream, ...]:
    if not flags:
        return (Downstream("api", _FIRST_PORT),)
    found: list[Downstream] = []
    for n, flag in enumerate(flags):
        m = _DOWNSTREAM.fullmatch(flag)
        port = int(m.group(2)) if m and m.group(2) else _FIRST_PORT + n
        if m is None or not 0 < port < 65536:
            raise InputError(
                f"{flag!r} is not NAME or NAME=PORT",
                where="--downstream",
                hint="e.g. --downstream crm=9100 (the port the double listens on for it)",
            )
        found.append(Downstream(m.group(1), port))
    return tuple(found)


def _write(project: Project) -> None:
    """harness.yaml, read back by the project loader before it replaces anything (a file init
    writes must load), then the test file of the hazards that apply to it."""
    from ..scenario._hazards import resolve_hazards
    from ..scenario._project import load_project

    draft = Path(f".{PROJECT_FILE}.init")
    draft.write_text(project_yaml(project, _schema_ref(SCHEMA_FILE.resolve())), encoding="utf-8")
    try:
        hazards = resolve_hazards(project.hazards, load_project(draft))
    except HarnessError as exc:  # a bug of init's if it happens: say which file it meant
        raise HarnessError(str(exc).replace(draft.name, PROJECT_FILE)) from None
    finally:
        text = draft.read_text(encoding="utf-8")
        draft.unlink()
    Path(PROJECT_FILE).write_text(text, encoding="utf-8")
    tests = Path(TEST_FILE)
    tests.parent.mkdir(parents=True, exist_ok=True)
    skipped = [s.said for s in hazards.skipped]
    tests.write_text(test_file([s.name for s in hazards.scenarios], skipped), encoding="utf-8")
    out.print(f"wrote {PROJECT_FILE} and {TEST_FILE}", markup=False)
    secret = (
        f"set {project.secret_env} to the signing secret your automation verifies with and "
        f"{next_secret_env(project.secret_env)} to a second one it accepts too (what "
        "secret-rotation rolls to: without it, that hazard is not tried and no report reads "
        "Ready), "
        if project.secret_env
        else ""
    )
    downstreams = project.downstreams
    bases = (
        f"its API base URL at http://127.0.0.1:{downstreams[0].port}"
        if len(downstreams) == 1
        else "the base URL of each API it calls at its double: "
        + ", ".join(f"{d.name} at http://127.0.0.1:{d.port}" for d in downstreams)
    )
    out.print(
        f"next: {secret}start your automation with {bases}, then run the hazards:\n"
        "  harness run\n"
        f"or through pytest:\n  pytest {TEST_FILE}",
        markup=False,
    )


def _schema_ref(schema: Path) -> str:
    """The schema's path as editors resolve it: relative to harness.yaml when it is below the
    project (a virtualenv inside it), else absolute."""
    relative = os.path.relpath(schema, Path.cwd())
    return Path(relative).as_posix() if not relative.startswith("..") else schema.as_uri()
