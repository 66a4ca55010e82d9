"""A Standard Webhooks billing sync (tests/gallery/invoice_lines): ``invoice.paid`` booked as an
invoice, then one ``POST /invoices/{id}/lines`` per line, answered after the writes.

Before, no_duplicate_effects failed every run of it — "16 of 16 events produced duplicate
effects" — on an invoice's two lines: two POSTs of one event to one path, with two bodies, which
its clean twin made too. They are the event's own writes; only writes beyond its clean twin's
count are repeats.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

HOOK = "/webhooks/billing"
REDELIVERED = str(SCENARIOS / "invoices-redelivered.yaml")


def test_an_invoices_lines_are_not_duplicates(tmp_path: Path) -> None:
    with automation("invoice_lines", HOOK) as target:
        done, report = run(target, REDELIVERED, tmp_path)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    lines: dict[str, int] = {}
    for e in h.effects:
        if e.committed and e.path.endswith("/lines"):
            for eid in e.event_ids:
                lines[eid] = lines.get(eid, 0) + 1
    # The run's truth: every event booked its two lines once, none more (the dedup held).
    assert len(lines) == 16 and set(lines.values()) == {2}, lines
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "pass", said(dup)
    assert dup["summary"].startswith(
        "no event produced a repeated effect (32 effects over 16 events)"
    ), said(dup)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    assert done.code == 0, done.out
