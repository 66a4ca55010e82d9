"""A register's record whose newest accepted event made nothing and was owed nothing, its
writes all before it (``_newest.unowed_newest``): not known only where that event changes a value
the record's last write holds — a value of the same name, or text an older event alone carried."""

from __future__ import annotations

import json
from typing import Any

from harness.core._model import Effect, Event, Model, Status

from .test_expected import clean_run, lost, ok, run

PATH = "/contacts/{id}"


def update(tag: str, seq: int, key: int, **payload: Any) -> Event:
    return Event(f"evt_{tag}e{seq}", f"cus_{tag}k{key}", seq, "contact.updated", 0.0, payload)


def put(event: Event, at: float, **body: Any) -> Effect:
    return Effect(
        f"eff_{event.id}", "crm", at, "PUT", f"/contacts/{event.key}", {}, json.dumps(body), 200,
        (event.id,), event.key,
    )  # fmt: skip


def updates(tag: str) -> list[Event]:
    """Two customers' lifecycle stage and then a note count changing, the stage not."""
    return [
        update(tag, 0, 0, stage="lead", notes=1),
        update(tag, 1, 0, stage="lead", notes=2),
        update(tag, 2, 1, stage="customer", notes=1),
        update(tag, 3, 1, stage="customer", notes=2),
    ]


def test_a_sync_of_one_field_skipping_an_update_that_changes_another_is_passed() -> None:
    """The sync writes a customer's stage, with its own schema version 1, when the stage
    changes: an update of the note count alone is nothing to write, in both runs. The version's
    1 is no note count of 1 held: the newest update changes nothing the write holds."""
    twins, events = updates("zqclean"), updates("zqrun")
    settings = {"routes": {"crm": [f"PUT {PATH}"]}}
    clean = clean_run(
        twins,
        [put(e, float(n) + 0.5, stage=e.payload["stage"], version=1) for n, e in enumerate(twins)
         if n % 2 == 0],
        model=Model.REGISTER, settings=settings,
    )  # fmt: skip
    h = run(
        events,
        [ok(e, at=float(n)) for n, e in enumerate(events)],
        [put(e, float(n) + 0.5, stage=e.payload["stage"], version=1)
         for n, e in enumerate(events) if n % 2 == 0],
        tag="zqrun", baseline=clean, model=Model.REGISTER, settings=settings,
    )  # fmt: skip
    v = lost(h)
    assert v.status is Status.PASS, v.summary


def test_a_count_the_write_holds_under_its_name_left_on_its_older_value_is_not_passed() -> None:
    """The same sync writing the note count too, skipping the update that changes it: the
    write holds notes 1 where the newest update says 2 — dropped in both runs or ignored by
    design, not known."""
    twins, events = updates("zqclean"), updates("zqrun")
    settings = {"routes": {"crm": [f"PUT {PATH}"]}}

    def writes(of: list[Event]) -> list[Effect]:
        return [
            put(e, float(n) + 0.5, stage=e.payload["stage"], notes=e.payload["notes"])
            for n, e in enumerate(of)
            if n % 2 == 0
        ]

    clean = clean_run(twins, writes(twins), model=Model.REGISTER, settings=settings)
    h = run(
        events,
        [ok(e, at=float(n)) for n, e in enumerate(events)],
        writes(events),
        tag="zqrun", baseline=clean, model=Model.REGISTER, settings=settings,
    )  # fmt: skip
    v = lost(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "holds $.notes '1', its newest event '2'" in v.summary, v.summary
