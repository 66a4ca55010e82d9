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

from .test_gallery import SCENARIOS, SHOPIFY, automation, run, said, verdicts

pytestmark = pytest.mark.integration


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
