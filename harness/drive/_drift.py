"""Field drift: seeded, pure transforms of event payloads (the sender's data changed).

Someone renames a field in the CRM, a form stops sending one, a JavaScript client rounds a
64-bit id through a double. Drift perturbations are declared in ``perturbations:`` like the
schedule ones, but change what events say, not when they arrive: a drifted event is drifted
on every delivery. Each applies to a share of events (``rate``), from a point in scenario time
on (``from``: events whose occurred_at is at or after it) and optionally to some ``types``.

``drift`` returns the drifted events and a compact record of every change, original values
included, that the run keeps in ``RunInfo.settings["drift"]`` so judging stays offline.
"""

from __future__ import annotations

import copy
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..core import _paths
from ..core._errors import InputError, ScenarioError
from ..core._js_numbers import EXACT_IN_DOUBLE, through_double
from ..core._model import JSON, Event
from ..core._scenario import Perturbation
from ._sample import Sample, existing

DRIFT_KINDS = ("add_field", "drop_field", "null_field", "rename_field", "retype_field")
RETYPES = ("string", "number", "double")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class DriftRecord:
    """One drift perturbation as applied: its kind, parameters and the events it changed.

    ``events`` maps each changed event id to the value its field held before (None for
    ``add_field``: the field did not exist).
    """

    kind: str
    path: str
    to: str | None
    value: JSON
    events: Mapping[str, JSON]

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"kind": self.kind, "path": self.path}
        if self.to is not None:
            out["to"] = self.to
        if self.kind == "add_field":
            out["value"] = self.value
        out["events"] = dict(self.events)
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DriftRecord:
        return cls(d["kind"], d["path"], d.get("to"), d.get("value"), d["events"])


# --- the one rule for 64-bit integers (big_numbers_intact and drift_is_loud) ----------------

INTACT, ROUNDED, CHANGED = "intact", "rounded", "changed"
_NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def is_big(value: JSON) -> bool:
    """An integer beyond 2**53, which a double may not hold exactly (a 64-bit id)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT_IN_DOUBLE


def arrived(leaf: JSON, value: int) -> str:
    """How the integer ``value`` arrived as ``leaf``: INTACT, ROUNDED or CHANGED.

    INTACT: the exact value, as a JSON number or as its digits in a string ("820982911946154508",
    the way Twitter's ``id_str`` carries it). ROUNDED: not the value, but the same IEEE-754
    double in any printed form — JavaScript's shortest 820982911946154500, Python's
    ``int(float(x))`` 820982911946154496, "8.209829119461545e+17", a JSON float
    8.209829119461545e17: the digits a double lost cannot come back. CHANGED: anything else.
    """
    exact = _exact(leaf)
    if exact is None:
        return CHANGED
    if exact == value:
        return INTACT
    try:
        same_double = float(exact) == float(value)
    except OverflowError:
        return CHANGED
    return ROUNDED if same_double else CHANGED


def _exact(leaf: JSON) -> Decimal | None:
    """The number ``leaf`` holds, read exactly: a JSON number, or a string that is one."""
    if isinstance(leaf, bool):
        return None
    if isinstance(leaf, int):
        return Decimal(leaf)
    if isinstance(leaf, float):
        return Decimal(leaf) if math.isfinite(leaf) else None
    if isinstance(leaf, str) and _NUMBER_TEXT.fullmatch(leaf):
        return Decimal(leaf)
    return None


def retyped(value: JSON, to: str) -> JSON:
    """``value`` retyped to ``to`` (one of RETYPES), or ``_MISSING`` when it cannot be."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if to == "string":
        return str(value) if number else _MISSING
    if to == "double":
        return through_double(value) if number else _MISSING
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return _MISSING
    return _MISSING


def is_drift(p: Perturbation) -> bool:
    return p.kind in DRIFT_KINDS


def drift(
    events: Sequence[Event], perturbations: Sequence[Perturbation], seed: int
) -> tuple[list[Event], list[DriftRecord]]:
    """The events after every drift perturbation in order, and what each one changed.

    Each perturbation draws from its own generator (seed, position), so adding a schedule
    perturbation never changes which events drift. An event whose payload lacks the path
    (or whose value cannot be retyped) is left as it is and not recorded.
    """
    out = list(events)
    records: list[DriftRecord] = []
    for n, p in enumerate(perturbations):
        if not is_drift(p):
            continue
        _check_params(p)
        rng = random.Random(f"{seed}:drift:{n}")
        rate = float(p.params.get("rate", 1.0))
        since = float(p.params.get("from", 0.0))
        types = set(p.params.get("types") or ())
        steps = _paths.parse(str(p.params["path"]))
        changed: dict[str, JSON] = {}
        for i, ev in enumerate(out):
            # One draw per event whatever else selects it: the choice is stable under edits.
            drawn = rng.random() < rate
            if not drawn or ev.occurred_at < since or (types and ev.type not in types):
                continue
            payload = copy.deepcopy(ev.payload)
            original = _apply(payload, steps, p)
            if original is not _MISSING:
                changed[ev.id] = original
                out[i] = replace(ev, payload=payload)
        records.append(
            DriftRecord(
                p.kind,
                str(p.params["path"]),
                p.params.get("to"),
                p.params.get("value"),
                changed,
            )
        )
    return out, records


_NEEDS = {"rename_field": ("path", "to"), "retype_field": ("path", "to"), "add_field": ("path",)}


def _check_params(p: Perturbation) -> None:
    """What a drift built in Python (not from YAML, which checks more) cannot do without."""
    for name in _NEEDS.get(p.kind, ("path",)):
        if name not in p.params:
            raise ScenarioError(
                f"perturbation {p.kind!r} needs {name!r}, got {dict(p.params)!r}",
                hint="e.g. Perturbation('rename_field', {'path': '$.data.email', 'to': 'mail'})",
            )
    try:
        _paths.parse(str(p.params["path"]))
    except InputError as exc:
        first = str(exc).split("\n  hint:", 1)[0]
        raise ScenarioError(f"perturbation {p.kind!r}: {first}", hint=exc.hint) from None
    if p.kind == "retype_field" and p.params["to"] not in RETYPES:
        raise ScenarioError(
            f"perturbation 'retype_field' to {p.params['to']!r} is not a type it knows",
            hint=f"use one of {', '.join(RETYPES)}",
        )


def _apply(payload: JSON, steps: tuple[_paths.Step, ...], p: Perturbation) -> JSON:
    """Change ``payload`` in place; the value the field held (None for an added one), or
    ``_MISSING`` when there was nothing to change."""
    parent = _paths.get(payload, steps[:-1], None)
    last = steps[-1]
    if not _holds(parent, last):
        if p.kind == "add_field" and isinstance(parent, dict):
            parent[last] = copy.deepcopy(p.params.get("value"))
            return None
        return _MISSING
    assert parent is not None  # _holds made sure
    original = parent[last]
    if p.kind == "drop_field":
        del parent[last]
    elif p.kind == "null_field":
        if original is None:
            return _MISSING
        parent[last] = None
    elif p.kind == "rename_field":
        to = str(p.params["to"])
        if not isinstance(parent, dict) or to in parent:
            return _MISSING
        # Keep the key's place: a renamed field sits where the old one was.
        items = [(to if k == last else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    elif p.kind == "retype_field":
        new = retyped(original, str(p.params["to"]))
        if new is _MISSING or (type(new) is type(original) and new == original):
            return _MISSING  # e.g. a small integer survives a double unchanged
        parent[last] = new
    else:  # add_field on a field that exists is not an addition
        return _MISSING
    return original


def _holds(parent: JSON, step: _paths.Step) -> bool:
    if isinstance(parent, dict):
        return step in parent
    if isinstance(parent, list) and isinstance(step, int):
        return 0 <= step < len(parent)
    return False


def check_drift(p: Perturbation, sample: Sample) -> str | None:
    """Why drift ``p`` cannot apply to the events ``sample`` shows, or None when it can.

    An example payload must have the field (add_field: must not have it yet, in an object it
    has); a recorded file must have it in at least one line — the lines without it are left
    undrifted, which is what a field that only some senders send looks like.
    """
    path = str(p.params["path"])
    steps = _paths.parse(path)
    if not sample.is_example:
        if p.kind == "add_field" or any(_present(payload, steps) for _, payload in sample.payloads):
            return None
        return sample.missing(path, [n for n, _ in sample.payloads])
    [(_, example)] = sample.payloads
    parent = _paths.get(example, steps[:-1], _MISSING)
    present = _present(example, steps)
    if p.kind == "add_field":
        where = f"it has {existing(example, path)}"
        if present:
            return f"the example payload already has this field; {where} (add a new one)"
        if not isinstance(parent, dict):
            return f"there is no object to add it to in the example payload; {where}"
        return None
    if not present:
        return sample.missing(path, [0])
    value = parent[steps[-1]]
    if p.kind == "rename_field":
        to = str(p.params["to"])
        if not isinstance(parent, dict):
            return "it names a list item, which has no name to rename"
        if to in parent:
            return f"the object already has a field {to!r}; rename it to a new name"
    if p.kind == "retype_field" and retyped(value, str(p.params["to"])) is _MISSING:
        to = p.params["to"]
        wanted = "a string holding a number" if to == "number" else "a number"
        return f"retyping to {to} needs {wanted}, the example holds {value!r}"
    return None


def _present(payload: JSON, steps: tuple[_paths.Step, ...]) -> bool:
    """The field at ``steps`` exists in ``payload`` (null or not)."""
    parent = _paths.get(payload, steps[:-1], _MISSING)
    return parent is not _MISSING and _holds(parent, steps[-1])


def drift_sentence(kind: str, params: Mapping[str, Any]) -> str:
    """A declared drift as a report's sentence fragment: "$.data.email dropped for 20% of
    events of type order.paid from 10 s on"."""
    path = params.get("path", "?")
    what = {
        "rename_field": f"{path} renamed to {params.get('to')}",
        "drop_field": f"{path} dropped",
        "null_field": f"{path} set to null",
        "retype_field": f"{path} rounded through a double"
        if params.get("to") == "double"
        else f"{path} sent as a {params.get('to')}",
        "add_field": f"{path} added",
    }.get(kind, f"{kind} {path}")
    rate = float(params.get("rate", 1.0))
    share = "all events" if rate >= 1 else f"{rate * 100:.0f}% of events"
    types = params.get("types") or ()
    if types:
        share += " of type " + ", ".join(map(str, types))
    since = float(params.get("from", 0.0))
    return f"{what} for {share}" + (f" from {since:g} s on" if since else "")


def records_of(settings: Mapping[str, Any]) -> list[DriftRecord]:
    """The drift records a run kept in its settings (none when nothing drifted)."""
    return [DriftRecord.from_json(d) for d in settings.get("drift") or ()]


def drifted_events(settings: Mapping[str, Any]) -> frozenset[str]:
    """The events a drift perturbation changed in a run (its settings' drift records)."""
    return frozenset(eid for r in records_of(settings) for eid in r.events)


def drift_settings(records: Sequence[DriftRecord]) -> list[dict[str, JSON]]:
    return [r.to_json() for r in records]
