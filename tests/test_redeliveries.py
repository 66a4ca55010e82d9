"""Recorded lines that share an event id are one Event delivered several times (issue #11,
point 6): planned as slots of that event at their recorded offsets, one tracer token, a clean
baseline that sends it once; judged so that a receiver that drops redeliveries passes and one
that acts on each fails no_duplicate_effects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core._scenario import (
    DeliverySpec,
    Perturbation,
    RecordedSource,
    Scenario,
    TracerSpec,
)
from harness.drive._perturb import plan
from harness.drive._sources import recorded
from harness.engine._baseline import prepare_baseline
from harness.engine._options import RunOptions
from harness.engine._prepare import prepare

from .conftest import SECRET, Automation
from .conftest import harness as harness_cli

START = 1_767_225_600  # 2026-01-01T00:00:00Z


def order(n: int, record: int, sequence: int) -> dict[str, Any]:
    """An ``order.paid`` event the demo automations understand."""
    return {
        "id": f"evt_{n}",
        "type": "order.paid",
        "occurred_at": "2026-01-01T00:00:00Z",
        "sequence": sequence,
        "data": {
            "order_id": f"ord_{record}",
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "amount": 1000 + n,
            "currency": "usd",
            "note": "first order of the day",
        },
    }


def export(folder: Path) -> Path:
    """Twelve orders on six records, 1 s apart; evt_2, evt_5 and evt_9 delivered again 3 s and
    6 s later (two extra lines each): 18 lines, as a provider's delivery log holds them."""
    events = [order(n, (n + 1) // 2, 2 - n % 2) for n in range(1, 13)]
    lines: list[tuple[float, dict[str, Any]]] = [(float(n), ev) for n, ev in enumerate(events)]
    for n in (2, 5, 9):
        lines += [(n - 1 + 3.0, events[n - 1]), (n - 1 + 6.0, events[n - 1])]
    lines.sort(key=lambda line: line[0])
    path = folder / "orders.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": ev["id"],
                    "key": ev["data"]["order_id"],
                    "type": ev["type"],
                    "occurred_at": START + at,
                    "payload": ev,
                }
            )
            + "\n"
            for at, ev in lines
        )
    )
    return path


def test_a_redelivery_is_a_slot_of_its_event_at_its_recorded_offset(tmp_path: Path) -> None:
    stream = recorded(RecordedSource(export(tmp_path)))
    assert len(stream.events) == 12 and len(stream.redeliveries) == 6
    schedule = plan(stream.events, (), seed=1, redeliveries=stream.redeliveries)
    evt_2 = [(s.at, s.copy, s.why) for s in schedule if s.event == 1]
    assert evt_2 == [(1.0, 0, ""), (4.0, 1, "redelivered"), (7.0, 2, "redelivered")]
    assert len(schedule) == 18
    # duplicate picks originals only: a redelivery is not duplicated again
    doubled = plan(
        stream.events, (Perturbation("duplicate", {"rate": 1.0}),), 1, stream.redeliveries
    )
    assert len(doubled) == 18 + 12


def test_prepare_traces_one_token_per_event_and_the_baseline_sends_it_once(
    tmp_path: Path,
) -> None:
    source = RecordedSource(export(tmp_path))
    # Its short ids (evt_1) are labels, not ids an effect could be matched by: traced.
    scenario = Scenario(
        "redelivered",
        source,
        delivery=DeliverySpec(signing="none"),
        tracer=TracerSpec(rewrite=True),
    )
    options = RunOptions.create("http://127.0.0.1:9/hooks", seed=1, journal=tmp_path / "j.db")
    prepared = prepare(scenario, options)
    assert len(prepared.events) == 12 and len(prepared.schedule) == 18
    ids = {prepared.events[s.event].id for s in prepared.schedule if s.event == 1}
    assert len(ids) == 1 and prepared.tracer.tag in ids.pop()
    attempts = dict(zip(prepared.schedule, prepared.attempts, strict=True))
    assert sorted(a for s, a in attempts.items() if s.event == 1) == [1, 2, 3]
    assert prepared.info.settings["redeliveries"] == {
        "file": "orders.jsonl",
        "events": 3,
        "deliveries": 6,
        "differing": [],
        "differing_count": 0,
    }
    baseline = prepare_baseline(prepared, options)
    assert [s.event for s in baseline.schedule] == list(range(12))


# --- real runs: the demo automations as receivers ----------------------------------------------


def scenario_file(folder: Path, redeliveries: str | None = None) -> Path:
    export(folder)
    extra = f"    redeliveries: {redeliveries}\n" if redeliveries else ""
    path = folder / "redelivered.scenario.yaml"
    path.write_text(
        "name: redelivered\n"
        "model: ledger\n"
        "source:\n"
        "  recorded:\n"
        "    file: orders.jsonl\n"
        "    key: $.data.order_id\n"
        "    type: $.type\n" + extra + "time_scale: 0.25\n"
        # Short ids (evt_1) no effect could be matched by as recorded: traced.
        "tracer: {rewrite: true}\n"
        "invariants: [no_lost_events, no_duplicate_effects]\n"
        "downstreams:\n"
        "  - name: api\n"
        "    routes: [{method: POST, path: /payouts, status: 201}]\n"
        "settle: {quiet: 2s, deadline: 20s}\n"
    )
    return path


def run(automation: Automation, scenario: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """``harness run`` the scenario: its exit code and its run's verdicts by name (the run's
    report, as JSON, under the key ``""``)."""
    report = tmp_path / "report.json"
    done = harness_cli(
        "run",
        str(scenario),
        "--target",
        automation.hook,
        "--downstream",
        f"127.0.0.1:{automation.downstream_port}",
        "--seed",
        "3",
        "--report",
        str(report),
        "--journal",
        str(tmp_path / "j.db"),
        env={"HARNESS_SECRET": SECRET},
    )
    assert report.exists(), done.out + done.err
    [only] = json.loads(report.read_text())["runs"]
    return done.code, {"": only, **{v["invariant"]: v for v in only["verdicts"]}}


def said(verdict: dict[str, Any]) -> str:
    return "\n".join([verdict["summary"], *verdict["evidence"]["lines"]])


@pytest.mark.integration
def test_a_receiver_that_drops_redeliveries_passes(sound: Automation, tmp_path: Path) -> None:
    code, found = run(sound, scenario_file(tmp_path), tmp_path)
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert found[name]["status"] == "pass", said(found[name])
    assert "12 effects over 12 events" in found["no_duplicate_effects"]["summary"]
    assert found[""]["counts"]["events"] == 12 and found[""]["counts"]["deliveries"] == 18
    assert (
        "The recorded file orders.jsonl delivered 3 events more than once (6 redeliveries), "
        "sent again at their recorded times."
    ) in found[""]["done"]
    assert code == 0


@pytest.mark.integration
def test_a_receiver_that_acts_on_each_redelivery_fails_no_duplicate_effects(
    fragile: Automation, tmp_path: Path
) -> None:
    code, found = run(fragile, scenario_file(tmp_path), tmp_path)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "fail", said(dup)
    assert len(dup["evidence"]["events"]) == 3
    assert any("was delivered 3 times" in line for line in dup["evidence"]["lines"]), said(dup)
    assert code == 1


@pytest.mark.integration
def test_separate_keeps_each_line_an_event_of_its_own(fragile: Automation, tmp_path: Path) -> None:
    """Today's behaviour, on request — and why it is not the default: each line is an event
    with a tracer token of its own, so the receiver that pays every redelivery looks sound."""
    code, found = run(fragile, scenario_file(tmp_path, "separate"), tmp_path)
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "pass", said(dup)
    assert "18 effects over 18 events" in dup["summary"]
    assert code == 0
