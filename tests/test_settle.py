"""The settle rule in real time: a Recorder with real downstream doubles on loopback, and effects
posted to them late, at chosen real times, as a target working in the background would.

* quiet and deadline are real seconds, with floors a time scale cannot go under;
* a run waits for accepted events still without an effect, but only one more quiet period,
  so a target that ignores some events by design does not make every run wait for its deadline;
* the deadline bounds everything;
* what arrives after the final state was taken is the run's late effect, kept, never judged;
* in a suite, an effect carrying an earlier run's tracer tokens goes back to that run, and a
  resource it wrote is left out of the current run's final state.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from harness.core._errors import InputError
from harness.core._model import (
    SETTLED_MARK,
    STATE_MARK,
    Delivery,
    Effect,
    Event,
    Fault,
    Model,
    Outcome,
    Status,
)
from harness.core._scenario import (
    DownstreamSpec,
    InvariantSpec,
    RecordedSource,
    Scenario,
    Settle,
    SyntheticSource,
)
from harness.double._downstream import Downstream
from harness.drive._schedule import delivery_id
from harness.drive._slots import Planned
from harness.engine import PreparedRun, Recorder, RunOptions, _settle, prepare, settle_for
from harness.engine._baseline import PendingAsJudged
from harness.engine._late import EarlierRuns
from harness.engine._settle import Settled, wait_quiet
from harness.explore._search import example_options
from harness.history import History, Journal, Mark, RunInfo, load
from harness.invariants import judge
from harness.invariants._timing import compression
from harness.report import html, markdown
from harness.report._content import RunInput, build_report
from harness.scenario._load import resolve

from .conftest import SECRET
from .doubles import started

pytestmark = pytest.mark.integration


def scenario(
    settle: Settle, *, time_scale: float | None = None, stateful: bool = False
) -> Scenario:
    """Four payments, no perturbation or fault, one downstream ``api``."""
    base = resolve(["duplicate-storm"])[0]
    assert isinstance(base.source, SyntheticSource)
    return replace(
        base,
        source=replace(base.source, events=4, records=4),
        perturbations=(),
        faults=(),
        downstreams=(DownstreamSpec("api", stateful=stateful),),
        settle=settle,
        time_scale=time_scale,
    )


def options(tmp_path: Path, **more: float) -> RunOptions:
    return RunOptions.create(
        "http://127.0.0.1:9/hooks",
        seed=1,
        downstream="127.0.0.1:0",
        journal=tmp_path / "journal.db",
        **more,  # type: ignore[arg-type]
    )


def accept_all(recorder: Recorder, prepared: PreparedRun) -> None:
    """Every event delivered once and answered 200 (no target: the test plays it)."""
    for n in range(len(prepared.schedule)):
        recorder.delivery(prepared.delivery(n, 0.0, 0.001, 200))


def answered(planned: Planned, attempt: int = 1) -> Delivery:
    """A delivery of ``planned`` sent at 0 s and answered 200 a millisecond later, as the
    Deliverer records it."""
    return Delivery(
        delivery_id(planned.n), planned.event_id, attempt, 0.0, 0.0, 0.001, 200, Outcome.OK
    )


async def post_later(url: str, events: Sequence[Event], delays: Sequence[float]) -> None:
    """POST /payouts naming each event, ``delays[i]`` real seconds after the one before."""
    async with aiohttp.ClientSession() as client:
        for event, delay in zip(events, delays, strict=True):
            await asyncio.sleep(delay)
            async with client.post(f"{url}/payouts", json={"event": event.id}) as answer:
                assert answer.status == 201


def settled(recorder: Recorder) -> dict[str, object]:
    history = load(recorder.journal.path, recorder.info.run_id)
    [mark] = [m for m in history.marks if m.name == SETTLED_MARK]
    found: dict[str, object] = json.loads(mark.detail)
    return found


# --- the rule: real seconds, floors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("settle", "scale", "expected"),
    [
        (Settle(1.0, 20.0), 0.01, Settle(1.0, 20.0)),  # floors: the target is not compressed
        (Settle(2.0, 120.0), 0.05, Settle(1.0, 20.0)),  # the gallery's queue: 1 s, not 0.1 s
        (Settle(0.3, 3.0), 0.01, Settle(0.3, 3.0)),  # a value under a floor is taken as written
        (Settle(240.0, 1200.0), 0.005, Settle(1.2, 20.0)),  # downstream-outage
        (Settle(60.0, 3600.0), 0.02, Settle(1.2, 72.0)),
        (Settle(1.0, 20.0), 1.0, Settle(1.0, 20.0)),
    ],
)
def test_settle_times_are_real_seconds_with_floors(
    settle: Settle, scale: float, expected: Settle
) -> None:
    got = settle_for(settle, scale)
    assert (got.quiet, got.deadline) == (pytest.approx(expected.quiet), expected.deadline)


def test_flags_replace_the_scenarios_settle_unscaled(tmp_path: Path) -> None:
    both = options(tmp_path, settle_quiet=5, settle_deadline=60)
    assert settle_for(Settle(240.0, 1200.0), 0.005, both) == Settle(5.0, 60.0)
    # A quiet above the scenario's deadline lifts the deadline with it; a deadline given alone
    # is kept as given.
    assert settle_for(Settle(1.0, 3.0), 1.0, options(tmp_path, settle_quiet=4)) == Settle(4, 4)
    assert settle_for(Settle(1.0, 30.0), 1.0, options(tmp_path, settle_deadline=9)).deadline == 9


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"settle_quiet": 0}, "--settle-quiet: settle time 0 is not usable"),
        ({"settle_quiet": -2.0}, "--settle-quiet: settle time -2.0 is not usable"),
        ({"settle_deadline": float("nan")}, "--settle-deadline: settle time nan is not usable"),
        ({"settle_deadline": float("inf")}, "--settle-deadline: settle time inf is not usable"),
        (
            {"settle_quiet": 5, "settle_deadline": 2},
            "--settle-deadline: the deadline 2 s is shorter than the quiet period 5 s",
        ),
    ],
)
def test_unusable_settle_times_are_refused(
    tmp_path: Path, given: dict[str, float], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        options(tmp_path, **given)
    assert str(caught.value).startswith(message)
    assert "hint: " in str(caught.value)


# --- settling, in real time -----------------------------------------------------------------


async def test_a_compressed_run_still_waits_a_real_second_of_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At time scale 0.02 the scenario's 1 s of quiet would be 20 ms: effects 0.5 s apart, as a
    background queue makes them, must all be seen."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(1.0, 20.0), time_scale=0.02), options(tmp_path))
    assert run.settle == Settle(1.0, 20.0)
    recorder = Recorder(run, options(tmp_path))
    [url] = await recorder.start()
    accept_all(recorder, run)
    posting = asyncio.create_task(post_later(url, run.events, [0.5] * 4))
    await recorder.settle()
    await posting
    await recorder.stop("complete")
    history = load(recorder.journal.path, recorder.info.run_id)
    assert len(history.effects) == 4 and not history.late_effects
    assert settled(recorder)["ended"] == "quiet"


async def test_pending_events_are_waited_for_one_more_quiet_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quiet 0.4 s: the last event's effect comes 0.6 s after the one before — past the quiet,
    within twice it — and is waited for, because its event was accepted and had none."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(0.4, 10.0)), options(tmp_path))
    recorder = Recorder(run, options(tmp_path))
    [url] = await recorder.start()
    accept_all(recorder, run)
    assert recorder.pending() == {ev.id for ev in run.events}
    posting = asyncio.create_task(post_later(url, run.events, [0.05, 0.05, 0.05, 0.6]))
    await recorder.settle()
    await posting
    assert recorder.pending() == frozenset()
    await recorder.stop("complete")
    assert len(load(recorder.journal.path, recorder.info.run_id).effects) == 4
    assert settled(recorder)["ended"] == "quiet"


async def test_a_streamed_runs_accepted_events_are_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed run keeps its accepted events as one flag per event made; settling gets the
    events back, and waits for those still without an effect."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(0.3, 20.0)), options(tmp_path), stream=True)
    assert run.feed is not None
    recorder = Recorder(run, options(tmp_path))
    [url] = await recorder.start()
    assert recorder.pending() == frozenset()  # nothing made, nothing accepted
    for slots in run.feed.sends(run.slots(), recorder.made):  # one slot an event
        for planned in slots.rows():
            recorder.delivery(answered(planned))
    assert recorder.pending() == {ev.id for ev in run.events} and len(run.events) == 4
    await post_later(url, run.events[:3], [0, 0, 0])
    assert recorder.pending() == {run.events[3].id}
    await recorder.stop("complete")


async def test_an_event_ignored_by_design_costs_one_quiet_period_not_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(0.3, 20.0)), options(tmp_path))
    recorder = Recorder(run, options(tmp_path))
    [url] = await recorder.start()
    accept_all(recorder, run)
    await post_later(url, run.events[:3], [0, 0, 0])  # the fourth event is never acted on
    began = time.monotonic()
    await recorder.settle()
    waited = time.monotonic() - began
    await recorder.stop("complete")
    assert 0.55 <= waited < 2.0, waited  # about twice the quiet; the deadline is 20 s
    found = settled(recorder)
    assert found["ended"] == "pending" and found["pending"] == 1


async def test_a_stricter_pending_rule_plugs_into_the_recorder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seam expected effects use: a rule of (accepted events, effects so far, each
    event's first send)."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(0.3, 20.0)), options(tmp_path))
    seen: list[tuple[int, int]] = []

    def two_each(
        accepted: Sequence[Event], effects: Sequence[Effect], first_sent: Mapping[str, float]
    ) -> set[str]:
        seen.append((len(accepted), len(effects)))
        assert first_sent.keys() >= {ev.id for ev in accepted}
        counts = {ev.id: sum(ev.id in e.event_ids for e in effects) for ev in accepted}
        return {eid for eid, n in counts.items() if n < 2}

    recorder = Recorder(run, options(tmp_path), pending=two_each)
    [url] = await recorder.start()
    accept_all(recorder, run)
    await post_later(url, run.events, [0, 0, 0, 0])  # one effect each: all still pending
    await recorder.settle()
    await recorder.stop("complete")
    assert settled(recorder)["pending"] == 4
    assert seen and seen[-1] == (4, 4)


async def test_settling_waits_for_what_the_verdict_will_owe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clean run, one payment at a time, paid out for the first and the last and left the
    two between alone: skipped by design, or lost there. Here the second one is paid out too,
    so the automation does not skip such payments and ``no_lost_events`` owes the third its
    payout (``_expected.learn``). Settling learns it as the verdict will, this run's writes
    included: it waits for the third payout, 0.45 s after the second — past the 0.3 s quiet —
    instead of calling it lost when it comes after the run has ended. (Left alone last, after
    every paid one, they would be owed from the start: held, test_stuck_tail.py.)"""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(0.3, 20.0)), options(tmp_path))
    twins = [replace(ev, id=f"evt_clean{ev.seq}") for ev in run.events]
    paid = [run.events[0], run.events[3]]
    clean = History(
        replace(run.info, run_id="run@clean", tracer_tag="clean", settings={}),
        twins,
        [
            Delivery(f"d{e.seq}", e.id, 1, e.seq, e.seq, e.seq + 0.01, 200, Outcome.OK)
            for e in twins
        ],
        [
            Effect(f"x{e.seq}", "api", e.seq + 0.1, "POST", "/payouts", {}, "{}", 201, (e.id,))
            for e in (twins[0], twins[3])
        ],
    )
    info = replace(run.info, settings={**run.info.settings, "baseline": "run@clean"})
    run = replace(run, info=info)
    recorder = Recorder(
        run, options(tmp_path), pending=PendingAsJudged(info, lambda: run.events, clean)
    )
    [url] = await recorder.start()
    accept_all(recorder, run)
    await post_later(url, paid, [0, 0])
    assert recorder.pending() == frozenset()  # the clean run's silence, so far, is design
    posting = asyncio.create_task(post_later(url, run.events[1:3], [0.05, 0.45]))
    await recorder.settle()
    await recorder.stop("complete")  # as a run ends: its final state, then the doubles stop
    posting.cancel()
    await asyncio.gather(posting, return_exceptions=True)
    history = load(recorder.journal.path, recorder.info.run_id)
    assert len(history.effects) == 4, settled(recorder)
    history.baseline = clean
    [verdict] = judge(history, [InvariantSpec("no_lost_events")])
    assert verdict.status is Status.PASS, verdict.summary


async def test_the_deadline_ends_a_target_that_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(0.3, 0.8)), options(tmp_path))
    recorder = Recorder(run, options(tmp_path))
    [url] = await recorder.start()
    accept_all(recorder, run)
    events = [run.events[0]] * 12  # a call every 0.1 s for 1.2 s: never quiet for 0.3 s
    posting = asyncio.create_task(post_later(url, events, [0.1] * 12))
    began = time.monotonic()
    await recorder.settle()
    waited = time.monotonic() - began
    posting.cancel()
    await recorder.stop("complete")
    assert 0.75 <= waited < 1.1, waited
    found = settled(recorder)
    assert found["ended"] == "deadline" and found["pending"] == 3
    assert isinstance(found["idle"], float) and found["idle"] < 0.3  # still working


async def test_a_call_held_open_while_settling_sleeps_counts_from_its_answer() -> None:
    """Settling sleeps until its quiet would be reached, not looking at the doubles meanwhile;
    a call that arrives wakes it (``Downstream.woken``), so that a call held open (a slow
    answer, 0.6 s) and answered before that point still counts from its answer, not from its
    arrival: the quiet (1 s) ends after the answer, as when the wait looked every 50 ms."""
    begun = time.monotonic()

    def clock() -> float:
        return time.monotonic() - begun

    slow = Fault("crm", "slow", 0.0, 60.0, {"latency": 0.6})
    async with started(DownstreamSpec(name="crm"), clock=clock, faults=[slow]) as (
        double,
        _,
        session,
    ):

        async def call() -> float:
            async with session.post("/contacts", json={"name": "Ada"}) as response:
                await response.read()
            return clock()

        calling = asyncio.create_task(call())
        found = await wait_quiet(clock, [double], Settle(1.0, 10.0))
        answered = await calling
    assert found.ended == "quiet", found
    # Counted from the answer, within one look while it was held (quiet / 4 at most): from
    # the call's arrival it would have ended about 0.6 s sooner, before answered + 0.4.
    assert found.waited >= answered + 1.0 - 0.25, (found, answered)


async def test_effects_after_the_final_state_are_late_kept_and_not_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``drain``: the doubles keep listening until the target is quiet; what they get is the
    run's late effects."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    run = prepare(scenario(Settle(1.0, 1.5)), options(tmp_path))
    recorder = Recorder(run, options(tmp_path))
    [url] = await recorder.start()
    accept_all(recorder, run)
    # The fourth comes at 1.7 s: after the deadline (1.5 s), within the quiet of the third.
    posting = asyncio.create_task(post_later(url, run.events, [0.3, 0.3, 0.3, 0.8]))
    await recorder.settle()
    await recorder.stop("complete", drain=True)
    await posting
    history = load(recorder.journal.path, recorder.info.run_id)
    assert [e.event_ids for e in history.effects] == [(ev.id,) for ev in run.events[:3]]
    [late] = history.late_effects
    assert late.event_ids == (run.events[3].id,) and late.at > (history.ended_at or 0)
    judged = recorder.judge()
    lost = {v.invariant: v for v in judged.verdicts}["no_lost_events"]
    assert not lost.passed and run.events[3].id in lost.evidence.event_ids


@pytest.fixture
def unslept(monkeypatch: pytest.MonkeyPatch) -> None:
    """``wait_quiet`` on a clock of the test's own, ticks that move only when read: between two
    looks it slept real seconds that clock never sees, what was left of the quiet each time
    (36 s for the pending test's 3 s of ticks, 4.5 s for the drain's 1 s). With no double to
    wake it, that clock alone decides the wait: the sleep ends at once."""

    async def at_once(doubles: Sequence[Downstream], seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(_settle, "_until_a_call", at_once)


@pytest.mark.usefixtures("unslept")
async def test_a_drain_counts_the_quiet_its_settling_already_saw() -> None:
    """The drain before the next run of a suite waits for the settle quiet on the run's clock.
    From ``since`` (when settling began to count) nothing came for 1.5 s: quiet already; from
    now, as a wait of its own, it takes the whole quiet."""
    ticks = iter(x / 10 for x in range(100, 200))  # the run's clock: 10.0, 10.1, ...
    settle = Settle(1.0, 20.0)
    assert await wait_quiet(lambda: 10.0, [], settle, since=8.5) == Settled("quiet", 0, 0, 1.5)
    own = await wait_quiet(lambda: next(ticks), [], settle)
    assert own.ended == "quiet" and own.waited == pytest.approx(1.0)


@pytest.mark.usefixtures("unslept")
async def test_a_run_may_wait_longer_for_a_pending_effect_than_twice_its_quiet(
    tmp_path: Path,
) -> None:
    """Explore's examples settle on 0.5 s of quiet, but wait 3 s of it while an accepted event
    still lacks its effect: a target that holds an event (the sound demo: 2 s for a ledger gap)
    acts on it inside the run, whatever the example before left running."""
    settle = Settle(0.5, 10.0)

    def clock() -> Callable[[], float]:
        ticks = iter(x / 10 for x in range(200))  # the run's clock: 0.0, 0.1, ...
        return lambda: next(ticks)

    default = await wait_quiet(clock(), [], settle, lambda: {"evt_1"})
    assert default.ended == "pending" and default.idle == pytest.approx(1.0)
    longer = await wait_quiet(clock(), [], settle, lambda: {"evt_1"}, pending_quiet=3.0)
    assert longer.ended == "pending" and longer.idle == pytest.approx(3.0)
    # Explore's examples ask for it, unless the user gave a quiet of their own.
    assert example_options(options(tmp_path), tmp_path / "j.db").settle_pending == 3.0
    given = example_options(options(tmp_path, settle_quiet=2), tmp_path / "j.db")
    assert given.settle_pending is None and given.settle_quiet == 2


# --- a suite: effects of an earlier run arrive during the next ------------------------------


async def two_runs(
    scenario: Scenario, opts: RunOptions, earlier: EarlierRuns
) -> tuple[PreparedRun, PreparedRun]:
    """Two runs of ``scenario`` into one journal, one after the other: the first acts on two
    of its four events in time, then, during the second, on its two last — late — before the
    second's own four."""
    journal = Journal(opts.journal)
    first = prepare(scenario, opts)
    one = Recorder(first, opts, journal, earlier=earlier)
    [url] = await one.start()
    accept_all(one, first)
    await post_later(url, first.events[:2], [0, 0])
    await one.settle()
    await one.stop("complete")
    second = prepare(scenario, opts)
    two = Recorder(second, opts, journal, earlier=earlier)
    [url] = await two.start()
    accept_all(two, second)
    await post_later(url, [*first.events[2:], *second.events], [0] * 6)
    await two.settle()
    await two.stop("complete")
    journal.close()
    return first, second


async def test_an_earlier_runs_effect_goes_back_to_it_and_out_of_the_next_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    opts = options(tmp_path)
    earlier = EarlierRuns()
    first, second = await two_runs(scenario(Settle(0.2, 5.0), stateful=True), opts, earlier)
    mine = load(opts.journal, second.info.run_id)
    assert [e.event_ids for e in mine.effects] == [(ev.id,) for ev in second.events]
    assert all(second.info.tracer_tag in json.dumps(r.body) for r in mine.states)
    assert len(mine.states) == 4
    [state] = [m.detail for m in mine.marks if m.name == STATE_MARK]
    assert state == "api: 4 resources (2 of earlier runs left out)"
    theirs = load(opts.journal, first.info.run_id)
    assert len(theirs.effects) == 2
    assert [(e.id, e.event_ids) for e in theirs.late_effects] == [
        (f"eff_{n}@{second.info.tracer_tag}", (ev.id,)) for n, ev in enumerate(first.events[2:], 1)
    ]
    # On the first run's clock: after it ended.
    assert all(e.at > (theirs.ended_at or 0) for e in theirs.late_effects)
    assert earlier.touched == {first.info.run_id}


async def test_a_recordings_late_effect_goes_back_to_its_run_by_the_ids_it_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording replays with ids of each run's own and no tokens: an earlier run's last
    writes, made during the next run, name that run's ids. They went into the next run as
    effects naming nothing of it (and its state), where they now go back to their run."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    lines = tmp_path / "orders.jsonl"
    lines.write_text(
        "".join(
            json.dumps({"id": f"evt_1PgcOrder{n:04d}Paid", "key": f"ord_7Qx9Recorded{n:04d}"})
            + "\n"
            for n in range(4)
        )
    )
    recorded = replace(
        scenario(Settle(0.2, 5.0), stateful=True),
        source=RecordedSource(lines, id_path="$.id", key_path="$.key", over=1.0),
    )
    opts = options(tmp_path)
    first, second = await two_runs(recorded, opts, EarlierRuns())
    assert first.events[0].id != "evt_1PgcOrder0000Paid"  # its own
    mine = load(opts.journal, second.info.run_id)
    assert [e.event_ids for e in mine.effects] == [(ev.id,) for ev in second.events]
    [state] = [m.detail for m in mine.marks if m.name == STATE_MARK]
    assert state == "api: 4 resources (2 of earlier runs left out)"
    theirs = load(opts.journal, first.info.run_id)
    assert [e.event_ids for e in theirs.late_effects] == [(ev.id,) for ev in first.events[2:]]


async def test_a_late_effect_goes_back_to_a_run_of_an_earlier_call_into_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``harness explore``'s examples: each run in a call of its own, with a Journal of its
    own on one file, one EarlierRuns across them. The journal opened again knows the first
    run, so the first run's last write, made during the second, goes back to it."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    opts = options(tmp_path)
    earlier = EarlierRuns()
    first = prepare(scenario(Settle(0.2, 5.0)), opts)
    one = Recorder(first, opts, earlier=earlier)  # opens the journal, and closes it in stop
    [url] = await one.start()
    accept_all(one, first)
    await post_later(url, first.events[:3], [0, 0, 0])
    await one.settle()
    await one.stop("complete")

    second = prepare(scenario(Settle(0.2, 5.0)), opts)
    two = Recorder(second, opts, earlier=earlier)
    [url] = await two.start()
    accept_all(two, second)
    await post_later(url, [first.events[3], *second.events], [0] * 5)
    await two.settle()
    await two.stop("complete")

    mine = two.judge()
    assert [e.event_ids for e in mine.history.effects] == [(ev.id,) for ev in second.events]
    assert all(v.status is not Status.FAIL for v in mine.verdicts), mine.verdicts
    theirs = load(opts.journal, first.info.run_id)
    assert [e.event_ids for e in theirs.late_effects] == [(first.events[3].id,)]
    assert earlier.touched == {first.info.run_id}


# --- what the verdicts and the report say ---------------------------------------------------


def _compressed(scale: float, sends: int, over: float) -> History:
    """``sends`` deliveries, one event each, planned and sent evenly over ``over`` run seconds."""
    events = [Event(f"evt_{i}", f"ord_{i}", i, "order.paid", 0.0, {}) for i in range(sends)]
    step = over / (sends - 1)
    deliveries = [
        Delivery(f"dlv_{i}", f"evt_{i}", 1, i * step, i * step, i * step + 0.002, 200, Outcome.OK)
        for i in range(sends)
    ]
    info = RunInfo(
        "burst@zqtst",
        "burst",
        1,
        "http://127.0.0.1:8000/h",
        "t",
        Model.LEDGER,
        (InvariantSpec("ack_within", {"seconds": 1.0}),),
        "2026-01-01T00:00:00+00:00",
        "zqtst",
        settings={"time_scale": scale, "settle": {"quiet": 1.0, "deadline": 20.0}},
    )
    return History(info, events, deliveries, [], ended_at=over + 1.0)


def test_a_compressed_run_says_the_rate_it_actually_sent() -> None:
    history = _compressed(0.025, 30, 0.5)
    expected = (
        "compressed run: 30 events over 20 s of scenario time were sent in 0.5 s: 60/s, "
        "time scale 0.025"
    )
    assert compression(history) == expected
    [acks] = judge(history, history.info.invariants)  # the ack check alone
    assert acks.passed and acks.summary.endswith("; " + expected)
    assert compression(_compressed(1.0, 30, 0.5)) == ""


def test_a_slow_ack_under_compression_says_which_pace_was_judged() -> None:
    """Slow acks queued behind earlier deliveries: a backlog the compressed pace can have
    built (tests/test_slow_acks.py has the other causes)."""
    history = _compressed(0.025, 30, 0.5)
    for i, latency in ((3, 0.9), (4, 1.5), (5, 1.5)):  # 4 and 5 queued behind 3
        d = history.deliveries[i]
        history.deliveries[i] = replace(d, answered_at=d.sent_at + latency)
    [acks] = judge(history, history.info.invariants)  # the ack check alone
    assert not acks.passed
    assert "compressed run: 30 events over 20 s" in acks.summary
    assert "run with --time-scale 1 to judge the acks at it" in acks.summary


def test_the_report_says_how_the_run_settled_what_came_late_and_the_pace() -> None:
    history = _compressed(0.025, 30, 0.5)
    ended = Settled("deadline", 20.0, 2, 0.1)
    history.marks.append(Mark(20.5, SETTLED_MARK, ended.detail()))
    late = Effect("eff_31@zqnxt", "api", 23.0, "POST", "/payouts", {}, "{}", 201, ("evt_7",))
    history.late_effects.append(late)
    content = build_report([RunInput(history, judge(history))], environ={})
    [target] = content.targets
    [s] = target.scenarios
    done = "\n".join(s.done)
    assert (
        "it stopped at the deadline, after 20 s, the target still working (its last call "
        "100 ms before), with 2 accepted events still without an effect: they may be late "
        "rather than lost; raise --settle-deadline" in done
    )
    assert (
        "1 effect arrived after settling, once the run's final state was taken, for 1 event "
        "(evt_7): POST /payouts eff_31@zqnxt." in done
    )
    assert "Compressed run: 30 events over 20 s of scenario time were sent in 0.5 s" in done
    md = markdown.render(content)
    assert "Timeline in wall time: compressed run: 30 events over 20 s" in md
    page = html.render(content)
    assert "of wall time (compressed run: 30 events over 20 s" in page
