"""Duplicates from a target that does deduplicate, with a record of events done that not every
copy reaches (``harness/invariants/_unshared_dedup.py``).

Found on a receiver keeping its handled event ids in a set, served by two forked workers
(tests/gallery/two_process_dedup.py): a copy landing on the other worker was written again, one
landing on the same worker skipped. ``no_duplicate_effects`` failed it rightly, and the advice
read "deduplicate on the event id" — what it did. It now says that copies sent long after the
event was written and acknowledged were written again while other events' copies were skipped:
the store is per process (or forgets), not missing.
"""

from __future__ import annotations

from pathlib import Path

from harness.core._model import Delivery, Effect, Event, Outcome, Status, Verdict
from harness.history import History, load

from .test_duplicates_unattributed import ev, run, write
from .test_record_attribution import verdict_of
from .test_report import _journal as journal

NOTE = "written again by a copy sent after the target had written the event and acknowledged it"


def sent(event: Event, n: int, at: float) -> Delivery:
    """A delivery of ``event`` sent at ``at``, answered 200 20 ms later."""
    return Delivery(f"dlv_{event.id}_{n}", event.id, n, at, at, at + 0.02, 200, Outcome.OK)


def order(event: Event, n: int, at: float) -> Effect:
    return write(f"eff_{event.id}_{n}", "POST", "/orders", [event], body={"o": event.id}, at=at)


def copies(tag: str, again: float, skipped_too: bool = True) -> History:
    """Two orders, each delivered at once and again ``again`` s later: the first written by
    both copies, the second by its first copy only (``skipped_too``; else by both)."""
    first, second = ev(tag, 0), ev(tag, 1)
    deliveries = [
        sent(first, 1, 0.0),
        sent(first, 2, again),
        sent(second, 1, 0.1),
        sent(second, 2, 0.1 + again),
    ]
    effects = [order(first, 1, 0.01), order(first, 2, again + 0.01), order(second, 1, 0.11)]
    if not skipped_too:
        effects.append(order(second, 2, 0.11 + again))
    return run([first, second], deliveries, effects, tag=tag)


def dup(h: History) -> Verdict:
    return verdict_of(h, "no_duplicate_effects")


def test_a_late_copy_written_again_where_another_was_skipped_names_the_store() -> None:
    """A copy sent a second after its order was written and answered is written again; the
    other order's late copy is skipped: the target deduplicates, in a store not every copy
    reaches."""
    v = dup(copies("zqrun", again=1.0))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 2 events produced duplicate effects"), v.summary
    assert f"; all of them {NOTE}, while it wrote 1 other event once however many" in v.summary
    assert "one durable store that every worker and replica shares" in v.summary


def test_copies_at_once_both_written_are_a_race_not_a_store() -> None:
    """Both copies sent together, both written before either answer: a check-then-act race,
    which a shared store does not cure — no such note."""
    v = dup(copies("zqrace", again=0.0))
    assert v.status is Status.FAIL, v.summary
    assert NOTE not in v.summary, v.summary


def test_a_target_writing_every_copy_is_not_said_to_deduplicate() -> None:
    """No copy skipped anywhere: nothing says the target deduplicates at all — it is said not
    to (``_not_deduplicated``)."""
    v = dup(copies("zqnone", again=1.0, skipped_too=False))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("2 of 2 events produced duplicate effects"), v.summary
    assert "does not reach every copy" not in v.summary, v.summary
    assert f"{NOTE}, and no copy of any event was skipped: the automation does not" in v.summary


def _most_written_twice(tag: str) -> History:
    """Three orders each delivered at once and a second later: the first two written by both
    copies, the last by its first copy only — most events written twice."""
    orders = [ev(tag, n) for n in range(3)]
    deliveries = [sent(o, copy, o.seq / 10 + copy - 1) for o in orders for copy in (1, 2)]
    effects = [order(o, 1, o.seq / 10 + 0.01) for o in orders]
    effects += [order(o, 2, o.seq / 10 + 1.01) for o in orders[:2]]
    return run(orders, deliveries, sorted(effects, key=lambda e: e.at), tag=tag)


def test_most_events_written_twice_and_one_skipped_names_the_store(tmp_path: Path) -> None:
    """Where most events are written twice, the few written once are sifted from the
    deliveries by their writes' codes (``Writes.without``): the one skipped is still found,
    in memory and loaded from a journal alike."""
    h = _most_written_twice("zqmost")
    path = journal(tmp_path / "j.db", h)
    for judged in (h, load(path, h.info.run_id)):
        v = dup(judged)
        assert v.status is Status.FAIL, v.summary
        assert v.summary.startswith("2 of 3 events produced duplicate effects"), v.summary
        assert f"; all of them {NOTE}, while it wrote 1 other event once however many" in (
            v.summary
        )
