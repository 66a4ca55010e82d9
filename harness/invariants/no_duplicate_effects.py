"""no_duplicate_effects: no event changes a downstream twice with the same request.

A repeat is a second write of one event to the same downstream, method and path. It is
harmless where a real API makes it so (``_idempotent``): the same PUT/DELETE, merge PATCH
(``application/merge-patch+json``) or write to a route declared ``merges:``, with the same
body, or the same ``Idempotency-Key`` as an earlier effect of that event — but where its
downstream declares the route's API ignores the key (``idempotency_key:``); where it declares
nothing, the verdict says which repeats only the key excused, and on which routes. A JSON object
PATCHed as ``application/json``, or a GraphQL mutation (``POST /graphql``, whatever it does),
to a route declared neither ``merges:`` nor ``appends:`` may be either: repeated
identically, it makes the verdict inconclusive, naming the route to declare. Any other repeat
is a duplicate. A write of another body to a path the event wrote before is no repeat while
the event wrote the path no more often than its clean twin (or ``expect:``) wrote the request:
an invoice's lines, each POSTed to ``/invoices/{id}/lines``.

Writes naming no event cannot show one; where those a repeat would harm outnumber what the
clean run made of their request for the same accepted events — per record where each names its
record, else in the whole run — a pass would claim what the run could not see: the verdict is
inconclusive (``_unattributed``) — but for creations answered 201, more per record than the clean
twin's for the same events, which fail (``_creations``). Without a clean run they are only
noted, as before, unless no write names an event at all.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import not_

from ..core._model import Effect, Event, FailureClass, Status, Verdict
from ._batch_resent import resent_batches, resent_text
from ._bounded_dedup import apart_text, copies_apart
from ._creations import created_more, created_more_by_events, created_text
from ._expected import Own, expectation_of, none_owed, owed_writes
from ._facts import (
    MAX_IDS,
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    correlation_advice,
    id_list,
    is_write,
    plural,
    produced,
    route_of,
    route_text,
    unattributed_note,
    verdict,
)
from ._fresh_keys import fresh_key_text, fresh_keyed
from ._idempotent import (
    IDEMPOTENCY_KEY,
    KeyRule,
    Kind,
    Repeats,
    key_replays,
    mutation_fields,
    object_patch,
)
from ._not_deduplicated import not_deduplicated, not_deduplicated_text
from ._nothing_committed import nothing_committed
from ._open_calls import Open, made_while_open, open_text
from ._partial_retried import partial_text, partial_then_retried
from ._pending_copies import pending_copies, pending_text
from ._plain_repeats import plain_repeats
from ._raced_copies import raced_copies, raced_text
from ._rerun import example, rerun, rerun_text
from ._sender import sender_of
from ._taken_repeats import Taken, taken_text, taken_then_failed
from ._timed_out_copies import made_for_retries, retries_text
from ._timing import repeats_compressed
from ._unattributed import (
    Counted,
    Unattributed,
    repeat_text,
    tampered_only_records,
    unattributed_writes,
)
from ._unmet_faults import ambiguous_unmet, unmet_text, unmet_windows
from ._unshared_dedup import (
    copies_skipped,
    unshared,
    unshared_text,
    written_after_late_copy,
)
from ._within import repeated_within, within_text, within_witnesses

NAME = "no_duplicate_effects"
CLASS = FailureClass.SILENT
# Where declaring a route's merges: or appends: is explained.
REPEATS_DOC = "docs/invariants.md"


class Repeat(enum.Enum):
    """What a repeated write is: harmless (and why) or a duplicate effect."""

    IDEMPOTENT = "idempotent"
    SAME_KEY = "same Idempotency-Key"
    DUPLICATE = "duplicate"
    # An identical JSON object PATCHed as application/json, or GraphQL mutation: its API
    # merges or appends it.
    UNDECLARED = "undeclared"


def classify(
    writes: Sequence[Effect], repeats: Repeats, own: Own = none_owed
) -> list[tuple[Effect, Repeat]]:
    """The repeats among one event's writes (in time order), each with its kind.

    A write to a path the event wrote before with another body is the event's own next write,
    not a repeat, while the event has written that path no more often than ``own`` says its
    clean twin wrote the request (an invoice's lines, each POSTed to ``/invoices/{id}/lines``).

    Linear in the number of writes, however many: a runaway target may write one event
    thousands of times, and that history must still be judged in seconds.
    """
    out = []
    bodies_by_request: dict[tuple[str, str, str], set[str]] = {}
    written: Counter[tuple[str, str, str]] = Counter()
    first_with_key: dict[str | None, int] | None = None  # read only when a repeat has a key
    for i, w in enumerate(writes):
        method = w.method.upper()
        request = (w.downstream, method, w.path)
        written[request] += 1
        bodies = bodies_by_request.get(request)
        if bodies is None:
            bodies_by_request[request] = {w.body}
            continue
        if w.body not in bodies and written[request] <= own(w):
            bodies.add(w.body)
            continue
        does = repeats.kind(w, method) if w.body in bodies else Kind.HARMFUL
        if does is Kind.HARMLESS:
            kind = Repeat.IDEMPOTENT
        else:
            key = repeats.key(w)
            if key is not None and first_with_key is None:
                first_with_key = _first_with_key(writes)
            keyed = key is not None and first_with_key is not None and first_with_key[key] < i
            unsure = Repeat.UNDECLARED if does is Kind.UNDECLARED else Repeat.DUPLICATE
            kind = Repeat.SAME_KEY if keyed else unsure
        out.append((w, kind))
        bodies.add(w.body)
    return out


def _first_with_key(writes: Sequence[Effect]) -> dict[str | None, int]:
    """Idempotency-Key value -> position of the first write carrying it."""
    first: dict[str | None, int] = {}
    for i, w in enumerate(writes):
        first.setdefault(w.header(IDEMPOTENCY_KEY), i)
    return first


@dataclass(frozen=True, slots=True)
class _Tally:
    """Repeats over a set of events, by kind."""

    duplicates: Counter[str]  # by method
    idempotent: Counter[str]  # by method
    same_key: int
    # Of those, the repeats excused by a key on routes no idempotency_key: declares, by
    # (downstream, route).
    assumed: Counter[tuple[str, str]]
    harmful: list[str]  # event ids with a duplicate, by time of their second write
    harmless: list[str]  # event ids with only harmless repeats, by time of their second write
    # Event ids with an undeclared PATCH repeated (and no duplicate), and those PATCHes.
    undeclared: list[str]
    patches: list[Effect]


def _tally(
    facts: Facts, event_ids: Iterable[str], repeats: Repeats, plain: Iterable[bool]
) -> _Tally:
    """Classify the repeats of the events given (each with a second write), in one pass;
    locals only: it runs per event. ``plain``: for each, whether its second write is a plain
    repeat of its first (``_plain_repeats``), told without an Effect.

    An event written twice (each of its two deliveries applied) is classified here as
    ``classify`` would, without its call and containers: 0.4 of the time per event; one
    written twice by a plain repeat, with no step of its own (a failing run's 500,000).
    """
    first, second, later = facts.first_write, facts.second_write, facts.later_writes
    duplicates: Counter[str] = Counter()  # by method
    idempotent: Counter[str] = Counter()
    same_key = 0
    keyed: list[Effect] = []  # the repeats a key excused
    declares = repeats.declares_keys
    harmful: list[str] = []
    harmless: list[str] = []
    undeclared: list[str] = []
    patches: list[Effect] = []
    duplicate, is_idempotent, unsure = Repeat.DUPLICATE, Repeat.IDEMPOTENT, Repeat.UNDECLARED
    # Read once: a member read from its enum costs 150 ns, three a repeat.
    harmful_kind, harmless_kind, undeclared_kind = Kind.HARMFUL, Kind.HARMLESS, Kind.UNDECLARED
    ids = list(event_ids)
    # A plain repeat written no third time: a duplicate POST, what the lines below find for
    # it, told at once; the others looked at one by one, in order.
    quick = (
        list(plain)
        if not later
        else [p and eid not in later for eid, p in zip(ids, plain, strict=True)]
    )
    first_quick = quick.index(True) if True in quick else len(ids)
    for i in compress(range(len(ids)), map(not_, quick)):
        if i > first_quick and "POST" not in duplicates:  # counted where first met, as before
            duplicates["POST"] += 0
        eid = ids[i]
        more = later.get(eid) if later else None
        w = second[eid]
        if more is None:
            earlier = first[eid]
            method = w.method.upper()
            if (
                w.path != earlier.path
                or w.downstream != earlier.downstream
                or method != earlier.method.upper()
            ):
                continue  # two requests, neither a repeat
            if w.body != earlier.body and owed_writes(facts, eid)(w) >= 2:
                continue  # the event's two writes of the request, as its clean twin's
            does = repeats.kind(w, method) if w.body == earlier.body else harmful_kind
            if does is harmless_kind:
                idempotent[method] += 1
                harmless.append(eid)
            elif (
                (key := w.header(IDEMPOTENCY_KEY)) is not None
                and key == earlier.header(IDEMPOTENCY_KEY)
                and not (declares and repeats.key_rule(w) is KeyRule.IGNORED)
            ):
                same_key += 1
                keyed.append(w)
                harmless.append(eid)
            elif does is undeclared_kind:
                undeclared.append(eid)
                patches.append(w)
            else:
                duplicates[method] += 1
                harmful.append(eid)
            continue
        found = classify([first[eid], w, *more], repeats, owed_writes(facts, eid))
        if not found:
            continue
        bad = doubt = False
        for w, kind in found:
            if kind is duplicate:
                duplicates[w.method.upper()] += 1
                bad = True
            elif kind is is_idempotent:
                idempotent[w.method.upper()] += 1
            elif kind is unsure:
                patches.append(w)
                doubt = True
            else:
                same_key += 1
                keyed.append(w)
        (harmful if bad else undeclared if doubt else harmless).append(eid)
    if first_quick < len(ids):
        duplicates["POST"] += sum(quick)
        told = set(harmful)
        harmful = (
            [eid for eid, q in zip(ids, quick, strict=True) if q or eid in told]
            if told
            else list(compress(ids, quick))
        )
    # Counted by route at the end: a route per repeat would cost a regular expression each.
    assumed: Counter[tuple[str, str]] = Counter()
    at = Counter(
        (w.downstream, w.method, w.path)
        for w in keyed
        if not declares or repeats.key_rule(w) is KeyRule.UNDECLARED
    )
    for (downstream, method, path), n in at.items():
        assumed[(downstream, route_text(method, path))] += n
    return _Tally(duplicates, idempotent, same_key, assumed, harmful, harmless, undeclared, patches)


def no_duplicate_effects(facts: Facts) -> Verdict:
    """Fail on any repeated write that no real API would make harmless."""
    gap = attribution_gap(facts, NAME, CLASS)
    if gap is not None and not facts.record_only:
        return gap
    # A committed write named an event (nearly every run): no effect read again for this.
    unseen = "" if facts.attributed_writes else nothing_committed(facts)
    if unseen:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, unseen)
    repeats = Repeats(facts.history.info.settings)
    second = facts.second_write
    plain = plain_repeats(facts.effects_in_order, facts.first_write, second, repeats)
    tally = _tally(facts, second, repeats, plain)
    harmless = _harmless_text(tally)
    replays = _assumed_replays(facts, repeats)
    keys = _key_note(tally, replays)
    note = keys + unattributed_note(facts)
    events = len(facts.history.events)
    within = repeated_within(facts, repeats)
    if tally.harmful or within:
        # The tally's events are each once (those of its second writes).
        harmful = (
            len(dict.fromkeys([*tally.harmful, *(f.event.id for f in within)]))
            if within
            else len(tally.harmful)
        )
        summary = f"{harmful:,} of {plural(events, 'event')} produced duplicate effects"
        opened: dict[str, Open] = {}
        taken: dict[str, Taken] = {}
        fresh: list[str] = []
        if tally.harmful:
            summary += _repeated_text(facts, tally)
            # A plain repeat's second write carried no key: not one of these, told unread.
            unplain = set(compress(second, map(not_, plain)))
            keyed = [e for e in tally.harmful if e in unplain] if unplain else []
            fresh = fresh_keyed(keyed, facts.writes_of)
            summary += fresh_key_text(fresh, len(tally.harmful))
            opened = made_while_open(facts, tally.harmful)
            summary += open_text(list(opened.values()), len(tally.harmful))
            taken = taken_then_failed(facts, [e for e in tally.harmful if e not in opened])
            summary += taken_text(facts, taken, len(tally.harmful))
            told = opened.keys() | taken.keys()
            partial = partial_then_retried(facts, [e for e in tally.harmful if e not in told])
            summary += partial_text(list(partial.values()), len(tally.harmful))
            told |= partial.keys()
            retried = made_for_retries(facts, [e for e in tally.harmful if e not in told])
            summary += retries_text(
                list(retried.values()), len(tally.harmful), facts.history.info.settings
            )
            told |= retried.keys()
            resent = resent_batches(facts, [e for e in tally.harmful if e not in told])
            title = sender_of(facts.history.info.settings).title
            summary += resent_text(list(resent.values()), len(tally.harmful), title)
            told |= resent.keys()
            # A key made per call explains a repeat already (``fresh_key_text``).
            again = rerun(facts, [e for e in tally.harmful if e not in told and e not in fresh])
            first = example(facts, again[0]) if again else None
            summary += rerun_text(again, len(tally.harmful), first)
            told |= set(again)
            # An event whose item a bulk call carried twice skipped no copy: it was written
            # once per call only (gallery bulk_writer under duplicate-storm).
            skipped_ids = copies_skipped(facts, {f.event.id for f in within})
            skipped = len(skipped_ids)
            # Only what no cause above told: a write redone after an ambiguous 502 is that
            # retry's, not a dedup record that missed a copy (gallery background_queue).
            late = unshared(facts, [e for e in tally.harmful if e not in told], skipped_ids)
            summary += unshared_text(late, len(tally.harmful))
            told |= set(late.late) if late else set()
            alone = not_deduplicated(facts, [e for e in tally.harmful if e not in told], skipped)
            summary += not_deduplicated_text(alone, len(tally.harmful))
            # The events no cause told were read for a late copy already (``not_deduplicated``).
            others = [e for e in tally.harmful if e in told]
            told |= set(alone)
            together = raced_copies(facts, [e for e in tally.harmful if e not in told])
            # No copy skipped: only an event written again by a copy sent after its first
            # was done shows no deduplication; racing copies alone cannot tell it.
            redone = bool(skipped or alone) or bool(
                together and written_after_late_copy(facts, others)
            )
            if together:
                summary += raced_text(
                    list(together.values()), len(tally.harmful), skipped, redone, bool(alone)
                )
            told |= together.keys()
            # Copies taken one after the other while the first's work was pending (a flow
            # retrying its refused calls): neither a race nor a copy after the write.
            pending = pending_copies(facts, [e for e in tally.harmful if e not in told])
            said = bool(alone) or (bool(together) and redone)
            summary += pending_text(list(pending.values()), len(tally.harmful), skipped, said)
        if within:
            summary += f"; {within_text(within)}"
        return verdict(
            NAME,
            Status.FAIL,
            CLASS,
            summary + (f"; {harmless}" if harmless else "") + _undeclared_note(tally) + note,
            [
                *_witnesses(facts, tally.harmful, repeats, opened, frozenset(fresh), taken),
                *within_witnesses(facts, within, MAX_WITNESSES - len(tally.harmful)),
            ],
        )
    # Every effect names its record only (but those taken as its single event's: ``_facts``):
    # counted per record, or nothing.
    if gap is not None and not facts.attributed_writes:
        seen = "no write names an event, and none naming its record is one a repeat would harm"
        if _harmful_record_only(facts, repeats):
            seen = "no write names an event"
    elif tally.harmless:
        seen = f"no harmful duplicate effects: {harmless}"
    else:
        seen = (
            f"no event produced a repeated effect ({plural(facts.attributed_writes, 'effect')} "
            f"over {plural(len(facts.first_write), 'event')})"
        )
    found = unattributed_writes(facts)  # None without a clean run: then only noted
    created = created_more(facts, found) if found is not None else []
    if found is not None and created:
        several = len({c.request.downstream for c in found.requests}) > 1
        return verdict(
            NAME,
            Status.FAIL,
            CLASS,
            created_text(created, found.clean_run, several) + note,
            _unseen_witnesses(created, several),
        )
    # Each event's creations once, but a record's more than its clean twin's (``_creations``).
    raced, undecided = created_more_by_events(facts) if not tally.undeclared else ([], [])
    if raced:
        several = len({c.request.downstream for c in raced}) > 1
        clean_run = str(expectation_of(facts).clean_run)
        return verdict(
            NAME,
            Status.FAIL,
            CLASS,
            created_text(raced, clean_run, several, named=True) + note,
            _unseen_witnesses(raced, several, named=True),
        )
    if tally.undeclared:
        return _undeclared(facts, tally, repeats, found, note)
    if found is not None and found.over:
        return _unseen(facts, found, seen + keys)
    if undecided:
        return _undecided(facts, undecided, seen + note)
    if gap is not None and found is None and _harmful_record_only(facts, repeats):
        return gap  # nothing compared them: without a clean run, nothing says what is owed
    if found is not None and any(c.record is not None for c in found.requests):
        seen += f"; {_per_record_text(found)}"
    compressed = repeats_compressed(facts.history)
    apart = copies_apart(facts)
    if apart is not None:
        seen += f"; {apart_text(apart, advised=bool(compressed))}"
    if compressed:
        seen += f"; {compressed}"
    witnesses = [*_witnesses(facts, tally.harmless, repeats), *_replay_witnesses(replays)]
    unmet = unmet_windows(facts)
    if unmet and ambiguous_unmet(unmet):
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"not judged: {unmet_text(unmet)}, so no write was applied and answered as failed "
            "— what the automation does with one (makes it again, without its key: a second "
            "effect) was never put to the test; make the window longer (the fault's `for:`) "
            "or the time scale larger, so that the automation calls it while it is open "
            f"(what it saw: {seen}{note})",
            witnesses,
        )
    if unmet:
        note += f"; {unmet_text(unmet)}, so the run shows nothing of what the automation does then"
    return verdict(NAME, Status.PASS, CLASS, seen + note, witnesses)


def _undecided(facts: Facts, undecided: Sequence[Counted], seen: str) -> Verdict:
    """Inconclusive: records that created more than their clean twin, whose other events made
    no call there nor here (``_creations._alive_twins``)."""
    several = len({c.request.downstream for c in undecided}) > 1
    first = max(undecided, key=lambda c: c.here - c.clean)
    summary = (
        f"not judged: {plural(len(undecided), 'record')} got more "
        f"{first.request.text(several)} than their clean twin (record {first.record}: "
        f"{first.here:,} where its clean twin made {first.clean:,}), each naming its own "
        "event, and the twin's other events made no call at all, nor did the record's here: "
        "the clean run lost those events (a worker killed mid-work — no_lost_events says what "
        "the clean run lost) or found the resource made without a call (a look-up in the "
        "automation's own memory), which the journal cannot tell apart; an Idempotency-Key or "
        f"a look-up the double sees would; of the rest, {seen}"
    )
    return verdict(
        NAME, Status.INCONCLUSIVE, CLASS, summary, _unseen_witnesses(undecided, several, named=True)
    )


def _harmful_record_only(facts: Facts, repeats: Repeats) -> bool:
    """Is a write naming only its record one a repeat would harm, of a record the sender's
    events reached (a record sent only tampered deliveries got an attacker's requests)?"""
    attacked = tampered_only_records(facts)
    return any(
        is_write(e) and e.key not in attacked and repeats.may_harm(e) for e in facts.record_only
    )


def _per_record_text(found: Unattributed) -> str:
    """``PATCH /members/{id} naming no event compared per record (30 records) with the clean
    run …``."""
    counted = [c for c in found.requests if c.record is not None]
    requests = sorted({c.request.text() for c in counted})
    return (
        f"{', '.join(requests)} naming no event compared per record "
        f"({plural(len(counted), 'record')}) with the clean run {found.clean_run}: each no more "
        "than it made for the record's accepted events"
    )


def _patch_kind(patches: Sequence[Effect], *, short: bool = False) -> str:
    """``JSON object PATCH sent as application/json`` or ``form PATCH
    (application/x-www-form-urlencoded)`` (``short``: without what it was sent as): what the
    repeated PATCHes were, the first's kind."""
    if object_patch(patches[0]) == "form":
        return "form PATCH" + ("" if short else " (application/x-www-form-urlencoded)")
    return "JSON object PATCH" + ("" if short else " sent as application/json")


def _undeclared(
    facts: Facts, tally: _Tally, repeats: Repeats, found: Unattributed | None, note: str
) -> Verdict:
    """Inconclusive: identical JSON object PATCHes or GraphQL mutations repeated, to routes
    declared neither ``merges:`` nor ``appends:`` — a merge is harmless, an append a duplicate.
    ``found``: the writes naming no event, noted where they outnumber what the clean run made
    (or repeat a body more often, per record)."""
    routes: dict[tuple[str, str], int] = {}
    for w in tally.patches:
        key = (w.downstream, _declarable(w))
        routes[key] = routes.get(key, 0) + 1
    (downstream, route), _ = max(routes.items(), key=lambda item: item[1])
    shown = "; ".join(f"{r} ({d}): {k:,}" for (d, r), k in routes.items())
    if route.startswith("POST "):
        field = route.rpartition(" ")[2]
        summary = (
            f"not judged: {plural(len(tally.undeclared), 'event')} repeated an identical "
            f"GraphQL mutation ({shown}): whether {field} upserts or sets (Shopify's "
            "customerSet: harmless to repeat) or creates or adds again (customerCreate: a "
            f"duplicate) is not in the request; declare it on downstream {downstream}: "
            f"`merges: ['{route}']` if a repeat changes nothing more, `appends: ['{route}']` "
            f"if it makes something again (see {REPEATS_DOC})"
        )
    else:
        summary = (
            f"not judged: {plural(len(tally.undeclared), 'event')} repeated an identical "
            f"{_patch_kind(tally.patches)} ({shown}): whether its API merges it "
            "(HubSpot's PATCH sets the properties it names: harmless) or appends it (Notion's "
            "PATCH /v1/blocks/{id}/children: a duplicate) is not in the request; declare the "
            f"route on downstream {downstream}: `merges: ['{route}']` if the API merges it, "
            f"`appends: ['{route}']` if it appends (see {REPEATS_DOC})"
        )
    harmless = _harmless_text(tally)
    summary += (f"; {harmless}" if harmless else "") + note
    if found is not None and found.over:
        over = sorted({c.request.text() for c in found.over})
        summary += (
            f"; and writes naming no event {_beyond(found)} what the clean run "
            f"{found.clean_run} made for the same accepted events ({', '.join(over)}): not "
            "judged either"
        )
    return verdict(
        NAME, Status.INCONCLUSIVE, CLASS, summary, _witnesses(facts, tally.undeclared, repeats)
    )


def _beyond(found: Unattributed) -> str:
    """How the writes naming no event go beyond the clean run's: by their count, or (per
    record, as many) by repeating a body more often."""
    if any(c.here > c.owed for c in found.over):
        return "outnumber"
    return "repeat a body more often, per record, than"


def _declarable(write: Effect) -> str:
    """The route to declare ``merges:`` or ``appends:`` for: a GraphQL mutation's with its
    first field (``POST /graphql customerSet``)."""
    route = route_of(write)
    fields = mutation_fields(write) if write.method.upper() == "POST" else ()
    return f"{route} {fields[0]}" if fields else route


def _undeclared_note(tally: _Tally) -> str:
    if not tally.undeclared:
        return ""
    return (
        f"; {plural(len(tally.undeclared), 'event')} more repeated an identical JSON object "
        "PATCH or GraphQL mutation to a route declared neither merges: nor appends: (not "
        "judged)"
    )


def _unseen(facts: Facts, found: Unattributed, seen: str) -> Verdict:
    """Inconclusive where writes naming no event may hide a repeat: more of a request than the
    clean run made for the same accepted events, per record or in the run. ``seen``: what the
    attributed effects show."""
    over = found.over
    several = len({c.request.downstream for c in found.requests}) > 1
    runs = [c for c in over if c.record is None]
    records = [c for c in over if c.record is not None and c.here > c.owed]
    alike = [c for c in over if c.record is not None and c.here <= c.owed]
    parts = [
        f"this run made {c.here:,} {c.request.text(several)}, {len(c.unattributed):,} of them "
        f"naming no event, where its clean run made {c.clean:,} ({found.clean_run}, "
        f"{c.accepted_text()})"
        for c in runs
    ]
    if records:
        worst = max(records, key=lambda c: c.here - c.owed)
        requests = sorted({c.request.text(several) for c in records})
        parts.append(
            f"{plural(len({c.record for c in records}), 'record')} got more "
            f"{', '.join(requests)} than the clean run {found.clean_run} made for the record's "
            f"accepted events (record {worst.record}: {worst.here:,}, where its clean twin "
            f"got {worst.clean:,}, {worst.accepted_text()}); those writes name their record, "
            "not their event" + _whole_run_text([c for c in records if c.whole_run], several)
        )
    if alike:
        worst = max(alike, key=lambda c: c.here - c.distinct)
        requests = sorted({c.request.text(several) for c in alike})
        text = repeat_text(
            worst.record,
            worst.request.text(several),
            worst.here,
            worst.distinct,
            worst.clean,
            worst.clean_distinct,
        )
        parts.append(
            f"{plural(len({c.record for c in alike}), 'record')} got no more "
            f"{', '.join(requests)} than the clean run {found.clean_run} made for the record's "
            f"accepted events, but repeated a body more often than the clean twin ({text}): "
            "one event's write may stand where another's is missing; those writes name their "
            "record, not their event"
        )
    why = (
        f"{'; '.join(parts)}: some event may have repeated one (a redelivery not deduplicated, "
        "a retry without an Idempotency-Key), but nothing shows which"
    )
    summary = (
        f"not judged: {why}, so a pass would claim what the run could not see; "
        f"{correlation_advice(facts, over[0].request.text())} (an Idempotency-Key carrying the "
        f"event id makes them attributable, and harmless to repeat); of the attributed effects, "
        f"{seen}"
    )
    return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, _unseen_witnesses(over, several))


def _whole_run_text(records: Sequence[Counted], several: bool) -> str:
    """``; PATCH /contacts/{id} is counted in the whole run, where …``: why records of a
    request whose count held in the whole run are compared to their twins all the same."""
    if not records:
        return ""
    requests = sorted({c.request.text(several) for c in records})
    return (
        f"; {', '.join(requests)} {'is' if len(requests) == 1 else 'are'} counted in the whole "
        "run, where a repeat in one record can stand for a loss in another, as some of its "
        "writes name no record or a record the clean run never saw: its count there held, and "
        "the records with a clean twin are compared to it"
    )


def _unseen_witnesses(
    counted: Sequence[Counted], several: bool, named: bool = False
) -> list[Witness]:
    """Per request, the paths it was written to most often, their effects naming no event
    (``named``: naming their events, ``_creations.created_more_by_events``)."""
    out = []
    for c in sorted(counted, key=lambda c: c.owed - c.here)[:MAX_WITNESSES]:
        by_path: dict[str, list[Effect]] = {}
        for e in c.unattributed:
            by_path.setdefault(e.path, []).append(e)
        ranked = sorted(by_path.items(), key=lambda item: -len(item[1]))
        for path, effects in ranked[: max(1, MAX_WITNESSES // len(counted))]:
            ids = [e.id for e in effects]
            where = f" ({c.request.downstream})" if several else ""
            whose = "" if c.record is None else f" of record {c.record}"
            clean = "" if c.record is None else f" (its clean twin: {c.clean:,})"
            if c.repeated and c.here <= c.owed:  # the bodies, not the count, say it
                clean = f" ({c.distinct:,} different, its clean twin: {c.clean:,}, "
                clean += f"{c.clean_distinct:,} different)"
            out.append(
                Witness(
                    f"{c.request.method} {path}{where} {id_list(ids)}: "
                    f"{plural(len(ids), 'write')}{whose}, "
                    f"{'each naming its event' if named else 'naming no event'}{clean}",
                    effect_ids=tuple(ids[:MAX_IDS]),
                )
            )
    return out


def _harmless_text(tally: _Tally, *, short: bool = False) -> str:
    """``3 repeated PUTs and 1 repeated DELETE, idempotent: harmless; 2 repeats with ...``;
    ``short`` (a witness's): whether a key excused them on a route declaring nothing."""
    idempotent, same_key = tally.idempotent, tally.same_key
    parts = []
    if idempotent:
        methods = " and ".join(
            plural(n, f"repeated {m}", f"repeated {m}{'es' if m.endswith('H') else 's'}")
            for m, n in sorted(idempotent.items())
        )
        parts.append(f"{methods}, idempotent: harmless")
    if same_key:
        text = f"{plural(same_key, 'repeat')} with the same Idempotency-Key: harmless"
        if short and tally.assumed:
            text += " if its API honours the key"
        parts.append(text)
    return "; ".join(parts)


def _assumed_replays(facts: Facts, repeats: Repeats) -> dict[tuple[str, str], list[str]]:
    """(downstream, route) -> the ids of the writes a stateful double answered with their
    key's first answer (changing nothing, so never a repeat here) where no
    ``idempotency_key:`` says the API honours the key."""
    replayed = key_replays(facts.history)
    found: dict[tuple[str, str], list[str]] = {}
    if replayed:
        for e in facts.history.effects:
            if e.id in replayed and repeats.key_rule(e) is KeyRule.UNDECLARED:
                found.setdefault((e.downstream, route_of(e)), []).append(e.id)
    return found


def _replay_witnesses(replays: dict[tuple[str, str], list[str]]) -> list[Witness]:
    """Per route, the writes the stateful double replayed for their key, assumed honoured."""
    return [
        Witness(
            f"{route} ({downstream}) {id_list(ids)}: {plural(len(ids), 'write')} answered by "
            "the stateful double with the first answer for the same Idempotency-Key, assumed "
            "honoured by its API",
            effect_ids=tuple(ids[:MAX_IDS]),
        )
        for (downstream, route), ids in sorted(replays.items(), key=lambda item: -len(item[1]))
    ]


def _repeated_text(facts: Facts, tally: _Tally) -> str:
    """``: 40 repeated requests (40 POST)``; where repeats are calls carrying several events
    (a batch, counted once for each), the calls counted once and what to declare if the API
    upserts their items."""
    counted = f": {plural(tally.duplicates.total(), 'repeated request')}"
    by_method = ", ".join(f"{n:,} {m}" for m, n in tally.duplicates.most_common())
    if not facts.several_events_writes:  # no batch in the run: each repeat is one event's
        return f"{counted} ({by_method})"
    second = facts.second_write
    calls = {id(second[eid]): second[eid] for eid in tally.harmful}
    several = [c for c in calls.values() if len(c.event_ids) > 1]
    if not several:
        return f"{counted} ({by_method})"
    routes = sorted({route_of(c) for c in several})
    declared = ", ".join(f"'{r}'" for r in routes)
    return (
        f"{counted}, one for each event a call carried ({by_method}): "
        f"{plural(len(calls), 'call')} made again, {len(several):,} of them carrying several "
        f"events ({', '.join(routes)}, a batch); if the API upserts a batch's items by a key "
        f"of theirs, repeating one changes nothing: declare `merges: [{declared}]` on its "
        f"downstream (see {REPEATS_DOC})"
    )


def _key_note(tally: _Tally, replay_ids: dict[tuple[str, str], list[str]]) -> str:
    """``; 3 repeats excused by their Idempotency-Key alone …``: where the verdict took a key
    as honoured because nothing said whether its API honours it."""
    replays = Counter({route: len(ids) for route, ids in replay_ids.items()})
    assumed = tally.assumed + replays
    if not assumed:
        return ""
    shown = ", ".join(f"{r} ({d}): {n:,}" for (d, r), n in assumed.most_common())
    downstreams = ", ".join(sorted({d for d, _ in assumed}))
    replayed = ""
    if replays:
        which = "all" if replays == assumed else f"{replays.total():,} of them"
        replayed = f" ({which} answered by the stateful double with the key's first answer, "
        replayed += "not applied)"
    return (
        f"; {plural(assumed.total(), 'repeat')} excused by the Idempotency-Key alone"
        f"{replayed}, assumed harmless: no idempotency_key: declared for {shown}, so its API "
        "was taken to honour the key (Stripe's does; Slack's chat.postMessage, mail APIs and "
        "most CRMs ignore it and make the repeat again); declare `idempotency_key: honoured` "
        f"or `ignored` on downstream {downstreams} (see {REPEATS_DOC})"
    )


def _witnesses(
    facts: Facts,
    event_ids: Sequence[str],
    repeats: Repeats,
    opened: Mapping[str, Open] | None = None,
    fresh: Collection[str] = (),
    taken: Mapping[str, Taken] | None = None,
) -> list[Witness]:
    """The first events seen repeating, with all their deliveries and writes, in stream order;
    ``opened``: those made again while their first call was held open (``_open_calls``);
    ``fresh``: those whose repeats each carried an Idempotency-Key of its own (``_fresh_keys``);
    ``taken``: those made again after the API had applied the write (``_taken_repeats``)."""
    events = facts.events_by_id
    shown = sorted((events[eid] for eid in event_ids[:MAX_WITNESSES]), key=_seq)
    deliveries = facts.deliveries_of([e.id for e in shown])
    out = []
    for event in shown:
        tally = _tally(facts, [event.id], repeats, [False])
        tail = ""
        if tally.undeclared:
            what = (
                f"GraphQL mutation {_declarable(tally.patches[0]).rpartition(' ')[2]}"
                if mutation_fields(tally.patches[0])
                else _patch_kind(tally.patches, short=True)
            )
            tail = f" (an identical {what} repeated: its API merges or appends it)"
        elif not tally.harmful:
            tail = f" ({_harmless_text(tally, short=True)})"
        elif opened and event.id in opened:
            tail = f" ({opened[event.id].text()}: made while the first call was still open)"
        elif taken and event.id in taken:
            tail = f" ({taken[event.id].text()})"
        if event.id in fresh:
            own = "each write with an Idempotency-Key of its own"
            tail = f"{tail[:-1]}; {own})" if tail else f" ({own})"
        out.append(produced(event, deliveries[event.id], facts.writes_of(event.id), tail))
    return out


def _seq(event: Event) -> int:
    return event.seq
