"""big_numbers_intact: integers beyond 2**53 reach the downstream digit for digit.

An IEEE-754 double holds every integer up to 2**53 exactly and no odd one above it, so a
64-bit id (an account, a customer, a tweet) that passes through JavaScript, a no-code tool or
``float()`` arrives rounded: 820982911946154508 becomes 820982911946154500 (JavaScript) or
820982911946154496 (Python's ``int(float(x))``), and the write goes
to another account, or to none, with no error anywhere.

For every field whose events carry such integers, the target's effects are searched for where
it carries the field's value, exact or rounded (``_carried``); each event's effects there must
hold the exact value. What counts as exact and as rounded is one rule, ``_drift.arrived``, the
one ``drift_is_loud`` applies too: the digits as a number or a string are intact; the same
double in any printed form (JavaScript's 820982911946154500, Python's ``int(float(x))``
820982911946154496, "8.209829119461545e+17") is rounded. Drifted fields are left to
``drift_is_loud``. Inconclusive when no event carries such an integer, or the target never
passes one on.
"""

from __future__ import annotations

from ..core import _paths
from ..core._js_numbers import EXACT_IN_DOUBLE
from ..core._model import JSON, Effect, Event, FailureClass, Status, Verdict
from ..drive._drift import ROUNDED, arrived, is_big
from ._carried import (
    ABSENT,
    Bodies,
    Location,
    carried_values,
    carries,
    fields_of,
    kept,
    own,
    shown,
)
from ._facts import MAX_WITNESSES, Facts, Witness, event_ref, plural, verdict

NAME = "big_numbers_intact"
CLASS = FailureClass.SILENT

Path = tuple[_paths.Step, ...]


def big_numbers_intact(facts: Facts) -> Verdict:
    """Fail for every effect that carries an event's big integer rounded or changed."""
    history = facts.history
    effects: dict[str, list[Effect]] = {}
    for eff in own(facts.effects_in_order):
        for eid in eff.event_ids[:1]:
            effects.setdefault(eid, []).append(eff)
    fields = fields_of(history, lambda _, value: is_big(value))
    if not fields:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"no event carries an integer beyond 2**53 ({EXACT_IN_DOUBLE:,}); nothing to judge",
        )
    bodies = Bodies(history.info.tracer_tag)
    checked = 0
    carried: list[str] = []
    failures: list[Witness] = []
    rounded = 0
    for c in carried_values(bodies, fields, lambda _: effects, carries, carried):
        checked += 1
        if c.got is ABSENT or not kept(c.got, c.value):
            rounded += c.got is not ABSENT and arrived(c.got, c.value) == ROUNDED
            failures.append(_witness(c.event, c.path, c.value, c.effect, c.location, c.got))
    if not carried:
        n = sum(len(v) for v in fields.values())
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"{plural(n, 'integer')} beyond 2**53 in the events, but the target's effects never "
            "carry one (exact or rounded); nothing to judge",
        )
    where = "; ".join(carried)
    if failures:
        how = (
            "rounded through a double"
            if rounded == len(failures)
            else f"{rounded:,} of them rounded through a double"
        )
        summary = (
            f"{len(failures):,} of {plural(checked, 'value')} beyond 2**53 arrived changed "
            f"({how}) — {where}"
        )
        return verdict(NAME, Status.FAIL, CLASS, summary, failures[:MAX_WITNESSES])
    return verdict(
        NAME, Status.PASS, CLASS, f"{plural(checked, 'value')} beyond 2**53 arrived exact — {where}"
    )


def _witness(ev: Event, path: Path, value: int, eff: Effect, loc: Location, got: JSON) -> Witness:
    rounded = " (rounded through a double)" if arrived(got, value) == ROUNDED else ""
    line = (
        f"{event_ref(ev)}: {_paths.render(path)} {value} arrived as {shown(got)}{rounded} in "
        f"{eff.method.upper()} {eff.path} {eff.id} at {loc.place()}"
    )
    return Witness(line, (ev.id,), (), (eff.id,))
