"""big_numbers_intact: integers beyond 2**53 reach the downstream digit for digit.

An IEEE-754 double holds every integer up to 2**53 exactly and no odd one above it, so a
64-bit id (an account, a customer, a tweet) that passes through JavaScript, a no-code tool or
``float()`` arrives rounded: 820982911946154508 becomes 820982911946154500, and the write goes
to another account, or to none, with no error anywhere.

For every field whose events carry such integers, the target's effects are searched for where
it carries the field's value, exact or rounded (``_carried``); each event's effects there must
hold the exact value (as a number, or as its digits in a string). Drifted fields are left to
``drift_is_loud``. Inconclusive when no event carries such an integer, or the target never
passes one on.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..core import _paths
from ..core._model import JSON, Effect, Event, FailureClass, Status, Verdict
from ..drive._drift import EXACT_IN_DOUBLE, records_of, through_double
from ._carried import ABSENT, Bodies, Location, learn, own, shown
from ._facts import MAX_WITNESSES, Facts, Witness, event_ref, plural, verdict

NAME = "big_numbers_intact"
CLASS = FailureClass.SILENT

Path = tuple[_paths.Step, ...]


def is_big(value: JSON) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT_IN_DOUBLE


def intact(leaf: JSON, value: int) -> bool:
    """The exact value, as a number or as its digits."""
    if isinstance(leaf, bool):
        return False
    return (isinstance(leaf, int | float) and leaf == value) or leaf == str(value)


def passed_on(leaf: JSON, value: int) -> bool:
    """The value as the target passes it on, intact or rounded through a double."""
    rounded = through_double(value)
    return intact(leaf, value) or (
        not isinstance(leaf, bool)
        and ((isinstance(leaf, int | float) and leaf == rounded) or leaf == str(rounded))
    )


def big_numbers_intact(facts: Facts) -> Verdict:
    """Fail for every effect that carries an event's big integer rounded or changed."""
    history = facts.history
    drifted: set[tuple[str, Path]] = set()
    for r in records_of(history.info.settings):
        steps = _paths.parse(r.path)
        drifted.update((eid, steps) for eid in r.events)
    effects: dict[str, list[Effect]] = {}
    for eff in own(facts.effects_in_order):
        for eid in eff.event_ids[:1]:
            effects.setdefault(eid, []).append(eff)
    # (type, path) -> the events and their big values there.
    fields: dict[tuple[str, Path], list[tuple[Event, int]]] = {}
    for ev in history.events:
        for path, value in _big_leaves(ev.payload):
            if (ev.id, path) not in drifted:
                fields.setdefault((ev.type, path), []).append((ev, value))
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
    for (event_type, path), found in fields.items():
        refs = [(value, effects[ev.id]) for ev, value in found if effects.get(ev.id)]
        learned = learn(bodies, refs, passed_on)
        if not learned.locations:
            continue
        carried.append(
            f"{_paths.render(path)} of {event_type!r} -> "
            + ", ".join(loc.text() for loc in learned.locations)
        )
        for ev, value in found:
            for loc in learned.locations:
                for eff in bodies.routed(effects.get(ev.id, ()), loc):
                    checked += 1
                    got = bodies.at(eff, loc)
                    if got is ABSENT or not intact(got, value):
                        failures.append(_witness(ev, path, value, eff, loc, got))
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
        summary = (
            f"{len(failures):,} of {plural(checked, 'value')} beyond 2**53 arrived changed "
            f"(rounded through a double?) — {where}"
        )
        return verdict(NAME, Status.FAIL, CLASS, summary, failures[:MAX_WITNESSES])
    return verdict(
        NAME, Status.PASS, CLASS, f"{plural(checked, 'value')} beyond 2**53 arrived exact — {where}"
    )


def _big_leaves(payload: JSON) -> Iterator[tuple[Path, int]]:
    return ((at, value) for at, value in _paths.leaves(payload) if is_big(value))


def _witness(ev: Event, path: Path, value: int, eff: Effect, loc: Location, got: JSON) -> Witness:
    rounded = " (rounded through a double)" if passed_on(got, value) else ""
    line = (
        f"{event_ref(ev)}: {_paths.render(path)} {value} arrived as {shown(got)}{rounded} in "
        f"{eff.method.upper()} {eff.path} {eff.id} at {loc.place()}"
    )
    return Witness(line, (ev.id,), (), (eff.id,))
