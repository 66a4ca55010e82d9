"""Node-RED redeployed mid-run: ``harness run deploy-restart`` with the cookbook's ``restart:``,
a reload deploy through the admin API (``curl -fsS -X POST -H "Node-RED-Deployment-Type:
reload" .../flows``, no body: Node-RED stops every flow and starts it again from its flows
file), against tests/node-red/deploy.json under tests/node-red/deploy-settings.js (the test
settings with the admin API on).

At ``/hooks/delayed`` each order is answered 200 at once and its payout held half a second by a
``delay`` node: what the node holds when the flows stop is dropped, and ``no_lost_events`` fails
naming the deploy. At ``/hooks/called`` the payout is made before the answer: nothing accepted
is held, nothing accepted is lost.

Skipped only when npm cannot reach its registry to install Node-RED (tests/node_red.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.core._model import Outcome
from harness.invariants._restarts import RESTART_MARK

from .node_red import FILES, NodeRed, started
from .test_gallery import said
from .test_node_red import TIMEOUT, Run, harness_run, red

__all__ = ["red"]  # the session's Node-RED install, a fixture shared with test_node_red

pytestmark = pytest.mark.integration  # one worker takes the module (conftest.py)

# The cookbook's command (docs/cookbook.md, "Deploys"), at the test's port.
RELOAD = '[curl, -fsS, -X, POST, -H, "Node-RED-Deployment-Type: reload", {url}/flows]'


@pytest.fixture(scope="module")
def deploying(red: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRed]:
    """One Node-RED for the module: each run reloads its flows, which keep nothing between
    runs (no context), and has a double of its own."""
    work = tmp_path_factory.mktemp("node-red")
    flow, settings = FILES / "deploy.json", FILES / "deploy-settings.js"
    with started(red, work, flow, settings=settings) as running:
        yield running


def deployed(node_red: NodeRed, hook: str, tmp_path: Path, code: int | None) -> Run:
    """``harness run deploy-restart`` against ``hook``, the flows reloaded 1 s in (the hazard's
    2 s at time scale 0.5). Expected effects declared: no clean run (a second stream
    of 120 deliveries). The provider is Standard Webhooks', whose 15 s timeout a request the
    reload swallowed waits out: wall time, not CPU."""
    (tmp_path / "harness.yaml").write_text(
        f"target: {node_red.url}{hook}\n"
        "provider: standard-webhooks\nsecret_env: HARNESS_SECRET\n"
        f"restart: {{command: {RELOAD.format(url=node_red.url)}}}\n"
        "expect: {order.paid: POST /payouts}\n"
    )
    return harness_run(
        node_red,
        tmp_path,
        "deploy-restart",
        "--downstream",
        node_red.downstream,
        "--time-scale",
        "0.5",
        "--settle-quiet",
        "1",  # twice the delay node's hold: a loaded machine's late payouts still counted
        code=code,
    )


def _restart(r: Run) -> tuple[float, float]:
    """When the run called the restart hook, and when it returned."""
    [mark] = [m for m in r.history.marks if m.name == RESTART_MARK]
    restart = json.loads(mark.detail)
    assert restart["started"] >= 1.0  # the hazard's 2 s, at time scale 0.5
    return restart["started"], restart["ended"]


def _paid(r: Run) -> set[str]:
    return {i for e in r.history.effects if e.committed for i in e.event_ids}


@pytest.mark.timeout(TIMEOUT)
def test_a_reload_drops_what_the_delay_node_holds_told_with_the_deploy(
    deploying: NodeRed, tmp_path: Path
) -> None:
    r = deployed(deploying, "/hooks/delayed", tmp_path, 1)
    began, ended = _restart(r)
    accepted = {d.event_id: d.answered_at for d in r.history.deliveries if d.outcome is Outcome.OK}
    paid = _paid(r)
    # Accepted before the reload was done (the old flows stop within it, when Node-RED gets to
    # it) and never paid: what the delay node held. Before it began, others were passed on.
    held = {e for e, at in accepted.items() if at is not None and at < ended} - paid
    passed = {e for e, at in accepted.items() if at is not None and at < began} & paid
    assert held and passed, (held, passed)
    lost = r.verdicts["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    named = set(lost["evidence"]["events"])  # the first ten
    assert named and named <= held, said(lost)
    cause = (
        rf"{len(held)} of these (was|were) accepted \(2xx\) "
        r"before(, during or just after| or during)? the deploy restart at "
        r"1\.\d\d s \(the restart hook took \d+\.\d\d s\) and never worked: work held in "
        "memory died with the old process"
    )
    assert re.search(cause, lost["summary"]), said(lost)
    assert r.status("no_duplicate_effects") == "pass", said(r.verdicts["no_duplicate_effects"])
    _refused_for_the_reload(r)


def _refused_for_the_reload(r: Run) -> None:
    """The 404s the reload answers are told as its, not as a wrong path or method."""
    genuine = r.verdicts["accepts_genuine"]
    if genuine["status"] == "fail":
        assert "was sent while the deploy restart at" in genuine["summary"], said(genuine)
        assert "the path or the method" not in genuine["summary"], said(genuine)


@pytest.mark.timeout(TIMEOUT)
def test_a_flow_that_calls_before_answering_loses_nothing_it_accepted(
    deploying: NodeRed, tmp_path: Path
) -> None:
    """The reload still refuses (404) or swallows (no answer) the few requests that meet it;
    they were never accepted, so none is lost: the verdict holds, or is inconclusive for want
    of the sender's redelivery — never a loss."""
    r = deployed(deploying, "/hooks/called", tmp_path, None)
    _restart(r)
    accepted = {d.event_id for d in r.history.deliveries if d.outcome is Outcome.OK}
    assert accepted <= _paid(r)
    lost = r.verdicts["no_lost_events"]
    assert lost["status"] in ("pass", "inconclusive"), said(lost)
    assert lost["summary"].startswith(f"all {len(accepted)} accepted events made their"), said(lost)
    assert r.status("no_duplicate_effects") == "pass", said(r.verdicts["no_duplicate_effects"])
    _refused_for_the_reload(r)
