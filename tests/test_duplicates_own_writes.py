"""``no_duplicate_effects`` over hand-built Histories: an event's several writes to one path.

Found on a Standard Webhooks billing sync written as practitioners write them (tests/gallery/
invoice_lines): each ``invoice.paid`` POSTs the invoice's lines one by one to
``/invoices/{id}/lines``, two bodies to one path, and every event was failed as a duplicate. Its
clean twin made as many: they are the event's own writes. Writes beyond the clean twin's count,
or an identical body again, are still repeats.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.core._model import Effect, Event, Status
from harness.history import History

from .test_duplicates_unattributed import dup, ev, ok, run, write


def lines(event: Event, n: int, bodies: Sequence[str] = ("seat", "usage")) -> list[Effect]:
    """One delivery's lines of ``event``'s invoice, each POSTed to the invoice's lines."""
    return [
        write(
            f"eff_{event.id}_{n}_{i}",
            "POST",
            f"/invoices/i-{100 + event.seq}/lines",
            [event],
            body={"description": f"{what} {event.id}"},
            at=event.seq + n / 10 + i / 100,
        )
        for i, what in enumerate(bodies)
    ]


def billing(bodies: Sequence[str], *, with_clean: bool = True) -> History:
    """Three invoices, each booked once; the run's first event writes ``bodies`` as lines, the
    others (and every clean twin) two lines."""
    twins = [ev("zqclean", i) for i in range(3)]
    clean = run(twins, [ok(e) for e in twins], [w for e in twins for w in lines(e, 1)],
                tag="zqclean")  # fmt: skip
    events = [ev("zqrun", i) for i in range(3)]
    effects = [*lines(events[0], 1, bodies), *(w for e in events[1:] for w in lines(e, 1))]
    return run(events, [ok(e) for e in events], effects, tag="zqrun",
               baseline=clean if with_clean else None)  # fmt: skip


def test_as_many_bodies_to_one_path_as_the_clean_twin_wrote_are_not_repeats() -> None:
    v = dup(billing(["seat", "usage"]))
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("no event produced a repeated effect (6 effects over 3 events)")


def test_one_body_more_than_the_clean_twin_wrote_is_a_duplicate() -> None:
    """Three lines where the twin wrote two (a line retried with a new timestamp, say)."""
    v = dup(billing(["seat", "usage", "usage again"]))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 3 events produced duplicate effects: 1 repeated request")
    assert v.evidence.event_ids == ("evt_zqrune0",)


def test_an_identical_body_again_is_a_duplicate_whatever_the_clean_twin_wrote() -> None:
    v = dup(billing(["seat", "seat"]))
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_zqrune0",)


def test_without_a_clean_run_two_bodies_to_one_path_are_still_failed() -> None:
    """Nothing says how many writes of the path an event makes: the old rule holds."""
    v = dup(billing(["seat", "usage"], with_clean=False))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("3 of 3 events produced duplicate effects")
