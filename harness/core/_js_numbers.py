"""Numbers as a JavaScript client carries them: every JSON number parsed into an IEEE-754
double. The drift perturbations and the 64-bit id checks use it, and so does the fragile demo,
which maps fields the way a no-code flow does (here, not in the drift stage, so that the demo
automations start without loading the scenario model)."""

from __future__ import annotations

from decimal import Decimal

EXACT_IN_DOUBLE = 2**53  # an IEEE-754 double holds every integer up to this, and no odd one above


def through_double(value: int | float) -> int | float:
    """``value`` as a JavaScript client passes it on: parsed into an IEEE-754 double and
    printed back in the shortest form, so 820982911946154508 becomes 820982911946154500."""
    f = float(value)
    if f.is_integer() and abs(f) < 1e21:  # JavaScript prints these as integers
        return int(Decimal(repr(f)))
    return f
