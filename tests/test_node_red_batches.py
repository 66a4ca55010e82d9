"""The Node-RED batch flow (tests/node-red/batch.json: a ``join`` of 10 contacts, or what came
within 2 s, then one ``POST /contacts/batch/upsert``) under a hazard that compares final
states: final_state_matches_baseline judges each call by its items
(harness/invariants/_batch_items.py).

Before, each call stood as the write of its first contact's record: the clean run and the
replayed import grouped the contacts alike but the import's calls were stored twice, and the
verdict was "4 of 4 records end in another state … (the final state): 4 differ" — four
records, for forty contacts.

Skipped only when npm cannot reach its registry to install Node-RED (tests/node_red.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.core import _paths
from harness.core._model import Event

from .node_red import FILES, NodeRed
from .test_node_red import TIMEOUT, Run, _held, harness_run
from .test_node_red_flows import ENV, batch, hazard, red

__all__ = ["batch", "red"]  # fixtures: the session's Node-RED install, the module's flow

pytestmark = pytest.mark.integration


def batched(batch: NodeRed, scenario: str, tmp_path: Path, code: int | None) -> Run:
    """The built-in ``scenario`` applied to Stripe checkouts at the join flow with a timeout."""
    hook, events = "/hooks/stripe/batched", "stripe:checkout.session.completed"
    return hazard(batch, hook, events, scenario, tmp_path, code)


@pytest.mark.timeout(TIMEOUT)
def test_join_then_batch_upsert_ends_as_its_clean_run_after_an_import_run_twice(
    batch: NodeRed, tmp_path: Path
) -> None:
    # Every checkout upserted twice, ten to a call: each contact's item is the same in both
    # imports and in the clean run, so every contact ends as in the clean run.
    r = batched(batch, "import-run-twice", tmp_path, 1)
    h = r.history
    assert all(len(e.event_ids) > 1 for e in h.effects) and len(h.effects) < len(h.events)
    state = r.verdicts["final_state_matches_baseline"]
    assert state["status"] == "pass", state
    assert state["summary"].startswith(
        "no record ends in another state than in the baseline run "
    ) and state["summary"].endswith(
        "(the final state); 40 records compared; the writes to POST /contacts/batch/upsert "
        "judged by their items, each element of a call's list the write of the record it names "
        "(which events share a call differs from run to run)"
    ), state
    _held(r, "no_lost_events", "ack_within")
    # Each POST of the second import made its contacts again: not harmless, and failed, the
    # calls counted as calls and the merges: named that says a batch upsert's repeat is not.
    repeated = r.verdicts["no_duplicate_effects"]
    assert repeated["status"] == "fail"
    assert re.search(
        r"\d+ calls? made again, \d+ of them carrying several events \(POST "
        r"/contacts/batch/upsert, a batch\); .* declare "
        r"`merges: \['POST /contacts/batch/upsert'\]`",
        repeated["summary"],
    ), repeated


@pytest.mark.timeout(TIMEOUT)
def test_join_then_batch_upsert_fails_only_contacts_left_on_an_older_known_state(
    batch: NodeRed, tmp_path: Path
) -> None:
    # Three checkouts of 8 customers at one instant: the join keeps their order of arrival, so a
    # call may carry a customer's newest checkout before an older one, and the older lands last.
    # Failed: exactly the customers whose last item is an older checkout than their newest,
    # whose `created` told them apart; those of one second are not judged. Before, the calls'
    # grouping failed records no item left behind ("3 of 6 records … 1 differs, 2 missing").
    r = batched(batch, "simultaneous-same-record", tmp_path, None)
    h = r.history
    token = re.compile(re.escape(h.info.tracer_tag) + r"e(\d+)")
    by_seq = {e.seq: e for e in h.events}
    last: dict[str, Event] = {}  # customer -> the event of its last committed item
    for effect in h.effects:
        if effect.committed:
            for item in json.loads(effect.body)["inputs"]:
                event = by_seq[int(token.findall(json.dumps(item))[0])]
                last[event.key] = event
    newest = {e.key: e for e in sorted(h.events, key=lambda e: e.seq)}
    created = _paths.parse(h.info.settings["paths"]["time"])  # Stripe's $.created

    def told(a: Event, b: Event) -> bool:
        return bool(_paths.get(a.payload, created) != _paths.get(b.payload, created))

    behind = {k for k, e in last.items() if e.seq < newest[k].seq and told(e, newest[k])}
    state = r.verdicts["final_state_matches_baseline"]
    assert "missing" not in state["summary"], state
    if not behind:
        assert state["status"] in ("pass", "inconclusive"), state
        return
    assert state["status"] == "fail", state
    assert state["summary"].startswith(f"{len(behind)} of 12 records end in another state"), state
    named = {
        m[1]
        for line in r.lines("final_state_matches_baseline")
        if (m := re.match(r"record (\S+) ", line))
    }
    assert named == behind, (named, behind)


@pytest.mark.timeout(TIMEOUT)
def test_a_checkout_twice_in_one_batch_upsert_ends_as_its_clean_run(
    batch: NodeRed, tmp_path: Path
) -> None:
    # harness explore's minimal schedule of simultaneous-same-record at the join with a 2 s
    # timeout: one checkout delivered twice 0.3 s apart, both copies in one call — the contact
    # upserted twice, as the clean run's once. The call stood whole (one record: not taken for
    # a batch), and final_state failed "1 of 1 record ends in another state …: 1 differs".
    scenario = str(FILES / "batch-copy-twice.yaml")
    r = harness_run(
        batch, tmp_path, scenario, "--target", batch.url + "/hooks/stripe/batched",
        "--downstream", batch.downstream, code=1, env=ENV,
    )  # fmt: skip
    [call] = [e for e in r.history.effects if e.committed]
    items = json.loads(call.body)["inputs"]
    assert len(items) == 2 and items[0] == items[1], items  # the contact twice
    state = r.verdicts["final_state_matches_baseline"]
    assert state["status"] == "pass", state
    assert state["summary"].startswith("no record ends in another state than in the baseline"), (
        state
    )
    assert (
        "1 record compared; the writes to POST /contacts/batch/upsert judged by their items"
        in (state["summary"])
    ), state
    dup = r.verdicts["no_duplicate_effects"]  # the item repeated within the call: said there
    assert dup["status"] == "fail", dup
    assert "repeated their item within one call (POST /contacts/batch/upsert" in dup["summary"]
