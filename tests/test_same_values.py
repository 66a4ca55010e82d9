"""Values a provider sends the same in every event of one account or subscription (a library
entry's ``same``, a scenario's ``same:``) stay as the example has them, wherever they appear.

Attio sends ``webhook_id`` (the webhook's id) and the workspace's id unchanged in every delivery;
synthetic events gave each event new ones, so a receiver deduplicating on ``webhook_id``
(tests/gallery/attio_changes.py: it handled one event of the twelve a run sends, and answered
the others "already handled") met sixty different ids in a duplicate storm and looked sound in
every hazard of the standard suite. The record's own ids still vary by record, the event's by
event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core._errors import ScenarioError
from harness.core._scenario import SyntheticSource
from harness.drive._sources import synthetic_events
from harness.drive._synthetic_text import traced_synthetic
from harness.drive._tracer import traced
from harness.scenario._hazards import resolve_hazards
from harness.scenario._load import _library_source, load_scenario
from harness.scenario._project import load_project
from harness.scenario._schema import SyntheticDoc

TAG = "zqabcde"


def _payloads(library: str, way: str, **given: Any) -> list[Any]:
    doc = SyntheticDoc(library=library, events=12, records=4, over=3.0, **given)
    spec = _library_source(doc)
    if way == "text":
        return [json.loads(json.dumps(e.payload)) for e in traced_synthetic(spec, 3, TAG)]
    return [e.payload for e in traced(synthetic_events(spec, 3, TAG), TAG)]


@pytest.mark.parametrize("way", ["text", "objects"])
def test_attios_webhook_and_workspace_are_one_in_every_event(way: str) -> None:
    events = _payloads("attio:record.updated", way)
    assert len({p["webhook_id"] for p in events}) == 1
    ids = [p["events"][0]["id"] for p in events]
    assert len({i["workspace_id"] for i in ids}) == 1
    assert len({i["object_id"] for i in ids}) == 1
    assert len({i["record_id"] for i in ids}) == 4  # one a record


@pytest.mark.parametrize("way", ["text", "objects"])
def test_a_kept_value_is_kept_everywhere_the_example_has_it(way: str) -> None:
    """Slack's workspace id is in ``team_id``, the message's ``team`` and the authorization."""
    events = _payloads("slack:event_callback", way)
    teams = {(p["team_id"], p["event"]["team"], p["authorizations"][0]["team_id"]) for p in events}
    assert len(teams) == 1 and len(set(next(iter(teams)))) == 1, teams
    assert len({p["event_id"] for p in events}) == 12


@pytest.mark.parametrize("way", ["text", "objects"])
def test_a_scenario_may_say_which_values_stay_or_none(way: str) -> None:
    varied = _payloads("hubspot:contact.propertyChange", way, same=[])
    assert len({p["portalId"] for p in varied}) > 1
    kept = _payloads("hubspot:contact.propertyChange", way)
    assert len({p["portalId"] for p in kept}) == 1  # the run's own (its tracer's), not varied
    assert len({p["eventId"] for p in kept}) == 12


def test_a_same_path_the_example_lacks_is_refused_at_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\n"
        "source:\n"
        "  synthetic:\n"
        "    library: attio:record.updated\n"
        "    events: 10\n"
        "    records: 5\n"
        "    over: 2s\n"
        "    same: [$.webhook_id, $.workspace]\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario)
    said = str(caught.value)
    assert f"{scenario}:8: source.synthetic.same[1]: '$.workspace' is not allowed" in said, said


def test_a_projects_library_events_keep_them_through_every_hazard(tmp_path: Path) -> None:
    """`harness init --provider attio --events attio:record.updated` writes a project whose
    hazards are made from the entry: each keeps its ``same`` (it did not: the duplicate storm's
    sixty events had sixty webhook ids)."""
    path = tmp_path / "harness.yaml"
    path.write_text("provider: attio\nevents:\n  - library: attio:record.updated\n")
    found = resolve_hazards(["duplicate-storm", "out-of-order"], load_project(path))
    for scenario in found.scenarios:
        assert isinstance(scenario.source, SyntheticSource), scenario.source
        assert "$.webhook_id" in scenario.source.same, scenario.name
