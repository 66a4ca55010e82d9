"""A fan-out that sends its Idempotency-Key to every API, driven the way a new user drives it
(tests/gallery/fanout_orders.py, ``harness init`` then ``harness run``).

What it found wrong, fixed here: the stateful double replayed any request carrying a key it
had seen, and no_duplicate_effects excused any repeat with the same key, so a copy of an order
webhook that posted its Slack message and receipt email again — Slack and mail APIs ignore
the key — passed. Declared ignored (``idempotency_key:``), it fails; undeclared, the pass says
it assumed the key honoured and where; the CRM's key, declared honoured, stays harmless.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import QUICK, automation, run, said, verdicts
from .test_gallery_order import KEYED, PAYOUTS, variant
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

SHOPIFY = {"SHOPIFY_WEBHOOK_SECRET": "shpss_gallery0keys_not0real"}  # the test's own
ORDERS = "shopify:orders/create"


def declare_keys(cwd: Path, keys: str) -> None:
    """``idempotency_key: KEYS`` on the project's downstream, as docs/scenarios.md says."""
    project_file = cwd / "harness.yaml"
    text = project_file.read_text()
    stateful = "    stateful: true"
    assert stateful in text, text
    project_file.write_text(text.replace(stateful, f"{stateful}\n    idempotency_key: {keys}", 1))


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "ignored"])
def test_a_key_sent_to_slack_and_mail_excuses_no_second_message(
    tmp_path: Path, declared: bool
) -> None:
    """``KEYS=every``: copies of an order webhook at once each post the Slack message and send
    the receipt, with the webhook id as the key. It passed ('… with the same Idempotency-Key:
    harmless'). Declared ignored, the double posts each and the verdict fails naming the
    second message; undeclared, the pass names the routes whose key it assumed honoured."""
    env = {**SHOPIFY, "KEYS": "every"}
    with project(tmp_path, "fanout_orders", "/webhooks/orders", env, ORDERS):
        if declared:
            declare_keys(
                tmp_path,
                "{honoured: ['POST /crm/*'], ignored: ['POST /slack/*', 'POST /mail/*']}",
            )
        _, found = hazards(tmp_path, "duplicate-storm", *QUICK, env=SHOPIFY)
    repeated = found["duplicate-storm"]["no_duplicate_effects"]
    if declared:
        assert repeated["status"] == "fail", said(repeated)
        assert re.search(r"POST /slack/chat\.postMessage eff_\d+, eff_\d+", said(repeated))
        assert "POST /crm/orders" not in repeated["summary"], said(repeated)
    else:
        assert repeated["status"] == "pass", said(repeated)
        assert re.search(
            r"\d+ repeats? excused by the Idempotency-Key alone \(all answered by the "
            r"stateful double with the key's first answer, not applied\), assumed harmless: no "
            r"idempotency_key: declared for .*POST /slack/chat\.postMessage \(api\): \d+",
            repeated["summary"],
        ), said(repeated)
        assert "declare `idempotency_key: honoured` or `ignored` on downstream api" in said(
            repeated
        )


@pytest.mark.parametrize("keys", ["undeclared", "honoured", "ignored"])
def test_payouts_retried_with_a_stripe_style_key(tmp_path: Path, keys: str) -> None:
    """``retry_no_key`` with ``Idempotency-Key: payout-<event id>``, its payouts retried after
    a 502 that followed their commit. Honoured, as Stripe does: harmless, nothing assumed.
    Undeclared: harmless, saying it assumed so. Declared ignored: the double books each
    retry, and each is a duplicate — the downstream ignored the key the payout carried; it
    advised sending one."""
    scenario = str(PAYOUTS)
    if keys != "undeclared":
        stateful = "    stateful: true\n"
        scenario = variant(tmp_path, PAYOUTS, stateful, f"{stateful}    idempotency_key: {keys}\n")
    with automation("retry_no_key", "/webhook/orders", KEYED) as target:
        _, report = run(target, scenario, tmp_path, *QUICK)
    [h] = load_all(tmp_path / "journal.db")
    assert len(h.effects) > len(h.events), "no payout was retried"
    dup = verdicts(report)["no_duplicate_effects"]
    if keys == "ignored":
        assert dup["status"] == "fail", said(dup)
        repeated = r"produced duplicate effects: \d+ repeated requests? \(\d+ POST\)"
        assert re.search(repeated, said(dup)), said(dup)
        assert "made again a write the API had applied but answered 502" in said(dup)
        assert (
            "both carried the same Idempotency-Key, which downstream api is declared to ignore "
            "(idempotency_key: ignored): the downstream ignored the key"
        ) in said(dup), said(dup)
        assert "send an Idempotency-Key" not in said(dup), said(dup)
        return
    assert dup["status"] == "pass", said(dup)
    assumed = re.search(
        r"\d+ repeats? excused by the Idempotency-Key alone \(all answered by the "
        r"stateful double with the key's first answer, not applied\), assumed harmless: no "
        r"idempotency_key: declared for POST /payouts \(api\): \d+",
        dup["summary"],
    )
    assert bool(assumed) == (keys == "undeclared"), said(dup)
    assert "assumed" not in dup["summary"] or keys == "undeclared", said(dup)
