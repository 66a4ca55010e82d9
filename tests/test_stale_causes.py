"""per_key_order's causes of a register's stale overwrite (invariants/_stale_causes): a write
the older event's first delivery made in its own flight is no retry's (a ledger's causes, in
per_key_order, ask the same)."""

from __future__ import annotations

from harness.core._model import NO_ANSWER_WITHIN, Delivery, Effect, Event, Model, Outcome
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge

from .test_expected import clean_run, ev, run, write

UPDATED = "contact.updated"
PATH = "/contacts/con_zqk1"
RETRIED = "the target refused the older event's first delivery (5xx or no answer)"


def _updates(tag: str) -> list[Event]:
    return [ev(tag, i, UPDATED, key="con_zqk1") for i in (1, 2)]


def _clean() -> History:
    twins = _updates("zqclean")
    effects = [
        write(PATH, [e], method="PUT", at=n + 0.005, status=200) for n, e in enumerate(twins)
    ]
    return clean_run(twins, effects, model=Model.REGISTER)


def _sent(e: Event, n: int, at: float, answered: float | None, status: int | None) -> Delivery:
    outcome = Outcome.OK if status == 200 else Outcome.FAILED if status else Outcome.INDETERMINATE
    error = None if answered is not None else f"{NO_ANSWER_WITHIN} 5 s"
    return Delivery(f"dlv_{e.id}_{n}", e.id, n, at, at, answered, status, outcome, error)


def _summary(first: Delivery, stale_at: float) -> str:
    """The older update's first delivery ``first``, redelivered at 10 s; the newer one
    written at 0.55 s; the older's write at ``stale_at``."""
    older, newer = _updates("zqrun")
    effects: list[Effect] = [
        write(PATH, [newer], method="PUT", at=0.55, status=200),
        write(PATH, [older], method="PUT", at=stale_at, status=200),
    ]
    deliveries = [first, _sent(newer, 1, 0.5, 0.6, 200), _sent(older, 2, 10.0, 10.01, 200)]
    h = run(
        [older, newer], deliveries, effects, tag="zqrun", baseline=_clean(), model=Model.REGISTER,
        settings={"paths": {"seq": "$.sequence"}},
    )  # fmt: skip
    [v] = judge(h, [InvariantSpec("per_key_order")])
    assert "went back to an older state" in v.summary, v.summary
    return v.summary


def test_a_stale_write_made_in_the_first_deliverys_own_flight_is_no_retrys() -> None:
    """The first delivery, sent before the newer update was written, wrote at 2 s and was
    answered 504 at 5 s: worked beside the newer, not redelivered after it (main said a
    retry after the newer)."""
    older = _updates("zqrun")[0]
    assert RETRIED not in _summary(_sent(older, 1, 0.0, 5.0, 504), 2.0)


def test_a_write_while_the_sender_still_waited_is_in_its_own_flight() -> None:
    older = _updates("zqrun")[0]
    assert RETRIED not in _summary(_sent(older, 1, 0.0, None, None), 3.0)


def test_a_stale_write_made_by_the_redelivery_is_a_retrys() -> None:
    older = _updates("zqrun")[0]
    for first in (_sent(older, 1, 0.0, 0.01, 503), _sent(older, 1, 0.0, None, None)):
        assert RETRIED in _summary(first, 10.005)
