"""An effect naming only an id the double made up for a creation (a subscription carrying the
account id the API answered) is the creation's record's (``invariants/_chained.py``).

Before, such an effect named nothing: ``no_duplicate_effects`` was inconclusive on a checkout
subscribed twice ("add a correlate: rule mapping a field of POST /subscriptions to the event
field it comes from" — no event field holds the id), and every verdict advised a rule no one
could write. tests/test_gallery_saga.py shows it through the ``harness`` command.
"""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core._model import Effect, Event, Status
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge
from harness.invariants._chained import chain

from .test_expected import clean_run, ev, ok, run, write
from .test_undone import issued

ACCOUNTS = {"routes": {"crm": ["POST /accounts", "POST /subscriptions"]}}


def subscribed(account: str, at: float, downstream: str = "crm") -> Effect:
    """``POST /subscriptions`` naming only ``account``."""
    made = write("/subscriptions", [], at=at, downstream=downstream)
    return replace(made, body=json.dumps({"account": account, "plan": "pro"}))


def accounts(tag: str, events: list[Event], again: bool) -> History:
    """Each event's account created (ds_1, ds_2, …) and subscribed; ``again``: each subscribed
    a second time (a redelivery not deduplicated)."""
    effects, marks = [], []
    for n, e in enumerate(events, 1):
        made = write("/accounts", [e], at=n)
        subscription = subscribed(f"ds_{n}", n + 0.1)
        effects += [made, subscription]
        # The subscription is a creation too, its own id made up (ds_100, …).
        marks += issued((made, f"ds_{n}"), (subscription, f"ds_{100 + n}"))
        if again:
            effects.append(subscribed(f"ds_{n}", n + 0.5))
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events, 1)]
    if tag == "zqclean":
        h = clean_run(events, effects, settings=ACCOUNTS)
    else:
        twins = [ev("zqclean", e.seq) for e in events]
        h = run(
            events,
            deliveries,
            effects,
            tag=tag,
            baseline=accounts("zqclean", twins, False),
            settings=ACCOUNTS,
        )
    return replace(h, marks=marks)


def test_a_subscription_naming_its_accounts_id_is_its_accounts_records() -> None:
    h = accounts("zqrun", [ev("zqrun", 1), ev("zqrun", 2)], again=False)
    taken = {e.id: e.key for e in chain(h).effects if e.path == "/subscriptions"}
    assert sorted(taken.values()) == ["cs_zqrunk1", "cs_zqrunk2"], taken


def test_a_checkout_subscribed_twice_is_a_duplicate_not_unjudged() -> None:
    """Each checkout's account subscribed twice: the second subscription is the event's (its
    record's single event), a duplicate. It was inconclusive, asking for a correlate rule."""
    h = accounts("zqrun", [ev("zqrun", 1), ev("zqrun", 2)], again=True)
    [v] = judge(h, [InvariantSpec("no_duplicate_effects")])
    assert v.status is Status.FAIL, v.summary
    assert "POST /subscriptions" in v.evidence.lines[0], v.evidence.lines
    assert "correlate" not in v.summary, v.summary


def test_an_id_is_read_on_its_own_doubles_first_and_never_as_part_of_another() -> None:
    """ds_1 made up by two doubles: the effect's own double's; ds_10 is not ds_1."""
    one, two = ev("zqrun", 1), ev("zqrun", 2)
    billing = write("/accounts", [one], at=1)
    inventory = write("/stock", [two], at=1.5, downstream="inventory")
    mine = subscribed("ds_1", 2, downstream="inventory")
    longer = subscribed("ds_10", 2.5)
    h = run([one, two], [ok(one), ok(two)], [billing, inventory, mine, longer], tag="zqrun")
    h = replace(h, marks=issued((billing, "ds_1"), (inventory, "ds_1")))
    keys = {e.id: e.key for e in chain(h).effects}
    assert keys[mine.id] == two.key
    assert keys[longer.id] is None
