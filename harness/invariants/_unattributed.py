"""The writes a run could not attribute that a repeat would harm, counted against its clean run.

An effect naming no event cannot show a repeated event: ``no_duplicate_effects`` judges the
attributed ones. But a write whose repeat would harm (``_idempotent.may_repeat_harm``: a
``POST``, a ``PATCH`` not sent as a merge patch, no ``Idempotency-Key``) may be exactly what an
undeduplicated redelivery repeats — an activity line appended to a path the automation derived.
Per request
(downstream, method, route template, as ``_expected.Routes`` names it), the run's such writes
are counted against what its clean run (the same events, each once) made of the request: more
here than there is a repeat that nothing ties to an event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core._model import Effect
from ._expected import Request, Routes, expectation_of, of_another_run
from ._facts import Facts, is_write
from ._idempotent import may_repeat_harm


@dataclass(frozen=True, slots=True)
class Counted:
    """One request some unattributed writes of the run went to: how many such writes (``here``,
    attributed or not), and how many the clean run made."""

    request: Request
    here: int
    clean: int
    unattributed: list[Effect] = field(default_factory=list)  # this run's, naming no event


@dataclass(frozen=True, slots=True)
class Unattributed:
    """The requests with unattributed writes a repeat would harm, and the clean run asked."""

    requests: list[Counted]  # most unattributed writes first
    clean_run: str  # its run id
    events: int  # this run's events
    clean_events: int  # the clean run's

    @property
    def over(self) -> list[Counted]:
        """The requests this run made more of than its clean run, per event: a year's month
        of 2,000 events against a clean run of 200 owes ten times its count."""
        scale = self.events / self.clean_events if self.clean_events else 1.0
        return [c for c in self.requests if c.here > c.clean * scale]


def unattributed_writes(facts: Facts) -> Unattributed | None:
    """The run's unattributed writes a repeat would harm, per request, with the clean run's
    count of each request; None when it has none, or no clean run to count them against
    (nothing says how many the events owe). Another run's late writes are left out."""
    mine = [e for routes in facts.unattributed_routes.values() for e in routes if _counts(e)]
    if not mine:
        return None
    baseline = facts.history.baseline
    if baseline is None:
        return None  # not learnt for nothing: the expectation costs a pass over the events
    exp = expectation_of(facts)
    if exp.clean_run is None:
        return None
    mine = [e for e in mine if not (exp.tag and of_another_run(e, exp.tag))]
    if not mine:
        return None
    routes = exp.routes
    unattributed: dict[Request, list[Effect]] = {}
    for e in mine:
        unattributed.setdefault(routes.of(e), []).append(e)
    here = _count(facts.writes_in_order, routes, unattributed.keys(), exp.tag)
    clean = _count(baseline.effects, routes, unattributed.keys(), baseline.info.tracer_tag)
    ordered = sorted(unattributed.items(), key=lambda item: -len(item[1]))
    return Unattributed(
        [Counted(request, here[request], clean[request], effects) for request, effects in ordered],
        exp.clean_run,
        len(facts.history.events),
        len(baseline.events),
    )


def _counts(effect: Effect) -> bool:
    return is_write(effect) and may_repeat_harm(effect)


def _count(
    effects: Iterable[Effect], routes: Routes, wanted: Iterable[Request], tag: str
) -> Counter[Request]:
    """How many writes a repeat would harm each of ``wanted`` got among ``effects``; the cheap
    tests first: a run may have a million writes and a few of them unattributed."""
    found: Counter[Request] = Counter()
    asked = set(wanted)
    methods = {r.method for r in asked}
    for e in effects:
        if e.method.upper() not in methods or not is_write(e):
            continue
        request = routes.of(e)
        if request in asked and may_repeat_harm(e) and not (tag and of_another_run(e, tag)):
            found[request] += 1
    return found
