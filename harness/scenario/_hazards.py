"""The built-in scenarios as hazards over a project's events, provider and downstreams.

Each hazard keeps its shape — event counts, records, pace, perturbations, faults, invariants,
settling — and takes from the project (``_project``) what the built-in invented: the source
(the project's example payloads or recorded files, with their paths), the delivery's signing
(the project's provider and secret variable), the downstreams (the hazard's faults open on the
project's downstreams), expected effects and correlation rules. Drift hazards choose fields of
the user's payload and say which; a hazard with nothing to act on is Skipped, with its reason.

A scenario file of the user's own is never rewritten: it already says what it sends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path
from typing import Any

from ..core import _paths
from ..core._data_paths import data_dir
from ..core._errors import InputError
from ..core._model import Model
from ..core._providers import PROVIDERS, Provider
from ..core._scenario import (
    DeliverySpec,
    FaultSpec,
    InvariantSpec,
    Perturbation,
    RecordedSource,
    Scenario,
    Skipped,
    Source,
    SyntheticSource,
)
from ..core._secret_env import next_secret_env
from ..core._signing import MULTI_SIGNATURE, TIMESTAMPED
from ..drive._drift import is_big
from ..drive._sources import sample_of
from ..drive._vary import decimal_amount_at
from ..invariants import DEFAULT_INVARIANTS, amounts_intact
from ..report._describe import duration
from ._leave_out import leave_out
from ._load import Suite, _load, _locate
from ._project import Project, ProjectEvents

# Which payload fields a drift hazard prefers, in order: what an automation most likely reads.
_PREFERRED = ("email", "customer", "account", "name")
_NUMERIC = ("amount", "total", "price", "quantity")
_GENERIC_STORM = "standard-webhooks"
# The hazard that judges the payload's decimal amounts (``_amounts_judged``).
_AMOUNTS_IN = "bulk-import-burst"
Steps = tuple[_paths.Step, ...]


@dataclass(frozen=True, slots=True)
class Hazards:
    """What to run: the scenarios (hazards applied to the project, the user's files as they
    are) and the hazards skipped, with why."""

    scenarios: tuple[Scenario, ...]
    skipped: tuple[Skipped, ...] = ()

    def one(self, name: str, who: str, where: str | None = None) -> Scenario:
        """The one scenario ``name`` resolved to, for ``who`` that runs one (a load test,
        ``harness_run``); InputError when it does not apply or is a suite."""
        if self.skipped and not self.scenarios:
            skipped = self.skipped[0]
            raise InputError(
                f"{skipped.name} does not apply to the project: {skipped.reason}",
                where=where,
                hint="name a scenario that applies, or ignore the project file (--no-project)",
            )
        if len(self.scenarios) != 1:
            names = ", ".join(s.name for s in self.scenarios)
            raise InputError(
                f"{name!r} is a suite of {len(self.scenarios)} scenarios ({names})",
                where=where,
                hint=f"{who} runs one scenario: name one of them",
            )
        return self.scenarios[0]


def resolve_hazards(
    names: Sequence[str], project: Project | None, *, events: bool = True
) -> Hazards:
    """Scenarios for names (built-ins, suites, .yaml paths), the built-in ones applied to
    ``project`` when it gives anything; one with ``restarts`` and no ``restart:`` of its own
    takes the project's, and is skipped where none says how (``restarted``); a built-in that
    rotates the signing secret takes its next one beside the secret's variable, and is
    skipped where that is not set or nothing is signed (``rotated``).
    ``events=False``: the scenario files' recordings are not read (``_load``): what is checked
    before them. Raises ScenarioError / UnknownScenarioError."""
    scenarios: list[Scenario] = []
    skipped: list[Skipped] = []
    for name in names:
        loaded = _load(_locate(name, Path()), events=events)
        for scenario in loaded.scenarios if isinstance(loaded, Suite) else (loaded,):
            builtin = project is not None and is_builtin(scenario)
            applied: list[Scenario | Skipped] = [scenario]
            if builtin and project is not None and project.gives_anything:
                applied = apply(scenario, project)
            for one in applied:
                if not isinstance(one, Skipped):
                    one = restarted(one, project)
                if not isinstance(one, Skipped) and is_builtin(scenario):
                    one = rotated(one)
                if not isinstance(one, Skipped) and builtin and project and project.leave_out:
                    one = leave_out(one, project.leave_out)
                if isinstance(one, Skipped):
                    skipped.append(one)
                else:
                    scenarios.append(one)
    return Hazards(tuple(scenarios), tuple(skipped))


RESTART_FIX = (
    "give harness.yaml a restart: {command: [...]} that restarts the automation as your deploy "
    "does (docs/project.md#restart)"
)


def restarted(scenario: Scenario, project: Project | None) -> Scenario | Skipped:
    """``scenario`` with the way to restart the target at its ``restarts`` (its own
    ``restart:``, else the project's); not tried (``Skipped.not_tried``) where it has restarts
    and nothing says how — never run without them, which would pass a deploy it never made,
    and never counted as held. A year (``calendar:``)
    takes the project's too, for its deploys (``harness.year``: skipped without one)."""
    if scenario.calendar is not None and scenario.restart is None and project is not None:
        return replace(scenario, restart=project.restart)
    if not scenario.restarts or scenario.restart is not None:
        return scenario
    if project is None or project.restart is None:
        whose = "the project gives no" if project is not None else "no project file gives a"
        # Every automation is deployed again in production: not tried, never held.
        return Skipped(
            scenario.name,
            f"{RESTART_FIX} — it restarts the automation mid-run as a deploy does, and "
            f"{whose} way to restart it",
            scenario.origin,
            not_tried=True,
        )
    how = project.restart
    way = f"its command ({how.command[0]})" if how.command else "a POST to its restart URL"
    at = ", ".join(duration(t) for t in scenario.restarts)
    note = f"The automation is restarted at {at} by the project's restart: — {way}."
    return replace(scenario, restart=how, adapted=(*scenario.adapted, note))


def rotated(scenario: Scenario) -> Scenario | Skipped:
    """A built-in's secret rotation with the next secret in ``next_secret_env`` of the
    secret's variable (the project's), and as its provider's scheme can carry it: a
    one-signature scheme switches at the rotation's start. Skipped where the deliveries are
    unsigned (nothing to rotate); not tried, with the fix, where that variable is not set:
    never run without it, which would pass a rotation it never made, and never counted as
    held (``Skipped.not_tried``: the report is not Ready beside it)."""
    spec = scenario.delivery
    rotation = spec.rotation
    if rotation is None:
        return scenario
    if spec.scheme == "none":
        return Skipped(
            scenario.name,
            "the deliveries are unsigned (provider none): there is no secret to rotate — name "
            "the provider that signs your webhooks (provider: in harness.yaml, or --provider) "
            "and the variable its secret is in (docs/providers.md#secret-rotation)",
            scenario.origin,
        )
    variable = next_secret_env(spec.secret_env)
    if not os.environ.get(variable):
        return Skipped(
            scenario.name,
            f"set ${variable} to a second secret (docs/providers.md#secret-rotation) — the "
            "hazard rolls the signing secret mid-run to it: export "
            f"{variable}=<a new secret> and give the automation the same value beside "
            f"${spec.secret_env}",
            scenario.origin,
            not_tried=True,
        )
    note = f"The secret in {spec.secret_env} is rolled to the one in {variable}"
    if spec.scheme in MULTI_SIGNATURE:
        note += (
            f" at {duration(rotation.at)}: both sign each delivery for "
            f"{duration(rotation.overlap)}, then the new one alone."
        )
        overlap = rotation.overlap
    else:
        note += (
            f" at {duration(rotation.at)}, at once: {spec.scheme} carries one signature, so its "
            "sender cannot sign with both."
        )
        overlap = 0.0
    rolled = replace(rotation, next_secret_env=variable, overlap=overlap)
    return replace(
        scenario,
        delivery=replace(spec, rotation=rolled),
        adapted=(*scenario.adapted, note),
    )


def is_builtin(scenario: Scenario) -> bool:
    """Whether ``scenario`` is one of the built-ins (``scenarios/`` in the data folder)."""
    return Path(scenario.origin).resolve().parent == data_dir("scenarios").resolve()


def apply(hazard: Scenario, project: Project) -> list[Scenario | Skipped]:
    """``hazard`` over each of the project's event sources (one scenario each; named
    ``hazard:type`` when there are several), or why it does not apply."""
    notes: list[str] = [f"Applied to {project.described}."]
    delivery = _delivery(hazard, project, notes)
    if isinstance(delivery, Skipped):
        return [delivery]
    perturbations = _tampers(hazard, delivery.signing, notes)
    if isinstance(perturbations, Skipped):
        return [perturbations]
    base = replace(
        hazard,
        delivery=delivery,
        perturbations=perturbations,
        expect=project.expect or hazard.expect,
        correlate=project.correlate or hazard.correlate,
        # A year (``calendar:``) runs on the project's calendar when it has one.
        calendar=(project.calendar or hazard.calendar) if hazard.calendar else None,
    )
    base = _downstreams(base, project, notes)
    if not project.events:
        return [replace(base, adapted=tuple(notes))]
    out: list[Scenario | Skipped] = []
    several = len(project.events) > 1
    for i, item in enumerate(project.events):
        name = f"{hazard.name}:{item.type or i}" if several else hazard.name
        out.append(_over(replace(base, name=name), item, list(notes)))
    return out


# --- delivery -------------------------------------------------------------------------------


def _delivery(hazard: Scenario, project: Project, notes: list[str]) -> DeliverySpec | Skipped:
    """The hazard's delivery signed as the project's provider, with its secret variable. A
    retry storm runs only as the project's provider's own; a fault hazard (downstream fault
    windows) gets the provider's retries that fit in its span (``fitting_retries``): what the
    target refused during a window is redelivered as in production, and judged on it
    (``recovers_after_outage``). Other hazards get the provider's signing, headers and
    batching, without its retries (one attempt per planned delivery, as the hazard was
    written)."""
    spec = hazard.delivery
    secret_env = project.secret_env or spec.secret_env
    storm = spec.provider
    name = project.provider
    if name is None:
        return replace(spec, secret_env=secret_env)
    profile = PROVIDERS[name]
    notes.append(
        f"Deliveries signed as {name}"
        + (f" with the secret in {secret_env}." if profile.scheme != "none" else " (unsigned).")
    )
    if storm is not None:
        why = _storm_skipped(storm.name, name)
        if why is not None:
            return Skipped(hazard.name, why, hazard.origin)
        if storm.name != name:  # the generic storm, with this provider's own signing
            if profile.timeout is not None and storm.timeout is not None:
                notes.append(
                    f"{profile.short_title} waits {profile.timeout:g} s for an answer: the "
                    f"storm's {storm.timeout:g} s ack timeout, and its calls slower than that, "
                    "stand for it and an API slower than it, compressed as in the providers' "
                    "own storms (ack_within's budget is the storm's)."
                )
            elif storm.timeout is not None:
                notes.append(
                    f"{profile.short_title} publishes no ack timeout: the storm's "
                    f"{storm.timeout:g} s stands for one shorter than the API's calls "
                    "(ack_within's budget is the storm's, not a documented one of the provider's)."
                )
            storm = replace(profile, retries=storm.retries, timeout=storm.timeout)
        provider: Provider | None = storm
    else:
        kept = 0
        if hazard.faults:
            deadline = hazard.settle.deadline
            bound = f"the hazard's settle deadline of {duration(deadline)}"
            kept = fitting_retries(profile, deadline, bound, notes)
        provider = None if profile.scheme == "none" else profile.with_overrides(kept, None)
    return replace(spec, signing=profile.scheme, secret_env=secret_env, provider=provider)


def fitting_retries(profile: Provider, within: float, bound: str, notes: list[str]) -> int:
    """How many of ``profile``'s retries a run with downstream fault windows sends: those due
    within ``within`` scenario seconds of the delivery they retry (``bound`` words it). A fault
    hazard's is its settle deadline, so that each falls inside its span (its events' time and
    its settle deadline) and the run still ends in it; a year's month's is the month
    (``year._plan``). The note says which."""
    if not profile.retries_known:
        notes.append(
            f"Whether the sender ({profile.title}) redelivers what the target refuses is not "
            "known: the run does not, and recovers_after_outage counts an event refused during "
            "a fault window as unseen, making its pass inconclusive (a scenario of your own "
            f"with provider: {{name: {profile.name}, retries: [...]}} judges them)."
        )
        return 0
    if not profile.retries:
        notes.append(
            f"{profile.short_title} does not redeliver what the target refuses: an event refused "
            "during a fault window is lost in production (recovers_after_outage says so)."
        )
        return 0
    due = list(accumulate(profile.retries))
    kept = sum(1 for d in due if d <= within)
    if not kept:
        sent = (
            f"none of its {len(due)} retries: the first comes {duration(due[0])} after the "
            f"delivery it retries, past {bound}"
        )
    else:
        last = duration(due[kept - 1])
        sent = (
            f"its first retry of {len(due)} ({last} after the delivery it retries)"
            if kept == 1
            else f"its first {kept} retries of {len(due)} (the last {last} after the delivery)"
            if kept < len(due)
            else f"all its {kept} retries (the last {last} after the delivery)"
        ) + ", time-scaled like the rest"
        if kept < len(due):
            sent += (
                f"; the later ones ({duration(due[kept])} after it or more) fall past {bound} "
                "and are left out"
            )
    cut = (
        ": an event the run does not see accepted is not judged (recovers_after_outage says "
        "how many)"
        if kept < len(due)
        else ""
    )
    notes.append(
        f"{profile.short_title} redelivers what the target refuses: the run sends {sent}{cut}."
    )
    return kept


def _storm_skipped(storm: str, provider: str) -> str | None:
    """Why a retry storm written for ``storm`` does not apply to a project of ``provider``."""
    own = f"provider-retry-storm-{provider}"
    if storm != _GENERIC_STORM:
        if storm == provider:
            return None
        return (
            f"this is {PROVIDERS[storm].title}'s retry storm; the project's provider is "
            f"{provider}" + (f" (its own storm is {own})" if _has_storm(provider) else "")
        )
    if provider != _GENERIC_STORM and _has_storm(provider):
        return f"the project's provider {provider} has a retry storm of its own: {own}"
    if not PROVIDERS[provider].retries:
        return f"{PROVIDERS[provider].title} does not retry a delivery on its own"
    return None


def _has_storm(provider: str) -> bool:
    return (data_dir("scenarios") / f"provider-retry-storm-{provider}.scenario.yaml").is_file()


def _tampers(
    hazard: Scenario, signing: str, notes: list[str]
) -> tuple[Perturbation, ...] | Skipped:
    """The hazard's perturbations; its tampering only where the project's signing allows it."""
    tampers = [p for p in hazard.perturbations if p.kind == "tamper"]
    if not tampers:
        return hazard.perturbations
    if signing == "none":
        return Skipped(
            hazard.name,
            "the project's deliveries are unsigned (provider none): there is no signature to "
            "forge or replay",
            hazard.origin,
        )
    stale = [p for p in tampers if p.params.get("mode") == "stale"]
    if stale and signing not in TIMESTAMPED:
        notes.append(
            f"Stale signatures left out: {signing} signs no timestamp, so a stale one is valid."
        )
        kept = tuple(p for p in hazard.perturbations if p not in stale)
        if not any(p.kind == "tamper" for p in kept):
            return Skipped(
                hazard.name, f"{signing} signs no timestamp to make stale", hazard.origin
            )
        return kept
    return hazard.perturbations


# --- downstreams ----------------------------------------------------------------------------


def _downstreams(hazard: Scenario, project: Project, notes: list[str]) -> Scenario:
    """The project's downstreams instead of the hazard's: each fault of the hazard opens on
    every one of them, and a hazard's slow stub routes (a payments call of 1 s) become a slow
    fault on them for the whole run."""
    if not project.downstreams:
        return hazard
    names = [d.name for d in project.downstreams]
    faults = [replace(f, downstream=n) for f in hazard.faults for n in names]
    delays = {r.delay for d in hazard.downstreams for r in d.routes if r.delay > 0}
    if delays:
        latency = max(delays)
        span = _span(hazard)
        faults.extend(FaultSpec(n, "slow", 0.0, span, latency=latency) for n in names)
        notes.append(f"Every call to {', '.join(names)} takes {latency:g} s, as in the hazard.")
    if hazard.faults:
        notes.append(f"The hazard's faults open on {', '.join(names)}.")
    else:
        notes.append(f"Downstreams: {', '.join(names)}.")
    return replace(hazard, downstreams=project.downstreams, faults=tuple(faults))


def _span(hazard: Scenario) -> float:
    """Scenario seconds a whole-run fault must last: the stream, the retries, settling."""
    over = hazard.source.over or 0.0
    provider = hazard.delivery.provider
    retries = sum(provider.retries) if provider is not None else 0.0
    return over + retries + hazard.settle.deadline


# --- events and drift -----------------------------------------------------------------------


def _over(hazard: Scenario, item: ProjectEvents, notes: list[str]) -> Scenario | Skipped:
    """``hazard`` with ``item``'s events at the hazard's counts and pace, its drift moved to
    fields of the item's payload."""
    shape = hazard.source
    assert isinstance(shape, SyntheticSource)  # every built-in is synthetic
    source: SyntheticSource | RecordedSource
    if isinstance(item.source, SyntheticSource):
        source = replace(item.source, events=shape.events, records=shape.records, over=shape.over)
        example: Any = source.example
        notes.append(
            f"{shape.events} events of {item.origin} for {shape.records} records over "
            f"{shape.over:g} s, as in the hazard."
        )
    else:
        source = replace(item.source, over=shape.over)
        example = next(iter(sample_of(source).payloads))[1]  # the first line's payload
        notes.append(f"The events of {item.origin}, spread over {shape.over:g} s.")
    drifts = [p for p in hazard.perturbations if p.kind in _CHOOSERS]
    chosen = {id(p): _CHOOSERS[p.kind](p, example, source) for p in drifts}
    if drifts and not any(chosen.values()):
        wants = " or ".join(dict.fromkeys(_WANTS[p.kind] for p in drifts))
        return Skipped(hazard.name, f"the payload of {item.origin} has no {wants}", hazard.origin)
    perturbations: list[Perturbation] = []
    for p in hazard.perturbations:
        choice = chosen.get(id(p), (p, ""))
        if choice is None:
            notes.append(f"No {_WANTS[p.kind]} in the payload: its {p.kind} is left out.")
            continue
        perturbations.append(choice[0])
        if choice[1]:
            notes.append(choice[1])
    model = _model(hazard, item, notes)
    return replace(
        hazard,
        source=source,
        perturbations=tuple(perturbations),
        model=model,
        model_assumed=item.origin if item.model is None else "",
        invariants=_amounts_judged(hazard, example, source, shape.events, notes),
        adapted=tuple(notes),
    )


def _amounts_judged(
    hazard: Scenario, example: Any, source: Source, events: int, notes: list[str]
) -> tuple[InvariantSpec, ...]:
    """The hazard's invariants, and ``amounts_intact`` in the hazard of the most events
    (``_AMOUNTS_IN``: the likeliest to carry amounts a double changes) when the payload has
    decimal amounts outside lists: each event's own amount is all that shows a conversion
    through a float, which its clean run makes too."""
    named = hazard.invariants
    if hazard.name != _AMOUNTS_IN or any(i.name == amounts_intact.NAME for i in named):
        return named
    found = [
        _paths.render(at) for at, v in _field_leaves(example, source) if decimal_amount_at(at, v)
    ]
    if not found:
        return named
    notes.append(
        f"The payload's decimal amounts ({', '.join(found)}) are judged to the cent "
        f"(amounts_intact) over the hazard's {events} events."
    )
    return (*(named or tuple(InvariantSpec(n) for n in DEFAULT_INVARIANTS)),
            InvariantSpec(amounts_intact.NAME))  # fmt: skip


_MEANS = {
    Model.LEDGER: "each their own fact (a later one supersedes none), so every accepted event "
    "is owed its effects and order is judged the ledger's way",
    Model.REGISTER: "successive states of a record (a newer one supersedes an older), so each "
    "record's latest accepted event is owed its effects and a stale overwrite is a failure",
}


def _model(hazard: Scenario, item: ProjectEvents, notes: list[str]) -> Model:
    """The model the hazard over ``item`` is judged by: the events' own when known (their
    ``model:``, their library payload's), else the hazard's. A register hazard (two updates of
    a record at once, out of order) over a ledger's events still sends what it sends; judged as
    a register, each record's newest event alone was owed its effects, and a paid invoice's
    receipt was 'superseded' by the next."""
    model = item.model
    if model is None or model is hazard.model:
        return hazard.model
    notes.append(
        f"Judged as a {model}, not as the hazard's {hazard.model}: the events of {item.origin} "
        f"are {_MEANS[model]}."
    )
    return model


def _fields(example: Any, source: Source) -> Iterator[tuple[str, Any]]:
    """(path, value) of each leaf outside lists that is not the source's id, key, type or
    time, in document order: the fields a drift may act on."""
    return ((_paths.render(steps), value) for steps, value in _field_leaves(example, source))


def _field_leaves(example: Any, source: Source) -> Iterator[tuple[Steps, Any]]:
    """``_fields``, each path as its steps."""
    paths = (source.id_path, source.key_path, source.type_path, getattr(source, "time_path", None))
    own = {_paths.parse(p) for p in paths if p}
    for steps, value in _paths.leaves(example):
        if steps in own or any(isinstance(s, int) for s in steps):
            continue
        yield steps, value


def _preferred(found: list[tuple[str, Any]], words: Sequence[str]) -> tuple[str, Any] | None:
    """The first field whose name holds the first word that any holds; else the first."""
    for word in words:
        for path, value in found:
            if word in path.rsplit(".", 1)[-1].lower():
                return path, value
    return found[0] if found else None


def _strings(example: Any, source: Source) -> list[tuple[str, Any]]:
    return [(p, v) for p, v in _fields(example, source) if isinstance(v, str) and v]


def choose_rename(example: Any, source: Source) -> tuple[str, str] | None:
    """The string field of ``example`` a careless rename picks, and its new name; None when
    the payload has no string field (also the year's field-renamed life event, ``harness.year``)."""
    chosen = _preferred(_strings(example, source), _PREFERRED)
    if chosen is None:
        return None
    return chosen[0], _renamed(chosen[0].rsplit(".", 1)[-1])


def _rename(p: Perturbation, example: Any, source: Any) -> tuple[Perturbation, str] | None:
    chosen = choose_rename(example, source)
    if chosen is None:
        return None
    path, to = chosen
    note = (
        f"renamed-field chose {path} (a string field of the payload; fields named like "
        f"{', '.join(_PREFERRED)} come first) and renames it to {to}."
    )
    return replace(p, params={**p.params, "path": path, "to": to}), note


def _renamed(name: str) -> str:
    """The name a careless rename gives: snake_case to camelCase, else a suffix."""
    if "_" in name.strip("_"):
        head, *rest = name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)
    return name + "Value"


def _drop(p: Perturbation, example: Any, source: Any) -> tuple[Perturbation, str] | None:
    if p.kind == "null_field":
        numbers = [
            (path, v)
            for path, v in _fields(example, source)
            if isinstance(v, int | float) and not isinstance(v, bool) and not is_big(v)
        ]
        chosen = _preferred(numbers, _NUMERIC)
        kind = "a number field"
    else:
        chosen = _preferred(_strings(example, source), _PREFERRED)
        kind = "a string field"
    if chosen is None:
        return None
    verb = "sets it to null" if p.kind == "null_field" else "drops it"
    note = f"missing-field chose {chosen[0]} ({kind} of the payload) and {verb}."
    return replace(p, params={**p.params, "path": chosen[0]}), note


def _big(p: Perturbation, example: Any, source: Any) -> tuple[Perturbation, str] | None:
    found = [(path, v) for path, v in _fields(example, source) if is_big(v)]
    own_id = _paths.get(example, _paths.parse(source.id_path), None) if source.id_path else None
    if not found and is_big(own_id):
        found = [(source.id_path, own_id)]
    if not found:
        return None
    path = found[0][0]
    note = f"big-number-ids chose {path} (an integer above 2**53 in the payload)."
    return replace(p, params={**p.params, "path": path}), note


_CHOOSERS = {
    "rename_field": _rename,
    "drop_field": _drop,
    "null_field": _drop,
    "retype_field": _big,
}
_WANTS = {
    "rename_field": "string field to rename",
    "drop_field": "string field to drop",
    "null_field": "number field to set to null",
    "retype_field": "integer above 2**53 (a 64-bit id)",
}
