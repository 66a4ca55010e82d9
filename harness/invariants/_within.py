"""An event's item repeated inside one call: a bulk write carrying the same payout twice.

A receiver that buffers events and writes them in bulk (``POST /payouts/bulk`` with a list of
payouts) turns two deliveries of one event into two items of one call when both copies reach
the same batch. The call is one effect naming the event once, so counting effects per event
sees no repeat. Here the items are counted: in each list of a write's JSON body, the elements
carrying an event's tracer token. An event whose write carried more of them in one call than
any write of the same request carried for its clean twin had its item written again — a
duplicate, unless its API makes a repeat of the request harmless (``Repeats.kind``: a PUT, a
declared merge). Without a clean run nothing says how many items an event makes: no claim.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..core._model import Effect, Event
from ._facts import Facts, Witness, is_write, produced, route_of
from ._idempotent import Kind, Repeats

Request = tuple[str, str]  # downstream, route (``POST /payouts/bulk``)


@dataclass(frozen=True, slots=True)
class Within:
    """One write that carried an event's item more often than its clean twin's writes did."""

    event: Event
    effect: Effect
    items: int  # the event's items in the fullest list of this write's body
    clean: int  # the most any write of the request carried for its clean twin


def repeated_within(facts: Facts, repeats: Repeats) -> list[Within]:
    """The writes of this run that repeated an event's item inside one call, by time."""
    history, baseline = facts.history, facts.history.baseline
    if baseline is None or not history.info.tracer_tag or not baseline.info.tracer_tag:
        return []
    token = _Tokens(history.info.tracer_tag)
    events = facts.events_by_id
    found: list[tuple[Event, Effect, int]] = []
    for w in facts.writes_in_order:
        if "[" not in w.body or repeats.kind(w, w.method.upper()) is not Kind.HARMFUL:
            continue
        counts = token.items(w.body)
        for eid in w.event_ids:
            event = events.get(eid)
            if event is not None and counts.get(event.seq, 0) > 1:
                found.append((event, w, counts[event.seq]))
    if not found:
        return []
    clean = _clean_items(baseline.effects, _Tokens(baseline.info.tracer_tag))
    out = []
    for event, w, items in found:
        most = clean.get((event.seq, (w.downstream, route_of(w))))
        if most is not None and items > most:
            out.append(Within(event, w, items, most))
    return out


def carried_twice(facts: Facts, ids: Collection[str]) -> set[str]:
    """Of ``ids``, the events a write of theirs carried as two items or more of one list: two
    copies taken into one call, neither skipped. Read where no clean run says how many items an
    event makes (``repeated_within``): Node-RED's join by count under a Locust duplicate-storm,
    twins side by side in one batch, was told "it deduplicates, but its record … does not reach
    every copy" (a copy counted skipped), though the join deduplicates nothing."""
    tag = facts.history.info.tracer_tag
    if not tag or not ids:
        return set()
    token, events = _Tokens(tag), facts.events_by_id
    found = set()
    for eid, made in facts.effects_of(list(ids)).items():
        event = events.get(eid)
        if event is not None and any(
            "[" in w.body and is_write(w) and token.items(w.body).get(event.seq, 0) > 1
            for w in made
        ):
            found.add(eid)
    return found


def within_text(found: list[Within]) -> str:
    """``12 of them repeated their item within one call (POST /payouts/bulk eff_2 …)``."""
    worst = max(found, key=lambda f: f.items - f.clean)
    return (
        f"{len({f.event.id for f in found}):,} of them repeated their item within one call "
        f"({route_of(worst.effect)} {worst.effect.id} carried {worst.items} items of "
        f"{worst.event.id}, where each call of its clean twin carried "
        f"{'one' if worst.clean == 1 else worst.clean})"
    )


def within_witnesses(facts: Facts, found: list[Within], room: int) -> list[Witness]:
    """The first ``room`` events seen repeating an item inside one call, one line each."""
    shown = list({f.event.id: f for f in found}.values())[: max(room, 0)]
    ids = [f.event.id for f in shown]
    deliveries, effects = facts.deliveries_of(ids), facts.effects_of(ids)
    out = []
    for f in shown:
        writes = [w for w in effects[f.event.id] if is_write(w)]
        clean = "one" if f.clean == 1 else str(f.clean)
        tail = (
            f"; {f.effect.id} carried {f.items} items of it in one call, where each call of its "
            f"clean twin carried {clean}"
        )
        out.append(produced(f.event, deliveries[f.event.id], writes, tail))
    return out


def _clean_items(effects: Iterable[Effect], token: _Tokens) -> dict[tuple[int, Request], int]:
    """(the clean run's event seq, its request) -> the most items one write carried for it
    (1 for a write naming it in no list, or in a body that is not JSON)."""
    most: dict[tuple[int, Request], int] = {}
    for w in effects:
        if not is_write(w):
            continue
        counts = token.items(w.body) if "[" in w.body else Counter[int]()
        request = (w.downstream, route_of(w))
        for seq in token.seqs(w.path + "\n" + w.body):
            key = (seq, request)
            most[key] = max(most.get(key, 1), counts.get(seq, 1))
    return most


class _Tokens:
    """A run's event tokens (``{tag}e{seq}``) found in text and in a JSON body's lists."""

    def __init__(self, tag: str) -> None:
        self._pattern = re.compile(re.escape(tag) + r"e(\d+)")

    def seqs(self, text: str) -> set[int]:
        return {int(n) for n in self._pattern.findall(text)}

    def items(self, body: str) -> Counter[int]:
        """Event seq -> the most elements of one list in ``body`` that carry its token."""
        if len(self._pattern.findall(body)) < 2:
            return Counter()
        try:
            doc = json.loads(body)
        except ValueError:
            return Counter()
        most: Counter[int] = Counter()
        for items in _lists(doc):
            here = Counter(seq for item in items for seq in self.seqs(json.dumps(item)))
            most |= here
        return most


def _lists(doc: Any) -> Iterator[list[Any]]:
    """Every list in a JSON document, nested ones included."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            yield node
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
