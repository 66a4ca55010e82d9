"""The project file, ``harness.yaml``: the user's target, provider, secret variable, events,
downstreams, expected effects and correlation rules, and the hazards ``harness run`` runs.

Read and validated as scenario files are (``_lines``, ``_errors``): every problem is told as
``harness.yaml:LINE: field: value is not allowed — what is allowed``. The built-in scenarios
are then applied to it as hazards (``_hazards``). ``ProjectDoc`` is also the source of the
JSON Schema shipped beside this module (``project.schema.json``, for editor completion).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from ..core import _paths
from ..core._calendar import CalendarSpec
from ..core._errors import HarnessError, InputError
from ..core._library import LibraryEntry, entry, names
from ..core._model import Model
from ..core._scenario import (
    TRANSFORMS,
    CorrelationRule,
    DownstreamSpec,
    ExpectSpec,
    RecordedSource,
    ResetSpec,
    RestartSpec,
    Scenario,
    SchemaSource,
    Source,
    SyntheticSource,
)
from ..core._secret_env import check_secret_env
from ..drive._formats import RecordPayloads, recognised
from ..drive._formats import provider as provider_of_file
from ..drive._sources import sample_of
from ._correlate import CorrelationProblem, correlation
from ._errors import Doc, hint, invalid, invalid_mapping, validate
from ._guess import guess_paths
from ._leave_out import LEAVE_OUT_TEXT, LeftOutName, Reason
from ._leave_out import NAMES as LEFT_OUT_NAMES
from ._lines import Loc, Problem, dotted, read_yaml
from ._load import (
    _downstreams,
    _existing,
    _expect,
    _Invalid,
    calendar_of,
    example_file,
    require_path,
)
from ._openapi import SourceProblem, schema_events
from ._project_text import _LIBRARY_NAME, PROJECT_FILE
from ._project_text import SCHEMA_FILE as SCHEMA_FILE  # where it always was, for its users
from ._samples import har_pick, lacking, read_sample
from ._schema import (
    FORMAT_TEXT,
    PROVIDER_NAMES,
    CalendarDoc,
    CorrelateDoc,
    DownstreamDoc,
    ExpectedRequests,
    HarDoc,
    RecordedFormat,
    ResetDoc,
    RestartDoc,
    TracerDoc,
)
from ._values import EnvName, JsonPath

DEFAULT_HAZARDS = ("standard",)
FLAGS = "<flags>"  # the origin of a project made by flags alone

_RELATIVE = "the project file; --events paths to the current directory"
_PATH_TEXT = "a JSONPath like '$.data.object.customer'"
_TARGET = re.compile(r"^(https?://\S+|[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(/\S*)?)$")
_TARGET_TEXT = (
    "a URL like http://127.0.0.1:8000/hooks/stripe, or module:attr of an ASGI app, or "
    "module:attr/path (the path the app is driven at)"
)


# --- the file's shape -----------------------------------------------------------------------


class EventsDoc(Doc):
    expected = (
        "a mapping with one of example, library, recorded, openapi (with webhook), schema, and "
        "optionally id, key, type, time, sequence"
    )

    example: str | None = Field(
        None, description="a path to a JSON file of one example payload, relative to harness.yaml"
    )
    library: str | None = Field(
        None, description="a payload of the library, like stripe:checkout.session.completed"
    )
    recorded: str | None = Field(
        None,
        description="a path to a file of recorded events (JSONL, a provider's export, a HAR, "
        "a capture), relative to harness.yaml",
    )
    openapi: str | None = Field(
        None,
        description="a path to an OpenAPI 3.1 document, relative to harness.yaml, whose webhook "
        "(named by webhook) the events are made from",
    )
    webhook: str | None = Field(
        None, min_length=1, description="the name of a webhook of the openapi document"
    )
    schema_: str | None = Field(
        None,
        alias="schema",
        description="a path to a JSON Schema of the payload, relative to harness.yaml",
    )
    format: RecordedFormat | None = Field(None, description=FORMAT_TEXT)
    har: HarDoc | None = Field(None, description=HarDoc.expected)
    id: JsonPath | None = Field(None, description=_PATH_TEXT + ": the event id")
    key: JsonPath | None = Field(None, description=_PATH_TEXT + ": the record the event is about")
    type: JsonPath | None = Field(None, description=_PATH_TEXT + ": the event type")
    types: list[str] = Field(
        default_factory=list,
        description="the event types, where the payload holds none: the topic or event name "
        "its provider sends in a header (X-Shopify-Topic orders/create, X-GitHub-Event "
        "issues), cycled through; else the events are of type 'event'",
    )
    time: JsonPath | None = Field(None, description=_PATH_TEXT + ": when the event occurred")
    sequence: JsonPath | None = Field(
        None,
        description=_PATH_TEXT + ": the event's number in its record's order (a version), "
        "written 1, 2, 3 … per record in the events the hazards make",
    )
    model: Literal["ledger", "register"] | None = Field(
        None,
        description="what the events mean — ledger: each its own fact (a payment, an order); "
        "register: successive states of a record (a contact's update). A library payload "
        "knows its own; the hazards are judged by it",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = {"example": self.example, "library": self.library, "recorded": self.recorded}
        kinds.update(openapi=self.openapi, schema=self.schema_)
        given = [k for k, v in kinds.items() if v is not None]
        if len(given) != 1:
            has = ", ".join(given) or "none"
            raise invalid_mapping(
                f"has {has} — give exactly one of example (a JSON file), library (a payload "
                "like stripe:invoice.paid), recorded (a JSONL file), openapi (an OpenAPI "
                "document, with webhook) or schema (a JSON Schema)"
            )
        if (self.openapi is None) != (self.webhook is None):
            raise invalid_mapping(
                "has openapi without webhook, or webhook without openapi — name the document "
                "and which of its webhooks the events are"
            )
        if (self.openapi or self.schema_) and self.key is None:
            raise invalid_mapping(
                f"has {given[0]} and no key — give key: the path of the record the event is "
                "about, a property of the schema"
            )
        if self.sequence is not None and self.example is None and self.library is None:
            raise invalid_mapping(
                f"has {given[0]} and sequence — sequence numbers the events made from an example "
                "or a library payload; recorded or generated events keep their own"
            )
        if self.types and (
            self.type is not None or (self.example is None and self.library is None)
        ):
            raise invalid_mapping(
                f"has {'type' if self.type is not None else given[0]} and types — types name "
                "the events made from an example or a library payload whose type no path "
                "holds (a Shopify topic, a GitHub event); give one or the other"
            )
        if self.recorded is None and (self.format is not None or self.har is not None):
            raise invalid_mapping(
                "has format or har without recorded — they say how to read a recorded file"
            )
        if self.recorded is not None and self.time is not None:
            raise invalid_mapping(
                "has recorded and time — recorded events keep the times of their lines; "
                "leave time out"
            )
        return self


class ProjectDoc(Doc):
    """harness.yaml: the automation under test and its events; the hazards applied to them."""

    expected = "a mapping with target, provider, secret_env, events, downstreams, hazards"

    target: str | None = Field(None, description=_TARGET_TEXT)
    provider: Literal[PROVIDER_NAMES] | None = Field(  # type: ignore[valid-type]
        None, description="one of: " + ", ".join(PROVIDER_NAMES)
    )
    secret_env: EnvName | None = Field(
        None,
        description="the name of the environment variable holding the signing secret, like "
        "STRIPE_WEBHOOK_SECRET (never the secret itself)",
    )
    events: list[EventsDoc] = Field(
        default_factory=list,
        description="a list of event sources, each {example: FILE}, {library: NAME} or "
        "{recorded: FILE}",
    )
    downstreams: list[DownstreamDoc] = Field(
        default_factory=list,
        description="a list of downstreams, as in scenario files: {name, routes, stateful}",
    )
    expect: dict[str, ExpectedRequests] = Field(
        default_factory=dict,
        description="a mapping of event types to the requests each event of the type causes, "
        "as in scenario files",
    )
    correlate: list[CorrelateDoc] = Field(
        default_factory=list, description="a list of correlation rules, as in scenario files"
    )
    reset: ResetDoc | None = Field(
        None,
        description="how harness explore makes the target forget between examples: "
        + ResetDoc.expected,
    )
    restart: RestartDoc | None = Field(
        None,
        description="how `harness run` restarts the automation as a deploy does, at a "
        "scenario's restarts (deploy-restart): " + RestartDoc.expected,
    )
    calendar: CalendarDoc | None = Field(
        None,
        description="the year `harness run year` drives over the project's events: "
        + CalendarDoc.expected,
    )
    hazards: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HAZARDS),
        min_length=1,
        description="a non-empty list of built-in scenario or suite names (or .yaml paths): "
        "what `harness run` runs when no scenario is named",
    )
    leave_out: dict[LeftOutName, Reason] = Field(default_factory=dict, description=LEAVE_OUT_TEXT)

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and not _TARGET.match(value):
            from ..drive._target import without_scheme  # as init imports it: start-up time

            raise invalid(f"must be {_TARGET_TEXT}{without_scheme(value)}")
        return value


# --- what it holds --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectEvents:
    """One item of ``events``: its source (a synthetic one holds the example and the paths;
    each hazard gives it its own counts and pace) and the event type it makes, if one."""

    source: Source
    type: str | None = None
    origin: str = ""  # how messages name it: "events[0] (events/checkout.json)"
    # What the events mean, when known (the item's model:, else its library payload's): the
    # hazards over them are judged by it, not by their own (``_hazards``).
    model: Model | None = None


@dataclass(frozen=True, slots=True)
class Project:
    """A project: what the hazards are applied to. Fields left None (or empty) keep the
    hazard's own: a project with no events runs the hazards over their own events."""

    origin: str = FLAGS
    target: str | None = None
    provider: str | None = None
    secret_env: str | None = None
    events: tuple[ProjectEvents, ...] = ()
    downstreams: tuple[DownstreamSpec, ...] = ()
    expect: tuple[ExpectSpec, ...] = ()
    correlate: tuple[CorrelationRule, ...] = ()
    hazards: tuple[str, ...] = DEFAULT_HAZARDS
    reset: ResetSpec | None = None  # harness explore's, for every scenario without its own
    # How a deploy restarts the target, for every scenario with restarts and no restart: of
    # its own (deploy-restart); None: those are skipped.
    restart: RestartSpec | None = None
    calendar: CalendarSpec | None = None  # the year's, for a scenario with a calendar
    # Invariants no built-in hazard judges, each with the project's reason (``_leave_out``).
    leave_out: tuple[tuple[str, str], ...] = ()

    @property
    def described(self) -> str:
        """How a sentence names it: "the project harness.yaml", or the flags that made it."""
        if self.origin == FLAGS:
            return "the events, provider and secret variable given on the command line"
        return f"the project {self.origin}"

    @property
    def gives_anything(self) -> bool:
        """Whether it changes a hazard at all (else the built-ins run as written)."""
        return bool(self.provider or self.secret_env or self.events or self.downstreams)


def find_project(folder: Path | None = None) -> Path | None:
    """``harness.yaml`` in ``folder`` (default: the current directory), if there is one."""
    path = (folder or Path()) / PROJECT_FILE
    return path if path.is_file() else None


def load_project(path: Path, *, events: bool = True) -> Project:
    """The project in ``path``. Raises ScenarioError saying file:line, field and fix.
    ``events=False``: its events are not read (none, nor the correlation rules that read them):
    what is checked before they are."""
    path = Path(path)
    text = read_yaml(path, "project file")
    text.require_mapping(
        "a project file is a mapping with target, provider, secret_env, events, downstreams, "
        "hazards"
    )
    doc = validate(ProjectDoc, text)
    if not events:
        doc = doc.model_copy(update={"events": [], "correlate": []})
    try:
        return _project(doc, path)
    except _Invalid as exc:
        text.fail([Problem(exc.loc, exc.message)])


def _project(doc: ProjectDoc, path: Path) -> Project:
    events = tuple(_events(i, item, path.parent) for i, item in enumerate(doc.events))
    names = [d.name for d in doc.downstreams]
    if doc.correlate and not events:
        raise _Invalid(
            ("correlate",),
            "correlate: is not allowed without events — its rules read the project's events; "
            "give events, or leave correlate out",
        )
    rules: tuple[CorrelationRule, ...] = ()
    for item in events:  # every rule's event path must resolve in every source
        try:
            rules, _ = correlation(
                doc.correlate, TracerDoc.model_validate({}), item.source, names or ["downstream"]
            )
        except CorrelationProblem as exc:
            raise _Invalid(exc.loc, f"{exc.message} (in {item.origin})") from None
    types = [e.type for e in events]
    known = None if not events or None in types else [t for t in types if t is not None]
    return Project(
        origin=str(path),
        target=doc.target,
        provider=doc.provider,
        secret_env=doc.secret_env,
        events=events,
        downstreams=_downstreams(doc.downstreams, path.parent),
        expect=_expect(doc.expect, names, known),
        correlate=rules,
        hazards=tuple(doc.hazards),
        reset=None if doc.reset is None else doc.reset.spec(),
        restart=None if doc.restart is None else doc.restart.spec(),
        calendar=calendar_of(doc.calendar),
        leave_out=tuple(doc.leave_out.items()),
    )


def _events(i: int, doc: EventsDoc, base: Path) -> ProjectEvents:
    here: Loc = ("events", i)
    if doc.openapi is not None or doc.schema_ is not None:
        file = doc.openapi or doc.schema_
        assert file is not None and doc.key is not None  # EventsDoc made sure
        shape = SchemaSource({}, 1, 1, 0.0, doc.id, doc.key, doc.type, None, doc.time)
        named: Loc = (*here, "openapi" if doc.openapi else "schema")
        try:
            generated = schema_events(base, (file, named), doc.webhook, here, shape)
        except SourceProblem as exc:
            raise _Invalid(exc.loc, exc.message) from None
        origin = f"{dotted(here)} ({file})"
        model = Model(doc.model) if doc.model else None
        return ProjectEvents(generated, event_type(generated), origin, model)
    like: LibraryEntry | None  # the library payload the events are, or are like
    if doc.recorded is not None:
        source: Source = RecordedSource(
            path=_existing(
                base, doc.recorded, (*here, "recorded"), _RELATIVE, folder=doc.format == "github"
            ),
            id_path=doc.id,
            key_path=doc.key,
            type_path=doc.type,
            format=doc.format,
            har_url=doc.har.url if doc.har is not None else None,
            har_path=doc.har.path if doc.har is not None else None,
        )
        origin, kind, like = f"{dotted(here)} ({doc.recorded})", None, None
    else:
        if doc.library is not None:
            like = _library(doc.library, (*here, "library"))
            example, paths, kind = like.example, dict(like.paths), like.type
            origin = f"{dotted(here)} ({doc.library})"
        else:
            assert doc.example is not None  # EventsDoc made sure
            example, paths = example_file(base, doc.example, (*here, "example"), _RELATIVE), {}
            kind, origin = None, f"{dotted(here)} ({doc.example})"
            like = library_of(example) or _typed_in_headers(example, doc.types)
        named = ("id", "key", "type", "time", "sequence")
        given = {k: getattr(doc, k) for k in named if getattr(doc, k)}
        paths.update(given)
        source = synthetic_template(example, paths, kind)
        if doc.library is not None and like is not None and "id" not in paths:
            source = replace(source, id_path=like.id_path)  # none where a header carries it
        if doc.types:
            source = replace(source, type_path=None, types=tuple(doc.types))
        if like is not None and like.later:
            source = replace(source, later=tuple(like.later.items()))
        if like is not None and like.same:
            # The provider's account-wide values, where this example has them.
            kept = (p for p in like.same if _get(example, p) is not None)
            source = replace(source, same=tuple(kept))
        kind = event_type(source)
    sample = sample_of(source)
    for name in ("id", "key", "type", "time", "sequence"):
        value = getattr(doc, name)
        if value is not None:
            require_path(sample, value, (*here, name))
    model = Model(doc.model) if doc.model else like.model if like is not None else None
    if model is None and isinstance(source, RecordedSource):
        model = recorded_model(source)
    return ProjectEvents(source, kind, origin, model)


def recorded_model(source: RecordedSource) -> Model | None:
    """The model of a recording's events where the payload library knows each of them
    (``library_of``) and they agree: Stripe's checkouts are a ledger. Judged by the hazard's
    register instead (simultaneous-same-record, out-of-order), two of a customer's three
    recorded checkouts were 'superseded', and a lost subscription would pass. None where a type
    is not in the library or the types mean different things: the hazard's model, as
    ``model:`` can change. Every event is read: judged by its first thousand, a register's
    updates after a ledger's checkouts were a ledger's, or checkouts after updates a
    register's (each record's older checkouts owed nothing)."""
    models = set()
    for _, payload in RecordPayloads(source):
        found = library_of(payload)
        if found is None:
            return None
        models.add(found.model)
        if len(models) > 1:
            return None
    return models.pop() if models else None


def synthetic_template(
    example: Any, paths: dict[str, str], kind: str | None = None
) -> SyntheticSource:
    """A synthetic source of ``example`` read by ``paths`` (id, key, type, time; sequence, where
    each record's events are numbered 1, 2, 3 …). Paths not
    given are those of a library entry the example matches (``library_paths_of``), else the
    defaults of scenario files. ``kind``: the event type when the payload does not carry it
    (GitHub and Shopify name it in headers). Its counts are placeholders: each hazard gives its
    own (``_hazards``)."""
    defaults = SyntheticSource(example, 1, 1, 0.0)
    paths = {**library_paths_of(example), **paths}
    type_path: str | None = paths.get("type")
    types: tuple[str, ...] = ()
    if type_path is None and kind is not None:
        types = (kind,)
    elif type_path is None and _get(example, defaults.type_path or "$.type") is not None:
        type_path = defaults.type_path
    return replace(
        defaults,
        id_path=paths.get("id", defaults.id_path),
        key_path=paths.get("key", defaults.key_path),
        type_path=type_path,
        time_path=paths.get("time"),
        seq_path=paths.get("sequence"),
        types=types,
    )


def library_paths_of(example: Any) -> dict[str, str]:
    """The paths of the library entry the example is like (``library_of``), else none."""
    found = library_of(example)
    return dict(found.paths) if found is not None else {}


def library_of(example: Any) -> LibraryEntry | None:
    """The library entry whose type the example has and whose paths all lead somewhere in it
    (a Stripe checkout.session.completed is read as the library reads one), or None."""
    types = tuple(t if isinstance(t := _get(example, p), str) else None for p in _type_paths())
    for found in _typed(types):
        if all(_get(example, p) is not None for p in found.paths.values()):
            return found
    return None


def _typed_in_headers(example: Any, types: Sequence[str]) -> LibraryEntry | None:
    """The library entry of the type ``types`` names first, whose provider sends the type in a
    header (no type path: a Shopify topic, a GitHub event) and whose paths all lead somewhere
    in ``example``: its model is the events'. None otherwise."""
    for found in map(entry, names()) if types else ():
        if found.type == types[0] and "type" not in found.paths:
            if all(_get(example, p) is not None for p in found.paths.values()):
                return found
    return None


@cache
def _type_paths() -> tuple[str, ...]:
    """Where the library's entries hold their type (``$.type``, ``$.subscriptionType``)."""
    return tuple(dict.fromkeys(p for n in names() if (p := entry(n).paths.get("type"))))


@lru_cache(maxsize=1024)
def _typed(types: tuple[str | None, ...]) -> tuple[LibraryEntry, ...]:
    """The library's entries, in their order, of the type a payload has at their type path
    (``types``: its value at each of ``_type_paths``): found once per type, not per event."""
    paths = _type_paths()
    return tuple(
        e
        for e in map(entry, names())
        if (p := e.paths.get("type")) and types[paths.index(p)] == e.type
    )


def _get(payload: Any, path: str) -> Any:
    return _paths.get(payload, _parsed(path), None)


_parsed = lru_cache(maxsize=256)(_paths.parse)  # a recording's every event reads the same few


def event_type(source: SyntheticSource) -> str | None:
    """The type of the events a template makes, as ``_sources.synthetic`` gives it."""
    if source.types:
        return source.types[0]
    if source.type_path is None:
        return None
    found = _get(source.example, source.type_path)
    return str(found) if found is not None else None


# --- flags ----------------------------------------------------------------------------------


def with_flags(
    project: Project | None,
    *,
    provider: str | None = None,
    secret_env: str | None = None,
    events: Sequence[str] = (),
    target: str | None = None,
    read: bool = True,
) -> Project | None:
    """``project`` (None: no project file) with what the flags give in place of its own:
    ``--provider``, ``--secret-env``, ``--events`` (each a JSON example file, a ``.jsonl``
    recorded file or a library name; a HAR's deliveries the requests to the path of
    ``target``, ``--target`` else the project's; ``read=False``: none read, the project's
    own kept). None when neither gives anything. Raises InputError."""
    if project is None and not (provider or secret_env or events):
        return None
    base = project or Project(hazards=DEFAULT_HAZARDS)
    if provider is not None and provider not in PROVIDER_NAMES:
        raise InputError(
            f"provider {provider!r} is unknown{hint(provider, PROVIDER_NAMES)}",
            where="--provider",
            hint=f"name one of {', '.join(PROVIDER_NAMES)}",
        )
    if secret_env is not None:
        check_secret_env(secret_env, "--secret-env")
    if read:
        path = _webhook_path(target or base.target)
        given = tuple(events_flag(e, path) for e in events)
    else:
        given = ()
    return replace(
        base,
        provider=provider or base.provider,
        secret_env=secret_env or base.secret_env,
        events=given or base.events,
    )


def without_own_ports(scenarios: Sequence[Scenario], given: bool) -> list[Scenario]:
    """``scenarios`` as the doubles will listen: where a downstream address was ``given``
    (``--downstream``, Locust's ``--harness-downstream``) it, not the downstreams' own
    ``port:``s (a project's, or a scenario file's — the one explore writes keeps its
    project's), says where."""
    if not given:
        return list(scenarios)
    return [
        replace(s, downstreams=tuple(replace(d, port=None) for d in s.downstreams))
        for s in scenarios
    ]


def _webhook_path(target: str | None) -> str | None:
    from ..drive._target import target_path  # as init imports it: start-up time

    return target_path(target) if target is not None else None


def events_flag(value: str, webhook_path: str | None = None) -> ProjectEvents:
    """The events ``--events`` names: a ``.jsonl`` recorded file (or a provider's export, a HAR,
    a capture: docs/recording.md), a JSON example file, or a payload of the library
    (``stripe:checkout.session.completed``). A HAR whose requests went to several paths is
    read for those to ``webhook_path`` (the target's), as ``harness init`` reads it."""
    path = Path(value)
    try:
        fmt = recognised(path) if path.is_file() else None
        if value.endswith(".jsonl") or fmt is not None:
            key = export_key(path) if path.is_file() else None
            picked = har_pick(path, webhook_path, "--events") if fmt == "har" else None
            doc = {
                "recorded": value,
                **({"key": key} if key else {}),
                **({"har": {"path": picked}} if picked else {}),
            }
            return _events(0, EventsDoc.model_validate(doc), Path())
        if path.is_file() or not _LIBRARY_NAME.match(value):
            return _events(0, EventsDoc.model_validate({"example": value}), Path())
        return _events(0, EventsDoc.model_validate({"library": value}), Path())
    except _Invalid as exc:
        message = exc.message.split(" is not allowed — ", 1)[-1]
        raise InputError(
            f"{value!r}: {message}",
            where="--events",
            hint="give a JSON file of one example payload, a .jsonl file of recorded events, "
            "or a library payload like stripe:checkout.session.completed",
        ) from None


def export_key(path: Path) -> str | None:
    """The record key of a provider's export (Stripe's event objects, a capture of deliveries)
    by the provider's layout, as ``harness init`` writes it (``_samples.read_sample``): a
    Stripe checkout's customer, where the export's reader takes each event's own object (a
    checkout session, one a checkout: no two events of a record). None for JSON lines that
    carry their own ``key``, a HAR, a layout that places none, or a key that some event lacks
    (a guest's checkout, a customer.created): ``--events`` has no ``--key`` to mend it with,
    so each event's own object is its record there, as the reader takes it."""
    fmt = recognised(path)
    if fmt is None or fmt in ("jsonl", "har"):
        return None
    sample = read_sample(str(path), "--events")  # a provider's export names no key member
    sender = provider_of_file(RecordedSource(path, format=fmt))
    key = guess_paths(sample.payload, sender, {})["key"].path
    return None if key is None or lacking(sample, key) is not None else key


def _library(name: str, loc: Loc) -> LibraryEntry:
    try:
        return entry(name)
    except HarnessError as exc:
        raise _Invalid(loc, f"{dotted(loc)}: {name!r} is not allowed — {exc}") from None


def schema_text() -> str:
    """The JSON Schema of harness.yaml, as shipped in ``project.schema.json``."""
    schema = ProjectDoc.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "harness.yaml"
    # The short forms the validators accept before the models see them: an expected request
    # as 'METHOD /path', none for a type ignored on purpose, a rule's effect as a JSONPath.
    request = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/ExpectedRequestDoc"}]}
    expect = schema["properties"]["expect"]
    expect["additionalProperties"] = {
        "anyOf": [{"type": "array", "items": request, "minItems": 1}, {"type": "string"}]
    }
    effect = schema["$defs"]["CorrelateDoc"]["properties"]["effect"]
    effect["anyOf"] = [{"type": "string"}, {"$ref": effect.pop("$ref")}]
    transform = schema["$defs"]["CorrelateDoc"]["properties"]["transform"]
    steps = {"enum": list(TRANSFORMS), "type": "string"}
    transform["anyOf"] = [steps, {"type": "array", "items": steps, "minItems": 1}]
    leave_out = schema["properties"]["leave_out"]
    leave_out["propertyNames"] = {"enum": list(LEFT_OUT_NAMES)}
    leave_out["additionalProperties"] = {"type": "string", "minLength": 1}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


__all__ = [
    "DEFAULT_HAZARDS",
    "PROJECT_FILE",
    "Project",
    "ProjectEvents",
    "find_project",
    "load_project",
    "schema_text",
    "with_flags",
]
