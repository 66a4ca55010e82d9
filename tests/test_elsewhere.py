"""An event whose own request wrote on an item made for another record's creation — a look-up
that found the wrong account — is not taken as held at the end nor as lost
(``invariants/_elsewhere.py``).

Found on the gallery's chained_accounts with its look-up misspelt (``?mail=``, which the API
ignores: it lists every account and the automation takes the first): every checkout after the
first subscribed the first customer's account. Each subscription named only ``ds_1``, the
account made for the first checkout's record, so it was that record's; the other checkouts
made nothing of their own, nor did their clean twins, and no_lost_events said their clean twins
"were among the clean run's last events of their type … an automation that holds its last
events until more come" — a batch nobody wrote. tests/test_gallery_saga.py shows it through the
``harness`` command.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Delivery, Effect, Event, Status
from harness.history import History

from .test_chained import ACCOUNTS, subscribed
from .test_expected import ev, lost, ok, run, write
from .test_undone import issued


def first_account(
    tag: str, events: list[Event], *, after_answer: bool = False, beside: bool = False
) -> History:
    """Each checkout delivered a second apart; the first creates account ds_1, and every
    checkout subscribes ds_1 while its delivery is in flight (``after_answer``: once answered,
    as an automation that works after acking; ``beside``: another event's delivery in flight
    as it does)."""
    effects: list[Effect] = []
    deliveries: list[Delivery] = []
    made = write("/accounts", [events[0]], at=1.002)
    effects.append(made)
    for n, e in enumerate(events, 1):
        deliveries.append(ok(e, at=float(n)))
        effects.append(subscribed("ds_1", n + (0.5 if after_answer else 0.005)))
    if beside:  # another checkout's delivery in flight the whole run
        other = ev(tag, 99)
        events = [*events, other]
        deliveries.append(replace(ok(other, at=0.5), answered_at=len(events) + 1.0))
    h = run(
        events,
        deliveries,
        effects,
        tag=tag,
        baseline=None if tag == "zqclean" else first_account("zqclean", twins(events)),
        settings=ACCOUNTS,
    )
    return replace(h, marks=issued((made, "ds_1")))


def twins(events: list[Event]) -> list[Event]:
    return [ev("zqclean", e.seq) for e in events if e.seq != 99]


def checkouts(tag: str) -> list[Event]:
    return [ev(tag, n) for n in range(1, 5)]


def test_checkouts_subscribing_the_first_customers_account_are_said_so() -> None:
    v = lost(first_account("zqrun", checkouts("zqrun")))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "named ds_1, the item made for record cs_zqrunk1" in v.summary, v.summary
    assert "a look-up that found another record's item" in v.summary, v.summary
    assert "last events of their type" not in v.summary, v.summary  # not held
    assert "held at the clean run's end" not in v.summary, v.summary  # in no wording
    shown = [line for line in v.evidence.lines if "named ds_1" in line]
    assert len(shown) == 3, v.evidence.lines  # each of the three later checkouts


def test_writes_made_after_the_answer_or_beside_another_request_are_not_taken() -> None:
    """Once answered (an automation that works after acking), or while another event's
    delivery was in flight, a write is no more the event's than another's: not said."""
    for shape in ({"after_answer": True}, {"beside": True}):
        v = lost(first_account("zqrun", checkouts("zqrun"), **shape))
        assert "the item made for record" not in v.summary, (shape, v.summary)
        assert v.status is not Status.PASS, (shape, v.summary)


def test_a_late_write_naming_its_own_event_is_not_taken_for_the_one_in_flight() -> None:
    """Each checkout creates its account and subscribes it; the third's work is lost, and the
    second's subscription, naming its own event, lands late while only the third's delivery is
    in flight: the third is lost, not 'a look-up that found another record's item' (review:
    it was made inconclusive)."""
    events = checkouts("zqrun")[:3]
    effects, marks = [], []
    for n, e in enumerate(events, 1):
        if n == 3:
            continue
        made = write("/accounts", [e], at=n + 0.002)
        late = 3.005 if n == 2 else n + 0.005
        sub = replace(subscribed(f"ds_{n}", late), event_ids=(e.id,))
        effects += [made, sub]
        marks += issued((made, f"ds_{n}"))
    twins = [ev("zqclean", e.seq) for e in events]
    clean_effects, clean_marks = [], []
    for n, e in enumerate(twins, 1):
        made = write("/accounts", [e], at=n + 0.002)
        clean_effects += [made, replace(subscribed(f"ds_{n}", n + 0.005), event_ids=(e.id,))]
        clean_marks += issued((made, f"ds_{n}"))
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events, 1)]
    clean_deliveries = [ok(e, at=float(n)) for n, e in enumerate(twins, 1)]
    baseline = replace(
        run(twins, clean_deliveries, clean_effects, tag="zqclean", settings=ACCOUNTS),
        marks=clean_marks,
    )
    h = run(events, deliveries, effects, tag="zqrun", baseline=baseline, settings=ACCOUNTS)
    v = lost(replace(h, marks=marks))
    assert v.status is Status.FAIL, v.summary
    assert "the item made for record" not in v.summary, v.summary
