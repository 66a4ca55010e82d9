"""amounts_intact: decimal amounts reach the downstream to the cent.

A sender that writes a price or a total as a decimal (``"64.32"``, ``19.99``) writes a value no
IEEE-754 double holds exactly. An automation that turns it into minor units through a float,
``int(float("64.32") * 100)``, gets 6431: a cent short, on about one amount in ten, with no
error anywhere — and its clean run makes the same mistake, so no comparison with it shows one.

For every field of the events holding a decimal amount (a money-named field, as variation
finds them: ``_vary.decimal_amount_at``), the target's effects are searched for where it
carries the value (``_carried.learn``): as it is (the same number, or its text), or in minor
units (times ten to its decimals) — exact, or through a double: truncated (6431), or the
double's product itself (6431.999999999999). Each event's writes there must hold it exact.
An effect is an event's when it names the event, or names only a record of a single event, or
names only a record and carries the amount of one of its events and of no other.

Inconclusive when no event carries a decimal amount; when the target's writes never carry one
(a value it derived — a tax, a sum of lines — cannot be told from another: nothing is failed
that cannot be attributed); or when none of the amounts it carried is one a double changes (a
pass would claim what the run could not show). Drifted fields are left to ``drift_is_loud``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..core import _paths
from ..core._model import JSON, Effect, Event, FailureClass, Status, Verdict
from ..drive._vary import decimal_amount_at
from ._batch_items import in_order
from ._carried import ABSENT, Bodies, Carried, Location, carried_values, fields_of, own, shown
from ._facts import MAX_WITNESSES, Facts, Witness, event_ref, is_write, plural, verdict

NAME = "amounts_intact"
CLASS = FailureClass.SILENT


def _exact(value: JSON) -> tuple[Decimal, int] | None:
    """A decimal amount's exact value and its number of decimals; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, str | float):
        return None
    try:
        found = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation:
        return None
    exponent = found.as_tuple().exponent
    if not found.is_finite() or not isinstance(exponent, int) or exponent >= 0:
        return None
    return found, -exponent


def _number(leaf: JSON) -> Decimal | None:
    """An effect's leaf as a number: a JSON number, or text that is one (``"6432"``)."""
    if isinstance(leaf, bool) or not isinstance(leaf, str | int | float):
        return None
    try:
        found = Decimal(leaf if isinstance(leaf, str) else repr(leaf))
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


def kept(leaf: JSON, value: JSON) -> bool:
    """``leaf`` holds the amount ``value`` exactly: as it is, or in minor units."""
    exact, got = _exact(value), _number(leaf)
    if exact is None or got is None:
        return False
    amount, decimals = exact
    return got in (amount, amount.scaleb(decimals))


def through_double(value: JSON) -> set[Decimal]:
    """What a float makes of the amount ``value`` in minor units, where that is not exact: the
    product truncated (``int(float(x) * 100)``) and the product itself."""
    exact = _exact(value)
    if exact is None:
        return set()
    amount, decimals = exact
    product = float(amount) * 10**decimals
    made = {Decimal(int(product)), Decimal(repr(product))}
    made.discard(amount.scaleb(decimals))
    return made


def carries(leaf: JSON, value: JSON) -> bool:
    """``leaf`` is the amount as a target passes it on: kept, or in minor units through a
    double (learning with it keeps a target that converts every amount through a float from
    looking as if it never carried the field)."""
    if kept(leaf, value):
        return True
    got = _number(leaf)
    return got is not None and got in through_double(value)


def amounts_intact(facts: Facts) -> Verdict:
    """Fail for every write that carries an event's decimal amount changed."""
    # The events' amounts first: a run with none has nothing to judge, its batches unsplit.
    fields = fields_of(
        facts.history,
        lambda at, value: decimal_amount_at(at, value) and _exact(value) is not None,
    )
    if not fields:
        return verdict(
            NAME, Status.INCONCLUSIVE, CLASS, "no event carries a decimal amount; nothing to judge"
        )
    batches = in_order(facts.history) if facts.several_events_writes else None
    if batches is not None:  # a batch call's items, each its own event's write (_batch_items)
        facts = Facts(batches.history)  # the same events: ``fields`` hold
    history = facts.history
    effects = _effects_by_event(facts)
    bodies = Bodies(history.info.tracer_tag)
    checked = breakable = 0
    carried: list[str] = []
    failures: list[Witness] = []
    # (effect, its body, place): two fields of one value once — a batch call's items share
    # their call's id, each its own body
    judged: set[tuple[str, str, Location]] = set()

    def effects_of(found: list[tuple[Event, JSON]]) -> dict[str, list[Effect]]:
        return _merged(effects, _by_amount(bodies, facts, found))

    for c in carried_values(bodies, fields, effects_of, carries, carried):
        if (c.effect.id, c.effect.body, c.location) in judged:
            continue
        judged.add((c.effect.id, c.effect.body, c.location))
        checked += 1
        breakable += bool(through_double(c.value))
        if c.got is ABSENT or not kept(c.got, c.value):
            failures.append(_witness(c))
    if not carried:
        n = sum(len(v) for v in fields.values())
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"{plural(n, 'decimal amount')} in the events, but no write of the target carries "
            "one it can be told to be its event's (as it is, or in minor units): a value it "
            "derived (a tax, a sum) cannot be told from another; nothing to judge",
        )
    where = "; ".join(carried)
    if failures:
        summary = (
            f"{len(failures):,} of {plural(checked, 'amount')} arrived changed (in minor units "
            f"through a double, or as another number) — {where}"
        )
        return verdict(NAME, Status.FAIL, CLASS, summary, failures[:MAX_WITNESSES])
    if not breakable:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"{plural(checked, 'amount')} arrived exact, but none is one a double changes "
            "(64.32, 4.35, 19.99: int(float(x) * 100) is a cent short), so a conversion through "
            f"a float would have passed too — {where}",
        )
    return verdict(
        NAME,
        Status.PASS,
        CLASS,
        f"{plural(checked, 'amount')} arrived to the cent, {breakable:,} of them ones a double "
        f"changes — {where}",
    )


def _effects_by_event(facts: Facts) -> dict[str, list[Effect]]:
    """Each event's writes naming it alone, by time: those naming only its record where the
    record had that one event among them (``Facts.single_event``)."""
    effects: dict[str, list[Effect]] = {}
    for eff in own(facts.effects_in_order):
        if is_write(eff):
            for eid in eff.event_ids[:1]:
                effects.setdefault(eid, []).append(eff)
    return effects


def _by_amount(
    bodies: Bodies, facts: Facts, found: list[tuple[Event, JSON]]
) -> dict[str, list[Effect]]:
    """Writes naming only a record of several events, each given to the one event of the
    record whose amount (``found``: a field's) it carries, kept or through a double — where no
    other event's is there: the amount tells the record's events apart, as a tracer value
    would (a record's invoice carrying 6431 is its "64.32" event's, whichever delivery wrote
    it)."""
    several: dict[str, list[tuple[Event, JSON]]] = {}
    for ev, value in found:
        several.setdefault(ev.key, []).append((ev, value))
    out: dict[str, list[Effect]] = {}
    for eff in facts.record_only:
        candidates = several.get(eff.key) if eff.key is not None else None
        if not candidates or len(candidates) < 2 or not is_write(eff):
            continue
        leaves = list((bodies.leaves(eff) or {}).values())
        matching = [ev for ev, value in candidates if any(carries(v, value) for v in leaves)]
        if len(matching) == 1:
            out.setdefault(matching[0].id, []).append(eff)
    return out


def _merged(*found: dict[str, list[Effect]]) -> dict[str, list[Effect]]:
    out: dict[str, list[Effect]] = {}
    for each in found:
        for eid, effects in each.items():
            out.setdefault(eid, []).extend(effects)
    return out


def _witness(c: Carried) -> Witness:
    number = _number(c.got) if c.got is not ABSENT else None
    exact = _exact(c.value)
    how = ""
    if exact is not None and number is not None and number in through_double(c.value):
        how = f" (in minor units through a double: int(float({shown(c.value)}) * {10 ** exact[1]}))"
    line = (
        f"{event_ref(c.event)}: {_paths.render(c.path)} {shown(c.value)} arrived as "
        f"{shown(c.got)}{how} in {c.effect.method.upper()} {c.effect.path} {c.effect.id} at "
        f"{c.location.place()}"
    )
    return Witness(line, (c.event.id,), (), (c.effect.id,))
