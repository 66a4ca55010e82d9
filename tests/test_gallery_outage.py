"""The gallery's inline automations through a downstream outage, as a practitioner runs them:
``harness init`` with their provider, then ``harness run downstream-outage`` (the D8 audit).

``marked_after`` calls its CRM inside the webhook request and answers 500 while the CRM fails,
so that Stripe redelivers; it remembers an event id only once the deal is written, so the
redelivery does the work (its flaw, a check-then-act race between concurrent copies, needs
copies that arrive together: not here). ``seen_first`` remembers the id first, and drops the
redelivery as a duplicate. The hazard must deliver as Stripe does — the refused events
redelivered after the outage — and ``recovers_after_outage`` judge those, not the few events
the outage spared; when the run redelivers nothing, it is inconclusive and says how many refused
events it could not see. Real processes on loopback, time-compressed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import harness
from .test_gallery import QUICK, SCENARIOS, STRIPE, automation, run, said, verdicts

pytestmark = pytest.mark.integration

# Stripe's first retry (17 min) in 2 s; the 4-minute outage in 0.48 s.
TIME_SCALE = "0.002"


def outage(name: str, tmp_path: Path) -> tuple[dict[str, dict[str, Any]], str]:
    """``harness init --provider stripe`` for the gallery automation ``name``, then
    ``harness run downstream-outage``: its verdicts by invariant, and the notes the console
    printed of how the hazard was applied."""
    with automation(name, "/webhooks/stripe", STRIPE) as target:
        created = harness(
            "init", "--provider", "stripe", "--events", "stripe:checkout.session.completed",
            "--target", target.url, "--downstream", f"crm={target.downstream_port}", "--yes",
            cwd=tmp_path,
        )  # fmt: skip
        assert created.code == 0, created.err
        ran = harness(
            "run", "downstream-outage", "--time-scale", TIME_SCALE, "--seed", "7",
            "--report", "report.json", *QUICK, cwd=tmp_path, env=STRIPE,
        )  # fmt: skip
    assert (tmp_path / "report.json").is_file(), ran.out + ran.err
    return verdicts(json.loads((tmp_path / "report.json").read_text())), ran.out


def retries_noted(out: str) -> bool:
    """Whether the adapted notes the console printed say which of Stripe's retries it sends."""
    return "Stripe redelivers what the target refuses: the run sends its first retry" in out


def refused_then_accepted(summary: str) -> int:
    found = re.search(r"\((\d+) refused while it was open, accepted once closed\)", summary)
    return int(found.group(1)) if found else 0


def test_an_inline_automation_is_judged_on_the_events_stripe_redelivered(tmp_path: Path) -> None:
    """Most events met the outage and were refused (500); Stripe's retry after it is accepted
    and does the work: a pass on those events, not on the few the outage spared. Its 500s,
    redelivered and accepted, are the outage passed back, not server errors."""
    judged, out = outage("marked_after", tmp_path)
    recovered = judged["recovers_after_outage"]
    assert recovered["status"] == "pass", said(recovered)
    assert refused_then_accepted(recovered["summary"]) >= 10, said(recovered)
    errors = judged["no_server_errors"]
    assert errors["status"] == "pass", said(errors)
    assert "to a sender that retries (Stripe), each event accepted by a delivery sent after " in (
        said(errors)
    )
    assert retries_noted(out), out


def test_an_automation_that_drops_stripes_redeliveries_fails(tmp_path: Path) -> None:
    """seen_first answers 500 while the CRM is down and 200 to Stripe's retry, as a duplicate,
    without the work: every event the outage refused is named."""
    judged, out = outage("seen_first", tmp_path)
    recovered = judged["recovers_after_outage"]
    assert recovered["status"] == "fail", said(recovered)
    assert refused_then_accepted(recovered["summary"]) >= 10, said(recovered)
    assert re.search(r"accepted by dlv_\d+\.r1 \(200\)", said(recovered)), said(recovered)
    assert retries_noted(out), out


def test_refused_events_the_run_never_redelivered_are_not_passed(tmp_path: Path) -> None:
    """The CRM refuses the first 5 calls of its window; the others get through while it is
    open. The run sends none of Stripe's retries: the refused events are never seen again, so
    the pass the accepted ones would give is inconclusive, saying how many and why."""
    with automation("marked_after", "/webhooks/stripe", STRIPE) as target:
        _, report = run(
            target,
            str(SCENARIOS / "stripe-checkout-crm-blip-unretried.yaml"),
            tmp_path,
            *QUICK,
            env=STRIPE,
        )
    recovered = verdicts(report)["recovers_after_outage"]
    assert recovered["status"] == "inconclusive", said(recovered)
    assert recovered["summary"].startswith(
        "5 events refused during the fault window were never redelivered and accepted: Stripe "
        "redelivers later than the run watched (the run sent none of its 8 retries)"
    ), said(recovered)
    # The others, accepted while the window was open (how many, a loaded machine decides).
    assert re.search(
        r"only the others were judged: all \d+ events accepted during", said(recovered)
    )
