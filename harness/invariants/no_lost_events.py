"""no_lost_events: every event the target accepted has its expected effects (silent loss otherwise).

An event's expected effects are learned from the clean run or declared (``_expected``); an
accepted event that lacks any of them lost work, even when it made the others (the contact
written, the deal not). Types the clean run ignored, or declared ``none``, are not owed
anything. Without a clean run or a declaration, any effect of the event counts (the old rule),
and the summary says so. An event short of a creation that wrote an item of its collection
with an id its run's double had not issued (an earlier run's: ``_foreign_ids``) is not called
lost; what a loss settling gave up on says of settling depends on the run's pace
(``_after_answers``). Events the target answered "come back later" (503, 429) that the run
never redelivered are not seen (``_deferred``).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from itertools import compress, count

from ..core._model import Effect, Event, FailureClass, Model, Status, Verdict
from ..history import delivery_column, event_column, event_rows
from ._after_answers import pace_of, settle_note
from ._batch_kept import Kept
from ._behind_late import behind_late, behind_text
from ._deferred import deferred, mark_deferred, refused_for_now
from ._derived import per_record_advice
from ._elsewhere import OtherRecordsWrite, elsewhere_text, written_elsewhere
from ._expected import Expectation, expectation_of
from ._explain import (
    coarse_witnesses,
    created_line,
    created_text,
    event_witnesses,
    expectation_notes,
    judged_text,
    lost_text,
    newest_clocked_line,
    newest_clocked_text,
    newest_unseen_line,
    newest_unseen_text,
    newest_unwritten_line,
    newest_unwritten_text,
    partly_line,
    partly_text,
    replaced_line,
    replaced_text,
    rule_text,
)
from ._facts import (
    MAX_IDS,
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    correlation_advice,
    deliveries_text,
    event_ref,
    every,
    id_list,
    not_counted,
    plural,
    timestamp,
    unattributed_note,
    verdict,
    whom,
)
from ._first_only import first_only_text, first_records_text
from ._foreign_ids import ForeignWrite, foreign_record_writes, foreign_text, foreign_writes
from ._marked_first import marked_first, marked_first_text
from ._newer_first import NewerFirst, assumed, newer_first, newer_first_text, skipped_unsaid
from ._newest import clock_margin, timed_shortfalls
from ._order import time_path
from ._refused import refusals
from ._refused_whole import refused_whole_text
from ._restarts import restart_loss
from ._rotated import rotation_loss
from ._shortfalls import Cancelled, Shortfalls
from ._unattributed import Repeated, repeated_records
from ._unfinished import Unfinished, unfinished
from ._untold_latest import Untold, untold_latest, untold_text

NAME = "no_lost_events"
CLASS = FailureClass.SILENT
# Events lost under a declared ledger looked at for updates skipped for a newer state, at most.
_NOTED = 1_000


def _seq(event: Event) -> int:
    return event.seq


def no_lost_events(facts: Facts) -> Verdict:
    """Ledger: each accepted event has its expected effects. Register: each record's latest
    accepted event has them. Events the target refused and the run never redelivered are lost
    where the sender never brings them back, else not seen: said, and a pass inconclusive
    (``_deferred``)."""
    if not facts.accepted:
        return _untested(facts)
    refused = deferred(facts)
    return mark_deferred(refused, facts, _judged(facts, len(refused.events) if refused else 0))


def _untested(facts: Facts) -> Verdict:
    """Inconclusive: the target accepted no event, so nothing was judged — not even the
    refused ones lost where their sender never brings them back (``_deferred``): a target
    that refuses every event (a payload it cannot read, a wrong secret, a crash) shows
    nothing of what it does with one, and ``no_server_errors`` and ``accepts_genuine`` judge
    the answers."""
    found = refusals(facts.history)
    why = (
        f": {found.text()} (likely cause: {found.short}) — find why (`harness inspect` shows "
        "each answer) and run again"
        if found is not None and found.nothing_accepted
        else ""
    )
    return verdict(
        NAME,
        Status.INCONCLUSIVE,
        CLASS,
        f"the target accepted no event; nothing to judge{why}{_never_note(facts)}",
    )


def _judged(facts: Facts, deferred_events: int = 0) -> Verdict:
    """The verdict over the accepted events; ``deferred_events``: the never accepted ones
    ``_deferred`` says (lost, or not seen), left out of the note on those not counted."""
    events = facts.history.events
    never_note = _never_note(facts, deferred_events)
    exp = expectation_of(facts)
    if exp.only_any:
        return _any_effect(facts, exp, never_note)
    found = timed_shortfalls(facts)
    # Effects naming their record are compared per record: a gap only when none names one.
    gap = None if facts.record_only else attribution_gap(facts, NAME, CLASS)
    coarse = found.records or found.run
    # A shortfall per record or per run is a loss whatever the attribution; per event, only
    # when some effect could be attributed at all.
    if gap is not None and not coarse:
        return gap
    shown = {} if gap is not None else found.events
    # A register the hazard assumed: its superseded events that wrote nothing are not "not
    # loss" unsaid (``_newer_first``).
    bare = _superseded_bare(facts, exp, found) if not shown and not coarse else ""

    def notes(exp: Expectation) -> str:
        return (
            expectation_notes(exp, replace(found, superseded=0) if bare else found, events)
            + (f"; {first_only_text(len(exp.first_only))}" if exp.first_only else "")
            + (f"; {first_records_text(len(exp.first_records))}" if exp.first_records else "")
            + never_note
            + unattributed_note(facts)
            + f" ({rule_text(exp, events)})"
        )

    note = notes(exp)
    if not shown and not coarse:
        if found.created or found.partly or found.replaced or found.newest_unseen:
            return _not_known(facts, exp, found, note)
        if found.newest_clocked or found.newest_unwritten:
            return _not_known(facts, exp, found, note)
        if found.cancelled:
            return _cancelled(facts, exp, found.cancelled, _passed(exp, found) + note)
        hidden = repeated_records(facts)
        if hidden:
            return _hidden(facts, hidden, _passed(exp, found) + note)
        tied = [e for e in found.judged if e.id in exp.tied and e.id not in facts.first_write]
        if tied:
            others = plural(len(found.judged) - len(tied), "record")
            seen = f"the other {others} got the expected effects of their latest accepted event"
            return _tied(facts, exp, tied, seen + note)
        if bare:
            return verdict(
                NAME, Status.INCONCLUSIVE, CLASS, f"{_passed(exp, found)}, but {bare}{note}"
            )
        return verdict(NAME, Status.PASS, CLASS, _passed(exp, found) + note)
    undone = unfinished(facts.history)
    # Written in its own flight on another record's item: said first (``_elsewhere``).
    elsewhere = written_elsewhere(facts, exp, shown)
    if exp.held & elsewhere.keys():  # wrote on another record's item: not held at the end
        away = elsewhere.keys()
        note = notes(replace(exp, held=exp.held - away, held_batched=exp.held_batched - away))
    late = _doubted(facts, undone, exp, shown) - elsewhere.keys()
    foreign = foreign_writes(
        facts, exp, {i: s for i, s in shown.items() if i not in late and i not in elsewhere}
    )
    # Skipped as older than their record's state (``_newer_first``): set aside only where the
    # hazard assumed the ledger; a declared one loses them, and is told why.
    origin = assumed(facts)
    rest = {
        i: s for i, s in shown.items() if i not in late and i not in elsewhere and i not in foreign
    }
    # Declared, only a note's example: looked for where a run loses few (a million-event
    # history losing many pays no scan for it).
    newer = newer_first(facts, exp, rest) if origin is not None or len(rest) <= _NOTED else {}
    skipped = newer if origin is not None else {}
    # A register's latest event passed over for an older one nothing told apart from it.
    untold = untold_latest(facts, rest) if exp.model is Model.REGISTER else {}
    aside: dict[str, ForeignWrite | OtherRecordsWrite | NewerFirst | Untold] = {
        **foreign,
        **elsewhere,
        **skipped,
        **untold,
    }
    # A record a late effect names may have its shortfall on the way; a run-wide one, only
    # when the run was cut (below).
    lost_records = [s for s in found.records if s.subject not in undone.late_keys]
    # A record or the run short where the user stopped the run before it had waited for some
    # of their events (``_stopped``): not proven lost either.
    stopped = _stopped_keys(facts, undone) if lost_records else frozenset()
    lost_records = [s for s in lost_records if s.subject not in stopped]
    stop = undone.stop
    run_short = [] if found.run and stop is not None and stop.left_unseen() else found.run
    # A record whose creations went to an earlier run's items (``_foreign_ids``), as an event's.
    foreign_records = foreign_record_writes(facts, exp, lost_records)
    lost_records = [s for s in lost_records if s.subject not in foreign_records]
    doubted = len(late) + len(aside)
    if undone.cut or (doubted == len(shown) and not lost_records and not run_short):
        # Nothing proven lost: the run stopped watching before the target was done.
        heads = [f"{len(shown):,} of {judged_text(found)} lack expected effects"] if shown else []
        if coarse:
            heads.append(f"{plural(len(coarse), 'request')} per record or per run fall short")
        head = ", and ".join(heads)
        shorts = heapq.nsmallest(MAX_WITNESSES, [facts.events_by_id[i] for i in shown], key=_seq)
        other_coarse = len(coarse) - len(foreign_records)
        if foreign_records and not undone.cut and not aside and not late and not other_coarse:
            why = foreign_text(foreign_records, "they")
        elif undone.cut or not aside:
            why = _why(undone, exp, shown, len(shown) or len(coarse))
        else:
            n = len(late) + len(coarse)
            why = f"{_why(undone, exp, late, n)}; and " if n else ""
            why += _aside_text(facts, foreign, elsewhere, skipped, untold, origin, bool(n))
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"{head}, but {why}{note}",
            _aside_lines(event_witnesses(facts, exp, shorts, shown), aside)
            + _foreign_record_lines(facts, exp, found, foreign_records),
        )
    lost_ids = {eid: s for eid, s in shown.items() if eid not in late and eid not in aside}
    # The coarse shortfalls first: each sums many events, and witnesses are capped (each
    # reads every write: one per lost record made judging quadratic in a run's size).
    coarse_shorts = [*run_short, *lost_records][:MAX_WITNESSES]
    witnesses = coarse_witnesses(facts, exp, coarse_shorts)
    lost = heapq.nsmallest(MAX_WITNESSES, [facts.events_by_id[i] for i in lost_ids], key=_seq)
    per_event = event_witnesses(facts, exp, lost, lost_ids)
    if aside and len(per_event) < MAX_WITNESSES:
        room = MAX_WITNESSES - len(per_event)
        also = heapq.nsmallest(room, [facts.events_by_id[i] for i in aside], key=_seq)
        per_event += _aside_lines(event_witnesses(facts, exp, also, shown), aside)
    if exp.model is Model.REGISTER:
        per_event = _with_last_effect(facts, per_event)
    head = lost_text(
        exp,
        replace(found, records=lost_records, run=run_short),
        lost_ids,
        [i for i in lost_ids if i not in facts.first_write],
    )
    gave_up = _settle_note(facts, undone, lost_ids, [s.subject for s in lost_records])
    summary = head + _late_note(undone, exp, late, bool(lost_ids)) + gave_up
    if lost_ids and pace_of(facts.history.deliveries, facts.effects_in_order).after is False:
        summary += marked_first_text(marked_first(facts, list(lost_ids)), len(lost_ids))
    if aside:
        summary += f"; {_more_lack(len(aside))}, but " + _aside_text(
            facts, foreign, elsewhere, skipped, untold, origin, False
        )
    declared = {i: n for i, n in newer.items() if i in lost_ids} if origin is None else {}
    if declared:
        summary += "; " + newer_first_text(declared, whom(len(declared), True), None)
    if foreign_records:
        more = plural(len(foreign_records), "record")
        summary += f"; {more} more fall short, but " + foreign_text(foreign_records, "they")
    summary += note
    unknown = _unknown_text(facts, exp, found)
    if unknown:
        summary += f"; not counted as lost: {unknown}"
    return verdict(NAME, Status.FAIL, CLASS, summary, witnesses + per_event)


def _foreign_record_lines(
    facts: Facts, exp: Expectation, found: Shortfalls, foreign: Mapping[str, ForeignWrite]
) -> list[Witness]:
    """The witnesses of the records whose creations went to an earlier run's items, each
    with the write that says so (``_foreign_ids.foreign_record_writes``)."""
    shorts = [s for s in found.records if s.subject in foreign][:MAX_WITNESSES]
    return [
        replace(w, line=f"{w.line}; {foreign[short.subject].text()}")
        for short, w in zip(shorts, coarse_witnesses(facts, exp, shorts), strict=False)
    ]


def _aside_lines(
    witnesses: list[Witness],
    aside: Mapping[str, ForeignWrite | OtherRecordsWrite | NewerFirst | Untold],
) -> list[Witness]:
    """``witnesses`` of events short of an effect, each of ``aside``'s saying which of its
    writes named an item its run's double had not issued (``_foreign_ids``), or one made for
    another record (``_elsewhere``), or which newer event of its record wrote first
    (``_newer_first``)."""
    if not aside:
        return witnesses
    out = []
    for w in witnesses:
        found = aside.get(w.event_ids[0]) if w.event_ids else None
        out.append(w if found is None else replace(w, line=f"{w.line}; {found.text()}"))
    return out


def _aside_text(
    facts: Facts,
    foreign: Mapping[str, ForeignWrite],
    elsewhere: Mapping[str, OtherRecordsWrite],
    skipped: Mapping[str, NewerFirst],
    untold: Mapping[str, Untold],
    origin: str | None,
    more: bool,
) -> str:
    """Why the events of ``foreign``, ``elsewhere`` and ``skipped`` are not called lost
    (``more``: after other events not called lost; ``origin``: the events whose model the
    hazard assumed)."""
    several = more or sum(1 for found in (foreign, elsewhere, skipped, untold) if found) > 1
    parts = [foreign_text(foreign, whom(len(foreign), several))] if foreign else []
    if elsewhere:
        parts.append(elsewhere_text(elsewhere, whom(len(elsewhere), several)))
    if skipped:
        parts.append(newer_first_text(skipped, whom(len(skipped), several), origin))
    if untold:
        parts.append(untold_text(facts, untold, whom(len(untold), several)))
    return "; and ".join(parts)


def _unknown_text(facts: Facts, exp: Expectation, found: Shortfalls) -> str:
    """The records short of a request that writes naming only their record cannot call lost:
    created anew (``_shortfalls.Created``), or of a register whose events were not all
    accepted (``Shortfalls.partly``), or timed within the workers' clock uncertainty of the
    newest send (``Shortfalls.newest_clocked``)."""
    parts = [created_text(exp, found.created)] if found.created else []
    if found.partly:
        parts.append(partly_text(exp, found.partly))
    if found.replaced:
        parts.append(replaced_text(exp, found.replaced))
    if found.newest_unseen:
        parts.append(newest_unseen_text(exp, found.newest_unseen))
    if found.newest_unwritten:
        parts.append(newest_unwritten_text(exp, found.newest_unwritten))
    if found.newest_clocked:
        parts.append(newest_clocked_text(exp, found.newest_clocked, clock_margin(facts.history)))
    return "; and ".join(parts)


def _not_known(facts: Facts, exp: Expectation, found: Shortfalls, note: str) -> Verdict:
    """Inconclusive: records short of an item's writes that created it as often as their
    clean twin wrote it, or whose events were not all accepted (``_unknown_text``), and
    nothing else short."""
    shorts = [c.short for c in found.created] + found.partly + found.replaced
    shorts += found.newest_unseen + found.newest_clocked
    shorts += [u.short for u in found.newest_unwritten]
    request = shorts[0].request
    assert request is not None
    named = {u.short.subject for u in found.newest_unwritten if u.named}
    advice = ""
    if any(s.subject not in named for s in shorts):
        advice = "; those writes name their record, not their event; " + correlation_advice(
            facts, request.text()
        )
    summary = f"not judged: {_unknown_text(facts, exp, found)}{advice}{note}"
    lines = [created_line(exp, c) for c in found.created]
    lines += [partly_line(exp, s) for s in found.partly]
    lines += [replaced_line(exp, s) for s in found.replaced]
    lines += [newest_unseen_line(exp, s) for s in found.newest_unseen]
    lines += [newest_unwritten_line(exp, u) for u in found.newest_unwritten]
    margin = clock_margin(facts.history)
    lines += [newest_clocked_line(exp, s, margin) for s in found.newest_clocked]
    witnesses = [Witness(line) for line in lines[:MAX_WITNESSES]]
    return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, witnesses)


def _hidden(facts: Facts, hidden: Sequence[Repeated], seen: str) -> Verdict:
    """Inconclusive: records with as many writes as owed, naming their record and no event,
    whose writes repeat a body more often than their clean twin's (``repeated_records``)."""
    worst = max(hidden, key=lambda r: r.clean_distinct - r.distinct)
    summary = (
        f"not judged: {plural(len(hidden), 'record')} got as many writes as owed, but fewer "
        f"different ones than the clean run's twin ({worst.text()}): one event's write may "
        "stand where another's is missing, and those writes name their record, not their "
        f"event; {correlation_advice(facts, worst.request.split(', ')[0])}; of the counts, {seen}"
    )
    witnesses = [
        Witness(
            f"{r.text()}: {id_list([e.id for e in r.effects])}",
            effect_ids=tuple(e.id for e in r.effects[:MAX_IDS]),
        )
        for r in hidden[:MAX_WITNESSES]
    ]
    return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, witnesses)


def _tied(facts: Facts, exp: Expectation, tied: Sequence[Event], seen: str) -> Verdict:
    """Inconclusive: records whose latest accepted event made nothing, here and in the clean
    run, where an older event of the record with the same time was written (``_ties``): a
    newest-wins check on a coarse time lost it, or a skip by content meant it."""
    first = tied[0]
    path = time_path(facts.history) or "the source's time path"
    one = len(tied) == 1
    whose = "1 record's" if one else f"{len(tied):,} records'"
    summary = (
        f"not judged: {whose} latest accepted "
        f"{'event' if one else 'events'} made no effect, as {'its' if one else 'their'} clean "
        f"{'twin' if one else 'twins'} made none, where an older event of "
        f"{'its' if one else 'each'} record with the same time at {path} was written (record "
        f"{first.key}: seq {first.seq} skipped, seq {exp.tied[first.id]} written): an automation "
        "that writes only an update newer than the last it wrote (`created > last`) skips the "
        "later of two changes with the same time (Stripe's created is whole seconds), in "
        "order or not, and leaves the record on the older one — a loss; one that skips an "
        "update whose content changed nothing it writes does the same on purpose, and neither "
        "run can tell which: run a hazard that sends a record's changes in another order "
        f"(simultaneous-same-record, out-of-order), or give each change a time of its own; {seen}"
    )
    witnesses = _with_last_effect(facts, _lost_witnesses(facts, tied[:MAX_WITNESSES]))
    return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, witnesses)


def _cancelled(
    facts: Facts, exp: Expectation, cancelled: Sequence[Cancelled], seen: str
) -> Verdict:
    """Inconclusive: a request compared in the whole run whose count held, though records got
    fewer writes naming them than they need by more than the writes naming no record could
    make up (``_shortfalls.Cancelled``): a repeat in another record made up the count."""
    first = cancelled[0]
    worst = max(first.short, key=lambda s: s.need - s.made)
    request = first.request.text(exp.several)
    records = plural(len({s.subject for c in cancelled for s in c.short}), "record")
    summary = (
        f"not judged: {request} was compared in the whole run "
        f"({plural(first.unnamed, 'write')} of it {'names' if first.unnamed == 1 else 'name'} "
        f"no record), and its count there held, but {records} got fewer than "
        f"{'it needs' if records.startswith('1 ') else 'they need'} (record {worst.subject}: "
        f"{worst.made:,}, where it needs {worst.need:,}) by more than the writes naming no "
        "record could make up: other records' writes beyond their own (a repeat) made up the "
        "count, and a count cannot tell that from no loss; "
        f"{correlation_advice(facts, first.request.text())}; of the counts, {seen}"
    )
    shorts = [s for c in cancelled for s in c.short][:MAX_WITNESSES]
    return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, coarse_witnesses(facts, exp, shorts))


def _settle_note(
    facts: Facts, undone: Unfinished, lost: Collection[str], records: Collection[str] = ()
) -> str:
    """``_after_answers.settle_note`` of the run as judged — or, where a secret rotation
    explains the loss (``_rotated``), that; a deploy restart the run made, for those it
    explains (``_restarts``)."""
    rotated = rotation_loss(facts.history, lost)
    if rotated:
        return rotated
    restarted, held = restart_loss(facts.history, lost, records)
    if undone.stop is not None and undone.stop.restarting:
        # Lost by the stop's rule (``_stopped``): their wait had passed before the hook Ctrl-C
        # stopped began, the target idle — not work the deploy may have held.
        restarted, held = "", frozenset()
    rest = [i for i in lost if i not in held]
    rest_records = [k for k in records if k not in held]
    if restarted and not rest and not rest_records:
        return restarted
    effects = facts.effects_in_order
    return restarted + settle_note(facts.history, effects, undone, rest, rest_records)


def _stopped_keys(facts: Facts, undone: Unfinished) -> frozenset[str]:
    """The records of the accepted events the user's stop left unseen (``_stopped``)."""
    if undone.stop is None:
        return frozenset()  # most runs
    events = facts.events_by_id
    return frozenset(events[i].key for i in undone.stop.unseen(facts.accepted) if i in events)


def _doubted(facts: Facts, undone: Unfinished, exp: Expectation, ids: Collection[str]) -> set[str]:
    """Those of ``ids`` (accepted events short of an effect) not called lost: this run may
    have made their effects after it stopped watching, or the clean run's twins may have; or
    the clean run held their twins last of their type (``_held``): held until more come, or
    skipped by their content, it could not show which, and this run cannot either — where
    events of their type acted after them here, a batch would have taken them, but a payload
    skipped by its content is skipped wherever it comes."""
    late = undone.maybe_late(ids)
    if undone.late and not undone.cut:
        rest = [i for i in ids if i not in late]
        late |= behind_late(facts.history, facts.first_write.keys(), rest)
    if exp.unseen:
        late.update(i for i in ids if i in exp.unseen)
    if exp.held:
        late.update(i for i in ids if i in exp.held)
    if exp.untaught:
        late.update(i for i in ids if i in exp.untaught)
    if exp.refused_whole:
        late.update(i for i in ids if i in exp.refused_whole)
    return late


def _why(undone: Unfinished, exp: Expectation, doubted: Collection[str], n: int) -> str:
    """Why ``doubted`` (``n`` in all: coarse shortfalls count) are not called lost, and what
    to do: this run stopped watching too soon, or its clean run did."""
    unseen = exp.unseen if not undone.cut else frozenset()
    held = exp.held if not undone.cut else frozenset()
    # The user stopped the run before it had waited for them (``_stopped``): said first.
    stop = undone.stop if not undone.cut else None
    cut_off = stop.unseen(doubted) if stop is not None else set()
    stopped = [i for i in doubted if i in cut_off and i not in undone.late]
    if stopped:
        doubted = [i for i in doubted if i not in cut_off or i in undone.late]
        n -= len(stopped)
    untaught = [i for i in doubted if i in exp.untaught and i not in undone.late]
    refused = [i for i in doubted if i in exp.refused_whole and i not in undone.late]
    doubted = [
        i
        for i in doubted
        if (i not in exp.untaught and i not in exp.refused_whole) or i in undone.late
    ]
    n -= len(untaught) + len(refused)
    theirs = sum(1 for i in doubted if i in unseen and i not in undone.late)
    lasts = [i for i in doubted if i in held and i not in unseen and i not in undone.late]
    batched = [i for i in lasts if i in exp.held_batched]
    last = len(lasts) - len(batched)
    # Short of an effect, named by no late one, held by neither run: queued behind a late one.
    behind = (
        0
        if undone.cut
        else sum(1 for i in doubted if i not in undone.late and i not in unseen and i not in held)
    )
    rest = n - theirs - len(lasts) - behind
    # Shortfalls per record or per run, where no late effect and no cut explains them: the
    # stop does, once it left any accepted event unseen.
    coarse = 0
    if stop is not None:
        leftover = rest - sum(1 for i in doubted if i in undone.late)
        if leftover > 0 and (cut_off or stop.left_unseen()):
            coarse = leftover
    rest -= coarse
    parts = [stop.text(len(stopped) + coarse)] if stop and (stopped or coarse) else []
    if rest > 0:
        parts.append(undone.why(rest))
    if behind:
        if rest > 0:  # two counts: each says whose
            parts[-1] = f"for {rest:,} of them, {parts[-1]}"
        parts.append(behind_text(behind))
    if theirs:
        parts.append(
            f"{'the clean twin of' if theirs == 1 else 'the clean twins of'} "
            f"{plural(theirs, 'event')} made no effect while the clean run watched, and it "
            f"stopped watching before the target was done ({exp.why_unseen}): what "
            f"{'it owes' if theirs == 1 else 'they owe'} is not known — let the runs watch "
            "longer (`settle:` in the scenario, --settle-quiet, --settle-deadline) and run again"
        )
    if last:
        parts.append(_held_text(last))
    if batched:
        parts.append(_batched_text(exp, batched))
    if untaught:
        parts.append(_untaught_text(exp, untaught))
    if refused:
        parts.append(refused_whole_text(exp.refusals, exp.refused_whole, refused, exp.several))
    return "; and ".join(parts)


def _untaught_text(exp: Expectation, ids: Collection[str]) -> str:
    """Why ``ids``, events of a type the clean run never sent, none of which acted here, are
    not called lost (``Expectation.untaught``)."""
    named = ", ".join(sorted({exp.untaught[i] for i in ids}))
    return (
        f"{plural(len(ids), 'event')} of a type the clean run never sent ({named}) made no "
        "effect, none of them: an automation that ignores a type it does not handle (answers "
        "2xx and does nothing, as providers advise) and one that loses that type's work whole "
        "look alike here — say which under `expect:` in the project or scenario (`TYPE: none` "
        "when ignored on purpose, else the requests it owes)"
    )


def _held_text(n: int) -> str:
    """Why ``n`` events whose clean twins the clean run held last of their type are not called
    lost (``_held``)."""
    one = n == 1
    its, it, they = ("its", "it", "it") if one else ("their", "them", "they")
    return (
        f"{'its clean twin was' if one else 'their clean twins were'} among the clean run's "
        f"last events of {its} type, which made no effect there either though it acted on all "
        "the others: an automation that holds its last events until more come (a batch written "
        "only when full, a flush that waits for the next event) writes them later or never, "
        f"and one that skips a payload by its content never does; the clean run, where {they} "
        f"came last, cannot show which, and this run cannot either — check that the automation "
        f"writes what it holds on a timer, and whether it skips {it} by {its} content "
        "(docs/invariants.md, no_lost_events, *Held at the end*)"
    )


def _batched_text(exp: Expectation, ids: Collection[str]) -> str:
    """Why ``ids``, events whose clean twins came in one request with an event of their type
    that acted, and made nothing there, are not called lost (``_held.batched_with``), and the
    likely cause where the clean run's requests show one (``_batch_kept``)."""
    n = len(ids)
    one = n == 1
    its, they, them = ("its", "it", "it") if one else ("their", "they", "them")
    how = {exp.held_kept.get(i) for i in ids}
    cause = how.pop() if len(how) == 1 else None
    check = "handles every event of a request"
    if cause is Kept.FIRST:
        likely = (
            "in each such request only its first event acted: a receiver that reads only part "
            "of the request's array (the first event, `events[0]`) loses the others — the "
            "likely cause; one that holds events until more come, or skips some by their "
            "content, looks the same in that run"
        )
    elif cause is Kept.FIRST_PER_RECORD:
        likely = (
            "in each such request the events that acted were the first of each record in it, "
            f"and {they} came after one of {its} record's that was written: a receiver that kept "
            "the first of each record's events in a batch and dropped the newer (gathered per "
            "record with `setdefault`) loses them — the likely cause; one that skips some by "
            "their content looks the same in that run"
        )
        check = "keeps the newest of each record's events in a request"
    else:
        likely = (
            "a receiver that reads only part of the request's array, one that holds events "
            "until more come, and one that skips some by their content look the same in that run"
        )
    # Where no cause fits: a hazard, not the one run, that may send them in other requests.
    others = [h for h in ("duplicate-storm", "out-of-order") if h != exp.scenario]
    see = (
        f", and run {'a hazard' if len(others) > 1 else 'the hazard'} that sends {them} in "
        f"other requests ({', '.join(others)}) to see"
        if cause is None
        else ""
    )
    return (
        f"{'its clean twin' if one else 'their clean twins'} came in one request with an event "
        f"of {its} type that acted (the sender batches events), and made no effect there "
        f"either: {likely}, and this one cannot tell either — check that the automation "
        f"{check}{see} (docs/invariants.md, no_lost_events, *Held at the end*)"
    )


def _late_note(
    undone: Unfinished, exp: Expectation, late: Collection[str], more: bool = True
) -> str:
    """``; 2 events more lack theirs, but …``: the short events not called lost (``more``:
    after events that are)."""
    if not late:
        return ""
    why = _why(undone, exp, late, len(late))
    n = len(late)
    lack = (
        _more_lack(n)
        if more
        else f"{plural(n, 'event')} {'lacks' if n == 1 else 'lack'} expected effects"
    )
    return f"; {lack}, but {why}"


def _more_lack(n: int) -> str:
    """``1 event more lacks its``, ``2 events more lack theirs``: beside events called lost."""
    return f"{plural(n, 'event')} more " + ("lacks its" if n == 1 else "lack theirs")


def _superseded_bare(facts: Facts, exp: Expectation, found: Shortfalls) -> str:
    """Where the hazard assumed a register: why its superseded events that wrote nothing of
    their own cannot pass unsaid (``_newer_first.skipped_unsaid``); else ""."""
    origin = assumed(facts) if exp.model is Model.REGISTER and found.superseded else None
    if origin is None:
        return ""
    latest = {e.id for e in found.judged}
    writes = facts.first_write
    n = sum(1 for eid in facts.accepted if eid not in latest and eid not in writes)
    return skipped_unsaid(n, found.superseded, origin) if n else ""


def _passed(exp: Expectation, found: Shortfalls) -> str:
    n = len(found.judged)
    their = "its" if n == 1 else "their"
    if exp.model is Model.REGISTER:
        return f"{every(n, 'record')} got the expected effects of {their} latest accepted event"
    return f"{every(n, 'accepted event')} made {their} expected effects"


def _any_effect(facts: Facts, exp: Expectation, never_note: str) -> Verdict:
    """The old rule, for a run with neither a clean run nor a declaration: any effect."""
    gap = attribution_gap(facts, NAME, CLASS, instead=per_record_advice(NAME, clean_run=False))
    if gap is not None:
        return gap
    rule = f" ({rule_text(exp, facts.history.events)})"
    if facts.history.info.model is Model.REGISTER:
        return _register(facts, exp, never_note, rule)
    events = facts.history.events
    accepted = facts.accepted
    # A set difference before a scan of the events: most runs lose none, and then need none.
    missing = accepted.difference(facts.first_write)
    note = never_note + unattributed_note(facts) + rule
    judged = plural(len(accepted), "accepted event")
    if not missing:
        return verdict(NAME, Status.PASS, CLASS, f"all {judged} produced an effect{note}")
    undone = unfinished(facts.history)
    late = _doubted(facts, undone, exp, missing)
    ids = event_column(events, "id")  # a loaded run's events made only for those lost
    lost = [events[i] for i, eid in enumerate(ids) if eid in missing and eid not in late]
    if not lost:
        doubted = [events[i] for i, eid in enumerate(ids) if eid in late]
        shown = heapq.nsmallest(MAX_WITNESSES, doubted, key=_seq)
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"{len(late):,} of {judged} produced no effect, but "
            f"{_why(undone, exp, late, len(late))}{note}",
            _lost_witnesses(facts, shown),
        )
    return verdict(
        NAME,
        Status.FAIL,
        CLASS,
        f"{len(lost):,} of {judged} produced no effect (lost){_late_note(undone, exp, late)}"
        f"{_settle_note(facts, undone, [e.id for e in lost])}{note}",
        _lost_witnesses(facts, heapq.nsmallest(MAX_WITNESSES, lost, key=_seq)),
    )


def _register(facts: Facts, exp: Expectation, never_note: str, rule: str) -> Verdict:
    """Intermediate states may be skipped; only each record's latest accepted state counts."""
    accepted = facts.accepted
    events = facts.history.events
    newest: dict[str, tuple[int, int]] = {}  # record -> (seq, place) of its latest accepted
    for i, (eid, key, seq) in enumerate(event_rows(events, "id", "key", "seq")):
        if eid in accepted:
            held = newest.get(key)
            if held is None or seq > held[0]:
                newest[key] = (seq, i)
    latest = {key: events[i] for key, (_, i) in newest.items()}
    written = facts.first_write
    short = [e for e in latest.values() if e.id not in written]
    skipped = len(accepted.difference(written)) - len(short)
    undone = unfinished(facts.history)
    late = _doubted(facts, undone, exp, [e.id for e in short])
    lost = [e for e in short if e.id not in late]
    note = (
        (f"; {plural(skipped, 'superseded update')} skipped (not loss)" if skipped else "")
        + never_note
        + unattributed_note(facts)
        + rule
    )
    records = plural(len(latest), "record")
    if not short:
        return verdict(
            NAME,
            Status.PASS,
            CLASS,
            f"all {records} got the effect of their latest accepted event{note}",
        )
    if lost:
        status = Status.FAIL
        head = (
            f"{len(lost):,} of {records} never got the effect of their latest accepted event "
            f"(lost){_late_note(undone, exp, late)}"
            f"{_settle_note(facts, undone, [e.id for e in lost])}"
        )
    else:  # each one may be late
        status = Status.INCONCLUSIVE
        head = (
            f"{len(short):,} of {records} got no effect of their latest accepted event, but "
            f"{_why(undone, exp, late, len(short))}"
        )
    shown = heapq.nsmallest(MAX_WITNESSES, lost or short, key=_seq)
    witnesses = _with_last_effect(facts, _lost_witnesses(facts, shown))
    return verdict(NAME, status, CLASS, head + note, witnesses)


def _lost_witnesses(facts: Facts, lost: Sequence[Event]) -> list[Witness]:
    """How each lost event was delivered, and which of its requests did not count and why."""
    ids = [e.id for e in lost]
    deliveries = facts.deliveries_of(ids)
    effects = facts.effects_of(ids)
    out = []
    for e in lost:
        dlv = deliveries[e.id]
        tried = effects[e.id]
        line = f"{event_ref(e)} was {deliveries_text(dlv)} but produced no effect"
        if tried:
            line += "; its requests did not count: " + id_list([not_counted(t) for t in tried])
        out.append(Witness(line, (e.id,), tuple(d.id for d in dlv), tuple(t.id for t in tried)))
    return out


def _with_last_effect(facts: Facts, witnesses: list[Witness]) -> list[Witness]:
    """Say which older state each lost record was left in: the record's last effect, if any."""
    events = facts.events_by_id
    keys = {events[w.event_ids[0]].key for w in witnesses}
    last: dict[str, tuple[Effect, Event]] = {}
    for eff in facts.writes_in_order:  # in time order: the last one seen per record stays
        for eid in eff.event_ids:
            event = events.get(eid)
            if event is not None and event.key in keys:
                last[event.key] = (eff, event)
    out = []
    for w in witnesses:
        key = events[w.event_ids[0]].key
        found = last.get(key)
        if found is None:
            out.append(replace(w, line=f"{w.line}; record {key} got no effect at all"))
            continue
        eff, src = found
        line = (
            f"{w.line}; record {key} was left at seq {src.seq} ({src.id}): its last effect was "
            f"{eff.method.upper()} {eff.path} {eff.id} at {timestamp(eff.at)}"
        )
        out.append(replace(w, line=line, effect_ids=(*w.effect_ids, eff.id)))
    return out


def _never_note(facts: Facts, deferred_events: int = 0) -> str:
    """The events not judged, and why: refused by the target (a 4xx: its decision on the
    event, which a redelivery meets again — accepts_genuine judges whether it was right), or
    not accepted otherwise (in a fault window: recovers_after_outage's; a drift: drift_is_loud's),
    or sent only as tampered deliveries — an attacker's, which the target owed nothing
    (rejects_forged), or not sent at all before the run stopped; but the ``deferred_events``
    (``_deferred``: refused "for now", 429 or 5xx or no answer, and never redelivered —
    lost where their sender never brings them back, else not seen), said there."""
    accepted = facts.accepted
    never = {i for i in event_column(facts.history.events, "id") if i not in accepted}
    if not never:
        return ""
    tampered = facts.tampered
    deliveries = facts.history.deliveries
    # Only the deliveries of events never accepted made into objects (a run's few), found by
    # C code over the column (``_deferred`` does the same).
    ids = delivery_column(deliveries, "event_id")
    answers: dict[str, set[int | None]] = {}  # each event's genuine deliveries' answers
    sent: set[str] = set()
    for i in compress(count(), map(never.__contains__, ids)):
        d = deliveries[i]
        sent.add(d.event_id)
        if d.id not in tampered:
            answers.setdefault(d.event_id, set()).add(d.status)
    nothing = sum(1 for eid in never if eid not in sent)
    # A run cut short (the user stopped it) had events it never sent: not the target's refusals.
    unsent = nothing if facts.history.status != "complete" else 0
    only_tampered = len(never) - len(answers) - nothing
    decided = sum(1 for a in answers.values() if all(_decision(s) for s in a))
    other = len(answers) + nothing - unsent - decided - deferred_events
    notes = []
    if decided:
        notes.append(
            f"{plural(decided, 'event')} refused by the target (answered 4xx: its decision on "
            f"{'the event' if decided == 1 else 'each'}, which a redelivery meets again — not "
            "counted as lost; accepts_genuine judges whether it was right)"
        )
    if other > 0:
        notes.append(f"{plural(other, 'event')} never accepted by the target (not counted as lost)")
    if unsent:
        notes.append(f"{plural(unsent, 'event')} not sent before the run stopped (not judged)")
    if only_tampered:
        notes.append(
            f"{plural(only_tampered, 'event')} sent only as tampered deliveries (not owed; "
            "rejects_forged judges those)"
        )
    return "; " + "; ".join(notes) if notes else ""


def _decision(status: int | None) -> bool:
    """Whether an answer refuses the event itself (a 4xx but 429), not for now (``_deferred``)."""
    return status is not None and not refused_for_now(status) and 400 <= status < 500
