"""Records the clean run itself left behind: its last write to them was an older event's than
this run's last write.

The clean run sends one event at a time, each after the last was answered, and
``final_state_matches_baseline`` takes its ending for each record's newest state. An automation
that answers first and works on several threads (GitHub's 10 s timeout makes practitioners do
so) may still drop or reorder events sent back to back: an edit handled before the creation it
updates finds nothing to update, a close written before the edit that preceded it is
overwritten. The clean run then ends such a record on an older event's state, and a run that
ended it on a newer one differs from it without being wrong: the clean run is no reference for
that record (``per_key_order`` and ``no_lost_events`` judge this run's own order and losses).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from ..core import _paths
from ..core._model import Delivery, Event
from ..history import History
from ._after_answers import pace_of
from ._facts import is_write, plural
from ._order import time_path


def last_written(history: History, normal: Callable[[Any], Any]) -> dict[str, Event]:
    """Per record (its key made neutral by ``normal``), the newest of its events its final
    state names: in the final state the run took (a stateful double's or an observer's
    records, named by tracer values: a write's arrival order need not be the order it was
    applied in), else in its last committed write."""
    events = {e.id: e for e in history.events}
    named: list[tuple[str | None, tuple[str, ...]]]
    if history.states:
        named = [(r.key, r.event_ids) for r in history.states]
    else:  # in time order: the last write per record stands
        named = [(e.key, e.event_ids) for e in history.effects if is_write(e)]
    out: dict[str, Event] = {}
    for key, ids in named:
        if not key:
            continue
        mine = [events[i] for i in ids if i in events and events[i].key == key]
        if not mine:
            continue
        newest = max(mine, key=lambda e: e.seq)
        held = out.get(normal(key))
        if not history.states or held is None or held.seq < newest.seq:
            out[normal(key)] = newest
    return out


def behind(mine: dict[str, Event], theirs: dict[str, Event], records: Collection[str]) -> set[str]:
    """Of ``records`` (neutral keys whose state differs), those the clean run ended on an older
    event's state (by seq) than this run did."""
    return {r for r in records if r in mine and r in theirs and theirs[r].seq < mine[r].seq}


def behind_note(
    count: int, example: tuple[str, Event, Event] | None, baseline: History | None = None
) -> str:
    """The note naming the records not judged for the clean run's own ending; why, by what
    ``baseline`` (the clean run) shows of the example."""
    if not count or example is None:
        return ""
    key, clean, this = example
    return (
        f"; {plural(count, 'record')} not judged: the clean run itself left each on an older "
        f"event's state than this run did (record {key}: the clean run ended it on seq "
        f"{clean.seq}'s, this run on seq {this.seq}'s) — {_why(baseline, clean, this)}, so the "
        "clean run is no reference for them; per_key_order and no_lost_events judge this "
        "run's order and losses"
    )


def _why(baseline: History | None, clean: Event, this: Event) -> str:
    """Why the clean run ended the record on ``clean``'s state rather than on the newer
    ``this``'s: where it worked before answering and answered the newer event's twin with no
    write, it skipped that event — sent alone, or in one request with others (a batch) — with
    a time equal to the older's, where both carry one; else an automation that works after it
    answers may have dropped or reordered it."""
    threads = (
        "an automation that answers first and works on several threads can drop or reorder "
        "even events sent one at a time"
    )
    if baseline is None or pace_of(baseline.deliveries, baseline.effects).after is not False:
        return threads
    twin = next((e for e in baseline.events if e.key == clean.key and e.seq == this.seq), None)
    if twin is None or any(twin.id in w.event_ids for w in baseline.effects if is_write(w)):
        return threads
    sent = _first_sent(baseline.deliveries)
    skipped = (
        f"the clean run answered its seq {this.seq} with no write, though the target does its "
        f"work before it answers: it skipped that event, {_how_sent(sent, twin, clean)}"
    )
    time = time_path(baseline)
    if time is None:
        return skipped
    steps = _paths.parse(time)
    then = _paths.get(clean.payload, steps, None)
    if then is None or then != _paths.get(twin.payload, steps, None):
        return skipped
    return (
        f"{skipped}, whose time at {time} ({then!r}) is seq {clean.seq}'s, which it wrote"
        f"{_before(sent, twin, clean)}: a check that writes only what is newer than the last "
        "write (`created > last`) skips the later of two changes with one time, and a limit of "
        "one write a record in a while (a throttle) skips what comes within it — the journal "
        "cannot tell which"
    )


def _first_sent(deliveries: Iterable[Delivery]) -> dict[str, Delivery]:
    """Event id -> its first delivery sent."""
    first: dict[str, Delivery] = {}
    for d in deliveries:
        if d.event_id not in first or d.sent_at < first[d.event_id].sent_at:
            first[d.event_id] = d
    return first


def _how_sent(sent: dict[str, Delivery], twin: Event, clean: Event) -> str:
    """``sent alone``, or the request of several events (a batch) ``twin`` came in, as a
    batch's deliveries are recorded: sent and answered at the same instants."""
    d = sent.get(twin.id)
    if d is None:
        return "sent alone"
    request = [
        i for i, o in sent.items() if (o.sent_at, o.answered_at) == (d.sent_at, d.answered_at)
    ]
    if len(request) < 2:
        return "sent alone"
    with_clean = f" with seq {clean.seq}" if clean.id in request else ""
    return f"sent in one request of {len(request):,} events (a batch){with_clean}"


def _before(sent: dict[str, Delivery], twin: Event, clean: Event) -> str:
    """`` and answered 0.004 s before it was sent``: how long before ``twin`` was sent the
    delivery of ``clean`` that wrote was answered; "" where it was not before."""
    mine, theirs = sent.get(twin.id), sent.get(clean.id)
    if mine is None or theirs is None or theirs.answered_at is None:
        return ""
    gap = mine.sent_at - theirs.answered_at
    return f" and answered {gap:.3f} s before it was sent" if gap >= 0 else ""
