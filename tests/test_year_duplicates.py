"""A year's `duplicates` life event: every month, a share of the deliveries sent twice, each copy
at the sender's first retry (its ack lost on the way back) — so a year tests idempotency in each
month, not only on the day of its retry storm (docs/year.md#life-events). The plan is checked
directly; a real process (the fragile demo, which writes once per delivery) fails
no_duplicate_effects in January, a month with no other life event that sends an event twice."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harness.core._calendar import CalendarSpec, LifeEvent
from harness.core._errors import ScenarioError
from harness.core._model import Status
from harness.core._providers import PROVIDERS
from harness.core._scenario import Scenario
from harness.history import load, run_infos
from harness.invariants import judge
from harness.scenario._load import load_scenario, resolve
from harness.year import plan_year
from harness.year._life import DUPLICATE_SHARE, UNKNOWN_COPY_DELAY

from .conftest import Automation, Completed, harness_process


def year_template(provider: str | None = None) -> Scenario:
    (scenario,) = resolve(["year"])
    scenario = replace(scenario, calendar=None)
    if provider is not None:
        delivery = replace(scenario.delivery, provider=PROVIDERS[provider], signing=provider)
        scenario = replace(scenario, delivery=delivery)
    return scenario


def january(template: Scenario, **params: object) -> tuple[Scenario, tuple[str, ...]]:
    life = (LifeEvent("duplicates", date(2028, 1, 1), params),)
    plan = plan_year(template, CalendarSpec(events_per_day=50, months=1, life=life), seed=4)
    return next(iter(plan.months())).scenario, tuple(s.reason for s in plan.skipped)


def copies(month: Scenario) -> list[float]:
    """Seconds from each event's first delivery to its second."""
    first: dict[int, float] = {}
    gaps = []
    for planned in month.schedule:
        if planned.event in first:
            gaps.append(planned.at - first[planned.event])
        else:
            first[planned.event] = planned.at
    return gaps


@pytest.mark.parametrize(
    ("provider", "delay"),
    [("stripe", PROVIDERS["stripe"].retries[0]), ("shopify", PROVIDERS["shopify"].retries[0]),
     (None, UNKNOWN_COPY_DELAY)],
)  # fmt: skip
def test_a_share_of_each_months_deliveries_comes_again_at_the_senders_first_retry(
    provider: str | None, delay: float
) -> None:
    month, skipped = january(year_template(provider))
    assert skipped == ()
    events = len({p.event for p in month.schedule})
    gaps = copies(month)
    assert len(gaps) == round(DUPLICATE_SHARE * events) > 0
    assert len(month.schedule) == events + len(gaps)
    length = month.source.over  # type: ignore[union-attr]
    # Each copy at the first retry after its delivery, or at the month's end where that is later.
    assert all(g == pytest.approx(delay) for g in gaps if g < length - delay), gaps
    assert "deliveries sent twice" in month.description
    said = "5 min assumed" if provider is None else "the sender's first retry"
    assert said in month.description, month.description


def test_after_minutes_sets_the_copys_time_and_a_sender_that_never_redelivers_is_skipped() -> None:
    month, _ = january(year_template("stripe"), after_minutes=90, share=0.05)
    gaps = copies(month)
    assert len(gaps) == round(0.05 * len({p.event for p in month.schedule}))
    assert Counter(round(g) for g in gaps).most_common(1)[0][0] == 90 * 60

    month, skipped = january(year_template("github"))
    assert skipped == (
        "GitHub does not redeliver on its own (give params.after_minutes for the copies your "
        "own redeliveries send)",
    )
    assert copies(month) == []


@pytest.mark.parametrize(
    ("line", "said"),
    [("{share: 0}", "params.share: 0 is not allowed"),
     ("{after_minutes: soon}", "params.after_minutes: 'soon' is not allowed")],
)  # fmt: skip
def test_bad_duplicates_params_are_refused_at_their_line(
    line: str, said: str, tmp_path: Path
) -> None:
    path = tmp_path / "my.scenario.yaml"
    path.write_text(
        "source:\n  synthetic:\n    example: {id: evt_1, data: {order_id: ord_1}}\n"
        "    events: 4\n    records: 2\n    over: 1s\n    key: $.data.order_id\n"
        "calendar:\n  start: '2028-01-01'\n  months: 1\n  life:\n"
        f"    - {{kind: duplicates, date: '2028-01-01', params: {line}}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert f"{path}:12: calendar.life[0].{said}" in str(caught.value), caught.value


def january_of(automation: Automation, tmp_path: Path) -> tuple[Completed, dict[str, Any]]:
    """``harness run year`` for one small January against a demo automation: the process and
    the report's ``year``."""
    report = tmp_path / "report.json"
    done = harness_process(
        "run", "year", "--target", automation.hook,
        "--downstream", f"127.0.0.1:{automation.downstream_port}", "--no-project",
        "--events-per-day", "20", "--day-seconds", "0.2", "--months", "1",
        "--journal", str(tmp_path / "year.db"), "--report", str(report), "--seed", "5",
        cwd=tmp_path, timeout=200,
    )  # fmt: skip
    assert "Traceback" not in done.err, done.err
    return done, json.loads(report.read_text())["year"]


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_an_automation_writing_once_per_delivery_repeats_a_january_copy(
    fragile: Automation, tmp_path: Path
) -> None:
    done, year = january_of(fragile, tmp_path)
    assert "a few deliveries sent twice" in done.err, done.err
    journal = tmp_path / "year.db"
    (month,) = [i for i, _ in run_infos(journal) if i.scenario == "year-2028-01"]
    verdicts = {v.invariant: v for v in judge(load(journal, month.run_id))}
    repeated = verdicts["no_duplicate_effects"]
    assert repeated.status is Status.FAIL, repeated.summary
    assert done.code == 1, done.err
    # A month failed on a repeat: nothing left to say of the dedup's memory.
    assert not [u for u in year["untested"] if "a cache with a time to live" in u]


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_a_year_that_holds_says_a_dedup_that_forgets_by_time_was_not_put_to_the_test(
    sound: Automation, tmp_path: Path
) -> None:
    done, year = january_of(sound, tmp_path)
    assert done.code == 0, done.err
    [memory] = [u for u in year["untested"] if "a cache with a time to live" in u]
    # The sound demo's copies came 5 min apart on the year's clock, a fraction of a second here.
    assert "was not put to the test" in memory and "(5 min on the year's clock" in memory, memory
    assert "could not be tested" in year["answer"]
