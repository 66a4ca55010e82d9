"""A running balance kept as a float of dollars (tests/gallery/float_balance.py), judged through
``harness run`` and read against the run's journal: a customer's balance is the body of its last
``PUT``, compared with the clean run's for the same customer.

Five customers' invoices shuffled: the same amounts added in another order can end a balance a
unit in the last place away (``89.8`` where the clean run has ``89.79999999999998``), no invoice
lost or added twice. ``final_state_matches_baseline`` fails those records — the CRM holds another
number — and now says they differ only by a float's rounding (it read like any other difference,
as a lost or wrong update would). In integer cents (``CENTS=1``) every verdict holds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.history import History, load_all

from .conftest import harness
from .test_gallery import SCENARIOS, automation, run, said, verdicts
from .test_gallery_round8 import project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0float0balance0not0real"}  # the test's own


def balances(journal: History) -> dict[frozenset[int], float]:
    """Each customer's last balance written, by its events' seqs (the same in both runs)."""
    seqs: dict[str, set[int]] = {}
    for e in journal.events:
        seqs.setdefault(e.key, set()).add(e.seq)
    last = {}
    for w in sorted(journal.effects, key=lambda e: e.at):
        if w.committed and w.method == "PUT" and w.key:
            last[frozenset(seqs[w.key])] = json.loads(w.body)["balance"]
    return last


@pytest.mark.parametrize("cents", ["", "1"], ids=["dollars", "cents"])
def test_a_float_balance_summed_in_another_order_is_a_rounding_not_a_loss(
    tmp_path: Path, cents: str
) -> None:
    """Shuffled within windows of 10: the balances that end otherwise than the clean run's are
    failed, each said to differ only by a float's rounding (fails before: no such words); no
    invoice is called lost or repeated. In cents, every verdict holds."""
    scenario = str(SCENARIOS / "invoices-paid-reordered.yaml")
    with automation("float_balance", "/webhooks/stripe", {**STRIPE, "CENTS": cents}) as target:
        _, report = run(target, scenario, tmp_path, env=STRIPE)
    [journal] = load_all(tmp_path / "journal.db")
    assert journal.baseline is not None
    here, clean = balances(journal), balances(journal.baseline)
    assert here.keys() == clean.keys() and len(here) == 5
    off = {k for k in here if here[k] != clean[k]}
    assert all(math.isclose(here[k], clean[k], rel_tol=1e-12) for k in off)  # never a cent
    found = verdicts(report)
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert found[name]["status"] == "pass", said(found[name])
    state = found["final_state_matches_baseline"]
    if cents or not off:  # integers add alike in any order; or no order this run changed a sum
        assert not off
        assert state["status"] == "pass", said(state)
        return
    assert state["status"] == "fail", said(state)
    assert state["summary"].startswith(
        f"{len(off)} of 5 records {'ends' if len(off) == 1 else 'end'} in another state"
    ), said(state)
    each = "it differs" if len(off) == 1 else "each differs"
    assert (
        f"; {each} only by a float's rounding: the same numbers added in another order"
        in (state["summary"])
    ), said(state)
    assert "keep integer cents or a decimal" in state["summary"]
    lines = state["evidence"]["lines"]
    assert len(lines) == len(off)
    assert all("apart: a float's rounding)" in line for line in lines), said(state)


def test_a_running_balance_under_an_outage_is_told_what_judges_it_not_a_rule(
    tmp_path: Path,
) -> None:
    """downstream-outage over a project, without a clean run: every write is the customer's
    balance, naming only the customer, derived from all its invoices. no_lost_events,
    recovers_after_outage and backs_off each said "add a correlate: rule", which no value of a
    balance could match (fails before); each now says what judges these writes per record."""
    with project(tmp_path, "float_balance", "/webhooks/stripe", STRIPE, "stripe:invoice.paid"):
        report = tmp_path / "report.json"
        done = harness(
            "run", "downstream-outage", "--no-baseline", "--seed", "5", "--report", str(report),
            cwd=tmp_path, env=STRIPE,
        )  # fmt: skip
    assert report.exists(), done.out + done.err
    found = verdicts(json.loads(report.read_text()))
    derived = (
        "no value in the bodies of PUT /customers/{id}/balance ($.balance, $.currency) is one "
        "that tells its record's events apart — derived (a balance, a sum) or the same for all "
        "of them — so no correlate: rule can name their event: with a clean run (`harness run` "
        "drives one unless --no-baseline) or the expected effects declared (`expect:`, "
        "docs/invariants.md), "
    )
    for name, judged in (
        ("no_lost_events", "this verdict compares each record's writes"),
        ("recovers_after_outage", "no_lost_events compares each record's writes"),
        ("backs_off", "no_lost_events compares each record's writes"),
    ):
        v = found[name]
        assert v["status"] == "inconclusive", said(v)
        assert derived + judged in v["summary"], said(v)
        assert "add a correlate: rule" not in v["summary"], said(v)
        assert "add a `correlate:` rule" not in v["summary"], said(v)
