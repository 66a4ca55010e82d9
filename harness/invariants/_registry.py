"""The invariants by name, their parameters, and ``judge``: History -> list[Verdict]."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..core import _gc
from ..core._errors import ScenarioError
from ..core._model import FailureClass, Verdict
from ..core._scenario import InvariantSpec, Scenario
from ..double._routes import compile_route, split_route
from ..history import History
from . import (
    accepts_genuine,
    ack_within,
    amounts_intact,
    backs_off,
    big_numbers_intact,
    drift_is_loud,
    effects_match_contract,
    final_state_matches_baseline,
    no_duplicate_effects,
    no_lost_events,
    no_server_errors,
    per_key_order,
    recovers_after_outage,
    rejects_forged,
    target_available,
)
from ._facts import Facts
from ._no_calls import mark_unseen
from ._refused import mark_untested

# fn(facts, **params): a pure check over the shared indexes of one History.
InvariantFn = Callable[..., Verdict]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an invariant: its type, default, and what a valid value looks like."""

    kind: type
    default: Any
    expect: str  # for messages: "a positive number of seconds"
    positive: bool = False
    at_least: float | None = None
    at_most: float | None = None
    check: Callable[[Any], str | None] | None = None  # why a value is not allowed, or None


@dataclass(frozen=True, slots=True)
class InvariantDef:
    """A named invariant: the check, its parameters, its failure class and a one-line doc.

    ``by_default``: judged when a scenario names no invariants. Invariants that only mean
    something for some scenarios (fault windows) are named where they apply. ``always``: judged
    in every run, named or not, after the others — a precondition of every verdict (a target
    that went away leaves the others judging a run that did not happen as planned).
    """

    name: str
    fn: InvariantFn
    params: Mapping[str, Param]
    doc: str
    failure_class: FailureClass
    by_default: bool = True
    always: bool = False
    needs_accepted: bool = True
    # Judges what the automation did to its downstreams: a pass proves nothing where it
    # called none (``_no_calls``).
    judges_effects: bool = False


def _route_problem(value: str) -> str | None:
    """Why ``value`` is not a route like ``POST /alerts``; '' means no alert route."""
    if value == "":
        return None
    if split_route(value) is None:
        return "not a method and a path"
    try:
        compile_route(value, where="alert_route")
    except ScenarioError as exc:
        return str(exc).splitlines()[0]
    return None


def _registry(*defs: InvariantDef) -> Mapping[str, InvariantDef]:
    return MappingProxyType({d.name: d for d in defs})


INVARIANTS: Mapping[str, InvariantDef] = _registry(
    InvariantDef(
        no_lost_events.NAME,
        no_lost_events.no_lost_events,
        {},
        "every accepted event has an effect (register: every record its latest accepted state)",
        no_lost_events.CLASS,
        judges_effects=True,
    ),
    InvariantDef(
        no_duplicate_effects.NAME,
        no_duplicate_effects.no_duplicate_effects,
        {},
        "no event changes a downstream twice, except idempotent or same-Idempotency-Key repeats",
        no_duplicate_effects.CLASS,
        judges_effects=True,
    ),
    InvariantDef(
        per_key_order.NAME,
        per_key_order.per_key_order,
        {},
        "each record's effects follow its events' order (register: no stale overwrite)",
        per_key_order.CLASS,
        judges_effects=True,
    ),
    InvariantDef(
        ack_within.NAME,
        ack_within.ack_within,
        {
            "seconds": Param(
                float, ack_within.DEFAULT_SECONDS, "a positive number of seconds", positive=True
            )
        },
        "every delivery is answered within `seconds` (timeouts count as slow)",
        ack_within.CLASS,
    ),
    InvariantDef(
        recovers_after_outage.NAME,
        recovers_after_outage.recovers_after_outage,
        {
            "deadline": Param(
                float,
                recovers_after_outage.DEFAULT_DEADLINE,
                "a positive number of seconds (scenario time)",
                positive=True,
            )
        },
        "every event accepted during a fault window gets its effect within `deadline` of the "
        "window closing",
        recovers_after_outage.CLASS,
        judges_effects=True,
        by_default=False,
    ),
    InvariantDef(
        no_server_errors.NAME,
        no_server_errors.no_server_errors,
        {
            "max_share": Param(
                float,
                no_server_errors.DEFAULT_MAX_SHARE,
                "a share from 0 to 1",
                at_least=0.0,
                at_most=1.0,
            )
        },
        "at most `max_share` of deliveries get a 5xx or a failed connection (429 is not one)",
        no_server_errors.CLASS,
        by_default=False,
    ),
    InvariantDef(
        backs_off.NAME,
        backs_off.backs_off,
        {},
        "a call a downstream refused is not made again before the Retry-After it was answered "
        f"with, nor more than {backs_off.MAX_PER_SECOND} times a second while a window without "
        "one refuses it",
        backs_off.CLASS,
        by_default=False,
    ),
    InvariantDef(
        drift_is_loud.NAME,
        drift_is_loud.drift_is_loud,
        {
            "alert_route": Param(
                str,
                drift_is_loud.DEFAULT_ALERT_ROUTE,
                "a method and a path like 'POST /alerts' (or '' for none)",
                check=_route_problem,
            )
        },
        "a drifted event is processed correctly or rejected loudly (4xx, or an alert on "
        "`alert_route`), never passed on with the value missing, null or changed",
        drift_is_loud.CLASS,
        by_default=False,
    ),
    InvariantDef(
        big_numbers_intact.NAME,
        big_numbers_intact.big_numbers_intact,
        {},
        "integers beyond 2**53 (64-bit ids) reach the downstream exact, not rounded through a "
        "double",
        big_numbers_intact.CLASS,
        judges_effects=True,
        by_default=False,
    ),
    InvariantDef(
        amounts_intact.NAME,
        amounts_intact.amounts_intact,
        {},
        "decimal amounts (19.99) reach the downstream to the cent, not converted through a double",
        amounts_intact.CLASS,
        judges_effects=True,
        by_default=False,
    ),
    InvariantDef(
        rejects_forged.NAME,
        rejects_forged.rejects_forged,
        {},
        "forged, unsigned, stale and replayed deliveries get a 4xx and cause no effect",
        rejects_forged.CLASS,
        by_default=False,
    ),
    InvariantDef(
        accepts_genuine.NAME,
        accepts_genuine.accepts_genuine,
        {},
        "no genuine delivery (signed with a secret the automation was given, on a clock within "
        "the providers' tolerance) is refused: judged in every run that rotates its secret or "
        "skews the sender's clock",
        accepts_genuine.CLASS,
        by_default=False,
    ),
    InvariantDef(
        final_state_matches_baseline.NAME,
        final_state_matches_baseline.final_state_matches_baseline,
        {},
        "every record ends in the state a clean baseline run (each event once, in order, no "
        "faults) ends in",
        final_state_matches_baseline.CLASS,
        judges_effects=True,
        by_default=False,
    ),
    InvariantDef(
        effects_match_contract.NAME,
        effects_match_contract.effects_match_contract,
        {},
        "every request to a downstream with a contract (its OpenAPI document) is one the real "
        "API accepts: path, method, required fields, types, formats",
        effects_match_contract.CLASS,
        judges_effects=True,
        by_default=False,
    ),
    InvariantDef(
        target_available.NAME,
        target_available.target_available,
        {
            "max_share": Param(
                float,
                target_available.DEFAULT_MAX_SHARE,
                "a share from 0 to 1",
                at_least=0.0,
                at_most=1.0,
            )
        },
        "at most `max_share` of deliveries get no answer: could not connect, reset, or timed "
        "out with the target answering nothing after (judged in every run)",
        target_available.CLASS,
        by_default=False,
        always=True,
        needs_accepted=False,
    ),
)
# Judged when a scenario names none, in the registry's order.
DEFAULT_INVARIANTS: tuple[str, ...] = tuple(n for n, d in INVARIANTS.items() if d.by_default)
# Judged in every run, after the invariants a scenario names (or the defaults).
ALWAYS_INVARIANTS: tuple[str, ...] = tuple(n for n, d in INVARIANTS.items() if d.always)
# Judged on their own terms even when the target accepted nothing.
_ANSWERS_ONLY = frozenset(n for n, d in INVARIANTS.items() if not d.needs_accepted)
_OF_EFFECTS = frozenset(n for n, d in INVARIANTS.items() if d.judges_effects)
# Judges an order kept over the events the target took: not judged, failed or not, where it took
# none (``_refused.mark_untested``).
_ORDERED = frozenset({per_key_order.NAME})


def judge(history: History, specs: Sequence[InvariantSpec] | None = None) -> list[Verdict]:
    """Judge a History: one Verdict per invariant, in the order given.

    ``specs`` None judges the run as it was declared: the invariants it named
    (``history.info.invariants``), or the DEFAULT_INVARIANTS, then each of the
    ALWAYS_INVARIANTS it did not name — what every front end shows. Given ``specs`` are judged
    as they are; an empty selection means the DEFAULT_INVARIANTS with their default
    parameters. A pass on a run whose genuine deliveries the target all refused is made
    inconclusive (``_refused.mark_untested``): nothing was put to the test; so is a pass of
    an invariant of effects where the automation called no double (``_no_calls``). Raises
    ScenarioError on an unknown invariant or a bad parameter before judging anything.
    """
    chosen = history.info.invariants if specs is None else specs
    resolved = check_specs(chosen) if chosen else _defaults()
    if specs is None:
        resolved = judged_specs(resolved)
    facts = Facts(history)  # indexes shared by every invariant, each built once
    with _gc.paused():
        verdicts = [INVARIANTS[s.name].fn(facts, **s.params) for s in resolved]
    return mark_unseen(facts, mark_untested(facts, verdicts, _ANSWERS_ONLY, _ORDERED), _OF_EFFECTS)


def run_invariants(scenario: Scenario) -> tuple[InvariantSpec, ...]:
    """The invariants a scenario's run is declared with: those it names (none: the defaults,
    as ``judge`` reads it), and accepts_genuine after them when its sender signs its deliveries
    — a rotated secret's or a skewed clock's hazard, and in any run a receiver that refuses
    genuine deliveries it cannot verify (a signature checked over its own re-serialisation of
    the body) — unless named or left out by the project (``leave_out:``)."""
    named = scenario.invariants
    given = {i.name for i in named} | dict(scenario.left_out).keys()
    if scenario.delivery.scheme == "none" or accepts_genuine.NAME in given:
        return named
    chosen = named or tuple(InvariantSpec(n) for n in DEFAULT_INVARIANTS)
    return (*chosen, InvariantSpec(accepts_genuine.NAME))


def judged_specs(specs: Sequence[InvariantSpec]) -> tuple[InvariantSpec, ...]:
    """``specs`` and, after them, each of the ALWAYS_INVARIANTS they do not name (with its
    default parameters): what ``judge`` judges, in its order."""
    named = {s.name for s in specs}
    return (*specs, *(_default(INVARIANTS[n]) for n in ALWAYS_INVARIANTS if n not in named))


def _defaults() -> tuple[InvariantSpec, ...]:
    return tuple(_default(d) for d in INVARIANTS.values() if d.by_default)


def _default(d: InvariantDef) -> InvariantSpec:
    return InvariantSpec(d.name, {k: p.default for k, p in d.params.items()})


def check_specs(
    specs: Sequence[InvariantSpec], *, where: str | None = None
) -> tuple[InvariantSpec, ...]:
    """Validate invariant names and parameters without a History.

    Returns the specs with every parameter present (defaults filled in, ints made floats
    where a float is expected). ``where`` (e.g. ``"scenario.yaml:12"``) prefixes the field
    path in error messages.
    """
    return tuple(_check(spec, f"invariants[{i}]", where) for i, spec in enumerate(specs))


def _check(spec: object, path: str, where: str | None) -> InvariantSpec:
    def fail(field_path: str, message: str, hint: str) -> ScenarioError:
        place = f"{where}: {field_path}" if where else field_path
        return ScenarioError(message, where=place, hint=hint)

    known = ", ".join(sorted(INVARIANTS))
    if not isinstance(spec, InvariantSpec):
        raise fail(path, f"expected an InvariantSpec, got {spec!r}", f"known invariants: {known}")
    definition = INVARIANTS.get(spec.name) if isinstance(spec.name, str) else None
    if definition is None:
        raise fail(
            f"{path}.name",
            f"unknown invariant {spec.name!r}",
            _suggest(spec.name, INVARIANTS, f"known invariants: {known}"),
        )
    if not isinstance(spec.params, Mapping):
        raise fail(
            f"{path}.params",
            f"parameters of {spec.name!r} must be a mapping, got {spec.params!r}",
            _params_text(definition),
        )
    params: dict[str, Any] = {}
    for name, value in spec.params.items():
        param = definition.params.get(name) if isinstance(name, str) else None
        if param is None:
            raise fail(
                f"{path}.params",
                f"invariant {spec.name!r} has no parameter {name!r}",
                _suggest(name, definition.params, _params_text(definition)),
            )
        problem = _problem(param, value)
        if problem is not None:
            raise fail(
                f"{path}.params.{name}",
                f"invariant {spec.name!r} parameter {name!r} must be {param.expect}, "
                f"got {value!r} ({problem})",
                _params_text(definition),
            )
        params[name] = param.kind(value)
    for name, param in definition.params.items():
        params.setdefault(name, param.default)
    return InvariantSpec(spec.name, params)


def _problem(param: Param, value: object) -> str | None:
    """Why ``value`` does not fit ``param``, or None. An int is fine where a float is wanted."""
    kinds: tuple[type, ...] = (int, float) if param.kind is float else (param.kind,)
    # bool is an int to Python, but `seconds: true` is a mistake, not 1 second.
    if (isinstance(value, bool) and param.kind is not bool) or not isinstance(value, kinds):
        return f"a {type(value).__name__}"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return "not finite"
        if param.positive and value <= 0:
            return "not > 0"
        if param.at_least is not None and value < param.at_least:
            return f"below {param.at_least:g}"
        if param.at_most is not None and value > param.at_most:
            return f"above {param.at_most:g}"
    return param.check(value) if param.check is not None else None


def _suggest(name: object, choices: Mapping[str, Any], listing: str) -> str:
    """``did you mean 'ack_within'? known invariants: ...`` (difflib's nearest name)."""
    near = difflib.get_close_matches(str(name), list(choices), n=1)
    return f"did you mean {near[0]!r}? {listing}" if near else listing


def _params_text(definition: InvariantDef) -> str:
    if not definition.params:
        return f"{definition.name!r} takes no parameters"
    return f"{definition.name!r} takes " + ", ".join(
        f"{n} ({p.expect}, default {p.default!r})" for n, p in definition.params.items()
    )
