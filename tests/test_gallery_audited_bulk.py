"""tests/gallery/audited_bulk.py under a throttle: ``backs_off`` says every reason it cannot judge.

The automation posts a refused batch again half a second later (its ``Retry-After`` of 1 s
unread) and, after each bulk call, posts its audit line again at once while refused, 30 times.
Each batch carries six events each delivered once: only their deliveries counted together
excuse the batch made again so soon — not known (a batch re-sent on a timer, or each
delivery's handler sending it once). The audit lines name no event: a storm the rule cannot
attribute. The verdict said the batches alone; the storm was dropped from it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration


def test_a_batch_not_known_and_an_unnamed_storm_are_both_said(tmp_path: Path) -> None:
    with automation("audited_bulk", "/webhook/orders") as target:
        _, report = run(target, str(SCENARIOS / "orders-bulk-throttled.yaml"), tmp_path)
    backoff = verdicts(report)["backs_off"]
    assert backoff["status"] == "inconclusive", said(backoff)
    summary = backoff["summary"]
    assert summary.startswith("not judged: "), summary
    assert "made again within the Retry-After its 429 asked (e.g. POST /payouts/bulk" in summary
    assert "this run cannot tell which" in summary, summary
    # The audit lines' storm is said beside it, not dropped.
    assert "; and " in summary and "named no event, among them POST /audit made " in summary, (
        summary
    )
