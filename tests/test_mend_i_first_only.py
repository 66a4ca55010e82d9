"""A dedup keyed on a value every event shares: the clean run acted on its first event alone.

tests/gallery/shopify_dedup.py with ``DEDUP_HEADER=X-Shopify-Shop-Domain``, a header the
harness does not send: every delivery reads "" and all but the first are skipped as handled,
in the clean run too (it made 1 deal of 20), and in the run after it, in the same process,
all 20. ``no_lost_events`` called 1 of 20 lost and said of the other 19 "their clean twins
were among the clean run's last events of their type" — events held at a run's end, which
these were not: every event but the first was answered 200 without a call. They are lost now,
and said to be what they are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._model import Effect, Event
from harness.invariants._first_only import first_only

from .test_duplicates_unattributed import ok
from .test_duplicates_unattributed import run as journal
from .test_gallery import SCENARIOS, SHOPIFY, automation, run, said, verdicts


@pytest.mark.integration
def test_events_a_dedup_took_for_the_first_one_are_lost_not_held(tmp_path: Path) -> None:
    env = {**SHOPIFY, "DEDUP_HEADER": "X-Shopify-Shop-Domain"}
    with automation("shopify_dedup", "/webhooks/orders", env) as target:
        _, report = run(
            target, str(SCENARIOS / "shopify-orders-redelivered.yaml"), tmp_path, env=SHOPIFY
        )
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    head, _, rest = lost["summary"].partition("; ")
    assert head == "20 of 20 accepted events produced no effect (lost): missing POST /deals for 20"
    assert (
        "19 events: their clean twins were answered 2xx without a call to any downstream, as "
        "was every event of their type in the clean run but its first, which acted, and every "
        "one in this run, its first too: a dedup or lookup keyed on a value every event shares"
    ) in rest, said(lost)
    assert "last events of their type" not in said(lost), said(lost)


def deal(event: Event) -> Effect:
    return Effect(f"eff_{event.id}", "crm", event.seq + 0.5, "POST", "/deals", {}, "{}", 201,
                  (event.id,))  # fmt: skip


def test_a_record_written_once_among_several_idle_ones_acted_on_its_first_alone() -> None:
    """duplicate-storm's clean run: 60 orders of 30 customers, the first written and the 59
    others skipped — of its customer too. A dedup per record acts once on each: two records
    besides the first's must be left alone for the first to have acted alone."""
    events = [Event(f"e{n}", key, n, "orders/create", 0.0, {}) for n, key in enumerate("aabc")]
    h = journal(events, [ok(e) for e in events], [deal(events[0])], tag="zqclean")
    assert first_only(h, events[:1], events[1:])
    # One other record left alone: a record of two events may be acted on once by design.
    assert not first_only(h, events[:1], events[1:3])
    # A call naming one of the idle ones: not answered "without a call".
    called = journal(events, [ok(e) for e in events], [deal(events[0]), deal(events[2])], tag="zq")
    assert not first_only(called, events[:1], events[1:])
