"""A Standard Webhooks billing sync (tests/gallery/invoice_lines): ``invoice.paid`` booked as an
invoice, then one ``POST /invoices/{id}/lines`` per line, answered after the writes.

Before, no_duplicate_effects failed every run of it — "16 of 16 events produced duplicate
effects" — on an invoice's two lines: two POSTs of one event to one path, with two bodies, which
its clean twin made too. They are the event's own writes; only writes beyond its clean twin's
count are repeats. And an invoice the API booked and answered 502, booked again on the
redelivery, was inconclusive ("nothing shows which" event repeated it, of an invoice paid once):
a creation committed then failed made its resource as surely as one answered 201.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.core._model import Effect
from harness.history import load_all

from .conftest import Completed
from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

HOOK = "/webhooks/billing"
REDELIVERED = str(SCENARIOS / "invoices-redelivered.yaml")
COMMIT_THEN_FAIL = str(SCENARIOS / "invoices-commit-then-fail.yaml")


def judged(
    scenario: str,
    tmp_path: Path,
    booked: Callable[[Effect], Iterable[str]],
    env: dict[str, str] | None = None,
) -> tuple[Completed, dict[str, dict[str, Any]], Counter[str]]:
    """The exit and verdicts of a run of ``scenario`` against the sync, and the run's truth
    from its journal: how many committed writes each name ``booked`` gives was booked by."""
    with automation("invoice_lines", HOOK, env) as target:
        done, report = run(target, scenario, tmp_path)
    [h] = load_all(tmp_path / "journal.db")
    count = Counter(name for e in h.effects if e.committed for name in booked(e))
    return done, verdicts(report), count


def cents_booked(tmp_path: Path) -> Callable[[Effect], Iterable[str]]:
    """Names ``short`` for an invoice booked with a total other than its event's in cents,
    ``exact`` for one booked to the cent: the truth from the journal's events and writes."""
    totals: dict[str, int] = {}

    def booked(e: Effect) -> Iterable[str]:
        if e.path != "/invoices":
            return []
        if not totals:
            for h in load_all(tmp_path / "journal.db"):
                for ev in h.events:
                    assert isinstance(ev.payload, dict)
                    totals[ev.key] = int(Decimal(ev.payload["data"]["total"]).scaleb(2))
        sent = json.loads(e.body)
        return ["exact" if sent["total_cents"] == totals[str(e.key)] else "short"]

    return booked


@pytest.mark.parametrize("exact", [False, True])
def test_totals_converted_through_a_float_are_a_cent_short(tmp_path: Path, exact: bool) -> None:
    """``int(float("20.40") * 100)`` is 2039. Its clean run books the same 2039: only the
    event's own amount shows it. Converted with Decimal, every total arrives to the cent."""
    env = {"EXACT_CENTS": "1"} if exact else None
    done, found, booked = judged(REDELIVERED, tmp_path, cents_booked(tmp_path), env)
    amounts = found["amounts_intact"]
    if exact:
        assert booked["short"] == 0 and booked["exact"] == 24, booked
        assert amounts["status"] == "pass", said(amounts)
        assert re.match(
            r"24 amounts arrived to the cent, \d+ of them ones a double", amounts["summary"]
        )
        assert done.code == 0, done.out
        return
    assert booked["short"] > 0, booked  # the run's truth: totals booked a cent short
    assert amounts["status"] == "fail", said(amounts)
    assert amounts["summary"].startswith(
        f"{booked['short']} of 24 amounts arrived changed (in minor units through a double"
    ), said(amounts)
    assert amounts["summary"].endswith(
        "$.data.total of 'invoice.paid' -> POST /invoices $.total_cents"
    ), said(amounts)
    assert re.search(
        r'\$\.data\.total "(\d+\.\d\d)" arrived as \d+ \(in minor units through a double: '
        r'int\(float\("\1"\) \* 100\)\) in POST /invoices',
        said(amounts),
    ), said(amounts)


def test_an_invoices_lines_are_not_duplicates(tmp_path: Path) -> None:
    done, found, lines = judged(
        REDELIVERED, tmp_path, lambda e: e.event_ids if e.path.endswith("/lines") else ()
    )
    # The run's truth: every event booked its two lines once, none more (the dedup held).
    assert len(lines) == 24 and set(lines.values()) == {2}, lines
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "pass", said(dup)
    # The invoice POSTs name only their invoice, whose one event it is: taken as its.
    assert dup["summary"].startswith(
        "no event produced a repeated effect (72 effects over 24 events); "
    ), said(dup)
    assert (
        "; 24 effects naming only their record were taken as its single event's (POST /invoices "
        "(24)"
    ) in dup["summary"], said(dup)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    assert done.code == 1, done.out  # amounts_intact: below


def test_an_invoice_committed_then_failed_and_booked_again_is_a_duplicate(
    tmp_path: Path,
) -> None:
    """The API booked the invoice and answered 502; the app answered 502 and the platform's
    redelivery booked a second. The POST /invoices name their invoice (the record), not their
    event, but each invoice has a single event, sent before them: both bookings are that
    event's, a duplicate — the booked ones answered 502 as surely as those answered 201 (they
    were counted per record against the clean twin's: "N records got more resources created by
    POST /invoices than the clean run")."""
    done, found, booked = judged(
        COMMIT_THEN_FAIL, tmp_path, lambda e: [str(e.key)] if e.path == "/invoices" else []
    )
    twice = {key for key, n in booked.items() if n > 1}
    assert twice, booked  # the run's truth: invoices booked twice
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "fail", said(dup)
    assert dup["summary"].startswith(
        f"{len(twice)} of 16 events produced duplicate effects: {len(twice)} repeated requests "
        f"({len(twice)} POST)"
    ), said(dup)
    [h] = load_all(tmp_path / "journal.db")
    named = {e.key for e in h.events if e.id in dup["evidence"]["events"]}
    assert named and named <= twice, said(dup)  # at most 10 witnesses
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    assert done.code == 1, done.out
