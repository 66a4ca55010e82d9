"""The sentences verdicts about expected effects are told in: the rule used, what was missing
and where the expectation came from. Shared by ``no_lost_events`` and ``recovers_after_outage``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from ..core._model import Delivery, Effect, Event, Model
from ..history import event_column, event_rows
from ._expected import Expectation, Rule
from ._facts import (
    Facts,
    Witness,
    deliveries_text,
    effects_text,
    event_ref,
    id_list,
    is_write,
    not_counted,
    plural,
)
from ._newest import newest_sent
from ._requests import Request, same_resource
from ._shortfalls import NEWEST, Created, Creator, Level, Short, Shortfalls, Unwritten


def rule_text(exp: Expectation, events: Sequence[Event]) -> str:
    """``rule: expected effects learned from the clean run x@zq…`` — or, when types differ,
    ``rules: declared in expect: for a; learned … for b; any effect for c (no clean run)``."""
    seen = dict.fromkeys(event_column(events, "type"))
    groups: dict[str, list[str]] = {}
    for t in seen:
        rule = exp.types.get(t)
        groups.setdefault(_rule_name(exp, rule.rule if rule else Rule.ANY), []).append(t)
    if len(groups) == 1:
        (name,) = groups
        if name.startswith("any effect"):
            return f"rule: any effect — {exp.why_any}"
        return f"rule: expected effects {name}"
    parts = [
        f"{name} for {', '.join(types)}"
        if not name.startswith("any effect")
        else f"any effect for {', '.join(types)} ({exp.why_any})"
        for name, types in groups.items()
    ]
    return "rules: " + "; ".join(parts)


def _rule_name(exp: Expectation, rule: Rule) -> str:
    if rule is Rule.DECLARED:
        return "declared in expect:"
    if rule is Rule.LEARNED:
        return f"learned from the clean run {exp.clean_run}"
    return "any effect"


def judged_text(found: Shortfalls) -> str:
    return plural(len(found.judged), "accepted event")


def _held_notes(exp: Expectation) -> list[str]:
    """``2 events judged by what their type's events made (held at the clean run's end …)``,
    worded apart for those whose twins came in one request with an event that acted: the
    clean run did not take them last of their type, but beside it (a batching sender)."""
    batched = len(exp.held_batched)
    notes = []
    for n, held in (
        (len(exp.held) - batched, "{twins} {were} among the last events of {its} type there, which "
         "made no effect, though it acted on all the others"),
        (batched, "{twins} came in one request with an event of {its} type that acted — the "
         "sender batches events — and made no effect, and no event of {its} type acted after "
         "that request"),
    ):  # fmt: skip
        if n:
            its, were = ("its", "was") if n == 1 else ("their", "were")
            twins = f"{its} clean {'twin' if n == 1 else 'twins'}"
            notes.append(
                f"{plural(n, 'event')} judged by what {its} type's events made (held at the "
                f"clean run's end: {held.format(twins=twins, its=its, were=were)})"
            )
    return notes


def expectation_notes(exp: Expectation, found: Shortfalls, events: Sequence[Event]) -> str:
    """What the summary adds: types ignored by design, events not owed an effect, superseded
    updates, requests compared per record or per run, and what could not be judged."""
    notes = []
    ignored = {t: r for t, r in exp.types.items() if r.ignored}
    if ignored:
        count = Counter(e.type for e in events if e.type in ignored)
        for how in (Rule.LEARNED, Rule.DECLARED):
            types = [t for t, r in ignored.items() if r.rule is how and count[t]]
            if types:
                why = "no effect in the clean run" if how is Rule.LEARNED else "expect: none"
                n = sum(count[t] for t in types)
                notes.append(
                    f"ignored by design ({why}): {', '.join(types)} ({plural(n, 'event')})"
                )
    if exp.unlike_clean:
        notes.append(
            f"{plural(len(exp.unlike_clean), 'event')} made no effect in the clean run, though "
            "events like them did here: not taken as design, judged by what their type's "
            "events made"
        )
    if exp.not_expected:
        notes.append(
            f"{plural(len(exp.not_expected), 'event')} made no effect in the clean run either "
            "(not owed one)"
        )
    if exp.held:
        notes.extend(_held_notes(exp))
    if exp.refused_clean:
        notes.append(
            f"{plural(len(exp.refused_clean), 'event')} judged by what their type's events made "
            "(their clean twins made that request too and were refused it: the clean run lost "
            "them as well, not taken as design — a refusal acknowledged with a 2xx is lost for "
            "good: mend the request the downstream refuses, as its answers say, or answer an "
            "error so that the sender retries)"
        )
    if exp.by_type:
        notes.append(
            f"{plural(len(exp.by_type), 'event')} judged by what their type's events made "
            "(no clean twin of their own to learn from: refused in the clean run, or past its "
            "last event)"
        )
    if exp.unseen:
        notes.append(
            f"{plural(len(exp.unseen), 'event')} judged by what their type's events made "
            f"(their clean twins made nothing while the clean run watched, and it stopped "
            f"watching before the target was done: {exp.why_unseen})"
        )
    if found.superseded:
        notes.append(f"{plural(found.superseded, 'superseded update')} skipped (not loss)")
    if found.another_way:
        notes.append(_another_way_text(exp, found))
    if found.stood:
        notes.append(_stood_text(exp, found))
    if found.swapped:
        notes.append(_swapped_text(exp, found))
    if found.coarse:
        requests = ", ".join(sorted(r.text(exp.several) for r in found.coarse))
        notes.append(f"{requests} compared per record or per run (not every one names an event)")
    if exp.others or found.others:
        runs = " and ".join(
            f"{plural(n, 'write')} {where}"
            for n, where in ((exp.others, "in the clean run"), (found.others, "in this run"))
            if n
        )
        notes.append(f"{runs} left out: they carry another run's tracer token (its late writes)")
    if found.unjudged:
        notes.append(
            f"{plural(found.unjudged, 'request')} the clean run made per record or per run not "
            "judged (not every event of it was accepted)"
        )
    return "".join(f"; {n}" for n in notes)


def _another_way_text(exp: Expectation, found: Shortfalls) -> str:
    """``PUT /members/{id} made where the clean run made PATCH /members/{id} (4 events): …``"""
    ways = [
        f"{made.text(exp.several)} made where the clean run made "
        f"{wanted.text(exp.several)} ({plural(n, 'event')})"
        for (wanted, made), n in found.another_way.most_common()
    ]
    return (
        f"{'; '.join(ways)}: the same resource written another way (an upsert that chose by "
        "whether it existed, or a race), not loss"
    )


_CREATOR = {
    Creator.REFUSED: "after the event that created it in the clean run was refused",
    Creator.FAILED: (
        "after the event that created it in the clean run was accepted and made no creation"
    ),
    Creator.RACED: (
        "ahead of the event that created it in the clean run, which wrote the item it found "
        "(the events raced: per_key_order judges their order)"
    ),
}


def _stood_text(exp: Expectation, found: Shortfalls) -> str:
    """``POST /tickets made where the clean run made PATCH /tickets/{id} (3 events): the item
    created by a later event of its record, after the event that created it in the clean run
    was refused: counted as written …`` (``_shortfalls.Stood``)."""
    stood = found.stood.values()
    ways = Counter((s.request, s.creation) for s in stood)
    made = "; ".join(
        f"{creation.text(exp.several)} made where the clean run made "
        f"{request.text(exp.several)} ({plural(n, 'event')})"
        for (request, creation), n in ways.most_common()
    )
    how = Counter(s.creator for s in stood)
    whys = [
        _CREATOR[c] + ("" if len(how) == 1 else f" ({plural(how[c], 'event')})")
        for c in Creator
        if how[c]
    ]
    which = "a later event" if all(s.later for s in stood) else "another event"
    return (
        f"{made}: the item created by {which} of its record, {'; or '.join(whys)}: counted as "
        "written (no record got more creations than its clean twin)"
    )


def _swapped_text(exp: Expectation, found: Shortfalls) -> str:
    """``2 events' POST /contacts made by another event of their record instead (e.g. evt_1's,
    by evt_2) …`` (``_shortfalls.Swapped``)."""
    swapped = found.swapped
    eid, first = next(iter(swapped.items()))
    wanted = " or ".join(sorted({s.request.text(exp.several) for s in swapped.values()}))
    whose = f"{plural(len(swapped), 'event')}'" if len(swapped) > 1 else "1 event's"
    return (
        f"{whose} {wanted} made by another event of their record instead (e.g. {eid}'s, by "
        f"{first.by}), one whose clean twin made none: a record's work done once, by "
        "whichever of its events comes first — not loss (made more than once for a record, "
        "its repeats are no_duplicate_effects' to judge)"
    )


def created_text(exp: Expectation, created: Sequence[Created]) -> str:
    """``2 records got no PATCH /customers/{id} where their clean twin made some, but as many
    writes of the item as it by creating it anew (record r1: …): …``"""
    removals = [c for c in created if c.removal]
    if removals:
        return _removed_text(exp, removals, len(created))
    first = max(created, key=lambda c: c.created - c.clean_created)
    wanted = {c.short.request.text(exp.several) for c in created if c.short.request}
    return (
        f"{plural(len(created), 'record')} got no {' or '.join(sorted(wanted))} where their "
        "clean twin made some, but as many writes of the item as it by creating it anew "
        f"({created_line(exp, first)}): a find-or-create that created where the clean run "
        "found the record (simultaneous events racing; final_state_matches_baseline judges "
        "the copies), or an update lost with another event's creation in its place"
    )


def _removed_text(exp: Expectation, removals: Sequence[Created], records: int) -> str:
    """``7 records made fewer DELETE /contacts/{id} than their clean twin, … : …``."""
    first = max(removals, key=lambda c: c.created - (c.made - c.created))
    wanted = sorted({c.short.request.text(exp.several) for c in removals if c.short.request})
    others = records - len(removals)
    more = f" (and {plural(others, 'record')} short another way, as below)" if others else ""
    return (
        f"{plural(len(removals), 'record')} made fewer {' or '.join(wanted)} than their clean "
        f"twin, which deleted what it created but the last, and created as often "
        f"({created_line(exp, first)}){more}: a deletion that found nothing to remove — "
        "simultaneous events each looking the item up before another had created it, each "
        "then creating it (no_duplicate_effects judges the items left standing) — or a "
        "deletion lost"
    )


def partly_text(exp: Expectation, partly: Sequence[Short]) -> str:
    """``1 record got no PATCH /customers/{id} where its clean twin made some, but other
    writes of it, and not all its events were accepted (record r1: …): …`` (a register)."""
    wanted = sorted({s.request.text(exp.several) for s in partly if s.request})
    return (
        f"{plural(len(partly), 'record')} got no {' or '.join(wanted)} where their clean twin "
        f"made some, but other writes it made, and not all their events were accepted "
        f"({partly_line(exp, partly[0])}): each owes only its latest accepted event's effects, "
        "and the twin's may have been for the events refused here"
    )


def replaced_text(exp: Expectation, replaced: Sequence[Short]) -> str:
    """``1 record got fewer PUT /customers/{id}/balance than its clean twin, but …`` (a
    ledger's records whose last PUT came after their newest event: ``Shortfalls.replaced``)."""
    records, wanted, its = _records_of(exp, replaced)
    return (
        f"{records} got fewer {wanted} than {its} clean "
        f"twin, the last of them after {its} newest event was first sent "
        f"({replaced_line(exp, replaced[0])}): a PUT replaces the item whole, and that last one "
        "may carry what the missing ones were for (a running total) — a run naming "
        "final_state_matches_baseline compares the state they were left in"
    )


def newest_unseen_text(exp: Expectation, unseen: Sequence[Short]) -> str:
    """``1 record got no PUT /contacts/{id} after its newest event was first sent, nor did its
    clean twin after its own, but the clean run stopped watching …`` (``newest_unseen``)."""
    records, wanted, its = _records_of(exp, unseen)
    return (
        f"{records} got no {wanted} after {its} newest event "
        f"was first sent, nor did {its} clean twin after its own "
        f"({newest_unseen_line(exp, unseen[0])}), "
        f"but the clean run stopped watching before the target was done ({exp.why_unseen}): "
        "whether the automation writes for such an update is not known — let the runs watch "
        "longer (`settle:` in the scenario, --settle-quiet, --settle-deadline) and run again"
    )


def newest_unwritten_text(exp: Expectation, unwritten: Sequence[Unwritten]) -> str:
    """``1 record got no PUT /orders/{id} after its newest event was first sent, nor did its
    clean twin after its own, though that event changes what its last write holds …``
    (``newest_unwritten``)."""
    records, wanted, its = _records_of(exp, [u.short for u in unwritten])
    return (
        f"{records} got no {wanted} after {its} newest event was first sent, nor did {its} "
        f"clean twin after its own, though that event changes what {its} last write holds "
        f"({newest_unwritten_line(exp, unwritten[0])}): an automation that ignores such an "
        "update by design and one that drops it in every run alike (a dedup keyed on the "
        "record, not the event, that skips every update after the first; a staleness check "
        "that takes it for older: a time read without its offset) look the same to a run "
        "compared with its clean run — check the target's log or its state for that record"
    )


def newest_unwritten_line(exp: Expectation, u: Unwritten) -> str:
    """``record 59…: its last PUT /orders/{id} (eff_9) holds $.note "paid by card", its
    newest event "shipped"``."""
    assert u.short.request is not None
    request = u.short.request.text(exp.several)
    held = ", ".join(f"{path} {was!r}" for path, was, _ in u.changes[:3])
    new = ", ".join(f"{now!r}" for _, _, now in u.changes[:3])
    return (
        f"record {u.short.subject}: its last {request} ({u.write}) holds {held}, its newest "
        f"event {new}"
    )


def newest_clocked_text(exp: Expectation, clocked: Sequence[Short], margin: float) -> str:
    """``1 record's last PUT /contacts/{id} came within 1 ms of its newest event's first send
    …`` (``newest_clocked``: a distributed load test's workers' clocks)."""
    records, wanted, its = _records_of(exp, clocked)
    within = _ms(margin)
    whose = f"{records}'" if len(clocked) > 1 else f"{records}'s"
    return (
        f"{whose} last {wanted} came within {within} of {its} newest event's first send "
        f"(e.g. record {clocked[0].subject}), the Locust workers' clocks being "
        f"known only to within {within} of the master's: whether that write was the newest "
        "event's, or an older one's with the newest dropped, is not known — run the workers "
        "nearer the master (the uncertainty is half their round trip to it), or judge the run "
        "by a local load test"
    )


def newest_clocked_line(exp: Expectation, s: Short, margin: float) -> str:
    """``record r1: its last PUT /contacts/{id} within 1 ms of its newest event's first send``."""
    assert s.request is not None
    request = s.request.text(exp.several)
    return (
        f"record {s.subject}: its last {request} within {_ms(margin)} of its newest event's "
        "first send"
    )


def _ms(seconds: float) -> str:
    # A clock's bound widened by a drift or a step is seconds: "2 s", not .3g's "2e+03 ms".
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _records_of(exp: Expectation, shorts: Sequence[Short]) -> tuple[str, str, str]:
    """``1 record``, the requests they lack (``PUT /contacts/{id}``), and ``its``/``their``."""
    wanted = " or ".join(sorted({s.request.text(exp.several) for s in shorts if s.request}))
    return plural(len(shorts), "record"), wanted, "its" if len(shorts) == 1 else "their"


def newest_unseen_line(exp: Expectation, s: Short) -> str:
    """``record r1: no PUT /contacts/{id} after its newest event was first sent``."""
    assert s.request is not None
    request = s.request.text(exp.several)
    return f"record {s.subject}: no {request} after its newest event was first sent"


def replaced_line(exp: Expectation, s: Short) -> str:
    """``record r1: 1 PUT /customers/{id}/balance of its clean twin's 2, the last after its
    newest event was first sent``."""
    assert s.request is not None
    return (
        f"record {s.subject}: {s.made:,} {s.request.text(exp.several)} of its clean twin's "
        f"{s.need:,}, the last after its newest event was first sent"
    )


def partly_line(exp: Expectation, s: Short) -> str:
    """``record r1: 0 PATCH /customers/{id} of its clean twin's 1 or more; 1 of its 3 events
    never accepted``."""
    assert s.request is not None
    return (
        f"record {s.subject}: {s.made:,} {s.request.text(exp.several)} where its clean twin "
        f"made some; not all of its {plural(s.events, 'event')} accepted"
    )


def created_line(exp: Expectation, c: Created) -> str:
    """``record r1: 3 POST /customers and 0 other writes of the item, where its clean twin
    made 1 and 2``."""
    if c.removal and c.short.request is not None:
        removal = c.short.request.text(exp.several)
        return (
            f"record {c.short.subject}: {c.created:,} {c.creation.text(exp.several)} and "
            f"{c.made - c.created:,} {removal}, where its clean twin made {c.clean_created:,} "
            f"and {c.clean - c.clean_created:,}"
        )
    return (
        f"record {c.short.subject}: {c.created:,} {c.creation.text(exp.several)} and "
        f"{c.made - c.created:,} other writes of the item, where its clean twin made "
        f"{c.clean_created:,} and {c.clean - c.clean_created:,}"
    )


def lost_text(
    exp: Expectation,
    found: Shortfalls,
    shown: Mapping[str, Sequence[Short]],
    silent: Collection[str],
) -> str:
    """The head of a failed summary: how many events (records) lack what, and coarse losses.
    ``silent``: the events of ``shown`` that made no write at all."""
    parts = []
    if shown:
        register = exp.model is Model.REGISTER
        whole = plural(len(found.judged), "record") if register else judged_text(found)
        of_latest = " of their latest accepted event" if register else ""
        missing: Counter[str] = Counter()
        for shorts in shown.values():
            for s in shorts:
                if s.request is not None:
                    missing[s.request.text(exp.several)] += 1
        which = ", ".join(f"{r} for {n:,}" for r, n in missing.most_common())
        silent = set(silent)  # a list may be as long as ``shown``: a lookup each
        nothing = sum(1 for eid in shown if eid in silent)
        if nothing == len(shown):
            none = "never got an effect" if register else "produced no effect"
            head = f"{len(shown):,} of {whole} {none}{of_latest} (lost)"
            parts.append(head + (f": missing {which}" if which else ""))
        else:
            lacks = "lack the expected effects" + of_latest if register else "lack expected effects"
            none_at_all = f" ({nothing:,} produced no effect at all)" if nothing else ""
            parts.append(f"{len(shown):,} of {whole} {lacks} (lost): missing {which}{none_at_all}")
    for s in found.run:
        assert s.request is not None
        parts.append(
            f"{s.made:,} {s.request.text(exp.several)} made where {s.need:,} were expected "
            "(per run)"
        )
    if found.records:
        requests = sorted({s.request.text(exp.several) for s in found.records if s.request})
        parts.append(
            f"{plural(len({s.subject for s in found.records}), 'record')} short of "
            f"{', '.join(requests)} (per record)"
        )
    return "; ".join(parts)


def event_witnesses(
    facts: Facts, exp: Expectation, events: Sequence[Event], shorts: Mapping[str, Sequence[Short]]
) -> list[Witness]:
    """One per event of ``events`` (a few), short of ``shorts[event.id]``: their deliveries and
    effects read in one scan each for all of them."""
    ids = [e.id for e in events]
    deliveries, effects = facts.deliveries_of(ids), facts.effects_of(ids)
    return [_event_witness(exp, e, shorts[e.id], deliveries[e.id], effects[e.id]) for e in events]


def _event_witness(
    exp: Expectation,
    event: Event,
    shorts: Sequence[Short],
    deliveries: Sequence[Delivery],
    effects: Sequence[Effect],
) -> Witness:
    """``event evt_… was delivered … and made POST /contacts eff_3 but never POST /deals; the
    clean run made both; its requests did not count: POST /deals eff_4 (refused 503)``."""
    writes = [e for e in effects if is_write(e)]
    line = f"{event_ref(event)} was {deliveries_text(deliveries)}"
    if not writes:
        line += " but produced no effect"
    else:
        line += f" and made {effects_text(writes)} but {_missing(exp, shorts)}"
        line += f"; {source_text(exp, event)}"
    line += tried_text(effects)
    return Witness(line, (event.id,), tuple(d.id for d in deliveries), tuple(e.id for e in effects))


def missing_text(exp: Expectation, shorts: Sequence[Short]) -> str:
    """``POST /deals`` or ``2 of 3 POST /line_items``: what an event still lacks."""
    return " and ".join(
        (s.request.text(exp.several) if s.request else "any effect")
        if s.made == 0 or s.request is None
        else f"{s.need - s.made} more {s.request.text(exp.several)} ({s.need} expected)"
        for s in shorts
    )


def _missing(exp: Expectation, shorts: Sequence[Short]) -> str:
    never = [s for s in shorts if s.made == 0]
    fewer = [s for s in shorts if s.made > 0]
    parts = []
    if never:
        parts.append("never " + " nor ".join(_request(exp, s.request) for s in never))
    for s in fewer:
        parts.append(f"only {s.made} of {s.need} {_request(exp, s.request)}")
    return " and ".join(parts)


def _request(exp: Expectation, request: Request | None) -> str:
    return request.text(exp.several) if request is not None else "any effect"


def source_text(exp: Expectation, event: Event) -> str:
    """Where an event's expectation came from: ``the clean run made both``."""
    wanted = exp.per_event.get(event.id, Counter())
    listed = " and ".join(
        (f"{n} " if n > 1 else "") + r.text(exp.several) for r, n in wanted.items()
    )
    rule = exp.types.get(event.type)
    if rule is not None and rule.rule is Rule.DECLARED:
        return f"expect: asks for {listed}"
    if any(event.id in s for s in (exp.by_type, exp.unseen, exp.held, exp.refused_clean)):
        return f"the clean run's other {event.type} events made {listed}"
    if len(wanted) == 2 and all(n == 1 for n in wanted.values()):
        return "the clean run made both"
    return f"the clean run made {listed}"


def tried_text(effects: Sequence[Effect]) -> str:
    tried = [e for e in effects if not is_write(e)]
    if not tried:
        return ""
    return "; its requests did not count: " + id_list([not_counted(t) for t in tried])


def coarse_witnesses(facts: Facts, exp: Expectation, shorts: Sequence[Short]) -> list[Witness]:
    """Each shortfall per record or per run, with the writes this run made of that request:
    one pass over the writes and one over the events for all of them (a pass each made judging
    a run losing thousands of records quadratic)."""
    resource_of = exp.routes.resource_of
    wanted: dict[tuple[Request, str | None], list[list[Effect]]] = {}
    made: list[list[Effect]] = []
    for s in shorts:
        assert s.request is not None
        subject = None if s.level is Level.RUN else s.subject
        made.append([])
        wanted.setdefault((same_resource(s.request), subject), []).append(made[-1])
    resources = {resource for resource, _ in wanted}
    for w in facts.writes_in_order:
        resource = resource_of(w)[1]
        if resource not in resources:
            continue
        key = _key(facts, w)
        for subject in (None, key) if key is not None else (None,):
            for found in wanted.get((resource, subject), ()):
                found.append(w)
    subjects = {s.subject for s in shorts if s.level is not Level.RUN}
    events: dict[str, list[str]] = {key: [] for key in subjects}
    for key, eid in event_rows(facts.history.events, "key", "id") if subjects else ():
        if key in events:
            events[key].append(eid)
    newest = newest_sent(facts, {s.subject for s in shorts if s.source == NEWEST})
    return [
        _coarse_witness(
            exp,
            s,
            writes,
            () if s.level is Level.RUN else tuple(events[s.subject]),
            newest.get(s.subject),
        )
        for s, writes in zip(shorts, made, strict=True)
    ]


def _coarse_witness(
    exp: Expectation,
    s: Short,
    made: Sequence[Effect],
    events: tuple[str, ...],
    newest: tuple[str, float] | None = None,
) -> Witness:
    """A shortfall per record or per run: ``made``, the writes this run made of its request
    (for its record); ``events``, the record's; ``newest``, a register record's newest
    accepted event and its first send, where its writes all came before (``Short.source``)."""
    assert s.request is not None
    request = s.request.text(exp.several)
    ids = id_list([w.id for w in made]) if made else "none"
    if s.level is Level.RUN and s.source == "clean":
        line = (
            f"the clean run made {s.need:,} {request} for its {plural(s.events, 'event')}; this "
            f"run made {s.made:,} for the same {plural(s.events, 'event')}, all accepted "
            f"({ids})"
        )
    elif s.level is Level.RUN:
        line = (
            f"{plural(s.events, 'accepted event')} expect {s.need:,} {request} in all; this "
            f"run made {s.made:,} ({ids}) — compared per run, as some name no event or record"
        )
    elif s.source == "clean":
        line = (
            f"record {s.subject}: the clean run made {s.need:,} {request} for its "
            f"{plural(s.events, 'event')}; this run made {s.made:,} ({ids}), all of them accepted"
        )
    elif s.source == NEWEST and newest is not None:
        line = (
            f"record {s.subject}: its newest accepted event {newest[0]} was first sent "
            f"{newest[1]:.2f} s into the run; every {request} the record got ({ids}) came "
            "before it, none after: none can be that event's, and the record was left on an "
            "older event's state"
        )
    elif s.source == "type":
        line = (
            f"record {s.subject}: the clean run had no record like it (no twin of its "
            f"{plural(s.events, 'event')}), and every record of it got {request}; this run made "
            f"none for it, its events accepted"
        )
    elif s.source == "first":
        line = (
            f"record {s.subject}: its clean twin got no write, as no record of its type did in "
            f"the clean run but its first event's, which got {request}; this run made none for "
            f"it, its {plural(s.events, 'event')} accepted"
        )
    elif s.source == "hushed":
        line = (
            f"record {s.subject}: its clean twin got no write, though records like it got "
            f"{request} here (the clean run lost them too: its silence is not taken as design), "
            f"and every record the clean run wrote got it; this run made none for it, its "
            f"{plural(s.events, 'event')} accepted"
        )
    else:
        line = (
            f"record {s.subject}: its {plural(s.events, 'accepted event')} expect {s.need:,} "
            f"{request}; this run made {s.made:,} for it ({ids}) — compared per record, as some "
            "name no event"
        )
    return Witness(line, events, (), tuple(w.id for w in made))


def _key(facts: Facts, w: Effect) -> str | None:
    if w.key is not None:
        return w.key
    for eid in w.event_ids:
        e = facts.events_by_id.get(eid)
        if e is not None:
            return e.key
    return None
