"""The ``sequence`` path of a project's events: where an example numbers its record's events.

Without it every event the hazards made carried the example's number (``sequence: 1``), and an
automation that skips an update not newer than its record's kept each record's first only
(tests/gallery/buffered_upsert.py; tests/test_gallery_examples.py drives it).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness.core._errors import ScenarioError
from harness.drive._sources import synthetic
from harness.scenario._guess import guess_sequence
from harness.scenario._project import load_project

from .test_gallery_model import EXAMPLE


def project(tmp_path: Path, item: str) -> Path:
    (tmp_path / "contact.json").write_text(json.dumps({**EXAMPLE, "sequence": 7}))
    path = tmp_path / "harness.yaml"
    path.write_text(f"target: http://127.0.0.1:1/hook\nprovider: none\nevents:\n{item}")
    return path


def test_each_records_events_are_numbered_from_one_at_the_sequence_path(tmp_path: Path) -> None:
    item = "  - example: contact.json\n    key: $.data.contact_id\n    sequence: $.sequence\n"
    [events] = load_project(project(tmp_path, item)).events
    source = replace(events.source, events=9, records=3, over=1.0)
    numbers: dict[str, list[int]] = {}
    for event in synthetic(source, 5):
        numbers.setdefault(event.key, []).append(event.payload["sequence"])
    assert sorted(numbers.values()) == [[1, 2, 3]] * 3, numbers


def test_a_sequence_path_of_recorded_events_is_refused(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(json.dumps({**EXAMPLE, "sequence": 1}) + "\n")
    item = "  - recorded: events.jsonl\n    key: $.data.contact_id\n    sequence: $.sequence\n"
    with pytest.raises(ScenarioError, match="recorded or generated events keep their own"):
        load_project(project(tmp_path, item))


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"sequence": 3, "data": {}}, "$.sequence"),
        ({"version": 12}, "$.version"),
        ({"version": "2024-06-20"}, None),  # an API's version, not the event's number
        ({"data": {"sequence": 3}}, None),  # only at the top
        ({"seq": True}, None),
    ],
)
def test_init_guesses_a_top_level_integer_named_for_a_sequence(
    payload: dict[str, object], path: str | None
) -> None:
    found = guess_sequence(payload)
    assert (found.path if found is not None else None) == path
