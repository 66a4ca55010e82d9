"""Refused whole in the clean run: an event type that made requests there, none taking effect.

A type the clean run made no write for is learned as ignored by design, owed nothing
(``_expected``). That holds only where its events made no request: where they made some and
the downstream refused every one (answered 4xx/5xx, nothing committed) — a ``PATCH`` of a
subscription the double does not hold, answered 404, logged and acknowledged — nothing of
their work was tested, in the clean run or after it, and what they owe is not known. A
double holds only what the run wrote to it (or a stub): the automation updated, or read,
what its real API holds before the event comes. Such events are judged by no rule of their
own, and ``no_lost_events`` is inconclusive on them, naming the refused request and how to
seed or stub it. (tests/gallery/early_updates.py with ``ON_MISSING=skip`` under
duplicate-storm passed: "ignored by design (no effect in the clean run):
customer.subscription.updated (60 events)", every ``PATCH`` of them answered 404.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..core._model import Event
from ..history import History
from ._facts import plural, times
from ._requests import Request, Routes


@dataclass(frozen=True, slots=True)
class RefusedWhole:
    """The request a type's clean twins were refused most, its answer (0: none) and how often."""

    request: Request
    status: int
    count: int

    def text(self, several: bool) -> str:
        """``PATCH /subscriptions/{id} answered 404 60 times``."""
        answer = f"answered {self.status}" if self.status else "got no answer"
        return f"{self.request.text(several)} {answer} {times(self.count)}"

    def stub(self) -> str:
        """``{method: PATCH, path: "/subscriptions/{id}", status: 200}``."""
        return f'{{method: {self.request.method}, path: "{self.request.route}", status: 200}}'


def refused_whole(clean: History, routes: Routes, twins: Collection[Event]) -> RefusedWhole | None:
    """The request ``twins`` (accepted clean events of one type, none of which wrote) were
    refused most — calls naming one of them, or naming only one of their records — or None
    where they made no refused request."""
    ids = {e.id for e in twins}
    keys = {e.key for e in twins}
    calls: Counter[tuple[Request, int]] = Counter()
    for effect in clean.effects:
        if effect.committed or 0 < effect.status < 400:
            continue
        if ids.intersection(effect.event_ids) or (not effect.event_ids and effect.key in keys):
            calls[(routes.of(effect), effect.status)] += 1
    if not calls:
        return None
    (request, status), count = calls.most_common(1)[0]
    return RefusedWhole(request, status, count)


def refused_whole_text(
    found: Mapping[str, RefusedWhole], types: Mapping[str, str], ids: Collection[str], several: bool
) -> str:
    """Why ``ids`` (events of ``found``'s types, by ``types``: event id -> type) that made no
    effect are not called lost, and how to let them act."""
    named = sorted({types[i] for i in ids})
    refused = "; ".join(f"{t}: {found[t].text(several)}" for t in named)
    first = found[named[0]]
    downstream = first.request.downstream
    return (
        f"{plural(len(ids), 'event')} of a type whose every request in the clean run was "
        f"refused ({refused}) made no effect: nothing of that type's work took effect in either "
        "run, so what it owes is not known (not ignored by design: it made requests) — the "
        "downstream double holds only what the run wrote to it, and the automation reached for "
        "what it does not hold (which its real API may hold before the event comes); seed it or "
        "stub the route (a "
        f"`routes:` entry on downstream {downstream}, e.g. {first.stub()}, or `stateful: true` "
        'with the record created first; docs/scenarios.md, "downstreams"), then run again'
    )
