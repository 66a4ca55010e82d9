"""final_state_matches_baseline: the perturbed run ends in the state a clean run ends in.

The baseline is a run of the same events, each once, in order, without perturbations or
faults (metamorphic testing: duplicates, bursts and reordering must not change the outcome).
Compared per record: the final state the run took (a stateful double's resources, an
observer's records), else the last committed write per (downstream, record). Tracer values
are mapped between the two runs (each run has its own tag; the same source value has the same
token but for the tag; an id or key held as a number is renumbered per run, and mapped through
the events of one seq), and ids the server made up (the double's ``ds_12``, the observer's
key) are not compared, nor texts the automation made from what it was sent (``_made``: a hash of
an address, a time it stamped), which differ between the runs with nothing to map them.

A record left on an older event's state is failed only where the automation could have told
that event from the record's newest (``_order``): two updates with the same time that reached
it together may end either way under a correct automation, so such records are counted, not
failed (inconclusive when none is left to judge).

A batch call (one upsert carrying many records' items) is judged by its items (``_batch_items``):
which events share a call differs from run to run; each record's last item is its state — in a
ledger, every item, each an entry of its record's, counted.
What cannot be told apart record by record is set aside with the records it names, and said.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from ..core import _paths
from ..core._js_numbers import EXACT_IN_DOUBLE
from ..core._model import (
    OBSERVER,
    STATE_MARK,
    STATE_UNAVAILABLE_MARK,
    Effect,
    Event,
    FailureClass,
    Model,
    Status,
    Verdict,
)
from ..core._sensitive import json_leaves
from ..double._resources import GENERATED_PREFIX
from ..drive._vary import id_named
from ..history import History, event_rows
from ._baseline_names import FINAL_STATE
from ._batch_items import split
from ._clean_behind import behind, behind_note, last_written
from ._deleted import deleted_here, deleted_text, deleted_there
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    effects_text,
    event_ref,
    is_write,
    plural,
    route_text,
    verdict,
)
from ._graphql_state import compared_note, graphql_resource, last_mutations
from ._leave_out import leave_out_advice
from ._made import Made
from ._order import Knowable, alike, sequenced
from ._other_event import as_its_own, stand_ins
from ._rounding import gap_text, only_rounding, rounding_gap, rounding_note
from ._unfinished import unfinished
from ._untold_latest import came_later, newest_own

NAME = FINAL_STATE
CLASS = FailureClass.SILENT

_RUN = "{run}"  # stands for either run's tracer tag while comparing
_GENERATED = re.compile(re.escape(GENERATED_PREFIX) + r"\d+")
_UNATTRIBUTED = "(unattributed)"
_SNAPSHOT = "the final state"
_WRITES = "the last write per record"
_MAX_FIELDS = 6
_MAX_WRITES = 6

# record (normalised key) -> slot (source, collection) -> the record's values, normalised
State = dict[str, dict[tuple[str, str], list[Any]]]


def final_state_matches_baseline(facts: Facts) -> Verdict:
    """Fail when a record ends differently from the baseline run's; evidence per record."""
    history = facts.history
    baseline = history.baseline
    problem = _why_not(history, baseline)
    if problem is not None or baseline is None:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, problem or "no baseline run")
    batches = split(history)
    if batches is not None:  # judged by their items (_batch_items)
        facts = Facts(batches.history)
        history = facts.history
        baseline = history.baseline or baseline
    run = _Neutral.of(history, baseline)
    mine, mine_kind = _state(history, run)
    base = _Neutral(baseline.info.tracer_tag, {}, doubles=_exact_ids(baseline, baseline))
    theirs, their_kind = _state(baseline, base)
    aside = set()
    if batches is not None:
        aside = {run.normal(k) for k in batches.aside.records}
        aside |= {base.normal(k) for k in batches.baseline_aside.records}
    if mine_kind != their_kind:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"this run's final state is {mine_kind}, the baseline's {their_kind}: they cannot "
            "be compared; run both with the same downstreams and observer",
        )
    if not mine and not theirs and not aside and batches is not None:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "no record's final state could be judged: no item of the two runs' batch calls "
            "names a record" + batches.note(0),
        )
    if not mine and not theirs and not aside and mine_kind == _WRITES:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "neither this run nor its baseline has a final state (no stateful downstream, no "
            "observer, no committed write); set `stateful: true` on a downstream or add an "
            "observer" + leave_out_advice(NAME, "a final state"),
        )
    made = Made(
        ((history.events, run.normal), (baseline.events, base.normal)),
        (mine.values(), theirs.values()),
        _RUN,
        ((_written(history), run.normal), (_written(baseline), base.normal)),
    )
    ending: dict[str, tuple[str, list[str]]] = {}  # record -> (differ|missing|extra, lines)
    for record in sorted(mine.keys() | theirs.keys()):
        lines = _differences(mine.get(record, {}), theirs.get(record, {}), run, made)
        if lines:
            kind = (
                "missing" if record not in mine else "extra" if record not in theirs else "differ"
            )
            ending[run.restored(record)] = (kind, lines)
    differ = {key for key, (kind, _) in ending.items() if kind == "differ"}
    # As in the clean run but for which of its events' values it holds: a ledger record's
    # work done by another of its events (``_other_event``).
    others = _by_another_event(facts, differ, mine, theirs, run, made)
    for key in others:
        del ending[key]
    differ -= others
    rounded = {
        run.restored(record)
        for record in mine.keys() & theirs.keys()
        if run.restored(record) in differ and only_rounding(mine[record], theirs[record])
    }
    more = {
        run.restored(record)
        for record in mine.keys() & theirs.keys()
        if _more_resources(mine[record], theirs[record])
    }
    tied = _own_states(facts, _untold(facts, differ - more), base, run, made)
    untold = set(tied)
    # Missing because the target refused every event of it: loud, the sender's to redeliver.
    accepted = {e.key for e in history.events if e.id in facts.accepted}
    refused = {
        key
        for key, (kind, _) in ending.items()
        if kind == "missing" and key != _UNATTRIBUTED and key not in accepted
    }
    untold |= refused
    # A baseline that stopped watching before its target was done holds a state short of the
    # end: a record it lacks or holds otherwise may be one it had yet to write.
    early = set()
    if unfinished(baseline).any:
        early = {key for key, (kind, _) in ending.items() if kind != "missing"} - untold
    untold |= early
    left_behind, behind_text = _clean_run_behind(history, run, base, differ - untold)
    untold |= left_behind
    extra = {key for key, (kind, _) in ending.items() if kind == "extra"} - untold
    # Extra because a write here came after the DELETE that ends it in the clean run: judged.
    deleted = deleted_there(baseline, extra, run.normal, base.normal)
    if deleted:
        wrote = _writes_by_key(facts, set(deleted))
        for key, delete in deleted.items():
            ending[key][1].append(deleted_text(delete, wrote.get(key, [])))
    lost_there = _clean_run_lost(history, run, base, extra - deleted.keys())
    untold |= lost_there
    untold |= {run.restored(key) for key in aside}
    # The resources naming no record are one group, not a record: counted and said apart.
    records = len((mine.keys() | theirs.keys() | aside) - {_UNATTRIBUTED})
    loose_mine, loose_theirs = mine.get(_UNATTRIBUTED, {}), theirs.get(_UNATTRIBUTED, {})
    loose = _loose_text(loose_mine, loose_theirs)
    # As many of them as the baseline's, other values: nothing tells which event made which.
    unjudged = _UNATTRIBUTED in ending and _as_many(loose_mine, loose_theirs)
    shown = [
        (k, lines)
        for k, (_, lines) in ending.items()
        if k not in untold and not (unjudged and k == _UNATTRIBUTED)
    ]
    against = f"the baseline run {baseline.info.run_id} ({mine_kind})"
    # Held by neither run, but compared all the same: each run's last write of them deleted it.
    held = {run.restored(record) for record in mine}
    gone = deleted_here(facts.writes_in_order) - held
    both = len(deleted_there(baseline, gone, run.normal, base.normal))
    note = (
        _untold_note(facts, len(tied))
        + behind_text
        + _lost_there_note(len(lost_there))
        + _refused_note(len(refused))
        + _early_note(len(early))
        + _other_event_note(len(others))
        + (_unjudged_note(loose) if unjudged else "")
        + made.note()
        + (batches.note(len(aside)) if batches is not None else "")
        + compared_note(mine)
    )
    if not shown:
        if (untold or unjudged) and len(untold) == records:
            return verdict(
                NAME,
                Status.INCONCLUSIVE,
                CLASS,
                f"no record could be judged against {against}{note}",
            )
        also = f", and {loose}" if loose and not unjudged else ""
        judged = records - len(untold)
        if len(left_behind) > judged:
            # The clean run is no reference for most records: the few it is one for do not
            # stand for the rest.
            return verdict(
                NAME,
                Status.INCONCLUSIVE,
                CLASS,
                f"only {judged:,} of {plural(records, 'record')} could be judged against "
                f"{against}, fewer than the clean run left behind: no record judged ends in "
                f"another state{also}, but they are no evidence for the rest{note}",
            )
        compared = f"{plural(judged, 'record')} compared"
        if both:
            gone_text = f"{plural(both, 'record')} deleted in both runs"
            compared = gone_text if records == len(untold) else f"{compared}, {gone_text}"
        same = f"no record ends in another state than in {against}; {compared}{also}{note}"
        alike = _alike_values(baseline) if history.info.model is Model.REGISTER else 0
        if alike:
            return verdict(NAME, Status.INCONCLUSIVE, CLASS, same + _alike_note(alike))
        return verdict(NAME, Status.PASS, CLASS, same)
    counts = Counter(
        kind for k, (kind, _) in ending.items() if k not in untold and k != _UNATTRIBUTED
    )
    parts = [
        f"{counts[what]:,} {'differs' if what == 'differ' and counts[what] == 1 else what}"
        for what in ("differ", "missing", "extra")
        if counts[what]
    ]
    off = sum(counts.values())
    heads = []
    if off:
        gone_both = f"; {plural(both, 'record')} deleted in both runs" if both else ""
        heads.append(
            f"{off:,} of {plural(records + both, 'record')} {'ends' if off == 1 else 'end'} "
            "in another state than in "
            f"{against}: {', '.join(parts)}"
            f"{rounding_note(len(rounded - untold), counts['differ'])}{gone_both}"
        )
    if _UNATTRIBUTED in ending and not unjudged:
        where = "than in the baseline" if off else f"than in {against}"
        heads.append(f"{loose} end in another state {where}")
        if not off:
            heads.append(f"no record differs ({plural(records + both, 'record')} compared)")
    witnessed = shown[:MAX_WITNESSES]
    writes = _writes_by_key(facts, {key for key, _ in witnessed})
    return verdict(
        NAME,
        Status.FAIL,
        CLASS,
        "; ".join(heads) + note,
        [_witness(facts, key, lines, mine_kind, writes.get(key, [])) for key, lines in witnessed],
    )


def _loose_text(
    mine: dict[tuple[str, str], list[Any]], theirs: dict[tuple[str, str], list[Any]]
) -> str:
    """``the 80 resources naming no record (in 40 collections; the baseline's: 40)``, or ""
    when neither run has any."""
    if not mine and not theirs:
        return ""
    held = sum(len(v) for v in mine.values())
    base = sum(len(v) for v in theirs.values())
    where = plural(len(mine.keys() | theirs.keys()), "collection")
    baseline = f"; the baseline's: {base:,}" if base != held else ""
    return f"the {plural(held, 'resource')} naming no record (in {where}{baseline})"


def _more_resources(
    mine: dict[tuple[str, str], list[Any]], theirs: dict[tuple[str, str], list[Any]]
) -> bool:
    """Does a collection of a record hold more resources than the baseline's, which held some?
    No order of the same events makes more: a find-or-create raced, a creation repeated — its
    record is judged, whichever event's state it ends on."""
    return any(len(held) > len(theirs.get(slot, ())) > 0 for slot, held in mine.items())


def _untold(facts: Facts, keys: set[str]) -> set[str]:
    """Of ``keys`` (records whose state differs), those left on an older event's state that the
    automation could not tell from the record's newest event's (``_order``): the same time, no
    sequence, both in hand at once. A correct automation may end either way; the baseline, fed
    one event at a time, ends on the newest. One pass over the writes, in time order."""
    if not keys or sequenced(facts):
        return set()
    events = facts.events_by_id
    # record -> (the newest event its last write carried, its newest event written, when)
    steps: dict[str, tuple[Event, Event, float]] = {}
    for e in facts.writes_in_order:
        key = e.key
        if key not in keys:
            continue
        top = newest_own(e, key, events)
        if top is None:
            continue
        held = steps.get(key)
        if held is None or top.seq > held[1].seq:
            steps[key] = (top, top, e.at)
        else:
            steps[key] = (top, held[1], held[2])
    # A latest accepted event never written (a debounce wrote an older twin's state instead)
    # is the newer of the pair, as one written and overwritten is (``_untold_latest``).
    latest = _latest_accepted(facts, steps.keys())
    unwritten = {
        key: (top, last, at)
        for key, (top, newest, at) in steps.items()
        if (last := latest.get(key)) is not None and last.seq > newest.seq
    }
    later = came_later(facts, [(top, last) for top, last, _ in unwritten.values()])
    steps.update((k, step) for k, step in unwritten.items() if step[0].id in later)
    pairs = {key: step for key, step in steps.items() if step[0].seq < step[1].seq}
    if not pairs:
        return set()
    knowable = Knowable(facts, {e.id for older, newer, _ in pairs.values() for e in (older, newer)})
    return {key for key, (older, newer, at) in pairs.items() if not knowable(older, newer, at)}


def _latest_accepted(facts: Facts, keys: Collection[str]) -> dict[str, Event]:
    """Each of ``keys``' latest accepted event (by seq), from the events' columns."""
    accepted, wanted = facts.accepted, set(keys)
    found: dict[str, tuple[int, str]] = {}
    for eid, key, seq in event_rows(facts.history.events, "id", "key", "seq"):
        if key in wanted and eid in accepted and seq > found.get(key, (-1, ""))[0]:
            found[key] = (seq, eid)
    events = facts.events_by_id
    return {key: events[eid] for key, (_, eid) in found.items()}


def _own_states(
    facts: Facts, tied: set[str], base: _Neutral, run: _Neutral, made: Made
) -> set[str]:
    """Of ``tied`` (records left on an older event's state nothing told from the newest's),
    those whose every write here, of an event the baseline wrote too, carries the body the
    baseline wrote for it (by whichever method: a contact created here by the update the clean
    run PATCHed): each write is its event's own state, so whichever landed last, the record
    holds an event's state. A write that differs was made of more than its event (a balance
    read and written back, raced by its twin: a lost update) and its record is judged."""
    baseline = facts.history.baseline
    if not tied or baseline is None:
        return tied
    events = {e.id: e for e in baseline.events}
    theirs: dict[tuple[Any, int], list[Any]] = {}
    for w in baseline.effects:
        if is_write(w) and w.key:
            for eid in w.event_ids:
                if (e := events.get(eid)) is not None and e.key == w.key:
                    body = base.normal(_body(w.body))
                    theirs.setdefault((base.normal(w.key), e.seq), []).append(body)
    mine = facts.events_by_id
    kept = set(tied)
    for w in facts.writes_in_order:
        if w.key not in kept:
            continue
        body = run.normal(_body(w.body))
        for eid in w.event_ids:
            e = mine.get(eid)
            twins = theirs.get((run.normal(w.key), e.seq)) if e and e.key == w.key else None
            if twins and not any(
                body == b or _made_fields(body, b, made) is not None for b in twins
            ):
                kept.discard(w.key)
    return kept


def _clean_run_behind(
    history: History, run: _Neutral, base: _Neutral, differ: set[str]
) -> tuple[set[str], str]:
    """Of ``differ`` (records as this run names them), those the clean run itself left on an
    older event's state than this run (``_clean_behind``), in a register; and their note."""
    baseline = history.baseline
    if not differ or baseline is None or history.info.model is not Model.REGISTER:
        return set(), ""
    mine = last_written(history, run.normal)
    theirs = last_written(baseline, base.normal)
    neutral = {run.normal(k): k for k in differ}
    found = sorted(behind(mine, theirs, neutral))
    if not found:
        return set(), ""
    first = found[0]
    note = behind_note(len(found), (neutral[first], theirs[first], mine[first]), baseline)
    return {neutral[k] for k in found}, note


def _clean_run_lost(history: History, run: _Neutral, base: _Neutral, extra: set[str]) -> set[str]:
    """Of ``extra`` (records this run holds and the baseline does not, as this run names them),
    those the clean run was sent events of: it wrote nothing for them, so it lost them (a
    throttle dropping what came faster than its limit, the clean run sent back to back) or
    refused them, or this run should not have written them — the baseline cannot tell which.
    A record of keys the clean run never saw (created under another key) still fails."""
    baseline = history.baseline
    if not extra or baseline is None:
        return set()
    seen = {base.normal(e.key) for e in baseline.events}
    return {key for key in extra if run.normal(key) in seen}


def _lost_there_note(records: int) -> str:
    if not records:
        return ""
    them = "it" if records == 1 else "them"
    return (
        f"; {plural(records, 'record')} not judged: this run wrote {them} and the clean run, "
        f"sent events of each, wrote nothing for {them} — it lost or refused {them}, or this "
        f"run should not have written {them}, which the baseline cannot tell (no_lost_events "
        "judges what each owes)"
    )


def _alike_values(baseline: History) -> int:
    """How many records of several events the clean run wrote, when none of them got another
    value in one write than in another (0 when some did, or none was written): then a record
    left on an older event's state ends as on its newest, and the final state cannot show
    order. A field one write set and another did not (a create's extra field) is no
    difference; a value two writes set differently is. Writes are the record's by their key,
    else by the record of an event they name (the values need not name their event). A record
    written once (an automation that coalesced its events, writing the newest only) shows
    order where that write holds a value of its event that another event of the record lacks:
    another event's write would differ."""
    events = Counter(e.key for e in baseline.events)
    by_id = {e.id: e for e in baseline.events}
    values: dict[str, dict[str, set[str]]] = {}  # record -> field -> the values written
    once: dict[str, list[Effect]] = {}  # record -> its writes
    for w in baseline.effects:
        key = w.key or next((by_id[i].key for i in w.event_ids if i in by_id), None)
        if key is None or events[key] < 2 or not is_write(w):
            continue
        once.setdefault(key, []).append(w)
        fields = values.setdefault(key, {})
        for name, value in _flatten(_body(w.body)).items():
            seen = fields.setdefault(name, set())
            seen.add(json.dumps(value, sort_keys=True))
            if len(seen) > 1:  # a value that changed: most runs stop at their first writes
                return 0
    by_key: dict[str, list[Event]] = {}
    for e in baseline.events:
        by_key.setdefault(e.key, []).append(e)
    single = (ws[0] for ws in once.values() if len(ws) == 1)
    if any(_of_its_event(w, by_id, by_key) for w in single):
        return 0
    return len(values)


def _of_its_event(write: Effect, by_id: dict[str, Event], by_key: dict[str, list[Event]]) -> bool:
    """Whether ``write`` holds a value of an event it names that another event of the same
    record lacks."""
    written = set(json_leaves(_body(write.body)))
    for event in (by_id[i] for i in write.event_ids if i in by_id):
        own = written & set(json_leaves(event.payload))
        others = (e for e in by_key[event.key] if e.id != event.id)
        if own and any(own - set(json_leaves(o.payload)) for o in others):
            return True
    return False


def _alike_note(records: int) -> str:
    return (
        " — but nothing shows order: in the clean run, no record of several events "
        f"({plural(records, 'record')}) got another value in one write than in another, so a "
        "record left on an older event's state would end the same; give the events values "
        "that change from one to the next (a property's new value, a name, an amount)"
    )


def _as_many(
    mine: dict[tuple[str, str], list[Any]], theirs: dict[tuple[str, str], list[Any]]
) -> bool:
    """Whether each collection holds as many resources naming no record as the baseline's —
    or, where collections are named by ids each run derives afresh (``/timeline/{crc of the
    order}/entries``: other paths in each run), each route's collections as many as the
    baseline's, holding as many each."""
    if all(len(mine.get(s, [])) == len(theirs.get(s, [])) for s in mine.keys() | theirs.keys()):
        return True
    return _sizes_by_route(mine) == _sizes_by_route(theirs)


def _sizes_by_route(collections: dict[tuple[str, str], list[Any]]) -> dict[str, list[int]]:
    """Each downstream route of collections (``api /timeline/{id}/entries``) with the sizes
    of its collections, sorted."""
    sizes: dict[str, list[int]] = {}
    for (downstream, path), held in collections.items():
        sizes.setdefault(f"{downstream} {route_text('GET', path)}", []).append(len(held))
    return {route: sorted(n) for route, n in sizes.items()}


def _unjudged_note(loose: str) -> str:
    return (
        f"; {loose} hold as many per collection as the baseline's, with other values: no write "
        "names their event or record, so nothing tells a value the automation derived (a "
        "running balance, a total) that moved with the order of arrival from one gone wrong — "
        "not judged (add a correlate: rule, docs/correlation.md)"
    )


def _by_another_event(
    facts: Facts, differ: set[str], mine: State, theirs: State, run: _Neutral, made: Made
) -> set[str]:
    """Those of ``differ`` that end as in the baseline once each of their stand-ins' values
    is read as the event's it stood in for (``_other_event``)."""
    if not differ:
        return set()
    seqs = stand_ins(facts)
    out = set()
    for record in mine.keys() & theirs.keys():
        key = run.restored(record)
        table = seqs.get(key)
        if key in differ and table:
            if not _differences(as_its_own(mine[record], table), theirs[record], run, made):
                out.add(key)
    return out


def _other_event_note(records: int) -> str:
    if not records:
        return ""
    return (
        f"; {plural(records, 'record')} end as in the baseline but for holding the values of "
        "another of their events, which did the record's work where its clean twin's did (a "
        "record's work done once, by whichever of its events came first: no_lost_events says "
        "which)"
    )


def _early_note(early: int) -> str:
    if not early:
        return ""
    return (
        f"; {plural(early, 'record')} not judged: the baseline run stopped watching before "
        "its target was done (settling cut at its deadline, or effects of it came after its "
        "final state was taken), so its state is not where the automation ends — let the runs "
        "watch longer (`settle:` in the scenario, --settle-quiet, --settle-deadline)"
    )


def _refused_note(refused: int) -> str:
    if not refused:
        return ""
    whose = "its" if refused == 1 else "their"
    return (
        f"; {plural(refused, 'record')} missing, the target having accepted none of {whose} "
        "events: refused, not lost (no_server_errors and target_available judge refusals)"
    )


def _untold_note(facts: Facts, untold: int) -> str:
    if not untold:
        return ""
    return (
        f"; {plural(untold, 'record')} not judged: each ends on the state of an older event "
        f"than its newest, with {alike(facts)}, and the two reached the target together, so "
        "nothing told their order (the baseline, sent one event at a time, ends on the newest)"
    )


def _why_not(history: History, baseline: History | None) -> str | None:
    """Why the check cannot judge, or None."""
    for run, label in ((history, "this run"), (baseline, "the baseline run")):
        if run is None:
            continue
        for mark in run.marks:
            if mark.name == STATE_UNAVAILABLE_MARK:
                return f"the final state of {label} could not be read: {mark.detail}"
    if baseline is None:
        wanted = history.info.settings.get("baseline")
        if wanted:
            return (
                f"the baseline run {wanted!r} is not in this journal; judge the journal the "
                "run wrote, which holds both"
            )
        return (
            "this run has no baseline run to compare with; `harness run` and the pytest "
            "plugin drive one first when the scenario names final_state_matches_baseline "
            "(Locust runs do not)"
        )
    if baseline.status != "complete":
        return f"the baseline run {baseline.info.run_id} did not complete ({baseline.status})"
    if _rewrite(history) == "off" and _rewrite(baseline) != "off":
        return (
            "this run sent its events exactly as recorded and its clean run with ids of its own "
            "(so that a target remembering ids would not drop the replay): their final states "
            "hold other ids and cannot be compared; leave the tracer at its default (each "
            "run's own ids) or trace this run (tracer: {rewrite: true}) to compare final states"
        )
    return None


def _rewrite(history: History) -> Any:
    tracer = history.info.settings.get("tracer")
    return tracer.get("rewrite") if isinstance(tracer, dict) else None


def _state(history: History, run: _Neutral) -> tuple[State, str]:
    """The run's final state per record, and where it came from."""
    if history.states or any(m.name == STATE_MARK for m in history.marks):
        observer = history.info.settings.get("observer") or {}
        key_path = observer.get("key") if isinstance(observer, dict) else None
        state: State = {}
        graphql = False
        for r in history.states:
            body = r.body
            if graphql_resource(body):
                graphql = True
                continue
            if r.source == OBSERVER and isinstance(key_path, str) and isinstance(body, dict):
                body = _without(body, key_path)  # the observer's key may be the server's id
            slot = (r.source, run.normal(r.collection))
            record = run.normal(r.key) if r.key else _UNATTRIBUTED
            state.setdefault(record, {}).setdefault(slot, []).append(run.normal(body))
        if graphql:
            for record, slots in last_mutations(history, run.normal).items():
                state.setdefault(record, {}).update(slots)
        return state, _SNAPSHOT
    last: dict[tuple[str, str], Effect] = {}
    for e in history.effects:  # in time order
        if is_write(e) and e.key:
            last[(run.normal(e.key), e.downstream)] = e
    writes: State = {}
    for (record, downstream), e in last.items():
        value = {"request": f"{e.method.upper()} {e.path}", "body": _body(e.body)}
        writes.setdefault(record, {})[(downstream, "last write")] = [run.normal(value)]
    return writes, _WRITES


def _written(history: History) -> Iterator[Any]:
    """Each write of the run, its request and body: read only when a difference is weighed
    as made (``_made``)."""
    for e in history.effects:
        if is_write(e):
            yield [f"{e.method.upper()} {e.path}", _body(e.body)]


def _differences(
    mine: dict[tuple[str, str], list[Any]],
    theirs: dict[tuple[str, str], list[Any]],
    run: _Neutral,
    made: Made,
) -> list[str]:
    out = []
    for slot in sorted(mine.keys() | theirs.keys()):
        a, b = _sorted(mine.get(slot, [])), _sorted(theirs.get(slot, []))
        if a == b or _alike_but_made(a, b, made):
            continue
        where = f"{slot[0]} {slot[1]}"
        if len(a) == 1 and len(b) == 1:
            out.append(f"{where}: {'; '.join(_fields(a[0], b[0], run, made))}")
        elif not a:
            out.append(f"{where}: missing (the baseline has {_values(b, run)})")
        elif not b:
            out.append(f"{where}: {_values(a, run)}, which the baseline does not have")
        else:
            alike = " (all alike)" if len(a) > 1 and all(v == a[0] for v in a) else ""
            out.append(
                f"{where}: {plural(len(a), 'record')}{alike} where the baseline has "
                f"{len(b):,}: {run.shown(a[0])}"
            )
    return out


_MAX_PAIRED = 20  # resources of a record in one collection paired one by one, at most


def _alike_but_made(a: list[Any], b: list[Any], made: Made) -> bool:
    """Whether each of a record's resources in a collection has one in the baseline that
    differs from it only in texts the automation made (``_made``: a member's id that is the
    hash of its address); the fields are counted as left out when so."""
    if len(a) != len(b) or len(a) > _MAX_PAIRED:
        return False
    left = list(b)
    fields: set[str] = set()
    for x in a:
        for i, y in enumerate(left):
            only = _made_fields(x, y, made)
            if only is not None:
                fields |= only
                del left[i]
                break
        else:
            return False
    made.count(fields)
    return True


def _made_fields(a: Any, b: Any, made: Made) -> set[str] | None:
    """The fields in which ``a`` and ``b`` differ, when the automation made every one of
    them; None when another differs."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    out = set()
    for name in flat_a.keys() | flat_b.keys():
        va, vb = flat_a.get(name, _ABSENT), flat_b.get(name, _ABSENT)
        if va != vb:
            if not made.texts(va, vb):
                return None
            out.add(name)
    return out


def _fields(a: Any, b: Any, run: _Neutral, made: Made) -> list[str]:
    """``name: 'Bo' (baseline 'Al')`` for every field that differs, nested ones dotted, but
    those whose two values the automation made (not compared)."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    out = []
    for name in sorted(flat_a.keys() | flat_b.keys()):
        va, vb = flat_a.get(name, _ABSENT), flat_b.get(name, _ABSENT)
        if va != vb and not made.texts(va, vb):
            gap = rounding_gap(va, vb)
            rounded = "" if gap is None else gap_text(gap)
            out.append(f"{name or '$'}: {run.shown(va)} (baseline {run.shown(vb)}{rounded})")
    extra = len(out) - _MAX_FIELDS
    return out[:_MAX_FIELDS] + ([f"{extra:,} more fields"] if extra > 0 else [])


def _writes_by_key(facts: Facts, keys: set[str]) -> dict[str, list[Effect]]:
    """The writes of a few records (the witnesses), in time order: one scan."""
    out: dict[str, list[Effect]] = {}
    for e in facts.writes_in_order:
        if e.key in keys:
            writes = out.setdefault(e.key, [])
            if writes and writes[-1].id == e.id:  # a batch's items of one record: its last
                writes.pop()
            writes.append(e)
    return out


def _witness(
    facts: Facts, key: str, lines: Sequence[str], kind: str, writes: Sequence[Effect]
) -> Witness:
    """The record's differences and the writes that made its final state in this run."""
    shown = writes[-_MAX_WRITES:]
    events = facts.events_by_id
    event_ids = tuple(dict.fromkeys(i for e in shown for i in e.event_ids if i in events))
    if shown:
        last = shown[-1]
        wrote = f"; written by {effects_text(shown)}"
        if last.event_ids and last.event_ids[0] in events:
            wrote += f", last by {last.id} of {event_ref(events[last.event_ids[0]])}"
    else:
        wrote = "; no write of this run names it"
    if key == _UNATTRIBUTED:  # no write names them: none to show
        more = len(lines) - _MAX_FIELDS
        lines = [*lines[:_MAX_FIELDS], *([f"{more:,} more collections"] if more > 0 else [])]
        line = f"resources naming no record ({kind}): {' | '.join(lines)}"
    else:
        line = f"record {key} ({kind}): {' | '.join(lines)}{wrote}"
    return Witness(line, event_ids, (), tuple(e.id for e in shown))


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT = _Absent()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for name, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{name}" if prefix else str(name)))
        return out
    return {prefix: value}


class _Neutral:
    """One run's values made comparable with its baseline's: its tag made neutral (``{run}``),
    generated ids made alike, its ids and keys held as numbers written as the baseline's for
    the event of the same seq (``numbers``: this run's digits -> the baseline's), and the
    string ids a synthetic source drew for this run (``drive._run_ids``) as the baseline's
    (``ids``); and back, to show a value as this run would write it."""

    def __init__(
        self,
        tag: str,
        numbers: dict[str, str],
        ids: dict[str, str] | None = None,
        doubles: dict[float, tuple[int, int]] | None = None,
    ):
        self.tag = tag
        # In any case: an automation that title-cases a name ("Ada Lovelace Zqabcde3") or
        # upper-cases a code still wrote the event's value, and is compared as it.
        self._tag = re.compile(re.escape(tag), re.IGNORECASE) if tag else None
        self._to_base = numbers
        self._to_mine = {base: mine for mine, base in numbers.items()}
        # An id above 2**53 the automation read as a double (JSON.parse) is written rounded,
        # which no digit-for-digit mapping finds: found by its double (this run's exact id ->
        # the baseline's), and written in both runs as one mark of the baseline's id, however
        # the automation printed the double (tests/gallery/node/shopify_orders_seen_set.js).
        self._doubles = doubles or {}
        self._ids = ids or {}
        self._ids_back = {base: mine for mine, base in self._ids.items()}

    @classmethod
    def of(cls, history: History, baseline: History) -> _Neutral:
        theirs = {e.seq: e for e in baseline.events}
        twins = _Twins(history.info.tracer_tag, baseline.info.tracer_tag)
        for e in history.events:
            base = theirs.get(e.seq)
            if base is None:
                continue
            for mine, their in ((e.id, base.id), (e.key, base.key)):
                if mine != their and mine.isdigit() and their.isdigit():
                    twins.numbers[mine] = their
            twins.read(e.payload, base.payload)
        doubles = _exact_ids(history, baseline)
        return cls(history.info.tracer_tag, twins.numbers, twins.ids, doubles)

    def normal(self, value: Any) -> Any:
        """``value`` as either run would write it."""
        if isinstance(value, str):
            if self._ids:
                value = _swapped(value, self._ids)
            if self._tag is not None:
                value = self._tag.sub(_RUN, value)
            text = _GENERATED.sub("{generated id}", value)
            return _renumber(text, self._to_base)
        if isinstance(value, dict):
            return {self.normal(k): self.normal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normal(v) for v in value]
        if type(value) is int and (rounded := self._rounded(value)) is not None:
            return rounded
        if type(value) is int and self._to_base:
            return int(self._to_base.get(str(value), value))
        return value

    def _rounded(self, value: int) -> str | None:
        """``{<the baseline's id> rounded}`` where ``value`` is an event id above 2**53 written
        rounded through a double; None otherwise."""
        exact = self._doubles.get(float(value)) if value > EXACT_IN_DOUBLE else None
        if exact is None or exact[0] == value:
            return None
        return f"{{{exact[1]} rounded}}"

    def restored(self, text: str) -> str:
        """A normal string as this run wrote it."""
        text = _renumber(text.replace(_RUN, self.tag), self._to_mine)
        return _swapped(text, self._ids_back) if self._ids_back else text

    def shown(self, value: Any) -> str:
        """A value as this run would write it: the baseline's tokens mapped to this run's."""
        if value is _ABSENT:
            return "absent"
        # Not ASCII-escaped: the report's redaction finds PII values in evidence as written.
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        text = self.restored(text)
        return text if len(text) <= 120 else text[:117] + "..."


def _exact_ids(history: History, baseline: History) -> dict[float, tuple[int, int]]:
    """Each event id of ``history`` above 2**53 that no double holds, by its double: (the id,
    the baseline's id of the event of the same seq)."""
    theirs = {e.seq: e.id for e in baseline.events}
    out: dict[float, tuple[int, int]] = {}
    for e in history.events:
        base = theirs.get(e.seq)
        if base is None or not (e.id.isdigit() and base.isdigit()):
            continue
        mine = int(e.id)
        if mine > EXACT_IN_DOUBLE and mine != int(float(mine)):
            out[float(mine)] = (mine, int(base))
    return out


# A run of id characters standing alone in a text: a string id, a path's segment, a number.
_WORD = re.compile(r"[A-Za-z0-9_-]+")


def _swapped(text: str, ids: dict[str, str]) -> str:
    """``text`` with each of its words found in ``ids`` written as its value there."""
    return _WORD.sub(lambda m: ids.get(m.group(), m.group()), text)


class _Twins:
    """What differs between twin payloads (this run's event and the baseline's of one seq),
    read side by side: the integers under id-named fields the tracer renumbered per run
    (``drive._tracer``) and the string ids a synthetic source drew per run
    (``drive._run_ids``), each this run's -> the baseline's. Tokens, which carry either run's
    tag, are made neutral by the tag instead."""

    def __init__(self, tag: str, base_tag: str) -> None:
        self._tags = tuple(t for t in (tag, base_tag) if t)
        self.numbers: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def read(self, mine: Any, theirs: Any) -> None:
        """Pairs what differs between ``mine`` and ``theirs``, walked side by side."""
        todo = [(mine, theirs)]
        while todo:
            a, b = todo.pop()
            if isinstance(a, dict) and isinstance(b, dict):
                pairs: Iterable[tuple[Any, Any]] = ((v, b.get(k)) for k, v in a.items())
                names: Iterable[Any] = a.keys()
            elif isinstance(a, list) and isinstance(b, list):
                pairs, names = zip(a, b, strict=False), [None] * len(a)
            else:
                continue
            for name, (value, other) in zip(names, pairs, strict=False):
                if type(value) is int and type(other) is int:
                    if value != other and isinstance(name, str) and id_named(name):
                        self.numbers[str(value)] = str(other)
                        if abs(value) > _EXACT:
                            # Sent through a double, as both runs' are: each run's rounded
                            # image is its own id's (big_numbers_intact fails the rounding).
                            self.numbers[str(int(float(value)))] = str(int(float(other)))
                elif type(value) is str and type(other) is str:
                    if value != other:
                        self._text(value, other)
                elif isinstance(value, dict | list):
                    todo.append((value, other))

    def _text(self, mine: str, theirs: str) -> None:
        """The ids of two texts of one shape that differ, word by word (an id alone, or inside
        a URL); texts carrying a tag are left to it."""
        if len(mine) != len(theirs) or any(t in mine or t in theirs for t in self._tags):
            return
        for a, b in zip(_WORD.findall(mine), _WORD.findall(theirs), strict=False):
            if a != b and len(a) == len(b):
                self.ids[a] = b


# The largest integer a double holds exactly: beyond it an id may arrive rounded.
_EXACT = 2**53

# A number standing alone in a text (a path segment, a JSON number), not a token's tail.
_NUMBER = re.compile(r"(?<![0-9A-Za-z_])[0-9]+(?![0-9A-Za-z_])")


def _renumber(text: str, numbers: dict[str, str]) -> str:
    if not numbers or not any(c.isdigit() for c in text):
        return text
    return _NUMBER.sub(lambda m: numbers.get(m.group(), m.group()), text)


def _values(values: Iterable[Any], run: _Neutral) -> str:
    return ", ".join(run.shown(v) for v in list(values)[:3])


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: json.dumps(v, sort_keys=True))


def _without(body: dict[str, Any], key_path: str) -> dict[str, Any]:
    steps = _paths.parse(key_path)
    if len(steps) != 1 or not isinstance(steps[0], str):
        return body
    return {k: v for k, v in body.items() if k != steps[0]}


def _body(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except (ValueError, RecursionError):
        return text
