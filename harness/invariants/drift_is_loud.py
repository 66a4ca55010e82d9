"""drift_is_loud: a drifted event is processed correctly or rejected loudly, never corrupted.

A drifted event (a field renamed, dropped, nulled, retyped or added by the sender; see
``harness.drive._drift``) passes when

* every delivery of it was answered 4xx, or the target raised an alert effect for it on
  ``alert_route`` (``"POST /alerts"``): loud; or
* it was refused as its clean twin, undrifted, was (``_refused_alike``: the same 5xx or 429,
  no call of its own answered by a fault): not for its drift, so no witness of what the target
  does with it — said, and left to ``no_lost_events`` (``_deferred``), which judges the
  refusal (tests/gallery/issue_exports: an issue titled beyond Latin-1, 500 drifted or not,
  was counted loud here and lost nowhere); or
* its effects carry the field's ORIGINAL value wherever the target's effects for undrifted
  events of the same type carry that field's value (``_carried``): processed correctly. An
  integer beyond 2**53 is judged by the rule ``big_numbers_intact`` applies
  (``_drift.arrived``): its exact digits, as a number or a string, are the original; the same
  double in any printed form is rounded; or
* the target never carries that field for undrifted events: harmless drift, said so.

It fails when an effect (other than an alert) carries the value missing, null or changed —
a rounded 64-bit id, ``""`` for a renamed email — or when a ledger event was answered 2xx and
has no effect and no alert at all: dropped silently — where undrifted events of its type acted
(else nothing shows what it should have made). A drifted event the target accepted after it
stopped working altogether (every event it accepted from one on without an effect, drifted or
not: ``_after_answers.stop_of``, a worker thread dead on an earlier event) is no witness of its
own drift: counted apart, and the verdict says where the target stopped. It is inconclusive
when no event drifted, or when undrifted events of a drifted event's type are too few to show
what the target carries, or when every drifted event without an effect came after the stop,
or when every drifted event was refused as its twin was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ..core import _paths
from ..core._errors import ScenarioError
from ..core._model import (
    JSON,
    Delivery,
    Effect,
    Event,
    FailureClass,
    Model,
    Outcome,
    Status,
    Verdict,
)
from ..double._routes import RouteMatcher, compile_route, route_matches
from ..drive._drift import ROUNDED, DriftRecord, arrived, is_big, records_of
from ..history import decode_payloads
from ._after_answers import Stop, stop_of
from ._batch_items import in_order
from ._carried import (
    ABSENT,
    MIN_REFERENCES,
    Bodies,
    Learned,
    carries,
    kept,
    learn,
    own,
    same,
    shown,
)
from ._expected import expectation_of
from ._facts import (
    Facts,
    Witness,
    deliveries_text,
    effects_text,
    event_ref,
    id_list,
    is_write,
    plural,
    verdict,
)
from ._newest import clock_margin
from ._refused_alike import refused_alike

NAME = "drift_is_loud"
CLASS = FailureClass.SILENT
DEFAULT_ALERT_ROUTE = ""


@dataclass(frozen=True, slots=True)
class _Judged:
    """How one drifted event came out: ``kind`` is loud | correct | harmless | left | fail |
    unjudged | stopped (see _TALLY), with its witness."""

    kind: str
    witness: Witness
    # For a failure: "missing" (an effect carried the value missing or null) or "dropped"
    # (accepted, no effect) — what ``_keyed_on_missing`` reads.
    how: str = ""


def drift_is_loud(facts: Facts, alert_route: str = DEFAULT_ALERT_ROUTE) -> Verdict:
    """Judge every drifted event of the run (see the module's docstring)."""
    history = facts.history
    records = records_of(history.info.settings)
    if not records:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "no event drifted: the scenario declares no drift perturbation (rename_field, "
            "drop_field, null_field, retype_field, add_field)",
        )
    decode_payloads(history.events)  # learning reads them all: in chunks, not one by one
    drifts: dict[str, list[DriftRecord]] = {}
    for r in records:
        for eid in r.events:
            drifts.setdefault(eid, []).append(r)
    events = facts.events_by_id
    drifted = sorted((events[e] for e in drifts if e in events), key=_seq)
    if not drifted:
        declared = ", ".join(f"{r.kind} {r.path}" for r in records)
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"no event drifted: {declared} matched no event — check its rate, from, types and "
            "that the events have the field",
        )
    batches = in_order(history) if facts.several_events_writes else None
    if batches is not None:  # a batch call's items, each its own event's write (_batch_items)
        facts = Facts(batches.history)
    judge = _Judge(facts, drifts, alert_route)
    results = [judge.event(ev) for ev in drifted]
    counts: dict[str, int] = {}
    for judged in results:
        counts[judged.kind] = counts.get(judged.kind, 0) + 1
    tally = _tally(counts)
    failed = [r.witness for r in results if r.kind == "fail"]
    stopped = [r.witness for r in results if r.kind == "stopped"]
    after_stop = _after_stop(judge.stop, len(stopped)) if stopped else ""
    if failed:
        summary = (
            f"{plural(len(failed), 'drifted event')} of {len(drifted):,} reached a downstream "
            f"with the value missing, changed or not at all, and no error ({tally}){after_stop}"
            f"{_keyed_on_missing(judge.facts, results)}"
        )
        return verdict(NAME, Status.FAIL, CLASS, summary, failed)
    unjudged = [r.witness for r in results if r.kind == "unjudged"]
    if unjudged:
        summary = (
            f"{plural(len(unjudged), 'drifted event')} of {len(drifted):,} could not be judged "
            f"({tally}); each witness says why. Most often too few undrifted events of its type "
            f"(at least {MIN_REFERENCES} with effects) show where the target carries the field: "
            "drift a share (rate) or from a later time (from) so some events stay as they were"
        )
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, unjudged + stopped)
    if stopped:
        summary = (
            f"{plural(len(stopped), 'drifted event')} of {len(drifted):,} could not be judged "
            f"({tally}){after_stop}"
        )
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, stopped)
    unseen = [r.witness for r in results if r.kind == "unseen"]
    if unseen:
        summary = (
            f"{plural(len(unseen), 'drifted event')} of {len(drifted):,} "
            f"{'was' if len(unseen) == 1 else 'were'} accepted (2xx) and made no effect, and no "
            "later event of their record made one: neither processed nor refused, and not "
            "superseded — dropped silently (a handler that failed on the drifted payload after "
            "answering), or an update the automation ignores; no_lost_events judges whether "
            f"they owed one ({tally})"
        )
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, unseen)
    notes = [r.witness for r in results if r.kind in ("harmless", "loud", "left", "alike")]
    if counts.keys() == {"alike"}:
        summary = (
            f"{plural(len(drifted), 'drifted event')}, every one refused as its clean twin, "
            f"undrifted, was: none shows what the target does with the drift ({tally})"
        )
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, notes)
    summary = f"{plural(len(drifted), 'drifted event')}, none corrupted silently: {tally}"
    return verdict(NAME, Status.PASS, CLASS, summary, notes)


_TALLY = (
    ("loud", "rejected loudly"),
    ("alike", "refused as their undrifted clean twins were"),
    ("correct", "processed correctly"),
    ("harmless", "harmless drift"),
    ("left", "accepted without an effect (register: left to no_lost_events)"),
    ("unseen", "accepted without an effect, not superseded"),
    ("unjudged", "not judged"),
    ("stopped", "lost after the target stopped"),
    ("fail", "corrupted or dropped silently"),
)


def _keyed_on_missing(facts: Facts, results: Sequence[_Judged]) -> str:
    """``; …`` where one drifted event was written with the value missing and two or more
    others were accepted and made no effect at all: the shape of a dedup or lookup keyed on the
    field (``seen.add(body.get("email"))``), where None is a key like any other and every
    event without the field after the first is taken for it (tests/gallery/contact_once.py).
    Copies of a burst reach the handler in any order, so which came first is not asked — but
    an event answered before the written one was even sent (on the run's clock, within the
    workers' clock uncertainty: ``clock_margin``) cannot have been taken for it: only
    those answered after it was sent are said to may have been (two at least, else nothing is
    said), and the others are named apart."""
    failed = [r for r in results if r.kind == "fail"]
    missing = [r for r in failed if r.how == "missing"]
    dropped = [r.witness.event_ids[0] for r in failed if r.how == "dropped"]
    if len(missing) != 1 or len(dropped) < 2 or len(missing) + len(dropped) != len(failed):
        return ""
    written = missing[0].witness.event_ids[0]
    found = facts.deliveries_of([written, *dropped])
    sent = min((d.sent_at for d in found[written]), default=None)
    if sent is not None:  # a send a Locust worker stamped: as early as it may have been
        sent -= clock_margin(facts.history)
    before = [eid for eid in dropped if sent is not None and _answered_before(found[eid], sent)]
    after = [eid for eid in dropped if eid not in before]
    if len(after) < 2:
        return ""
    head = (
        f"; one of them, {written}, was written with the value missing, and the "
        f"{len(dropped):,} others were accepted and made no effect at all: "
    )
    cause = (
        " — a dedup, lookup or cache keyed on the field, where a missing "
        'value (None, "") is one key shared by every event without it; refuse an event whose '
        "key field is missing (a 4xx naming it) instead of keying on the empty value"
    )
    if not before:
        return f"{head}as if each were taken for that one{cause}"
    return (
        f"{head}the {len(after):,} answered after it was sent ({id_list(after)}) may each have "
        f"been taken for that one{cause}; the {len(before):,} answered before it was sent "
        f"({id_list(before)}) cannot have been: something else dropped "
        f"{'it' if len(before) == 1 else 'them'}"
    )


def _answered_before(deliveries: Sequence[Delivery], sent: float) -> bool:
    """Whether one of ``deliveries`` was accepted (2xx) before ``sent``."""
    return any(
        d.outcome is Outcome.OK and d.answered_at is not None and d.answered_at < sent
        for d in deliveries
    )


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[k]:,} {text}" for k, text in _TALLY if counts.get(k))


def _after_stop(stop: Stop | None, stopped: int) -> str:
    """``; 12 later drifted events are not counted: …`` where ``stopped`` (1 or more) drifted
    events came after the target stopped working at ``stop``."""
    if stop is None:
        return ""
    later = "later drifted events are" if stopped > 1 else "later drifted event is"
    return (
        f"; {stopped:,} {later} not counted against the drift: the target stopped working at "
        f"{stop.text()}, and all {len(stop.lost):,} events it accepted from then on are lost, "
        "drifted or not (no_lost_events' note says where it stopped)"
    )


def _seq(ev: Event) -> int:
    return ev.seq


def _alert_matcher(route: str) -> RouteMatcher | None:
    if not route:
        return None
    try:
        return compile_route(route, where=f"{NAME}: alert_route")
    except ScenarioError:
        return None  # check_specs refused it already; a hand-built spec alerts nowhere


class _Judge:
    """The indexes the per-event judgement needs, built once."""

    def __init__(self, facts: Facts, drifts: dict[str, list[DriftRecord]], alert_route: str):
        self.facts = facts
        self.drifts = drifts
        self.alert = _alert_matcher(alert_route)
        self.bodies = Bodies(facts.history.info.tracer_tag)
        self.ledger = facts.history.info.model is Model.LEDGER
        self.effects: dict[str, list[Effect]] = {}
        # Effects that name a record but no event: the drift may have removed the one field
        # that carried the event's tracer token (an email, a note).
        self.record_only: dict[str, list[Effect]] = {}
        known = facts.events_by_id
        for eff in facts.effects_in_order:
            ids = [eid for eid in dict.fromkeys(eff.event_ids) if eid in known]
            for eid in ids:
                self.effects.setdefault(eid, []).append(eff)
            if not ids and eff.key is not None:
                self.record_only.setdefault(eff.key, []).append(eff)
        self.per_record: dict[str, int] = {}
        for ev in facts.history.events:
            self.per_record[ev.key] = self.per_record.get(ev.key, 0) + 1
        self.deliveries = facts.deliveries_of(drifts)
        self._learned: dict[tuple[str, str], Learned] = {}
        # The types some undrifted event of acted on a downstream (an alert is not acting).
        self.acting = {
            ev.type
            for ev in facts.history.events
            if ev.id not in drifts
            and any(not self.is_alert(e) for e in self.effects.get(ev.id, ()))
        }
        self._acted: dict[str, int] | None = None  # record -> the newest seq that wrote

    @cached_property
    def stop(self) -> Stop | None:
        """Where the target stopped working: every event of a type it acts on that it accepted
        from one on has no effect at all (an alert shows it alive), none before — and one of
        them was sent undrifted, which a target that drops drifted events alone would have
        worked."""
        history, accepted = self.facts.history, self.facts.accepted
        among = {e.id for e in history.events if e.id in accepted and e.type in self.acting}
        lost = [eid for eid in among if not self.effects.get(eid)]
        stop = stop_of(history, self.facts.effects_in_order, lost, among)
        if stop is not None and all(eid in self.drifts for eid in stop.lost):
            # Every event from the "stop" on drifted (renamed-field drifts all from a time on):
            # a target that drops each drifted event looks the same — no stop to excuse them.
            return None
        return stop

    @cached_property
    def alike(self) -> set[str]:
        """The deliveries of drifted events never accepted that were refused as their clean
        twins, undrifted, were (``_refused_alike``): not the drift's doing."""
        accepted = self.facts.accepted
        return refused_alike(
            self.facts,
            (d for eid, ds in self.deliveries.items() if eid not in accepted for d in ds),
        )

    def superseded(self, ev: Event) -> bool:
        """Did a later event of ``ev``'s record make a write (an alert aside)? Then a register
        update of ``ev`` left without an effect may have been coalesced into it."""
        if self._acted is None:
            self._acted = {}
            events = self.facts.events_by_id
            for eid, effects in self.effects.items():
                if any(is_write(e) and not self.is_alert(e) for e in effects):
                    done = events[eid]
                    self._acted[done.key] = max(self._acted.get(done.key, -1), done.seq)
        return self._acted.get(ev.key, -1) > ev.seq

    def owed(self, ev: Event) -> str:
        """The writes ``ev``'s clean twin, undrifted, made (``POST /deals``), "" where it made
        none or the run has no clean run: what rules out an update the automation ignores."""
        wanted = expectation_of(self.facts).per_event.get(ev.id)
        several = len({r.downstream for r in wanted or ()}) > 1
        return ", ".join(r.text(several) for r in wanted or ())

    def is_alert(self, eff: Effect) -> bool:
        return self.alert is not None and route_matches(self.alert, eff.method, eff.path)

    def learned(self, event_type: str, path: str) -> Learned:
        """Where the target carries ``path`` for undrifted events of ``event_type``."""
        found = self._learned.get((event_type, path))
        if found is None:
            steps = _paths.parse(path)
            refs: list[tuple[JSON, Sequence[Effect]]] = []
            for ev in self.facts.history.events:
                if ev.type != event_type or ev.id in self.drifts:
                    continue
                value = _paths.get(ev.payload, steps, ABSENT)
                effects = [e for e in own(self.effects.get(ev.id, ())) if not self.is_alert(e)]
                if value is not ABSENT and effects:
                    refs.append((value, effects))
            found = learn(self.bodies, refs, carries)
            self._learned[(event_type, path)] = found
        return found

    def event(self, ev: Event) -> _Judged:
        deliveries = self.deliveries.get(ev.id, [])
        all_effects = self.effects.get(ev.id, [])
        by_record = self.record_only.get(ev.key, [])
        # A record's only event has its record's effects already (``Facts.single_event``):
        # those left naming the record were made before it was sent.
        if not all_effects and by_record and self.per_record.get(ev.key) != 1:
            line = (
                f"{event_ref(ev)}: {effects_text(by_record)} name its record but no event; "
                "which event they belong to cannot be told"
            )
            return _Judged("unjudged", Witness(line, *_ids(ev, deliveries, by_record)))
        alerts = [e for e in all_effects if self.is_alert(e)]
        effects = [e for e in all_effects if not self.is_alert(e)]
        rejected = bool(deliveries) and all(
            d.status is not None and 400 <= d.status < 500 for d in deliveries
        )
        drifts = self.drifts[ev.id]
        head = f"{event_ref(ev)}, {'; '.join(_drift_text(r, ev.id) for r in drifts)}: "
        head += deliveries_text(deliveries) if deliveries else "never delivered"
        ids = _ids(ev, deliveries, all_effects)
        # A wrong value written is a failure even when the sender was told: the data is bad.
        single = own(effects)
        if effects and not single and not (rejected or alerts):
            line = f"{head}; its effects ({effects_text(effects)}) carry several events (a batch)"
            return _Judged("unjudged", Witness(line, *ids))
        outcomes = [self._carried(ev, r, single) for r in drifts]
        wrong = [o for o in outcomes if o is not None and o[0] == "fail"]
        if wrong:
            how = "missing" if wrong[0][2] else ""
            return _Judged("fail", Witness(f"{head}; {wrong[0][1]}", *ids), how)
        if rejected or alerts:
            how = "every delivery answered 4xx" if rejected else f"alert {effects_text(alerts)}"
            return _Judged("loud", Witness(f"{head}; rejected loudly ({how})", *ids))
        if not effects:
            accepted = any(d.outcome is Outcome.OK for d in deliveries)
            stop = self.stop
            if accepted and stop is not None and ev.id in stop.lost and ev.id != stop.first:
                line = (
                    f"{head}; accepted after the target stopped working at {stop.text()}: "
                    "lost as every event after it was, drifted or not — no witness of its drift"
                )
                return _Judged("stopped", Witness(line, *ids))
            if accepted and ev.type not in self.acting:
                line = (
                    f"{head}; accepted and no effect, as no undrifted {ev.type!r} event had one: "
                    "nothing shows what it should have made (no_lost_events judges the type)"
                )
                return _Judged("unjudged", Witness(line, *ids))
            if accepted and self.ledger:
                line = f"{head}; accepted and no effect, no alert: dropped silently"
                if stop is not None and ev.id == stop.first:
                    line += (
                        " — and the target made no call for any event it accepted from this one "
                        "on: it stopped working here"
                    )
                return _Judged("fail", Witness(line, *ids), "dropped")
            if accepted and self.superseded(ev):
                line = (
                    f"{head}; accepted, no effect: a register update may be coalesced, "
                    "no_lost_events judges the record's final state"
                )
                return _Judged("left", Witness(line, *ids))
            owed = self.owed(ev) if accepted else ""
            if owed:
                line = (
                    f"{head}; accepted and no effect, no alert, and no later event of its record "
                    f"made one, where its clean twin, undrifted, made {owed}: dropped silently"
                )
                return _Judged("fail", Witness(line, *ids))
            if accepted:
                line = (
                    f"{head}; accepted, no effect, and no later event of its record made one: "
                    "not coalesced"
                )
                return _Judged("unseen", Witness(line, *ids))
            if deliveries and all(d.id in self.alike for d in deliveries):
                line = (
                    f"{head}; refused as its clean twin, undrifted, was: not for its drift, so "
                    "no witness of what the target does with it (no_lost_events judges the "
                    "refusal)"
                )
                return _Judged("alike", Witness(line, *ids))
            line = f"{head}; never accepted and no effect: loud (no_server_errors judges 5xx)"
            return _Judged("loud", Witness(line, *ids))
        kinds = {o[0] for o in outcomes if o is not None}
        if "unjudged" in kinds:
            text = next(o[1] for o in outcomes if o is not None and o[0] == "unjudged")
            return _Judged("unjudged", Witness(f"{head}; {text}", *ids))
        if kinds == {"harmless"}:
            text = next(o[1] for o in outcomes if o is not None)
            return _Judged("harmless", Witness(f"{head}; {text}", *ids))
        return _Judged("correct", Witness(f"{head}; {effects_text(effects)} carried it", *ids))

    def _carried(
        self, ev: Event, record: DriftRecord, effects: Sequence[Effect]
    ) -> tuple[str, str, bool] | None:
        """("fail" | "correct" | "harmless" | "unjudged", why, the value arrived missing or
        null) for one drift of ``ev``."""
        if not effects:
            return None
        if record.kind == "add_field":
            # A new field has no value to keep; what matters is that the event still went on.
            return "harmless", f"{record.path} added, the event still went on", False
        learned = self.learned(ev.type, record.path)
        original = record.events[ev.id]
        locations = list(learned.locations) + [
            loc for loc, value in learned.constant if same(value, original)
        ]
        if not locations:
            if learned.references < MIN_REFERENCES:
                return (
                    "unjudged",
                    (
                        f"only {plural(learned.references, 'undrifted event')} of type {ev.type!r} "
                        f"with effects to learn where {record.path} goes"
                    ),
                    False,
                )
            if learned.constant:
                return (
                    "unjudged",
                    (f"undrifted events all had one value at {record.path}, not this event's"),
                    False,
                )
            return (
                "harmless",
                (
                    f"harmless drift: the target's effects for {learned.references:,} undrifted "
                    f"{ev.type!r} events never carry {record.path}"
                ),
                False,
            )
        routed = False
        for loc in locations:
            for eff in self.bodies.routed(effects, loc):
                routed = True
                got = self.bodies.at(eff, loc)
                if got is ABSENT or not kept(got, original):
                    rounded = is_big(original) and arrived(got, original) == ROUNDED
                    return (
                        "fail",
                        (
                            f"{eff.method.upper()} {eff.path} {eff.id} carried {shown(got)} at "
                            f"{loc.place()} instead of {shown(original)}"
                            + (" (rounded through a double)" if rounded else "")
                        ),
                        got is ABSENT or got is None or got == "",
                    )
        if not routed:
            where = ", ".join(loc.text() for loc in locations)
            return (
                "unjudged",
                (
                    f"its effects ({effects_text(effects)}) are not where undrifted events carry "
                    f"{record.path} ({where})"
                ),
                False,
            )
        return "correct", "", False


def _drift_text(r: DriftRecord, event_id: str) -> str:
    original = shown(r.events[event_id])
    if r.kind == "rename_field":
        return f"{r.path} renamed to {r.to} (was {original})"
    if r.kind == "drop_field":
        return f"{r.path} dropped (was {original})"
    if r.kind == "null_field":
        return f"{r.path} set to null (was {original})"
    if r.kind == "retype_field" and r.to == "double":
        # No target can restore lost digits; it can only refuse what it cannot trust.
        return f"{r.path} retyped to double (was {original}; rounded before it reached the target)"
    if r.kind == "retype_field":
        return f"{r.path} retyped to {r.to} (was {original})"
    return f"{r.path} added ({shown(r.value)})"


def _ids(
    ev: Event, deliveries: Sequence[Delivery], effects: Sequence[Effect]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return (ev.id,), tuple(d.id for d in deliveries), tuple(e.id for e in effects)
