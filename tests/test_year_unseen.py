"""A year against an automation slower than its months (tests/gallery/background_queue.py: 200
at once, then 0.3 s of real work per order, one at a time): a month whose events it had not
worked off when settling ended could not be judged, and the console says so instead of a pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import harness_process
from .test_gallery import automation

pytestmark = [pytest.mark.integration, pytest.mark.long]


@pytest.mark.timeout(240)
def test_a_month_whose_loss_could_not_be_seen_is_no_tick(tmp_path: Path) -> None:
    """The queue still holds the clean run's orders when January's come, and January's when
    its settle deadline passes: no_lost_events is inconclusive ("the target still working").
    The month was printed "✓ 2028-01" and the year "1 month run, none failed" (gallery
    background_queue, 20 events a day: three months of ✓ with 0 effects in two of them)."""
    # January's 34 deliveries (31 days, 3 month-end imports) bring 10.2 s of work over 7 s:
    # 3 s of it still queued as the month ends, past a 1 s deadline (a loaded machine adds to
    # it). At 2 a day, 0.4 s a day and a 3 s deadline the test waited 39 s for the same.
    with automation("background_queue", "/webhook/orders") as target:
        done = harness_process(
            "run", "year", "--no-project", "--target", target.url,
            "--downstream", f"127.0.0.1:{target.downstream_port}", "--seed", "3",
            "--months", "1", "--events-per-day", "1", "--day-seconds", "0.2",
            "--settle-deadline", "1", "--journal", str(tmp_path / "year.db"),
            cwd=tmp_path, timeout=200,
        )  # fmt: skip
    said = done.err
    assert "· 1 month from 2028-01-01" in said, said  # not "1 months"
    assert "✓ 2028-01" not in said and "none failed\n" not in said, said
    assert "? 2028-01" in said, said
    assert "no_lost_events (inconclusive): " in said and "settle deadline" in said, said
    assert "1 month run, none failed, but 1 could not be judged whole: 2028-01" in said, said
    # Nothing judged failed: no failure of the year, as an inconclusive verdict never was.
    assert done.code == 0, said
