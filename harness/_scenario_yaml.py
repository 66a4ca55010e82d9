"""Scenario and suite files: YAML read with its line numbers, validated, built into ``_spec``.

Loading goes through four steps. Each reports the problems it finds as
``file:line: field.path: <value> is not allowed — <what is allowed>``:

1. parse the YAML into nodes that keep their lines (malformed YAML: ``file:line:col``);
2. walk the nodes: the line of every key and list item, and what JSON cannot hold — duplicate
   keys (PyYAML would let the last one win silently), keys YAML read as numbers or booleans,
   dates, non-finite numbers;
3. validate with pydantic models (``extra="forbid"``, strict types) shaped like the file;
4. build the frozen dataclasses of ``_spec``, reading the files a scenario names relative to it.

Names resolve to built-in scenarios and suites (``scenarios/<name>.scenario.yaml``,
``scenarios/<name>.suite.yaml`` in the data folder) or to paths of YAML files.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NoReturn, Self, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError
from yaml.constructor import SafeConstructor

from . import _paths
from ._data_paths import data_dir
from ._errors import InputError, ScenarioError, UnknownScenarioError
from ._history import InvariantSpec
from ._invariants import INVARIANTS, check_specs
from ._model import Model
from ._spec import (
    DeliverySpec,
    DownstreamSpec,
    Perturbation,
    RecordedSource,
    Route,
    Scenario,
    Settle,
    Source,
    SyntheticSource,
)

Loc = tuple[str | int, ...]

_INVARIANTS = tuple(INVARIANTS)  # names, in the registry's order


@dataclass(frozen=True, slots=True)
class Suite:
    """Scenarios run together under one name, from a ``.suite.yaml`` file."""

    name: str
    description: str
    scenarios: tuple[Scenario, ...]
    origin: str = "<python>"


# --- values ---------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_FORMS = 'seconds as a number, or a string like "500ms", "3s", "4m", "2h"'


def parse_duration(value: object) -> float | None:
    """Seconds in ``value``: a number, or a string "500ms" / "3s" / "4m" / "2h"; else None."""
    seconds: float
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value.strip())):
        seconds = float(m[1]) * _UNIT_SECONDS[m[2]]
    else:
        return None
    return seconds if math.isfinite(seconds) else None


def _invalid(requirement: str) -> PydanticCustomError:
    """A value error; ``requirement`` says what is allowed ("must be ...")."""
    return PydanticCustomError("harness", requirement)


def _invalid_mapping(message: str) -> PydanticCustomError:
    """An error about a whole mapping, whose value is too big to show."""
    return PydanticCustomError("harness_mapping", message)


def _duration(value: object) -> float:
    seconds = parse_duration(value)
    if seconds is None or seconds < 0:
        raise _invalid(f"must be a duration: {_DURATION_FORMS}")
    return seconds


def _positive_duration(value: object) -> float:
    seconds = _duration(value)
    if seconds == 0:
        raise _invalid(f"must be a duration greater than 0: {_DURATION_FORMS}")
    return seconds


def _json_path(value: str) -> str:
    try:
        steps = _paths.parse(value)
    except InputError:
        steps = ()
    if not steps or not value.startswith("$."):
        raise _invalid(
            "must be a JSONPath like '$.data.order_id': '$.' then names, [0] or ['name'] steps"
        )
    return value


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise _invalid("must be a name of letters, digits, '.', '_' and '-' (no spaces)")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise _invalid("must be the name of an environment variable, like HARNESS_SECRET")
    return value


def _header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value):
        raise _invalid("must be an HTTP header name, like X-Signature (no spaces or ':')")
    return value


def _method(value: str) -> str:
    if value.upper() not in _METHODS:
        raise _invalid(f"must be an HTTP method, one of: {', '.join(_METHODS)}")
    return value.upper()


def _route_path(value: str) -> str:
    if not value.startswith("/"):
        raise _invalid("must be a URL path starting with '/', like /contacts/{id} or /api/*")
    return value


def _invariant(item: object) -> InvariantSpec:
    """``name`` or ``{name: {param: value}}`` as an InvariantSpec."""
    params: object = {}
    if isinstance(item, dict) and len(item) == 1:
        ((name, params),) = item.items()
        params = {} if params is None else params
    elif isinstance(item, str):
        name = item
    else:
        raise _invalid(
            "must be an invariant name, or one name mapped to its parameters, "
            "like 'ack_within: {seconds: 2}'"
        )
    if name not in _INVARIANTS:
        raise _invalid(
            f"must name an invariant, one of: {', '.join(_INVARIANTS)}{_hint(name, _INVARIANTS)}"
        )
    if not isinstance(params, dict):
        raise _invalid(f"must map {name!r} to a mapping of its parameters, like {{seconds: 2}}")
    return InvariantSpec(name, params)


Duration = Annotated[float, BeforeValidator(_duration)]
PositiveDuration = Annotated[float, BeforeValidator(_positive_duration)]
_JsonPath = Annotated[str, AfterValidator(_json_path)]
_Name = Annotated[str, AfterValidator(_name)]
_HeaderName = Annotated[str, AfterValidator(_header_name)]
_Invariant = Annotated[InvariantSpec, PlainValidator(_invariant)]

_DURATION_TEXT = f"a duration: {_DURATION_FORMS}"
_RATE_TEXT = "a number between 0 and 1"
_PATH_TEXT = "a JSONPath like '$.data.order_id'"
_HEADERS_TEXT = "a mapping of HTTP header names to string values"


def _default(cls: type[Any], name: str) -> Any:
    """The default of a ``_spec`` dataclass field, so the YAML defaults cannot drift from it."""
    (found,) = (f.default for f in dataclasses.fields(cls) if f.name == name)
    return found


# --- the file's shape -----------------------------------------------------------------------


class _Doc(BaseModel):
    """One mapping of a scenario file: unknown keys and loosely typed values are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    expected: ClassVar[str] = "a mapping"


class _SyntheticDoc(_Doc):
    expected = "a mapping with example (or example_file), events, records and over"

    example: dict[str, Any] | None = Field(None, description="a mapping: one example payload")
    example_file: str | None = Field(
        None, description="a path to a JSON file of one example payload, relative to the scenario"
    )
    events: int = Field(gt=0, description="an integer greater than 0: how many events to make")
    records: int = Field(
        gt=0, description="an integer greater than 0, at most events: how many records"
    )
    over: Duration = Field(description=_DURATION_TEXT)
    id: _JsonPath = Field(_default(SyntheticSource, "id_path"), description=_PATH_TEXT)
    key: _JsonPath = Field(_default(SyntheticSource, "key_path"), description=_PATH_TEXT)
    type: _JsonPath | None = Field(_default(SyntheticSource, "type_path"), description=_PATH_TEXT)
    sequence: _JsonPath | None = Field(
        _default(SyntheticSource, "seq_path"), description=_PATH_TEXT
    )
    time: _JsonPath | None = Field(_default(SyntheticSource, "time_path"), description=_PATH_TEXT)
    types: list[str] = Field(
        default_factory=list, description="a list of event types to cycle through"
    )

    @field_validator("records")
    @classmethod
    def _at_most_events(cls, records: int, info: ValidationInfo) -> int:
        events = info.data.get("events")
        if isinstance(events, int) and records > events:
            raise _invalid(f"must be at most events ({events}): every record needs an event")
        return records

    @model_validator(mode="after")
    def _one_example(self) -> Self:
        if (self.example is None) == (self.example_file is None):
            has = "both" if self.example is not None else "neither"
            raise _invalid_mapping(
                f"has {has} of example and example_file — give exactly one: "
                "example (an inline mapping) or example_file (a JSON file)"
            )
        return self

    def payload(self, base: Path) -> dict[str, Any]:
        if self.example_file is None:
            return dict(self.example or {})
        return _example(self.example_file, base)


class _RecordedDoc(_Doc):
    expected = "a mapping with file, and optionally id, key, type, over"

    file: str = Field(description="a path to a JSONL file of events, relative to the scenario")
    id: _JsonPath | None = Field(None, description=_PATH_TEXT)
    key: _JsonPath | None = Field(None, description=_PATH_TEXT)
    type: _JsonPath | None = Field(None, description=_PATH_TEXT)
    over: Duration | None = Field(None, description=_DURATION_TEXT)


class _SourceDoc(_Doc):
    expected = "a mapping with exactly one of: synthetic, recorded"

    synthetic: _SyntheticDoc | None = Field(None, description=_SyntheticDoc.expected)
    recorded: _RecordedDoc | None = Field(None, description=_RecordedDoc.expected)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.synthetic is None) == (self.recorded is None):
            has = "both" if self.synthetic is not None else "neither"
            raise _invalid_mapping(
                f"has {has} of synthetic and recorded — give exactly one of them"
            )
        return self

    def build(self, base: Path) -> Source:
        if self.synthetic is not None:
            s = self.synthetic
            return SyntheticSource(
                example=s.payload(base),
                events=s.events,
                records=s.records,
                over=s.over,
                id_path=s.id,
                key_path=s.key,
                type_path=s.type,
                seq_path=s.sequence,
                time_path=s.time,
                types=tuple(s.types),
            )
        assert self.recorded is not None  # _one_source made sure
        r = self.recorded
        return RecordedSource(
            path=_existing(base, r.file, ("source", "recorded", "file")),
            id_path=r.id,
            key_path=r.key,
            type_path=r.type,
            over=r.over,
        )


class _DuplicateDoc(_Doc):
    expected = "a mapping with rate, and optionally copies and spread"

    rate: float = Field(ge=0, le=1, description=_RATE_TEXT)
    copies: int = Field(2, ge=2, description="an integer of 2 or more: deliveries in all")
    spread: Duration = Field(0.0, description=_DURATION_TEXT)


class _BurstDoc(_Doc):
    expected = "a mapping with within, and optionally count"

    within: PositiveDuration = Field(description=f"a duration greater than 0: {_DURATION_FORMS}")
    count: int | None = Field(None, gt=0, description="an integer greater than 0: how many events")


class _SimultaneousDoc(_Doc):
    expected = "a mapping with records and events"

    records: int = Field(gt=0, description="an integer greater than 0: how many records")
    events: int = Field(ge=2, description="an integer of 2 or more: events per record")


class _ReorderDoc(_Doc):
    expected = "a mapping with window, and optionally rate"

    window: int = Field(ge=2, description="an integer of 2 or more: events per shuffled window")
    rate: float = Field(1.0, ge=0, le=1, description=_RATE_TEXT)


class _ReplayDoc(_Doc):
    expected = "a mapping with optionally times and gap"

    times: int = Field(1, ge=1, description="an integer of 1 or more: extra passes")
    gap: Duration = Field(1.0, description=_DURATION_TEXT)


class _PerturbationDoc(_Doc):
    expected = (
        "a mapping of one perturbation kind to its parameters: "
        "duplicate, burst, simultaneous, reorder or replay"
    )

    duplicate: _DuplicateDoc | None = Field(None, description=_DuplicateDoc.expected)
    burst: _BurstDoc | None = Field(None, description=_BurstDoc.expected)
    simultaneous: _SimultaneousDoc | None = Field(None, description=_SimultaneousDoc.expected)
    reorder: _ReorderDoc | None = Field(None, description=_ReorderDoc.expected)
    replay: _ReplayDoc | None = Field(None, description=_ReplayDoc.expected)

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data  # pydantic says it is not a mapping
        if len(data) != 1:
            kinds = ", ".join(map(str, data)) or "none"
            raise _invalid_mapping(
                f"has {len(data)} keys ({kinds}) — each list item is one perturbation: "
                f"a single key, one of: {', '.join(cls.model_fields)}"
            )
        ((kind, params),) = data.items()
        # `- replay:` with nothing after it means "all defaults".
        return {kind: {} if params is None else params}

    def build(self) -> Perturbation:
        ((kind, params),) = self.model_dump(exclude_none=True).items()
        return Perturbation(kind, params)


class _RouteDoc(_Doc):
    expected = "a mapping with method and path, and optionally status, body, headers, delay"

    method: Annotated[str, AfterValidator(_method)] = Field(
        description=f"an HTTP method, one of: {', '.join(_METHODS)}"
    )
    path: Annotated[str, AfterValidator(_route_path)] = Field(
        description="a URL path starting with '/'"
    )
    status: int = Field(
        _default(Route, "status"), ge=100, le=599, description="an HTTP status from 100 to 599"
    )
    body: Any = Field(None, description="any JSON value; leave it out to echo the request")
    headers: dict[_HeaderName, str] = Field(default_factory=dict, description=_HEADERS_TEXT)
    delay: Duration = Field(_default(Route, "delay"), description=_DURATION_TEXT)

    def build(self) -> Route:
        return Route(
            method=self.method,
            path=self.path,
            status=self.status,
            body=self.body,
            headers=self.headers,
            delay=self.delay,
        )


class _DownstreamDoc(_Doc):
    expected = "a mapping with name and routes"

    name: _Name = Field(_default(DownstreamSpec, "name"), description="a name like crm")
    routes: list[_RouteDoc] = Field(default_factory=list, description="a list of routes")

    def build(self) -> DownstreamSpec:
        return DownstreamSpec(self.name, tuple(r.build() for r in self.routes))


class _DeliveryDoc(_Doc):
    expected = "a mapping with signing, secret_env, signature_header, timeout, headers"

    signing: Literal["none", "hmac", "standard-webhooks"] = Field(
        _default(DeliverySpec, "signing"), description="one of: none, hmac, standard-webhooks"
    )
    secret_env: Annotated[str, AfterValidator(_env_name)] = Field(
        _default(DeliverySpec, "secret_env"), description="an environment variable name"
    )
    signature_header: _HeaderName = Field(
        _default(DeliverySpec, "signature_header"), description="an HTTP header name"
    )
    timeout: PositiveDuration = Field(
        _default(DeliverySpec, "timeout"),
        description=f"a duration greater than 0: {_DURATION_FORMS}",
    )
    headers: dict[_HeaderName, str] = Field(default_factory=dict, description=_HEADERS_TEXT)

    def build(self) -> DeliverySpec:
        return DeliverySpec(
            signing=self.signing,
            secret_env=self.secret_env,
            signature_header=self.signature_header,
            timeout=self.timeout,
            headers=self.headers,
        )


class _SettleDoc(_Doc):
    expected = "a mapping with quiet and deadline"

    quiet: Duration = Field(_default(Settle, "quiet"), description=_DURATION_TEXT)
    deadline: PositiveDuration = Field(
        _default(Settle, "deadline"), description=f"a duration greater than 0: {_DURATION_FORMS}"
    )

    @field_validator("deadline")
    @classmethod
    def _after_quiet(cls, deadline: float, info: ValidationInfo) -> float:
        quiet = info.data.get("quiet")
        if isinstance(quiet, float) and deadline < quiet:
            raise _invalid(f"must be a duration of at least quiet ({quiet:g} s)")
        return deadline


def _all_invariants() -> list[InvariantSpec]:
    return [InvariantSpec(name) for name in _INVARIANTS]


class _ScenarioDoc(_Doc):
    expected = "a mapping with at least source"

    name: _Name | None = Field(None, description="a name of letters, digits, '.', '_' and '-'")
    description: str = Field("", description="one line of text")
    model: Literal["ledger", "register"] = Field(
        _default(Scenario, "model").value, description="one of: ledger, register"
    )
    source: _SourceDoc = Field(description=_SourceDoc.expected)
    perturbations: list[_PerturbationDoc] = Field(
        default_factory=list, description="a list of perturbations"
    )
    invariants: list[_Invariant] = Field(
        default_factory=_all_invariants,
        min_length=1,
        description="a non-empty list of invariants; leave it out for all of them",
    )
    downstreams: list[_DownstreamDoc] = Field(
        default_factory=lambda: [_DownstreamDoc.model_validate({})],
        description="a list of downstreams",
    )
    delivery: _DeliveryDoc = Field(
        default_factory=lambda: _DeliveryDoc.model_validate({}), description=_DeliveryDoc.expected
    )
    settle: _SettleDoc = Field(
        default_factory=lambda: _SettleDoc.model_validate({}), description=_SettleDoc.expected
    )
    # Kept for the pytest plugin; Scenario has no field for them yet.
    marks: list[str] = Field(default_factory=list, description="a list of pytest mark names")

    def build(self, path: Path, text: _Text) -> Scenario:
        return Scenario(
            name=self.name or _stem(path),
            source=self.source.build(path.parent),
            model=Model(self.model),
            description=self.description,
            perturbations=tuple(p.build() for p in self.perturbations),
            invariants=_checked(self.invariants, text),
            downstreams=self._downstreams(),
            delivery=self.delivery.build(),
            settle=Settle(self.settle.quiet, self.settle.deadline),
            origin=str(path),
        )

    def _downstreams(self) -> tuple[DownstreamSpec, ...]:
        seen: set[str] = set()
        for i, d in enumerate(self.downstreams):
            if d.name in seen:
                raise _Invalid(
                    ("downstreams", i, "name"),
                    f"downstreams[{i}].name: {d.name!r} is not allowed — "
                    "another downstream has that name; give each its own",
                )
            seen.add(d.name)
        return tuple(d.build() for d in self.downstreams)


class _SuiteDoc(_Doc):
    expected = "a mapping with suite"

    name: _Name | None = Field(None, description="a name of letters, digits, '.', '_' and '-'")
    description: str = Field("", description="one line of text")
    suite: list[str] = Field(
        min_length=1, description="a non-empty list of scenario names or .yaml paths"
    )


# --- step 4 helpers: files named by a scenario ---------------------------------------------


class _Invalid(Exception):
    """A problem found while building, at ``loc`` of the document."""

    def __init__(self, loc: Loc, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def _existing(base: Path, name: str, loc: Loc) -> Path:
    path = (base / name).absolute()
    if not path.is_file():
        raise _Invalid(
            loc,
            f"{_dotted(loc)}: {name!r} is not allowed — there is no file {str(path)!r} "
            "(paths are relative to the scenario file)",
        )
    return path


def _example(name: str, base: Path) -> dict[str, Any]:
    loc: Loc = ("source", "synthetic", "example_file")
    path = _existing(base, name, loc)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise _Invalid(loc, f"{_dotted(loc)}: cannot read {str(path)!r} as JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _Invalid(
            loc,
            f"{_dotted(loc)}: {str(path)!r} holds a JSON {type(value).__name__}, "
            "not an object — it must hold one example payload",
        )
    return value


_CHECKED_AT = re.compile(r"invariants\[(\d+)\](?:\.params\.(.+))?")


def _checked(specs: Sequence[InvariantSpec], text: _Text) -> tuple[InvariantSpec, ...]:
    """The invariants' parameters checked by their registry, defaults filled in."""
    try:
        return check_specs(specs)
    except ScenarioError as exc:
        # The registry names the field (invariants[3].params.seconds); check again with
        # the line of that item so its message says where in the file.
        found = _CHECKED_AT.match(exc.where or "")
        if found is None:
            raise
        i, param = int(found[1]), found[2]
        loc: Loc = ("invariants", i) + ((specs[i].name, param) if param else ())
        return check_specs(specs, where=f"{text.file}:{text.line(loc)}")


def _stem(path: Path) -> str:
    """``duplicate-storm.scenario.yaml`` -> ``duplicate-storm``."""
    name = path.name
    for suffix in (".scenario.yaml", ".suite.yaml", ".scenario.yml", ".suite.yml", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return path.stem


# --- steps 1 and 2: YAML with lines ---------------------------------------------------------

_MAX_NODES = 100_000
_JSON_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
}
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class _Problem:
    loc: Loc  # picks the line, unless ``line`` is given
    message: str  # starts with the field path when there is one
    line: int | None = None


@dataclass(frozen=True, slots=True)
class _Text:
    """A parsed YAML file: its data and the line of every key and list item in it."""

    file: str
    data: Any
    lines: Mapping[Loc, int]

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest ancestor present in the file (missing keys)."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return 1

    def fail(self, problems: Sequence[_Problem]) -> NoReturn:
        shown = sorted(problems, key=self._line_of)[:20]
        first, *rest = shown
        extra = [f"{self.file}:{self._line_of(p)}: {p.message}" for p in rest]
        if len(problems) > len(shown):
            extra.append(f"... and {len(problems) - len(shown)} more")
        raise ScenarioError(
            "\n".join([first.message, *extra]), where=f"{self.file}:{self._line_of(first)}"
        )

    def _line_of(self, problem: _Problem) -> int:
        return problem.line or self.line(problem.loc)


def _read(path: Path) -> _Text:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            "no such scenario file", where=file, hint="`harness scenarios` lists the built-in ones"
        ) from None
    except (OSError, UnicodeError) as exc:
        raise ScenarioError(f"cannot read the scenario file ({exc})", where=file) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        # Walk before constructing: construction flattens merge keys (`<<`) into the mapping.
        lines, problems = _walk(root, file)
        if problems:
            _Text(file, None, lines).fail(problems)
        data = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(file, exc) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML ({exc})", where=file) from None
    finally:
        loader.dispose()
    return _Text(file, data, lines)


def _yaml_error(file: str, exc: yaml.MarkedYAMLError) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    where = file if mark is None else f"{file}:{mark.line + 1}:{mark.column + 1}"
    what = exc.problem or exc.context or "cannot be parsed"
    if exc.problem and exc.context and exc.context_mark:
        what += f" ({exc.context}, which starts at line {exc.context_mark.line + 1})"
    return ScenarioError(
        f"not valid YAML: {what}",
        where=where,
        hint="check the indentation, the ':' after each key and the quoting on and before it",
    )


def _walk(root: yaml.Node | None, file: str) -> tuple[dict[Loc, int], list[_Problem]]:
    """The line of every key and list item, and the values JSON cannot hold."""
    if root is None:
        return {(): 1}, []
    scalars = SafeConstructor()
    lines: dict[Loc, int] = {(): root.start_mark.line + 1}
    problems: list[_Problem] = []
    stack: list[tuple[Loc, yaml.Node, frozenset[int]]] = [((), root, frozenset())]
    while stack:
        if len(lines) > _MAX_NODES:
            raise ScenarioError(
                f"the document has more than {_MAX_NODES} values (after expanding aliases)",
                where=file,
                hint="a scenario is small; generate events with source.synthetic instead",
            )
        loc, node, above = stack.pop()
        problem = (
            _Problem(loc, f"{_at(loc)}a YAML alias that contains itself")
            if id(node) in above
            else _not_json(loc, node, scalars)
        )
        if problem is not None:
            problems.append(problem)
            continue
        children: list[tuple[Loc, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            children = _entries(loc, node, scalars, lines, problems)
        elif isinstance(node, yaml.SequenceNode):
            children = [((*loc, i), item) for i, item in enumerate(node.value)]
            lines.update((at, item.start_mark.line + 1) for at, item in children)
        # Reversed onto the stack, so walked in document order: problems on one line read
        # left to right.
        inner = above | {id(node)}
        stack.extend((at, child, inner) for at, child in reversed(children))
    return lines, problems


def _entries(
    loc: Loc,
    node: yaml.MappingNode,
    scalars: SafeConstructor,
    lines: dict[Loc, int],
    problems: list[_Problem],
) -> list[tuple[Loc, yaml.Node]]:
    """The values of a mapping node, recording their keys' lines and the keys' problems.

    Merged mappings (``<<: *base``, ``<<: [*a, *b]``) come last, so the keys the mapping
    sets itself keep their own lines (``setdefault``); merged keys take the anchor's lines.
    """
    own: list[tuple[Loc, yaml.Node]] = []
    merged: list[tuple[Loc, yaml.Node]] = []
    seen: dict[object, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            merged.extend((loc, m) for m in sources)
            continue
        key = _key(loc, key_node, scalars)
        line = key_node.start_mark.line + 1
        if isinstance(key, _Problem):
            problems.append(key)
        elif key in seen:
            problems.append(
                _Problem(
                    (*loc, key),
                    f"{_at(loc)}key {key!r} appears twice (first on line {seen[key]}) — keep one",
                    line,
                )
            )
        else:
            seen[key] = line
            lines.setdefault((*loc, key), line)
            own.append(((*loc, key), value_node))
    return own + merged


def _key(loc: Loc, node: yaml.Node, scalars: SafeConstructor) -> str | _Problem:
    if isinstance(node, yaml.ScalarNode):
        key = scalars.construct_object(node)
        if isinstance(key, str):
            return key
        text = node.value
        return _Problem(
            loc,
            f"{_at(loc)}key {text!r} is not allowed — YAML reads it as {key!r}; "
            f"keys must be strings: quote it, '{text}'",
            node.start_mark.line + 1,
        )
    return _Problem(
        loc,
        f"{_at(loc)}a list or mapping used as a key is not allowed",
        node.start_mark.line + 1,
    )


def _not_json(loc: Loc, node: yaml.Node, scalars: SafeConstructor) -> _Problem | None:
    if node.tag not in _JSON_TAGS:
        text = node.value if isinstance(node, yaml.ScalarNode) else node.tag
        if node.tag.endswith(":timestamp"):
            why = f"YAML reads it as a date; quote it: '{text}'"
        else:
            why = f"it is a YAML {node.tag.rsplit(':', 1)[-1]!r}, not JSON"
        return _Problem(loc, f"{_at(loc)}{text!r} is not allowed — {why}")
    if node.tag.endswith(":float") and not math.isfinite(scalars.construct_object(node)):
        return _Problem(loc, f"{_at(loc)}{node.value!r} is not allowed — must be a finite number")
    return None


# --- step 3: pydantic errors as problems ----------------------------------------------------


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _at(loc: Loc) -> str:
    return f"{_dotted(loc)}: " if loc else ""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _hint(word: object, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
            annotation = args[0] if args[1] is type(None) else args[1]
        else:
            return annotation


def _resolve(root: type[_Doc], loc: Loc) -> tuple[Any, FieldInfo | None]:
    """The type at ``loc`` of a document, and the field it belongs to (None for list items)."""
    target: Any = root
    info: FieldInfo | None = None
    for part in loc:
        target = _strip(target)
        origin = typing.get_origin(target)
        if isinstance(target, type) and issubclass(target, _Doc) and part in target.model_fields:
            info = target.model_fields[str(part)]
            target = info.annotation
        elif origin is list and isinstance(part, int):
            (target,) = typing.get_args(target)
            info = None
        elif origin is dict:
            target = typing.get_args(target)[1]
            info = None
        else:
            return None, None
    return _strip(target), info


def _requirement(root: type[_Doc], loc: Loc, error: ErrorDetails) -> str:
    target, info = _resolve(root, loc)
    if info is not None and info.description:
        text = f"must be {info.description}"
    elif isinstance(target, type) and issubclass(target, _Doc):
        text = f"must be {target.expected}"
    else:
        text = error["msg"].replace("Input should be", "must be", 1)
    if error["type"] == "string_type" and isinstance(error["input"], int | float):
        text += f" (quote it: '{error['input']}')"
    if typing.get_origin(target) is Literal and isinstance(error["input"], str):
        text += _hint(error["input"], [str(a) for a in typing.get_args(target)])
    return text


def _problem(root: type[_Doc], error: ErrorDetails) -> _Problem:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], loc[-1]
        target, _ = _resolve(root, parent)
        allowed = (
            list(target.model_fields)
            if isinstance(target, type) and issubclass(target, _Doc)
            else []
        )
        return _Problem(
            loc,
            f"{_at(parent)}unknown field {key!r} — allowed: {', '.join(allowed)}"
            f"{_hint(key, allowed)}",
        )
    if kind == "missing":
        return _Problem(
            loc,
            f"{_at(loc[:-1])}missing required field {loc[-1]!r} — {_requirement(root, loc, error)}",
        )
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad key of a mapping
        loc = loc[:-1]
        return _Problem(
            loc, f"{_at(loc[:-1])}key {_show(error['input'])} is not allowed — {error['msg']}"
        )
    if kind == "harness_mapping":
        return _Problem(loc, f"{_at(loc)}{error['msg']}")
    requirement = error["msg"] if kind == "harness" else _requirement(root, loc, error)
    return _Problem(loc, f"{_at(loc)}{_show(error['input'])} is not allowed — {requirement}")


_D = TypeVar("_D", bound=_Doc)


def _validate(doc: type[_D], text: _Text) -> _D:
    try:
        return doc.model_validate(text.data)
    except ValidationError as exc:
        text.fail([_problem(doc, e) for e in exc.errors()])


# --- loading --------------------------------------------------------------------------------


def _load(path: Path) -> Scenario | Suite:
    """A scenario or a suite file, told apart by its `suite:` key."""
    text = _read(path)
    if not isinstance(text.data, dict):
        found = "nothing" if text.data is None else f"a {type(text.data).__name__}"
        text.fail(
            [
                _Problem(
                    (),
                    f"the file holds {found} — a scenario is a mapping with at least `source:`, "
                    "a suite a mapping with `suite:`",
                )
            ]
        )
    try:
        if "suite" in text.data:
            return _build_suite(_validate(_SuiteDoc, text), path)
        return _validate(_ScenarioDoc, text).build(path, text)
    except _Invalid as exc:
        text.fail([_Problem(exc.loc, exc.message)])


def _build_suite(doc: _SuiteDoc, path: Path) -> Suite:
    scenarios: list[Scenario] = []
    for i, member in enumerate(doc.suite):
        try:
            loaded = _load(_locate(member, path.parent))
        except UnknownScenarioError as exc:
            raise _Invalid(("suite", i), f"suite[{i}]: {exc}") from None
        if isinstance(loaded, Suite):
            raise _Invalid(
                ("suite", i),
                f"suite[{i}]: {member!r} is not allowed — it is a suite; list its scenarios",
            )
        scenarios.append(loaded)
    return Suite(doc.name or _stem(path), doc.description, tuple(scenarios), str(path))


def load_scenario(path: Path) -> Scenario:
    """The scenario in a YAML file. Raises ScenarioError saying file:line, field and fix."""
    loaded = _load(Path(path))
    if isinstance(loaded, Suite):
        raise ScenarioError(
            "this file is a suite (it has `suite:`), not a scenario",
            where=str(path),
            hint="load it with load_suite, or name it to `harness run`",
        )
    return loaded


def load_suite(path: Path) -> Suite:
    """The suite in a YAML file, its scenarios loaded. Raises ScenarioError like load_scenario."""
    loaded = _load(Path(path))
    if isinstance(loaded, Scenario):
        raise ScenarioError(
            "this file is a scenario, not a suite (a suite has `suite: [name, ...]`)",
            where=str(path),
            hint="load it with load_scenario",
        )
    return loaded


_KINDS = {".scenario.yaml": "scenario", ".suite.yaml": "suite"}


def _builtins() -> dict[str, tuple[Path, str]]:
    """Built-in name -> (file, "scenario" | "suite")."""
    found: dict[str, tuple[Path, str]] = {}
    for path in sorted(data_dir("scenarios").glob("*.yaml")):
        for suffix, kind in _KINDS.items():
            if path.name.endswith(suffix):
                found[path.name.removesuffix(suffix)] = (path, kind)
    return found


def _looks_like_path(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name or os.sep in name


def _locate(name: str, base: Path) -> Path:
    """The file of a built-in name, or of a path relative to ``base``."""
    if _looks_like_path(name):
        path = base / name
        if path.is_file():
            return path
        raise UnknownScenarioError(
            f"no scenario file {str(path)!r}",
            hint="check the path, or name a built-in scenario (`harness scenarios` lists them)",
        )
    builtins = _builtins()
    if name in builtins:
        return builtins[name][0]
    close = difflib.get_close_matches(name, list(builtins), n=1)
    guess = f" — did you mean {close[0]!r}?" if close else " —"
    raise UnknownScenarioError(f"unknown scenario {name!r}{guess} `harness scenarios` lists them")


def resolve(names: Sequence[str]) -> list[Scenario]:
    """Scenarios for names: built-in scenarios, built-in suites (expanded), or YAML file paths."""
    scenarios: list[Scenario] = []
    for name in names:
        loaded = _load(_locate(name, Path()))
        scenarios.extend(loaded.scenarios if isinstance(loaded, Suite) else [loaded])
    return scenarios


def builtin_catalogue() -> list[tuple[str, str, str]]:
    """(name, "scenario" | "suite", description) of every built-in, sorted by name."""
    out: list[tuple[str, str, str]] = []
    for name, (path, kind) in sorted(_builtins().items()):
        out.append((name, kind, _load(path).description))
    return out
