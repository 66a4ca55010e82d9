"""harness explore over a project: the minimal file it writes keeps what the project made of
the built-in hazard — its events, signing, provider and downstreams — so that running the file
again tests what failed (a gallery automation, real processes on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core._scenario import SyntheticSource
from harness.scenario._load import load_scenario

from .conftest import harness_process
from .test_gallery import SCENARIOS, STRIPE, automation

# A search and the run of what it wrote, as real processes: about a minute, so an acceptance
# run (.ci/run runs them after the suite), as the other searches of tests/test_explore.py.
pytestmark = [pytest.mark.integration, pytest.mark.acceptance, pytest.mark.timeout(600)]

# The processes import this checkout, whatever the folder they start in.
CHECKOUT = {**STRIPE, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

# A project of the gallery's Stripe checkout (its crm downstream's routes to follow).
STRIPE_PROJECT = f"""\
provider: stripe
secret_env: STRIPE_WEBHOOK_SECRET
events:
  - example: {SCENARIOS / "stripe-checkout.session.completed.json"}
    id: $.id
    key: $.data.object.id
    type: $.type
downstreams:
  - name: crm
    routes:
"""
PROJECT = (
    STRIPE_PROJECT
    + """\
      - {method: GET, path: /contacts, status: 200, body: [{id: con_1}]}
      - {method: POST, path: /deals, status: 201}
"""
)


def test_the_minimal_file_of_a_hazard_over_a_project_fails_again(tmp_path: Path) -> None:
    """duplicate-storm over a Stripe project against marked_after (check, book, then mark):
    explore shrinks it to two concurrent copies of one checkout. The file it writes was the
    built-in's own — Standard Webhooks signing, HARNESS_SECRET, the built-in's order events and
    its `api` downstream — which marked_after refuses (400), so running it again tested
    nothing of what failed. Now it holds the project's checkout, Stripe's signing and secret
    variable and the crm downstream, and fails no_duplicate_effects again."""
    (tmp_path / "harness.yaml").write_text(PROJECT, encoding="utf-8")
    minimal = tmp_path / "min.yaml"
    with automation("marked_after", "/webhooks/stripe", STRIPE) as target:
        where = ["--target", target.url, "--downstream", f"127.0.0.1:{target.downstream_port}"]
        found = harness_process(
            "explore", "duplicate-storm", *where, "--seed", "5", "--max-examples", "40",
            "--out", str(minimal), "--journal", str(tmp_path / "explore.db"),
            cwd=tmp_path, env=CHECKOUT, timeout=500,
        )  # fmt: skip
        assert found.code == 1, found.out + found.err
        assert "fails no_duplicate_effects under this minimal schedule" in found.out, found.out
        again = harness_process(
            "run", str(minimal), *where, "--no-project", "--seed", "5",
            "--report", str(tmp_path / "again.json"), "--journal", str(tmp_path / "again.db"),
            cwd=tmp_path, env=CHECKOUT, timeout=200,
        )  # fmt: skip
    assert again.code == 1, again.out + again.err
    [run] = json.loads((tmp_path / "again.json").read_text())["runs"]
    failed = [v["invariant"] for v in run["verdicts"] if v["status"] == "fail"]
    assert "no_duplicate_effects" in failed, (failed, again.out)
    assert run["counts"]["deliveries_by_answer"]["rejected"] == 0, run["counts"]
    scenario = load_scenario(minimal)
    assert scenario.delivery.signing == "stripe"
    assert scenario.delivery.secret_env == "STRIPE_WEBHOOK_SECRET"
    assert scenario.delivery.provider is not None and scenario.delivery.provider.name == "stripe"
    assert [d.name for d in scenario.downstreams] == ["crm"]
    assert isinstance(scenario.source, SyntheticSource)
    assert scenario.source.example["object"] == "event", scenario.source.example
