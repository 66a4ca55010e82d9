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
from harness.invariants._open_calls import of_them

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
    """No copy skipped anywhere: nothing says the target deduplicates at all, and the note
    says so (it said nothing before: the cause was left to the reader)."""
    v = dup(copies("zqnone", again=1.0, skipped_too=False))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("2 of 2 events produced duplicate effects"), v.summary
    assert "it deduplicates, but" not in v.summary, v.summary
    assert f"all of them {NOTE}, and no copy of any event was skipped: nothing in this run " in (
        v.summary
    )
    assert "shows that the automation deduplicates" in v.summary


def test_copies_racing_alone_are_not_said_to_be_undeduplicated() -> None:
    """Copies in flight together, none sent after its first was done: the late-copy note
    needs a copy that came after; racing copies are _raced_copies' to tell."""
    v = dup(copies("zqrace", again=0.0, skipped_too=False))
    assert v.status is Status.FAIL, v.summary
    assert "no copy of any event was skipped: nothing in this run" not in v.summary, v.summary


def test_a_batch_event_its_first_copy_never_reached_was_not_skipped() -> None:
    """A batch of two orders (HubSpot's), the first's write applied and answered 502, the
    receiver stopping there and answering 200 (tests/gallery/partial_write.py under
    ambiguous-commit); the batch sent again, both written. The second order, written once by
    two accepted copies, skipped no copy: its first never reached it. It was said to: 'while it
    wrote 1 other event once however many copies it accepted: it deduplicates'."""
    first, second = ev("zqbatch", 0), ev("zqbatch", 1)
    deliveries = [sent(first, 1, 0.0), sent(second, 1, 0.0)]
    deliveries += [sent(first, 2, 1.0), sent(second, 2, 1.0)]
    effects = [order(first, 1, 0.01), order(first, 2, 1.01), order(second, 2, 1.02)]
    v = dup(run([first, second], deliveries, effects, tag="zqbatch"))
    assert v.status is Status.FAIL, v.summary
    assert "it deduplicates" not in v.summary, v.summary
    assert "other event once" not in v.summary, v.summary


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


def test_a_copy_written_once_where_the_target_drops_events_is_not_taken_as_skipped() -> None:
    """A receiver that deduplicates nothing and loses work (tests/gallery/recycled_workers.py:
    daemon threads killed with their worker): one order's late copy written again, another's
    lost, a third order lost outright. It was told 'it deduplicates, but its record of the
    events it handled does not reach every copy'; the lost copy looks like a skipped one."""
    twins = [ev("zqclean", n) for n in range(3)]
    baseline = run(twins, [sent(e, 1, float(n)) for n, e in enumerate(twins)],
                   [order(e, 1, n + 0.01) for n, e in enumerate(twins)], tag="zqclean")  # fmt: skip
    first, second, third = (ev("zqlost", n) for n in range(3))
    deliveries = [sent(first, 1, 0.0), sent(first, 2, 1.0), sent(second, 1, 0.1)]
    deliveries += [sent(second, 2, 1.1), sent(third, 1, 0.2)]
    effects = [order(first, 1, 0.01), order(first, 2, 1.01), order(second, 1, 0.11)]
    v = dup(run([first, second, third], deliveries, effects, tag="zqlost", baseline=baseline))
    assert v.status is Status.FAIL, v.summary
    assert (
        "while it wrote 1 other event once however many copies it accepted, but it also dropped "
        "1 accepted event outright (no write at all: no_lost_events), so a copy written once may "
        "be one dropped, not skipped: the run cannot tell whether it deduplicates"
    ) in v.summary, v.summary
    assert "it deduplicates, but" not in v.summary, v.summary


def test_a_cause_read_over_the_first_duplicates_says_so_on_a_larger_run() -> None:
    """'21 of them' of 497,941 duplicates passed for the run's count (bench_judge's failing
    history): the causes read the first 1,000 only, and their counts say it."""
    assert of_them(21, 497_941, 1_000) == "of the first 1,000 of them, 21"
    assert of_them(21, 1_000, 1_000) == "21 of them"
    assert of_them(7, 7, 1_000) == "all of them"


def test_a_second_write_in_a_racing_copys_flight_is_not_the_late_copys() -> None:
    """marked_after under Locust's duplicate-storm (check, act, then mark): copy 1 wrote its
    order and was answered; copy 2, sent before that answer, was still working and wrote it
    again; copy 3, sent after the answer, was answered "duplicate" at once, before that second
    write. The second write was copy 2's, a race: it was said to be 'written again by a copy
    sent after the target had written the event and acknowledged it … one per process'."""
    raced, skipped = ev("zqflight", 0), ev("zqflight", 1)
    deliveries = [
        Delivery("dlv_1", raced.id, 1, 0.0, 0.0, 0.021, 200, Outcome.OK),
        Delivery("dlv_2", raced.id, 2, 0.009, 0.009, 0.027, 200, Outcome.OK),
        Delivery("dlv_3", raced.id, 3, 0.0215, 0.0215, 0.0228, 200, Outcome.OK),
        sent(skipped, 1, 0.1),
        sent(skipped, 2, 1.1),
    ]
    effects = [order(raced, 1, 0.016), order(raced, 2, 0.024), order(skipped, 1, 0.11)]
    v = dup(run([raced, skipped], deliveries, effects, tag="zqflight"))
    assert v.status is Status.FAIL, v.summary
    assert NOTE not in v.summary, v.summary
