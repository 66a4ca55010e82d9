"""Updates set aside as skipped for a newer state under an assumed ledger (invariants/_newer_first)
only where the journal shows a skip: an event that tried its write in the delivery that was
accepted, or whose own calls name another item than the newer write's, was not stale."""

from __future__ import annotations

from collections.abc import Sequence

from harness.core._model import MODEL_ASSUMED, Delivery, Effect, Event, Outcome, Status, Verdict

from .test_expected import clean_run, ev, lost, run, write

UPDATED = "contact.updated"
ASSUMED = {MODEL_ASSUMED: "events[0] (contact.json)"}
SKIPPED = "it was answered after a newer event of its record had been written"


def _contacts(tag: str) -> list[Event]:
    return [ev(tag, i, UPDATED, key=f"con_{tag}k1") for i in (1, 2)]


def _judged(events: Sequence[Event], deliveries: list[Delivery], effects: list[Effect]) -> Verdict:
    twins = _contacts("zqclean")
    clean = clean_run(
        twins, [write(f"/contacts/{e.key}", [e], method="PUT", at=n + 0.005, status=200)
                for n, e in enumerate(twins)]
    )  # fmt: skip
    return lost(run(events, deliveries, effects, tag="zqrun", baseline=clean, settings=ASSUMED))


def _sent(event: Event, at: float, answered: float, status: int = 200, n: int = 1) -> Delivery:
    outcome = Outcome.OK if status == 200 else Outcome.FAILED
    return Delivery(f"dlv_{event.id}_{n}", event.id, n, at, at, answered, status, outcome)


def test_an_update_retried_after_its_newer_one_was_written_is_set_aside() -> None:
    """The older update's first delivery was refused (its PUT refused 503); redelivered after
    the newer one wrote the contact, it wrote nothing: a skip of a stale update, or a loss."""
    older, newer = _contacts("zqrun")
    v = _judged(
        [older, newer],
        [_sent(older, 0.0, 0.01, 500), _sent(newer, 0.5, 0.6), _sent(older, 1.0, 1.01, n=2)],
        [
            write(f"/contacts/{older.key}", [older], method="PUT", at=0.005, status=503),
            write(f"/contacts/{older.key}", [newer], method="PUT", at=0.55, status=200),
        ],
    )
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert SKIPPED in v.summary


def test_an_update_refused_in_the_delivery_answered_200_is_lost_not_set_aside() -> None:
    """The accepted delivery tried the PUT before the newer update was written, was refused,
    and answered 200 after: not stale when it tried — a drop (main set it aside)."""
    older, newer = _contacts("zqrun")
    v = _judged(
        [older, newer],
        [_sent(older, 0.0, 2.0), _sent(newer, 0.5, 0.6)],
        [
            write(f"/contacts/{older.key}", [older], method="PUT", at=0.1, status=503),
            write(f"/contacts/{older.key}", [newer], method="PUT", at=0.55, status=200),
        ],
    )
    assert v.status is Status.FAIL, v.summary
    assert SKIPPED not in v.summary


def test_a_newer_write_of_another_item_than_the_one_the_update_called_for_is_no_skip() -> None:
    """The older event's refused PUT named its contact; the newer one of its record wrote
    another contact: nothing it wanted was superseded (main set it aside)."""
    older, newer = _contacts("zqrun")
    v = _judged(
        [older, newer],
        [_sent(older, 0.0, 0.01, 500), _sent(newer, 0.5, 0.6), _sent(older, 1.0, 1.01, n=2)],
        [
            write(f"/contacts/{older.key}", [older], method="PUT", at=0.005, status=503),
            write("/contacts/con_zqother", [newer], method="PUT", at=0.55, status=200),
        ],
    )
    assert v.status is Status.FAIL, v.summary
    assert SKIPPED not in v.summary
