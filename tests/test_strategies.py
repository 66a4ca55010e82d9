"""harness.strategies and the explicit schedule, offline: what the strategies draw and how they
shrink, the ``schedule:`` and ``reset:`` blocks of scenario YAML, a run prepared from them, and
the minimal scenario file written back."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import harness
from harness.core._scenario import FaultSpec, PlannedDelivery
from harness.engine import RunOptions, prepare
from harness.explore import write_minimal
from harness.scenario._load import load_scenario, resolve
from harness.strategies import Exploration, deliveries, explorations, fault_windows
from harness.strategies._schedules import POOL, POOL_REACH, default_pool, pool_keys

from .conftest import SECRET

KEYS = ("a", "b", "a", "b")  # events 0 and 2 are about record a, 1 and 3 about b


@given(deliveries(KEYS, max_deliveries=5, spacing=0.3))
def test_deliveries_stay_within_their_bounds(schedule: tuple[PlannedDelivery, ...]) -> None:
    assert 1 <= len(schedule) <= 5
    assert all(0 <= d.event < len(KEYS) and not d.tamper for d in schedule)
    times = [d.at for d in schedule]
    assert times == sorted(times) and times[0] == 0.0
    assert all(round(b - a, 6) in (0.0, 0.3, 0.6, 0.9) for a, b in itertools.pairwise(times))


def _shrunk(condition: object) -> tuple[PlannedDelivery, ...]:
    return find(
        deliveries(KEYS),
        condition,  # type: ignore[arg-type]
        settings=settings(max_examples=2000, database=None),
    )


def test_one_event_twice_shrinks_to_two_copies_one_after_the_other() -> None:
    shrunk = _shrunk(lambda s: len({d.event for d in s}) < len(s))
    assert shrunk == (PlannedDelivery(0, 0.0), PlannedDelivery(0, 0.3))


def test_a_race_of_copies_shrinks_to_two_concurrent_copies() -> None:
    def race(s: tuple[PlannedDelivery, ...]) -> bool:
        return any(a.event == b.event and a.at == b.at for a, b in itertools.pairwise(s))

    assert _shrunk(race) == (PlannedDelivery(0, 0.0), PlannedDelivery(0, 0.0))


def test_a_race_of_one_record_shrinks_to_two_of_its_events_at_once() -> None:
    def lost_update(s: tuple[PlannedDelivery, ...]) -> bool:
        return any(
            a.event != b.event and KEYS[a.event] == KEYS[b.event] and a.at == b.at
            for a, b in itertools.pairwise(s)
        )

    # Which record and which of its events is left to chance (a local minimum: the shrinker
    # does not move both deliveries to record a at once); what is left is the race itself.
    first, second = _shrunk(lost_update)
    assert first.event != second.event and KEYS[first.event] == KEYS[second.event]
    assert first.at == second.at == 0.0


@given(st.data())
def test_fault_windows_open_at_deliveries(data: st.DataObject) -> None:
    schedule = data.draw(deliveries(KEYS))
    windows = data.draw(fault_windows(schedule, ["api"], modes=("status", "timeout")))
    assert len(windows) <= len(schedule)
    assert {w.at for w in windows} <= {d.at for d in schedule}
    assert all(w.downstream == "api" and w.mode in ("status", "timeout") for w in windows)


def test_explorations_of_a_scenario_draw_its_first_events_and_tamper_on_request() -> None:
    (scenario,) = resolve(["duplicate-storm"])
    found = find(
        explorations(scenario, seed=3, tamper=True, faults=("status",)),
        lambda e: bool(e.faults) and any(d.tamper for d in e.schedule),
        settings=settings(max_examples=2000, database=None),
    )
    assert found == Exploration(
        (PlannedDelivery(0, 0.0, "forged"),), (FaultSpec("api", "status", 0.0, 0.3),)
    )
    assert repr(found) == "Exploration(e1@0s[forged]; status on api 0-0.3s)"


def test_a_fault_hazards_schedules_start_as_its_window_opens() -> None:
    """downstream-outage keeps its own window (10 s to 250 s): a schedule shrunk to one
    delivery is sent as it opens, not at 0 s — 50 ms of run time before it, where the
    automation's call raced the opening and the minimal file failed on a busy day only."""
    (scenario,) = resolve(["downstream-outage"])
    (window,) = scenario.faults
    found = find(explorations(scenario), lambda e: True, settings=settings(database=None))
    assert found == Exploration((PlannedDelivery(0, window.at),))
    assert repr(found) == f"Exploration(e1@{window.at:g}s)"
    late = find(
        explorations(scenario), lambda e: len(e.schedule) > 1, settings=settings(database=None)
    )
    assert [d.at for d in late.schedule] == [window.at, window.at + 0.3 / scenario.time_scale]


def test_a_bad_fault_mode_is_named() -> None:
    with pytest.raises(ValueError, match="fault mode 'outage' is not one of"):
        find(fault_windows((PlannedDelivery(0),), ["api"], modes=("outage",)), lambda _: True)


SCENARIO = """\
name: explicit
source:
  synthetic:
    example: {id: evt_1, type: order.paid, key: ord_1, amount: 5}
    events: 6
    records: 3
    over: 3s
schedule:
  - {event: 2, at: 0s}
  - {event: 2, at: 0s}
  - {event: 5, at: 500ms, tamper: forged}
reset: {post: "http://127.0.0.1:8000/reset"}
perturbations:
  - rename_field: {path: $.amount, to: total, rate: 1}
"""


def test_a_scenario_with_an_explicit_schedule_sends_exactly_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    path = tmp_path / "explicit.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    assert scenario.schedule == (
        PlannedDelivery(1, 0.0),
        PlannedDelivery(1, 0.0),
        PlannedDelivery(4, 0.5, "forged"),
    )
    assert scenario.reset == harness.ResetSpec(post="http://127.0.0.1:8000/reset")
    run = prepare(
        scenario, RunOptions.create("http://127.0.0.1:1/", seed=4, journal=tmp_path / "j")
    )
    # Only the events named are sent: two of them, renumbered in source order.
    assert len(run.events) == 2
    assert [(s.at, s.event, s.copy, s.tamper) for s in run.schedule] == [
        (0.0, 0, 0, ""),
        (0.0, 0, 1, ""),
        (0.5, 1, 0, "forged"),
    ]
    assert list(run.attempts) == [1, 2, 1]
    # The events' numbers in the source, as the schedule names them: the diagram's lanes.
    assert run.info.settings["explicit_schedule"] == [2, 5]
    assert all("total" in ev.payload for ev in run.events)  # the drift still applies


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  - rename_field:", "  - duplicate: {rate: 1}\n  - rename_field:"),
         "perturbations[0]: duplicate is not allowed beside schedule:"),
        (("{event: 5,", "{event: 7,"), "schedule[2].event: 7 is not allowed — the source has 6"),
        (("{event: 2, at: 0s}\n  - {event: 2", "{event: 0, at: 0s}\n  - {event: 2"),
         "schedule[0].event"),
        (('reset: {post: "http://127.0.0.1:8000/reset"}', "reset: {}"),
         "has neither of post and command"),
        (("tamper: forged", "tamper: bent"), "schedule[2].tamper"),
        (("reset:", "delivery: {signing: none}\nreset:"),
         "schedule[2].tamper: 'forged' is not allowed — the scenario sends unsigned"),
    ],
)  # fmt: skip
def test_bad_schedules_and_resets_are_refused_with_their_line(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace(*change))
    with pytest.raises(harness.ScenarioError) as caught:
        load_scenario(path)
    assert message in str(caught.value)
    assert f"{path}:" in str(caught.value)


def test_the_minimal_file_replays_the_same_schedule(tmp_path: Path) -> None:
    source = tmp_path / "orig.yaml"
    source.write_text(SCENARIO.replace("schedule:", "old_schedule:").split("old_schedule:")[0])
    scenario = load_scenario(source)
    found = Exploration(
        (PlannedDelivery(3, 0.0), PlannedDelivery(3, 0.0)),
        (FaultSpec("downstream", "status", 0.0, 0.3),),
    )
    written = write_minimal(scenario, found, tmp_path / "out" / "min.yaml")
    again = load_scenario(written)
    assert again.name == "explicit-minimal"
    assert again.schedule == found.schedule
    assert again.faults[-1] == FaultSpec("downstream", "status", 0.0, 0.3)
    assert "event 4 at 0s (concurrently with the one before)" in again.description


def test_the_minimal_file_names_the_original_files_wherever_it_is_written(
    tmp_path: Path,
) -> None:
    gallery = Path(__file__).resolve().parent / "gallery" / "scenarios"
    scenario = load_scenario(gallery / "stripe-checkout-explore.yaml")  # a relative recording
    found = Exploration((PlannedDelivery(0, 0.0), PlannedDelivery(0, 0.0)))
    again = load_scenario(write_minimal(scenario, found, tmp_path / "elsewhere" / "min.yaml"))
    assert isinstance(again.source, harness.RecordedSource)
    assert again.source.path == gallery / "stripe-checkouts.jsonl"
    assert again.schedule == found.schedule


@pytest.mark.parametrize(
    "events",
    [
        "  - library: stripe:checkout.session.completed\n",
        "  - recorded: {recording}\n    id: $.id\n    key: $.data.object.customer\n",
    ],
)
def test_a_hazard_over_a_project_is_written_as_it_ran(events: str, tmp_path: Path) -> None:
    """Each of the standard hazards applied to a project (a Stripe library payload, or a
    recording; Stripe's signing and retries; a crm downstream; expected effects) is written as
    the Scenario the search ran: loaded again, the same source, delivery (provider and retries
    included), downstreams, faults, model, drift and expected effects. It was the built-in's own
    file: another source, signing and downstream."""
    from harness.scenario._hazards import resolve_hazards
    from harness.scenario._project import load_project

    recording = Path(__file__).resolve().parent / "gallery" / "scenarios" / "stripe-checkouts.jsonl"
    project_file = tmp_path / "harness.yaml"
    project_file.write_text(
        "provider: stripe\nsecret_env: STRIPE_WEBHOOK_SECRET\nevents:\n"
        + events.format(recording=recording)
        + "downstreams:\n  - name: crm\n    stateful: true\n"
        + "expect: {checkout.session.completed: [POST /deals]}\n",
        encoding="utf-8",
    )
    project = load_project(project_file)
    found = Exploration((PlannedDelivery(0, 0.0), PlannedDelivery(0, 0.0)))
    for ran in resolve_hazards(["standard"], project).scenarios:
        again = load_scenario(write_minimal(ran, found, tmp_path / f"{ran.name}.yaml", project))
        drift = tuple(p for p in ran.perturbations if p.kind.endswith("_field"))
        assert (again.source, again.delivery, again.downstreams) == (
            ran.source,
            ran.delivery,
            ran.downstreams,
        ), ran.name
        assert (again.faults, again.model, again.perturbations, again.invariants) == (
            ran.faults,
            ran.model,
            drift,
            ran.invariants,
        ), ran.name
        assert [e.type for e in again.expect] == ["checkout.session.completed"], ran.name
        assert "as applied to the project " in again.description


def test_a_hazard_over_a_library_payload_without_an_id_field_is_written_as_it_ran(
    tmp_path: Path,
) -> None:
    """Attio's record.updated (the library's) carries no ``$.id``: its events are given one
    there, the default path, as a scenario's example is. The minimal file wrote ``id: $.id``
    out, and a path given is checked against the example — the file did not load ("source.
    synthetic.id: '$.id' is not allowed — the example payload has no such field"). Paths left
    at their defaults are now left out, as the project left them."""
    from harness.scenario._hazards import resolve_hazards
    from harness.scenario._project import load_project

    project_file = tmp_path / "harness.yaml"
    project_file.write_text(
        "provider: attio\nsecret_env: ATTIO_SECRET\nevents:\n"
        "  - library: attio:record.updated\n"
        "downstreams:\n  - name: billing\n    stateful: true\n",
        encoding="utf-8",
    )
    project = load_project(project_file)
    found = Exploration((PlannedDelivery(0, 0.0), PlannedDelivery(0, 0.0)))
    ran_all = resolve_hazards(["standard"], project).scenarios
    assert ran_all
    for ran in ran_all:
        again = load_scenario(write_minimal(ran, found, tmp_path / f"{ran.name}.yaml", project))
        assert (again.source, again.delivery, again.downstreams) == (
            ran.source,
            ran.delivery,
            ran.downstreams,
        ), ran.name


def test_a_hazard_over_one_of_a_projects_several_event_sources_is_written_loadable(
    tmp_path: Path,
) -> None:
    """A project of two event sources runs each hazard once per source, named hazard:type
    (duplicate-storm:invoice.paid). The minimal file was named that, with '-minimal', and a
    scenario's name is of letters, digits, '.', '_' and '-': the file did not load."""
    from harness.scenario._hazards import resolve_hazards
    from harness.scenario._project import load_project

    project_file = tmp_path / "harness.yaml"
    project_file.write_text(
        "provider: stripe\nsecret_env: STRIPE_WEBHOOK_SECRET\nevents:\n"
        "  - library: stripe:checkout.session.completed\n  - library: stripe:invoice.paid\n",
        encoding="utf-8",
    )
    project = load_project(project_file)
    found = Exploration((PlannedDelivery(0, 0.0),))
    [ran] = resolve_hazards(["duplicate-storm"], project).scenarios[1:]
    assert ran.name == "duplicate-storm:invoice.paid"
    again = load_scenario(write_minimal(ran, found, tmp_path / "minimal.yaml", project))
    assert again.name == "duplicate-storm-invoice.paid-minimal"
    assert again.source == ran.source


def test_the_default_pool_holds_two_events_of_one_record() -> None:
    """out-of-order's first four events (seed 5) are about four records: drawn from them, no
    schedule sent two events of one record, and `harness explore out-of-order` reported that
    none broke the gallery's arrival_wins, whose stale overwrites need two. The pool now
    reaches the sixth, con_00002's second."""
    (scenario,) = resolve(["out-of-order"])
    keys = pool_keys(scenario, 5, POOL_REACH)
    assert len(set(keys[:POOL])) == POOL  # the first four: four records
    assert default_pool(scenario, 5) == 6 and keys[5] in keys[:5]
    one_record = find(
        explorations(scenario, seed=5),
        lambda e: len({keys[d.event] for d in e.schedule}) < len({d.event for d in e.schedule}),
        settings=settings(database=None, derandomize=True, max_examples=1000),
    )
    assert sorted(d.event for d in one_record.schedule) == [3, 5]


def test_the_default_pool_stays_four_where_no_record_has_two_events_in_reach() -> None:
    """duplicate-storm's first sixteen events (seed 5) are about sixteen orders: its copies
    are what it searches, and four events are drawn from, as before."""
    (scenario,) = resolve(["duplicate-storm"])
    keys = pool_keys(scenario, 5, POOL_REACH)
    assert len(set(keys)) == POOL_REACH
    assert default_pool(scenario, 5) == POOL


def test_the_diagram_names_events_by_their_number_in_the_source() -> None:
    """explore's minimal schedule Exploration(e6@0s, e4@0.3s) (arrival_wins, out-of-order) was
    drawn in columns e1 and e2: the run's own order, not the numbers the schedule, the
    minimal file and every example line use. A journal written before keeps 1 to n."""
    from harness.report._sequence import diagram

    from .test_invariants import delivery, event, history

    events = [event(1, key="con_2"), event(2, key="con_2")]
    ds = [delivery("dlv_1", events[1].id, sent=0.0), delivery("dlv_2", events[0].id, sent=0.3)]
    h = history(events, ds, [])
    numbered = dataclasses.replace(h.info, settings={"explicit_schedule": [4, 6]})
    assert diagram(dataclasses.replace(h, info=numbered)).lanes == ("e4", "e6")
    older = dataclasses.replace(h.info, settings={"explicit_schedule": True})
    assert diagram(dataclasses.replace(h, info=older)).lanes == ("e1", "e2")


def test_a_pool_of_one_pair_among_nine_records_puts_the_pair_in_reverse_often() -> None:
    """tests/gallery/member_sync under `harness explore out-of-order`: ten events of nine
    records, one with two events. Drawn as any record, a schedule held that pair in about one
    example in fifty, and in reverse order in fewer: 100 examples found no stale overwrite where
    `harness run out-of-order` failed per_key_order on 5 of 10 records. Half the steps now draw
    among the records with more than one event: of 100 derandomized examples (explore's
    default), 21 send the pair's second event before its first (5 before)."""
    keys = [f"rec_{n}" for n in range(9)] + ["rec_4"]  # events 4 and 9: one record's two
    seen: list[tuple[PlannedDelivery, ...]] = []

    @settings(database=None, derandomize=True, max_examples=100)
    @given(deliveries(keys))
    def draw(schedule: tuple[PlannedDelivery, ...]) -> None:
        seen.append(schedule)

    draw()
    reversed_pair = [
        s for s in seen if 9 in (order := [d.event for d in s]) and 4 in order[order.index(9) :]
    ]
    assert len(reversed_pair) >= 12, (len(reversed_pair), len(seen))  # 5 before


@pytest.mark.parametrize("pair", [True, False], ids=["one-pair", "no-pair"])
def test_a_schedule_needing_two_records_shrinks_to_those_two_deliveries(pair: bool) -> None:
    """Event 7 sent before event 3 (two records) is all a failure needs: the shrinker must reach
    those two deliveries, whether or not the pool holds a record with two events. Drawn as a
    boolean (the pair's records, or any) and then an index whose meaning the boolean changed,
    the shrinker left a third or fourth delivery in each of 4 random orders with the pair, and in
    2 of 4 without it (where the boolean meant nothing): those two orders, 1 and 3, are the ones
    searched here (with the pair, order 0 alone shrank for 3.9 CPU-s, 2 for 1.9)."""
    keys = [f"rec_{n}" for n in range(9)] + (["rec_4"] if pair else ["rec_9"])

    def seven_then_three(schedule: tuple[PlannedDelivery, ...]) -> bool:
        order = [d.event for d in schedule]
        return 7 in order and 3 in order[order.index(7) :]

    for n in (1, 3):
        found = find(
            deliveries(keys),
            seven_then_three,
            settings=settings(database=None, max_examples=2000),
            random=random.Random(n),
        )
        assert [(d.event, d.at) for d in found] == [(7, 0.0), (3, 0.3)], (n, found)
