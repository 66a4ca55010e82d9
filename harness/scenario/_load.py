"""Scenario and suite files: YAML read with its line numbers, validated, built into the Scenario
(``core._scenario``).

Loading goes through four steps. Each reports the problems it finds as
``file:line: field.path: <value> is not allowed — <what is allowed>``:

1. parse the YAML into nodes that keep their lines (``_lines``);
2. walk the nodes for the line of every key and list item, and for what JSON cannot hold
   (``_lines``);
3. validate with pydantic models shaped like the file (``_schema``, ``_values``),
   their errors told by ``_errors``;
4. build the frozen dataclasses of ``core._scenario``, reading the files a scenario names
   relative to it.

Names resolve to built-in scenarios and suites (``scenarios/<name>.scenario.yaml``,
``scenarios/<name>.suite.yaml`` in the data folder) or to paths of YAML files.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..core import _library as library
from ..core import _paths
from ..core._calendar import CalendarSpec, bad_params
from ..core._data_paths import data_dir
from ..core._errors import InputError, ScenarioError, UnknownScenarioError
from ..core._files import not_a_file
from ..core._model import Model
from ..core._providers import PROVIDERS, Provider
from ..core._scenario import (
    AuthSpec,
    DeliverySpec,
    DownstreamSpec,
    ExpectedRequest,
    ExpectSpec,
    FaultSpec,
    InvariantSpec,
    ObserverSpec,
    Perturbation,
    PlannedDelivery,
    RecordedSource,
    Route,
    Scenario,
    SecretRotation,
    Settle,
    ShapeChange,
    Source,
    SyntheticSource,
)
from ..core._secret_env import ENV_NAME, shape
from ..core._signing import TIMESTAMPED, check_rotation, default_overlap
from ..drive._drift import check_drift, is_drift
from ..drive._formats import provider as recorded_provider
from ..drive._recorded import NOT_REPLAYED
from ..drive._recorded import survey as recorded_survey
from ..drive._sample import Sample
from ..drive._sources import sample_of, source_paths
from ..invariants import check_specs
from ..invariants._expected import NEED_BASELINE
from ..invariants.effects_match_contract import NAME as CONTRACT_INVARIANT
from ._correlate import CorrelationProblem, correlation
from ._errors import hint, validate
from ._limits import check_planned_size, check_replay_time, check_synthetic_span
from ._lines import Loc, Problem, YamlText, dotted, read_yaml
from ._openapi import SourceProblem, contract, openapi_source, schema_source
from ._schema import (
    AuthDoc,
    CalendarDoc,
    DeliveryDoc,
    DownstreamDoc,
    ExpectedRequestDoc,
    ObserverDoc,
    PerturbationDoc,
    ProviderDoc,
    RouteDoc,
    ScenarioDoc,
    SourceDoc,
    SuiteDoc,
    SyntheticDoc,
)
from ._values import parse_duration

__all__ = [
    "Suite",
    "builtin_catalogue",
    "load_scenario",
    "load_suite",
    "parse_duration",
    "resolve",
]


@dataclass(frozen=True, slots=True)
class Suite:
    """Scenarios run together under one name, from a ``.suite.yaml`` file."""

    name: str
    description: str
    scenarios: tuple[Scenario, ...]
    origin: str = "<python>"


# --- loading --------------------------------------------------------------------------------


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


def _load(path: Path, within: tuple[Path, ...] = (), *, events: bool = True) -> Scenario | Suite:
    """A scenario or a suite file, told apart by its `suite:` key. ``within``: the suite files
    being loaded around this one, so that a suite naming itself is an error, not a loop.
    ``events=False``: a scenario's recording is not read (``_unread``)."""
    text = read_yaml(path)
    text.require_mapping(
        "a scenario is a mapping with at least `source:`, a suite a mapping with `suite:`"
    )
    try:
        if "suite" in text.data:
            return _suite(validate(SuiteDoc, text), path, within, events)
        doc = validate(ScenarioDoc, text)
        if not events and doc.source.recorded is not None:
            return _unread(doc, path)
        return _scenario(doc, path, text)
    except _Invalid as exc:
        text.fail([Problem(exc.loc, exc.message)])


# --- names ----------------------------------------------------------------------------------

# A year (``calendar:``, ``harness.year``) is a scenario file run as twelve months.
_KINDS = {".scenario.yaml": "scenario", ".suite.yaml": "suite", ".calendar.yaml": "year"}


def resolve(names: Sequence[str]) -> list[Scenario]:
    """Scenarios for names: built-in scenarios, built-in suites (expanded), or YAML file paths."""
    scenarios: list[Scenario] = []
    for name in names:
        loaded = _load(_locate(name, Path()))
        scenarios.extend(loaded.scenarios if isinstance(loaded, Suite) else [loaded])
    return scenarios


def builtin_catalogue() -> list[tuple[str, str, str]]:
    """(name, "scenario" | "suite" | "year", description) of every built-in, sorted by name."""
    out: list[tuple[str, str, str]] = []
    for name, (path, kind) in sorted(_builtins().items()):
        out.append((name, kind, _load(path).description))
    return out


def _builtins() -> dict[str, tuple[Path, str]]:
    """Built-in name -> (file, "scenario" | "suite" | "year")."""
    found: dict[str, tuple[Path, str]] = {}
    for path in sorted(data_dir("scenarios").glob("*.yaml")):
        for suffix, kind in _KINDS.items():
            if path.name.endswith(suffix):
                found[path.name.removesuffix(suffix)] = (path, kind)
    return found


def builtin_files() -> dict[str, Path]:
    """Built-in name -> its YAML file, for printing it (``harness show``)."""
    return {name: path for name, (path, _) in _builtins().items()}


def _looks_like_path(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name or os.sep in name


def _locate(name: str, base: Path) -> Path:
    """The file of a built-in name, or of a path relative to ``base``."""
    if _looks_like_path(name):
        path = base / name
        why = not_a_file(path)
        if why is None:
            return path
        raise UnknownScenarioError(
            f"no scenario file {str(path)!r}"
            if not path.exists()
            else f"{str(path)!r} {why}, not a scenario file",
            hint="check the path, or name a built-in scenario (`harness scenarios` lists them)",
        )
    builtins = _builtins()
    if name in builtins:
        return builtins[name][0]
    close = difflib.get_close_matches(name, list(builtins), n=1)
    guess = f" — did you mean {close[0]!r}?" if close else " —"
    raise UnknownScenarioError(f"unknown scenario {name!r}{guess} `harness scenarios` lists them")


def _stem(path: Path) -> str:
    """``duplicate-storm.scenario.yaml`` -> ``duplicate-storm``."""
    name = path.name
    for suffix in (*_KINDS, ".scenario.yml", ".suite.yml", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return path.stem


# --- step 4: the documents built into core._scenario ----------------------------------------


class _Invalid(Exception):
    """A problem found while building, at ``loc`` of the document."""

    def __init__(self, loc: Loc, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def _suite(doc: SuiteDoc, path: Path, within: tuple[Path, ...], events: bool = True) -> Suite:
    scenarios: list[Scenario] = []
    here = (*within, path.resolve())
    for i, member in enumerate(doc.suite):
        try:
            member_path = _locate(member, path.parent)
        except UnknownScenarioError as exc:
            raise _Invalid(("suite", i), f"suite[{i}]: {exc}") from None
        if member_path.resolve() in here:
            raise _Invalid(
                ("suite", i),
                f"suite[{i}]: {member!r} is not allowed — it is this suite or one that "
                "includes it; list scenarios",
            )
        loaded = _load(member_path, here, events=events)
        if isinstance(loaded, Suite):
            raise _Invalid(
                ("suite", i),
                f"suite[{i}]: {member!r} is not allowed — it is a suite; list its scenarios",
            )
        scenarios.append(loaded)
    return Suite(doc.name or _stem(path), doc.description, tuple(scenarios), str(path))


def _scenario(doc: ScenarioDoc, path: Path, text: YamlText) -> Scenario:
    try:
        source = _source(doc.source, path.parent)
    except SourceProblem as exc:
        raise _Invalid(exc.loc, exc.message) from None
    downstreams = _downstreams(doc.downstreams, path.parent)
    sample = sample_of(source)  # a recorded file is read here, before anything is sent
    _source_paths_resolve(doc.source, source, sample)
    perturbations = tuple(_perturbation(p) for p in doc.perturbations)
    recorded = 0
    if isinstance(source, RecordedSource):  # every line checked as the run will send it
        survey = recorded_survey(source)
        check_replay_time(survey, doc.time_scale, str(path))
        recorded = survey.lines
    elif isinstance(source, SyntheticSource):
        check_synthetic_span(source, str(path))
    check_planned_size(source, perturbations, str(path), recorded)
    _drift_checked(perturbations, source, sample)
    delivery = _delivery(doc.delivery, doc.provider, _detected(doc, source))
    _tamper_needs_signing(doc, delivery)
    try:
        names = [d.name for d in doc.downstreams]
        correlate, tracer = correlation(doc.correlate, doc.tracer, source, names)
    except CorrelationProblem as exc:
        raise _Invalid(exc.loc, exc.message) from None
    invariants = _checked(_with_contract(doc, downstreams), text)
    return Scenario(
        name=doc.name or _stem(path),
        source=source,
        model=Model(doc.model),
        description=doc.description,
        perturbations=perturbations,
        invariants=invariants,
        downstreams=downstreams,
        delivery=delivery,
        settle=Settle(
            doc.settle.quiet,
            doc.settle.deadline,
            doc.settle.event_quiet,
            doc.settle.event_deadline,
        ),
        faults=_faults(doc),
        observer=_observer(doc.observer),
        time_scale=doc.time_scale,
        marks=tuple(doc.marks),
        redact=tuple(doc.redact),
        origin=str(path),
        correlate=correlate,
        tracer=tracer,
        expect=_expect(
            doc.expect,
            [d.name for d in doc.downstreams],
            _source_types(source) if isinstance(source, SyntheticSource) else None,
        ),
        baseline=_baseline(doc, invariants),
        schedule=_schedule(doc, source),
        reset=None if doc.reset is None else doc.reset.spec(),
        **_restarts(doc),
        calendar=calendar_of(doc.calendar),
    )


def _unread(doc: ScenarioDoc, path: Path) -> Scenario:
    """What a scenario file of a recording says before the recording is read: its name,
    origin, delivery (the recording's sender, where the file names none, read from its first
    record), downstreams, observer and calendar — what the checks made before the events are
    parsed need (``engine.check_unread``). Its recording is not checked: not a scenario to run,
    which ``_scenario`` makes."""
    try:
        source = _source(doc.source, path.parent)
    except SourceProblem as exc:
        raise _Invalid(exc.loc, exc.message) from None
    delivery = _delivery(doc.delivery, doc.provider, _detected(doc, source))
    _tamper_needs_signing(doc, delivery)
    return Scenario(
        name=doc.name or _stem(path),
        source=source,
        delivery=delivery,
        downstreams=_downstreams(doc.downstreams, path.parent),
        observer=_observer(doc.observer),
        time_scale=doc.time_scale,
        origin=str(path),
        **_restarts(doc),
        calendar=calendar_of(doc.calendar),
    )


def _restarts(doc: ScenarioDoc) -> dict[str, Any]:
    """When and how the run restarts the target (``restarts:``, ``restart:``)."""
    restart = None if doc.restart is None else doc.restart.spec()
    return {"restarts": tuple(sorted(doc.restarts)), "restart": restart}


def calendar_of(doc: CalendarDoc | None) -> CalendarSpec | None:
    """The ``calendar:`` block (scenario or project file), each life event on the calendar."""
    if doc is None:
        return None
    spec = doc.spec()
    year, month = divmod(spec.start.month - 1 + spec.months, 12)
    end = date(spec.start.year + year, month + 1, 1)
    for i, event in enumerate(spec.life or ()):
        if not spec.start <= event.on < end:
            raise _Invalid(
                ("calendar", "life", i, "date"),
                f"calendar.life[{i}].date: '{event.on}' is not allowed — must fall within the "
                f"calendar's {spec.months} months, {spec.start} to {end - timedelta(1)}",
            )
        if (bad := bad_params(event.kind, event.params)) is not None:
            name, why = bad
            raise _Invalid(("calendar", "life", i, "params", name), f"calendar.life[{i}].{why}")
    return spec


def _source(doc: SourceDoc, base: Path) -> Source:
    if doc.openapi is not None:
        return openapi_source(doc.openapi, base)
    if doc.schema_ is not None:
        return schema_source(doc.schema_, base)
    if doc.synthetic is not None:
        s = doc.synthetic
        if s.library is not None:
            return _library_source(s)
        return SyntheticSource(
            example=_payload(s, base),
            events=s.events,
            records=s.records,
            over=s.over,
            id_path=s.id,
            key_path=s.key,
            type_path=s.type,
            seq_path=s.sequence,
            time_path=s.time,
            types=tuple(s.types),
            same=tuple(s.same or ()),
        )
    assert doc.recorded is not None  # SourceDoc made sure
    r = doc.recorded
    if r.har is not None and r.format not in (None, "har"):
        loc: Loc = ("source", "recorded", "har")
        raise _Invalid(
            loc,
            f"{dotted(loc)}: is not allowed — it picks requests of a HAR file, "
            f"and format is {r.format!r}; leave har out or set format: har",
        )
    return RecordedSource(
        path=_existing(base, r.file, ("source", "recorded", "file"), folder=r.format == "github"),
        id_path=r.id,
        key_path=r.key,
        type_path=r.type,
        over=r.over,
        redeliveries=r.redeliveries,
        format=r.format,
        har_url=r.har.url if r.har is not None else None,
        har_path=r.har.path if r.har is not None else None,
    )


def _library_source(s: SyntheticDoc) -> SyntheticSource:
    """A synthetic source made from a payload of the library: its paths are the entry's unless
    the scenario gives them; an entry whose provider names the type in a header (GitHub,
    Shopify) has no type path, so its events are of the entry's type."""
    assert s.library is not None  # the caller checked
    try:
        found = library.entry(s.library)
    except InputError as exc:
        loc: Loc = ("source", "synthetic", "library")
        raise _Invalid(loc, f"{dotted(loc)}: {str(exc).partition(chr(10))[0]}") from None
    given = s.model_fields_set

    def path(name: str, own: str | None) -> str | None:
        return own if name in given else found.paths.get(name)

    key = path("key", s.key)
    assert key is not None  # every entry has a key path; the schema refuses a null one
    type_path = path("type", s.type)
    types = tuple(s.types) or (() if type_path else (found.type,))
    return SyntheticSource(
        example=found.example,
        events=s.events,
        records=s.records,
        over=s.over,
        id_path=path("id", s.id),
        key_path=key,
        type_path=type_path,
        seq_path=s.sequence,
        time_path=path("time", s.time),
        types=types,
        later=tuple(found.later.items()),
        same=tuple(s.same) if s.same is not None else found.same,
    )


def require_path(sample: Sample, path: str, loc: Loc) -> None:
    """Refuse ``path``, the value of the field at ``loc``, unless it leads to a value in every
    payload of ``sample`` (the example payload, or every line of a recorded file); the message
    names the lines that lack it and the paths that exist. For every path into the events: the
    source's own, and any other field that reads the events (correlation rules)."""
    problem = sample.unresolved(path)
    if problem is not None:
        raise _Invalid(loc, f"{dotted(loc)}: {path!r} is not allowed — {problem}")


def _source_paths_resolve(doc: SourceDoc, source: Source, sample: Sample) -> None:
    """The source's id, key, type, sequence and time paths lead somewhere. A synthetic source
    writes its paths into every payload, so a typo would invent a field (every event its own
    made-up record); a path left at its default may be written where the example has nothing."""
    synthetic = doc.synthetic
    if synthetic is None and doc.recorded is None:
        return  # a source generated from a schema: its paths were checked against it
    for name, json_path in source_paths(source).items():
        if synthetic is None:
            require_path(sample, json_path, ("source", "recorded", name))
        elif name in synthetic.model_fields_set:
            require_path(sample, json_path, ("source", "synthetic", name))
    for i, json_path in enumerate(synthetic.same or () if synthetic is not None else ()):
        require_path(sample, json_path, ("source", "synthetic", "same", i))


def _perturbation(doc: PerturbationDoc) -> Perturbation:
    # by_alias: a drift's `from` keeps its name (the field is from_ in Python).
    ((kind, params),) = doc.model_dump(exclude_none=True, by_alias=True).items()
    return Perturbation(kind, params)


def _paths_get(value: Any, path: str) -> Any:
    return _paths.get(value, _paths.parse(path), None)


def _drift_checked(perturbations: tuple[Perturbation, ...], source: Source, sample: Sample) -> None:
    """Each drift names a field the example payload has (add_field: one it has not yet), or
    that some line of a recorded file has (lines without it are left undrifted)."""
    for i, p in enumerate(perturbations):
        if not is_drift(p):
            continue
        problem = check_drift(p, sample)
        if problem is not None:
            loc: Loc = ("perturbations", i, p.kind, "path")
            raise _Invalid(loc, f"{dotted(loc)}: {p.params['path']!r} is not allowed — {problem}")
        if isinstance(source, SyntheticSource):
            _drift_selects(i, p, source)


def _drift_selects(i: int, p: Perturbation, source: SyntheticSource) -> None:
    """A drift's ``types`` and ``from`` leave some event of the source to drift."""
    types = list(source.types)
    if not types:  # every event has the example's type (``_sources.synthetic``)
        found = _paths_get(source.example, source.type_path) if source.type_path else None
        types = [str(found) if found is not None else "event"]
    for n, name in enumerate(p.params.get("types") or ()):
        if name not in types:
            loc: Loc = ("perturbations", i, p.kind, "types", n)
            raise _Invalid(
                loc,
                f"{dotted(loc)}: {name!r} is not allowed — no event of the source has that type; "
                f"its events are of type {', '.join(types)}",
            )
    since = float(p.params.get("from", 0.0))
    last = source.over * (source.events - 1) / source.events
    if since > last:
        loc = ("perturbations", i, p.kind, "from")
        raise _Invalid(
            loc,
            f"{dotted(loc)}: {since:g} s is not allowed — the last event occurs at {last:g} s "
            f"(the source spans {source.over:g} s), so no event would drift",
        )


def _source_types(source: SyntheticSource) -> list[str]:
    """The event types a synthetic source makes (as ``_drift_selects`` reads them)."""
    if source.types:
        return list(source.types)
    # Every event has the example's type (``_sources.synthetic``).
    found = _paths_get(source.example, source.type_path) if source.type_path else None
    return [str(found) if found is not None else "event"]


def _expect(
    expect: Mapping[str, Sequence[ExpectedRequestDoc]],
    names: Sequence[str],
    types: Sequence[str] | None,
) -> tuple[ExpectSpec, ...]:
    """The declared expected effects, their types checked against ``types`` (the source's;
    None: not known before the run, as a recorded file's) and their downstreams against
    ``names``."""
    out = []
    for event_type, items in expect.items():
        if types is not None and event_type not in types:
            loc: Loc = ("expect", event_type)
            raise _Invalid(
                loc,
                f"{dotted(loc)}: {event_type!r} is not allowed — no event of the source has that "
                f"type; its events are of type {', '.join(types)}{hint(event_type, types)}",
            )
        requests = []
        for i, item in enumerate(items):
            if item.downstream is not None and item.downstream not in names:
                loc = ("expect", event_type, i, "downstream")
                raise _Invalid(
                    loc,
                    f"{dotted(loc)}: {item.downstream!r} is not allowed — must name one of the "
                    f"scenario's downstreams: {', '.join(names)}",
                )
            method, path = item.request.split(" ", 1)
            # With one downstream there is nothing to choose: name it, for the messages.
            downstream = item.downstream or (names[0] if len(names) == 1 else None)
            requests.append(ExpectedRequest(method, path, downstream, item.count))
        out.append(ExpectSpec(event_type, tuple(requests)))
    return tuple(out)


def _baseline(doc: ScenarioDoc, invariants: Sequence[InvariantSpec]) -> bool:
    """``baseline: false`` cannot stand beside an invariant that compares with the clean run."""
    if not doc.baseline:
        needs = [i.name for i in invariants if i.name in NEED_BASELINE]
        if needs:
            raise _Invalid(
                ("baseline",),
                f"baseline: false is not allowed — {needs[0]} compares the run with the clean "
                "run; remove it from invariants, or leave baseline out",
            )
    return doc.baseline


def _with_contract(doc: ScenarioDoc, downstreams: Sequence[DownstreamSpec]) -> list[InvariantSpec]:
    """The scenario's invariants; when it names none and a downstream has a contract, the
    default ones and effects_match_contract."""
    named = list(doc.invariants)
    if "invariants" in doc.model_fields_set or all(d.contract is None for d in downstreams):
        return named
    return [*named, InvariantSpec(CONTRACT_INVARIANT)]


_PARAMETER = re.compile(r"\{[^/{}]*\}")


def _unnamed(route: str) -> str:
    """``PATCH /c/{}`` for ``PATCH /c/{contact}``: a route whatever its parameters' names."""
    return _PARAMETER.sub("{}", route)


def _downstreams(docs: Sequence[DownstreamDoc], base: Path) -> tuple[DownstreamSpec, ...]:
    seen: set[str] = set()
    for i, d in enumerate(docs):
        if d.name in seen:
            raise _Invalid(
                ("downstreams", i, "name"),
                f"downstreams[{i}].name: {d.name!r} is not allowed — "
                "another downstream has that name; give each its own",
            )
        seen.add(d.name)
        if d.page_size is not None and not d.stateful:
            raise _Invalid(
                ("downstreams", i, "page_size"),
                f"downstreams[{i}].page_size: {d.page_size!r} is not allowed without stateful: "
                "true — only the stateful store answers lists in pages; add stateful: true",
            )
        if d.auth is not None and d.forward_to:
            raise _Invalid(
                ("downstreams", i, "auth"),
                f"downstreams[{i}].auth is not allowed with forward_to — the real API checks "
                "its own credentials; remove one of them",
            )
        # One route whatever its parameters are named: appends: would win at judge time.
        if both := _in_both(d.merges, d.appends):
            j, route, shown = both
            raise _Invalid(
                ("downstreams", i, "appends", j),
                f"downstreams[{i}].appends: {route!r} is also in merges{shown} — a route's "
                "writes either merge into the resource (a repeat is harmless) or add to it (a "
                "repeat is a duplicate); keep it in one of them",
            )
        _one_key_rule(d, i)
        if d.stateful and d.forward_to:
            raise _Invalid(
                ("downstreams", i, "forward_to"),
                f"downstreams[{i}].forward_to: {d.forward_to!r} is not allowed with stateful: "
                "true — the real API keeps the state; remove one of them",
            )
    try:
        return tuple(
            DownstreamSpec(
                d.name,
                tuple(_route(r) for r in d.routes),
                d.stateful,
                d.port,
                contract=None
                if d.contract is None
                else contract(base, d.contract.file, ("downstreams", i, "contract", "file")),
                forward_to=d.forward_to,
                auth=_auth(d.auth, i),
                page_size=d.page_size,
                shape_changes=tuple(
                    ShapeChange(c.at, dict(c.rename), c.route) for c in d.shape_changes
                ),
                merges=tuple(d.merges),
                appends=tuple(d.appends),
                key_honoured=tuple(d.idempotency_key.honoured) if d.idempotency_key else (),
                key_ignored=tuple(d.idempotency_key.ignored) if d.idempotency_key else (),
            )
            for i, d in enumerate(docs)
        )
    except SourceProblem as exc:
        raise _Invalid(exc.loc, exc.message) from None


def _one_key_rule(d: DownstreamDoc, i: int) -> None:
    """A route both honoured and ignored is refused: which one the user meant is theirs."""
    keys = d.idempotency_key
    if keys is not None and (both := _in_both(keys.honoured, keys.ignored)):
        j, route, shown = both
        raise _Invalid(
            ("downstreams", i, "idempotency_key", "ignored", j),
            f"downstreams[{i}].idempotency_key.ignored: {route!r} is also honoured{shown} — "
            "its API either deduplicates a write repeated with the same Idempotency-Key or "
            "makes it again; keep the route in one of them",
        )


def _in_both(first: Sequence[str], then: Sequence[str]) -> tuple[int, str, str] | None:
    """The first route of ``then`` that ``first`` names too, whatever their parameters are
    named: its index in ``then``, the route, and `` (as 'PATCH /x/{id}')`` where ``first``
    spells it otherwise; None where no route is in both."""
    spelled = {_unnamed(r): r for r in first}
    for j, route in enumerate(then):
        same = spelled.get(_unnamed(route))
        if same is not None:
            return j, route, f" (as {same!r})" if same != route else ""
    return None


def _auth(doc: AuthDoc | None, i: int) -> AuthSpec | None:
    if doc is None:
        return None
    for name in ("key_env", "next_key_env"):
        value = getattr(doc, name)
        if value is not None and not ENV_NAME.fullmatch(value):
            # Only its shape: a key pasted in place of its variable's name is a secret.
            raise _Invalid(
                ("downstreams", i, "auth", name),
                f"downstreams[{i}].auth.{name}: {shape(value)} is not an environment variable "
                "name — give the NAME of the variable that holds the key, in upper case like "
                "CRM_API_KEY, and export the key in it",
            )
    return AuthSpec(
        doc.kind,
        doc.token_path,
        doc.lifetime,
        doc.header,
        doc.key_env,
        doc.next_key_env,
        doc.rotate_at,
    )


def _faults(doc: ScenarioDoc) -> tuple[FaultSpec, ...]:
    names = [d.name for d in doc.downstreams]
    for i, f in enumerate(doc.faults):
        if f.downstream not in names:
            raise _Invalid(
                ("faults", i, "downstream"),
                f"faults[{i}].downstream: {f.downstream!r} is not allowed — must name one of the "
                f"scenario's downstreams: {', '.join(names)}",
            )
    return tuple(
        FaultSpec(
            f.downstream,
            f.mode,
            f.at,
            f.for_,
            f.status,
            f.retry_after,
            f.hold,
            f.latency,
            f.jitter,
            f.count,
            f.then,
            f.route,
            f.rate or 0.0,
        )
        for f in doc.faults
    )


def _schedule(doc: ScenarioDoc, source: Source) -> tuple[PlannedDelivery, ...] | None:
    """An explicit schedule replaces the perturbations that plan one (drift may stay)."""
    if doc.schedule is None:
        return None
    for i, p in enumerate(doc.perturbations):
        perturbation = _perturbation(p)
        if not is_drift(perturbation):
            kind = perturbation.kind
            raise _Invalid(
                ("perturbations", i),
                f"perturbations[{i}]: {kind} is not allowed beside schedule: — the schedule "
                "lists every delivery; remove it (field drift may stay)",
            )
    total = source.events if isinstance(source, SyntheticSource) else None
    for i, d in enumerate(doc.schedule):
        if total is not None and d.event > total:
            raise _Invalid(
                ("schedule", i, "event"),
                f"schedule[{i}].event: {d.event} is not allowed — the source has {total} "
                f"events; number them from 1 to {total}",
            )
    return tuple(PlannedDelivery(d.event - 1, d.at, d.tamper or "") for d in doc.schedule)


def _observer(doc: ObserverDoc | None) -> ObserverSpec | None:
    return None if doc is None else ObserverSpec(doc.url, doc.records, doc.key)


def _route(doc: RouteDoc) -> Route:
    return Route(
        method=doc.method,
        path=doc.path,
        status=doc.status,
        body=doc.body,
        headers=doc.headers,
        delay=doc.delay,
    )


def _detected(doc: ScenarioDoc, source: Source) -> str | None:
    """The signing scheme of the sender a recording shows, when the scenario names none: its
    deliveries are signed afresh that way, with the test secret (docs/recording.md)."""
    if not isinstance(source, RecordedSource) or doc.provider is not None:
        return None
    if "signing" in doc.delivery.model_fields_set:
        return None
    found = recorded_provider(source)
    return PROVIDERS[found].scheme if found is not None else None


def _delivery(
    doc: DeliveryDoc, provider_doc: ProviderDoc | None, detected: str | None = None
) -> DeliverySpec:
    signing: str = detected or doc.signing
    profile = None
    if provider_doc is not None:
        profile = _provider(provider_doc)
        if "signing" in doc.model_fields_set and doc.signing != profile.scheme:
            raise _Invalid(
                ("delivery", "signing"),
                f"delivery.signing: {doc.signing!r} is not allowed — provider "
                f"{profile.name!r} signs with {profile.scheme!r}; leave delivery.signing out "
                "(the provider sets it) or name the provider that signs that way",
            )
        signing = profile.scheme
    for name in doc.headers:
        if name.lower() in NOT_REPLAYED:
            raise _Invalid(
                ("delivery", "headers", name),
                f"delivery.headers.{name}: {name!r} is not allowed — the harness frames each "
                "request itself (length, encoding, connection, host); leave it out",
            )
    return DeliverySpec(
        signing=signing,
        secret_env=doc.secret_env,
        signature_header=doc.signature_header,
        timeout=doc.timeout,
        headers=doc.headers,
        provider=profile,
        rotation=_rotation(doc, signing, profile),
        clock_skew=doc.clock_skew,
    )


def _rotation(doc: DeliveryDoc, scheme: str, profile: Provider | None) -> SecretRotation | None:
    """``delivery.rotation`` as the scheme can honour it (its overlap defaults to the scheme's
    way: a day of both signatures, or a switch at a moment)."""
    r = doc.rotation
    if r is None:
        return None
    loc: Loc = ("delivery", "rotation")
    signs = f"provider {profile.name!r} signs with {scheme!r}" if profile else f"{scheme!r}"
    if scheme == "none":
        raise _Invalid(
            loc,
            "delivery.rotation is not allowed — the deliveries are not signed (delivery.signing: "
            "none), so there is no secret to rotate; set delivery.signing or provider",
        )
    if r.next_secret_env == doc.secret_env:
        raise _Invalid(
            (*loc, "next_secret_env"),
            f"delivery.rotation.next_secret_env: {r.next_secret_env!r} is not allowed — it is "
            "delivery.secret_env, the secret rotated away from; name the variable that holds "
            "the next secret, like HARNESS_SECRET_NEXT",
        )
    overlap = default_overlap(scheme) if r.overlap is None else r.overlap
    if check_rotation(scheme, overlap) is not None:
        raise _Invalid(
            (*loc, "overlap"),
            f"delivery.rotation.overlap: {overlap:g} is not allowed — {signs}, which carries one "
            "signature: its sender cannot sign with two secrets at once; set overlap: 0 (it "
            "switches to the new secret at `at`), or use stripe or standard-webhooks, which "
            "sign with both during an overlap",
        )
    return SecretRotation(r.next_secret_env, r.at, overlap)


def _provider(doc: ProviderDoc) -> Provider:
    """The named profile with the scenario's retries and ack timeout."""
    profile = PROVIDERS[doc.name]
    if isinstance(doc.retries, int) and doc.retries > len(profile.retries):
        raise _Invalid(
            ("provider", "retries"),
            f"provider.retries: {doc.retries!r} is not allowed — {profile.name!r} has "
            f"{len(profile.retries)} retry delays in its schedule; give at most "
            f"{len(profile.retries)}, or the delays as a list like [0s, 1m, 5m]",
        )
    return profile.with_overrides(doc.retries, doc.timeout, doc.batch_window)


def _tamper_needs_signing(doc: ScenarioDoc, delivery: DeliverySpec) -> None:
    for i, d in enumerate(doc.schedule or ()):
        if d.tamper is not None and delivery.signing == "none":
            raise _Invalid(
                ("schedule", i, "tamper"),
                f"schedule[{i}].tamper: {d.tamper!r} is not allowed — the scenario sends "
                "unsigned deliveries (delivery.signing: none); set delivery.signing or provider",
            )
    for i, p in enumerate(doc.perturbations):
        if p.tamper is not None and delivery.signing == "none":
            raise _Invalid(
                ("perturbations", i, "tamper"),
                f"perturbations[{i}].tamper: {p.tamper.mode!r} is not allowed — the scenario "
                "sends unsigned deliveries (delivery.signing: none), so there is no signature "
                "to tamper with; set delivery.signing or provider",
            )
        if (
            p.tamper is not None
            and p.tamper.mode == "stale"
            and delivery.signing not in TIMESTAMPED
        ):
            raise _Invalid(
                ("perturbations", i, "tamper", "mode"),
                f"perturbations[{i}].tamper.mode: 'stale' is not allowed — {delivery.signing!r} "
                "signs no timestamp, so a stale signature is a valid one; use a timestamped "
                f"scheme ({', '.join(sorted(TIMESTAMPED))}) or mode replayed",
            )


# --- step 4: the files a scenario names, and its invariants' parameters ---------------------


def _existing(
    base: Path, name: str, loc: Loc, of: str = "the scenario file", *, folder: bool = False
) -> Path:
    path = (base / name).absolute()
    if not (path.is_file() or (folder and path.is_dir())):
        examples = " (a folder of GitHub example payloads needs format: github)"
        raise _Invalid(
            loc,
            f"{dotted(loc)}: {name!r} is not allowed — there is no file {str(path)!r} "
            f"(paths are relative to {of}){examples if path.is_dir() else ''}",
        )
    return path


def _payload(doc: SyntheticDoc, base: Path) -> dict[str, Any]:
    """The example payload, inline or from its file."""
    if doc.example_file is None:
        return dict(doc.example or {})
    return example_file(base, doc.example_file, ("source", "synthetic", "example_file"))


def example_file(base: Path, name: str, loc: Loc, of: str = "the scenario file") -> dict[str, Any]:
    """The example payload in the JSON file ``name`` (relative to ``base``, the folder of
    ``of``), the value of the field at ``loc``."""
    path = _existing(base, name, loc, of)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise _Invalid(loc, f"{dotted(loc)}: cannot read {str(path)!r} as JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _Invalid(
            loc,
            f"{dotted(loc)}: {str(path)!r} holds a JSON {type(value).__name__}, "
            "not an object — it must hold one example payload",
        )
    return value


_CHECKED_AT = re.compile(r"invariants\[(\d+)\](?:\.params\.(.+))?")


def _checked(specs: Sequence[InvariantSpec], text: YamlText) -> tuple[InvariantSpec, ...]:
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
