"""The year's planner (harness.year): each day's volume and times, the months' Scenarios and
the life events mapped onto faults, drift, schedule shapes and downstream/delivery settings."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core._calendar import CalendarSpec, LifeEvent
from harness.core._errors import InputError
from harness.core._scenario import AuthSpec, RecordedSource, Scenario, SyntheticSource
from harness.drive._sources import synthetic
from harness.scenario._hazards import RESTART_FIX
from harness.scenario._load import resolve
from harness.year import plan_year
from harness.year._life import PAST_31, builtin_life
from harness.year._plan import LONG_LIVED, ONE_PAGE
from harness.year._rhythm import black_friday, kind_of, last_business_day, plan_day

BERLIN = ZoneInfo("Europe/Berlin")


def year_template() -> Scenario:
    (scenario,) = resolve(["year"])
    return replace(scenario, calendar=None)


def local_hours(day: date, times: tuple[float, ...]) -> list[int]:
    start = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)
    return [(start + timedelta(seconds=t)).astimezone(BERLIN).hour for t in times]


# --- the rhythm -------------------------------------------------------------------------------


def test_an_average_day_holds_about_the_volume_asked_and_weekends_are_lighter() -> None:
    days = [plan_day(date(2028, 1, 1) + timedelta(n), 400, BERLIN, 3) for n in range(366)]
    usual = [d for d in days if d.kind in ("weekday", "weekend")]
    weekdays = [d.events for d in usual if d.kind == "weekday"]
    weekends = [d.events for d in usual if d.kind == "weekend"]
    assert 380 <= statistics.mean(d.events for d in usual) <= 420
    assert statistics.mean(weekdays) > 1.7 * statistics.mean(weekends)


def test_business_hours_are_heavier_than_the_night() -> None:
    day = plan_day(date(2028, 5, 10), 2000, BERLIN, 1)  # a Wednesday
    hours = local_hours(day.day, day.times)
    business = sum(9 <= h < 17 for h in hours)
    night = sum(0 <= h < 6 for h in hours)
    assert business > 5 * night > 0


def test_month_end_and_quarter_end_imports_come_at_night() -> None:
    assert last_business_day(2028, 1) == date(2028, 1, 31)
    assert last_business_day(2028, 9) == date(2028, 9, 29)  # the 30th is a Saturday
    jan = [plan_day(date(2028, 1, d), 500, BERLIN, 2) for d in range(1, 32)]
    typical = statistics.median(d.events for d in jan if d.kind == "weekday")
    month_end = jan[-1]
    assert month_end.kind == "month-end"
    assert month_end.events > 2.4 * typical
    quarter_end = plan_day(date(2028, 3, 31), 500, BERLIN, 2)
    assert quarter_end.kind == "quarter-end"
    assert quarter_end.events > 4 * typical
    night = sum(1 <= h < 4 for h in local_hours(quarter_end.day, quarter_end.times))
    assert night > quarter_end.events * 0.7  # the import runs from 01:00 to 04:00


def test_black_friday_is_a_tenfold_peak_in_the_morning_rush() -> None:
    assert black_friday(2028) == date(2028, 11, 24)
    assert black_friday(2029) == date(2029, 11, 23)
    peak = plan_day(date(2028, 11, 24), 300, BERLIN, 4)
    week = [plan_day(date(2028, 11, d), 300, BERLIN, 4).events for d in range(20, 24)]
    assert peak.kind == "peak"
    assert peak.events > 8 * statistics.mean(week)
    rush = sum(9 <= h < 13 for h in local_hours(peak.day, peak.times))
    assert rush > 0.75 * peak.events


def test_each_day_is_reproducible_alone() -> None:
    plan = plan_year(year_template(), CalendarSpec(events_per_day=50, months=3), seed=9)
    march = list(plan.months())[2]
    alone = plan_day(date(2028, 3, 17), 50, BERLIN, 9)
    assert march.days[16] == alone
    assert plan_day(date(2028, 3, 17), 50, BERLIN, 9) == alone
    assert plan_day(date(2028, 3, 17), 50, BERLIN, 10) != alone


def test_dst_days_in_berlin_are_23_and_25_hours_long() -> None:
    spring = plan_day(date(2028, 3, 26), 3000, BERLIN, 5)
    autumn = plan_day(date(2028, 10, 29), 3000, BERLIN, 5)
    assert spring.length == 23 * 3600
    assert autumn.length == 25 * 3600
    assert 2 not in local_hours(spring.day, spring.times)  # 02:00 to 03:00 never happens
    assert plan_day(date(2028, 3, 27), 10, BERLIN, 5).length == 24 * 3600
    life = builtin_life(date(2028, 1, 1), 12, BERLIN)
    assert [e.on for e in life if e.kind == "dst"] == [date(2028, 3, 26), date(2028, 10, 29)]


def test_times_are_written_in_the_calendars_zone_with_their_offset() -> None:
    plan = plan_year(year_template(), CalendarSpec(events_per_day=200, months=3), seed=1)
    march = list(plan.months())[2]
    source = march.scenario.source
    assert isinstance(source, SyntheticSource)
    stamps = [e.payload["occurred_at"] for e in synthetic(source, 1)]
    assert stamps[0].startswith("2028-03-01T") and stamps[0].endswith("+01:00")
    on_switch = [s for s in stamps if s.startswith("2028-03-26T")]
    assert all(s.endswith("+01:00") for s in stamps if s.startswith("2028-03-25T"))
    assert on_switch and all(s.endswith("+02:00") for s in on_switch if s[11:13] >= "03")
    assert not any(s[11:13] == "02" for s in on_switch)
    assert stamps[-1].startswith("2028-03-31T") and stamps[-1].endswith("+02:00")


def test_29_february_is_on_the_calendar() -> None:
    plan = plan_year(year_template(), CalendarSpec(events_per_day=10, months=2), seed=1)
    february = list(plan.months())[1]
    assert len(february.days) == 29 and february.days[-1].day == date(2028, 2, 29)
    assert [e.kind for e in february.life if e.on == date(2028, 2, 29)] == ["leap-day"]


@given(
    day=st.dates(date(2027, 1, 1), date(2031, 12, 31)),
    volume=st.integers(1, 3000),
    seed=st.integers(0, 2**31),
)
def test_any_day_has_sorted_times_within_it(day: date, volume: int, seed: int) -> None:
    planned = plan_day(day, volume, BERLIN, seed)
    assert planned.length in (23 * 3600, 24 * 3600, 25 * 3600)
    assert planned.events >= 1
    assert list(planned.times) == sorted(planned.times)
    assert all(0 <= t < planned.length for t in planned.times)
    assert planned.kind == kind_of(day)
    assert plan_day(day, volume, BERLIN, seed) == planned


# --- the months -------------------------------------------------------------------------------


def test_twelve_months_each_a_scenario_with_its_schedule_and_calendar_settings() -> None:
    plan = plan_year(year_template(), CalendarSpec(events_per_day=40), seed=3)
    months = list(plan.months())
    assert [m.month for m in months] == [f"2028-{n:02d}" for n in range(1, 13)]
    records = []
    for m in months:
        s = m.scenario
        assert isinstance(s.source, SyntheticSource) and s.schedule is not None
        assert s.source.events == m.events == sum(d.events for d in m.days)
        assert len(s.source.times) == m.events
        assert s.time_scale == pytest.approx(plan.day_seconds / 86400)
        assert max(p.at for p in s.schedule) <= s.source.over
        records.append(s.source.records)
    assert records == sorted(records) and records[-1] > 2 * records[0]  # records grow
    settings = months[10].settings()
    assert settings["month"] == "2028-11" and settings["index"] == 11
    assert settings["first_day"] == "2028-11-01" and settings["days"] == 30
    assert settings["timezone"] == "Europe/Berlin" and settings["events_per_day"] == 40
    assert settings["day_seconds"] == plan.day_seconds
    assert {"kind": "peak", "on": "2028-11-24", "title": "Black Friday"} in settings["life"]


def test_a_recorded_source_cannot_make_a_year() -> None:
    template = replace(year_template(), source=RecordedSource(Path("events.jsonl")))
    with pytest.raises(InputError, match="a year needs synthetic events"):
        plan_year(template, CalendarSpec(), seed=1)


def test_a_bad_zone_is_refused() -> None:
    with pytest.raises(InputError, match="'Mars/Olympus' is not a time zone"):
        plan_year(year_template(), CalendarSpec(timezone="Mars/Olympus"), seed=1)


# --- life events ------------------------------------------------------------------------------


def one_event(kind: str, on: date, template: Scenario | None = None, **params: object) -> Scenario:
    """The scenario of the month of ``on`` in a year with the one life event ``kind``."""
    calendar = CalendarSpec(
        events_per_day=100, months=on.month, life=(LifeEvent(kind, on, params),)
    )
    plan = plan_year(template or year_template(), calendar, seed=2)
    assert plan.skipped == ()
    return list(plan.months())[on.month - 1].scenario


def hours_into_month(on: date, hour: float) -> float:
    first = datetime(on.year, on.month, 1, tzinfo=BERLIN)
    return (datetime(on.year, on.month, on.day, tzinfo=BERLIN) - first).total_seconds() + (
        hour * 3600
    )


def test_maintenance_is_a_status_window_on_its_day() -> None:
    s = one_event("maintenance", date(2028, 3, 8), hour=2, hours=3)
    (fault,) = s.faults
    assert (fault.downstream, fault.mode, fault.status) == ("api", "status", 503)
    assert fault.at == hours_into_month(date(2028, 3, 8), 2) and fault.duration == 3 * 3600


def test_a_rate_limit_tightens_from_its_day_to_the_end_of_the_year() -> None:
    calendar = CalendarSpec(
        events_per_day=100, months=6, life=(LifeEvent("rate-limit", date(2028, 5, 3), {}),)
    )
    months = list(plan_year(year_template(), calendar, seed=1).months())
    assert months[3].scenario.faults == ()
    (may,) = months[4].scenario.faults
    (june,) = months[5].scenario.faults
    assert may.mode == june.mode == "rate-limit" and may.rate > 0
    assert may.at == hours_into_month(date(2028, 5, 3), 0) and june.at == 0


def test_a_provider_outage_holds_deliveries_then_redelivers_them_out_of_order() -> None:
    on = date(2028, 4, 12)
    s = one_event("provider-outage", on, hour=9, hours=4)
    assert s.schedule is not None and isinstance(s.source, SyntheticSource)
    start, end = hours_into_month(on, 9), hours_into_month(on, 13)
    times = s.source.times
    assert not [p for p in s.schedule if start <= p.at < end]  # nothing sent in the outage
    held = [p for p in s.schedule if start <= times[p.event] < end]
    assert held and all(p.at >= end for p in held)
    order = [p.event for p in sorted(held, key=lambda p: p.at)]
    assert order != sorted(order)  # out of order


def test_a_retry_storm_sends_each_delivery_of_its_day_three_times() -> None:
    on = date(2028, 7, 19)
    s = one_event("retry-storm", on, copies=3)
    assert s.schedule is not None and isinstance(s.source, SyntheticSource)
    that_day = {
        n
        for n, t in enumerate(s.source.times)
        if hours_into_month(on, 0) <= t < hours_into_month(on, 24)
    }
    counts: dict[int, int] = {}
    for p in s.schedule:
        counts[p.event] = counts.get(p.event, 0) + 1
    assert {counts[n] for n in that_day} == {3}
    assert {c for n, c in counts.items() if n not in that_day} == {1}


def test_drift_starts_on_its_day_a_rename_in_its_month_only_an_added_field_stays() -> None:
    calendar = CalendarSpec(
        events_per_day=50,
        months=4,
        life=(
            LifeEvent("field-renamed", date(2028, 3, 20), {}),
            LifeEvent("field-added", date(2028, 3, 25), {}),
        ),
    )
    months = list(plan_year(year_template(), calendar, seed=1).months())
    renamed, added = months[2].scenario.perturbations
    assert renamed.kind == "rename_field" and renamed.params["path"] == "$.data.customer.email"
    assert renamed.params["from"] == hours_into_month(date(2028, 3, 20), 0)
    assert added.kind == "add_field" and added.params["path"] == "$.data.channel"
    (april,) = months[3].scenario.perturbations
    assert april.kind == "add_field" and april.params["from"] == 0.0
    assert months[1].scenario.perturbations == ()


def test_id_growth_applies_to_numeric_ids_only() -> None:
    template = year_template()
    source = template.source
    assert isinstance(source, SyntheticSource)
    calendar = CalendarSpec(months=6, life=(LifeEvent("id-growth", date(2028, 6, 14), {}),))
    plan = plan_year(template, calendar, seed=1)
    assert [s.reason for s in plan.skipped] == ["the events' ids and record keys are not numbers"]
    numeric = replace(source, example={**source.example, "id": 12})
    june = one_event("id-growth", date(2028, 6, 14), replace(template, source=numeric))
    assert isinstance(june.source, SyntheticSource)
    assert june.source.example["id"] == PAST_31
    assert all(int(e.id) > 2**31 for e in synthetic(replace(june.source, events=20, times=()), 1))


def test_life_events_that_do_not_apply_are_skipped_with_their_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HARNESS_SECRET_NEXT", raising=False)
    plan = plan_year(year_template(), CalendarSpec(), seed=1)
    reasons = {s.name: s.reason for s in plan.skipped}
    assert reasons == {
        "token-expiry on 2028-05-17": "no downstream authenticates with OAuth "
        "(auth: {kind: oauth})",
        "id-growth on 2028-06-14": "the events' ids and record keys are not numbers",
        "secret-rotation on 2028-07-01": "the next secret's variable HARNESS_SECRET_NEXT is "
        "not set",
        "api-key-rotation on 2028-09-06": "no downstream has an API key with a next key to "
        "rotate to (auth: next_key_env)",
        "id-growth on 2028-10-18": "the events' ids and record keys are not numbers",
        # All the year's deploys, told once (tests/test_year_deploy.py).
        "24 deploys, 2028-01-04 to 2028-12-05": f"the project gives no way to restart the "
        f"automation — {RESTART_FIX}",
    }
    applied = {e.kind for e in plan.life}
    assert {"maintenance", "provider-outage", "retry-storm", "pagination", "dst"} <= applied


def test_secret_rotation_signs_with_both_then_the_new_secret_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_SECRET_NEXT", "whsec_next")
    on = date(2028, 7, 1)
    calendar = CalendarSpec(months=8, life=(LifeEvent("secret-rotation", on, {}),))
    months = list(plan_year(year_template(), calendar, seed=1).months())
    july, august = months[6].scenario.delivery, months[7].scenario.delivery
    assert july.rotation is not None and july.rotation.next_secret_env == "HARNESS_SECRET_NEXT"
    assert july.rotation.at == 0.0 and july.rotation.overlap == 86400
    assert august.rotation is None and august.secret_env == "HARNESS_SECRET_NEXT"


def test_downstream_life_sets_auth_pages_and_shapes() -> None:
    template = year_template()
    (api,) = template.downstreams
    oauth = replace(api, auth=AuthSpec("oauth", lifetime=3600))
    calendar = CalendarSpec(
        months=10,
        life=(
            LifeEvent("token-expiry", date(2028, 5, 17), {}),
            LifeEvent("pagination", date(2028, 9, 13), {"page_size": 50}),
            LifeEvent("api-version", date(2028, 10, 4), {"rename": {"status": "state"}}),
            LifeEvent("clock-skew", date(2028, 10, 8), {"seconds": -90}),
        ),
    )
    plan = plan_year(replace(template, downstreams=(oauth,)), calendar, seed=1)
    months = [m.scenario for m in plan.months()]
    # April: tokens asked for as ever, long-lived; May: they live an hour.
    assert months[3].downstreams[0].auth == AuthSpec("oauth", lifetime=LONG_LIVED)
    assert months[4].downstreams[0].auth == AuthSpec("oauth", lifetime=3600)
    assert months[7].downstreams[0].page_size == ONE_PAGE  # the paged shape, one page
    assert months[8].downstreams[0].page_size == 50
    (change,) = months[9].downstreams[0].shape_changes
    assert change.rename == {"status": "state"}
    assert change.at == hours_into_month(date(2028, 10, 4), 0)
    assert months[9].delivery.clock_skew == -90


def test_a_time_in_unix_seconds_stays_a_number() -> None:
    template = year_template()
    source = template.source
    assert isinstance(source, SyntheticSource)
    unix = replace(source, example={**source.example, "occurred_at": 1_830_000_000})
    plan = plan_year(replace(template, source=unix), CalendarSpec(months=1), seed=1)
    january = next(plan.months()).scenario.source
    assert isinstance(january, SyntheticSource)
    first = synthetic(replace(january, events=1, times=january.times[:1]), 1)[0]
    epoch = datetime(2028, 1, 1, tzinfo=BERLIN).timestamp()
    assert first.payload["occurred_at"] == int(epoch + january.times[0])


def test_each_run_of_a_year_draws_its_payloads_from_a_seed_of_its_own() -> None:
    from harness.year._drive import run_seed

    seeds = [run_seed(7, name) for name in ("baseline", "2028-01", "2028-02")]
    assert len(set(seeds)) == 3 and 7 not in seeds
    assert seeds == [run_seed(7, name) for name in ("baseline", "2028-01", "2028-02")]
    assert run_seed(8, "2028-01") != seeds[1]


def test_a_month_with_a_fault_window_sends_the_project_providers_retries(tmp_path: Path) -> None:
    """The built-in year over a Stripe project: the month of the maintenance window redelivers
    what the target refused, on Stripe's schedule, as a fault hazard does (the months without a
    window, as every hazard without one, send none); a calendar file of the user's own is left
    as it says."""
    from harness.core._providers import PROVIDERS
    from harness.scenario._hazards import resolve_hazards
    from harness.scenario._project import load_project

    path = tmp_path / "harness.yaml"
    path.write_text("provider: stripe\nsecret_env: STRIPE_WEBHOOK_SECRET\n", encoding="utf-8")
    (template,) = resolve_hazards(["year"], load_project(path)).scenarios
    template = replace(template, calendar=None)
    maintenance = LifeEvent("maintenance", date(2028, 3, 8), {"hour": 2, "hours": 2})
    calendar = CalendarSpec(events_per_day=100, months=3, life=(maintenance,))
    months = [m.scenario for m in plan_year(template, calendar, seed=2).months()]
    providers = [m.delivery.provider for m in months]
    assert [p.name if p else None for p in providers] == ["stripe"] * 3
    assert [p.retries if p else None for p in providers] == [(), (), PROVIDERS["stripe"].retries]
    assert (
        "Stripe redelivers what the target refuses: the run sends all its 8 retries (the last "
        "3 days after the delivery), time-scaled like the rest." in months[2].description
    ), months[2].description
    own = replace(template, origin=str(tmp_path / "year.calendar.yaml"))
    march = list(plan_year(own, calendar, seed=2).months())[2].scenario
    assert march.delivery.provider is not None and march.delivery.provider.retries == ()


def test_a_months_settings_name_the_lasting_life_events_still_in_force() -> None:
    plan = plan_year(year_template(), CalendarSpec(events_per_day=10), seed=1)
    months = {m.month: m.settings() for m in plan.months()}
    assert months["2028-01"]["in_force"] == []
    kinds = [e["kind"] for e in months["2028-11"]["in_force"]]
    assert {"duplicates", "field-added", "rate-limit", "pagination"} <= set(kinds)
    assert "maintenance" not in kinds and "clock-skew" not in kinds  # not lasting; November's own
    assert {"kind": "rate-limit", "on": "2028-05-03", "title": "the downstream's rate limit "
            "tightens"} in months["2028-11"]["in_force"]  # fmt: skip
