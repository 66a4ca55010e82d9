"""Bad input to a year — the calendar: block of scenario and project files, the year's flags —
refused with file:line (or the flag), what is allowed and how to fix it; never a traceback,
nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.core._errors import InputError, ScenarioError
from harness.scenario._load import load_scenario
from harness.scenario._project import load_project

SCENARIO = """\
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: 4
    records: 2
    over: 1s
    key: $.data.order_id
calendar:
CALENDAR
"""


def scenario_file(tmp_path: Path, calendar: str) -> Path:
    path = tmp_path / "my.scenario.yaml"
    path.write_text(SCENARIO.replace("CALENDAR", calendar))
    return path


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        (
            '  start: "2028-02-30"',
            ":9: calendar.start: '2028-02-30' is not allowed — must be a calendar date like "
            "'2028-03-26' (quoted)",
        ),
        (
            "  start: 2028-02-01",
            ":9: calendar.start: '2028-02-01' is not allowed — YAML reads it as a date; quote it",
        ),
        (
            "  timezone: Mars/Olympus",
            ":9: calendar.timezone: 'Mars/Olympus' is not allowed — must be an IANA time zone",
        ),
        ("  months: 0", ":9: calendar.months: 0 is not allowed — must be an integer from 1 to 120"),
        ("  events_per_day: -5", ":9: calendar.events_per_day: -5 is not allowed"),
        ("  day_seconds: 0", ":9: calendar.day_seconds: 0 is not allowed"),
        (
            '  life:\n    - {kind: eclipse, date: "2028-03-01"}',
            ":10: calendar.life[0].kind: 'eclipse' is not allowed — must be one of: "
            "provider-outage,",
        ),
        (
            '  months: 2\n  life:\n    - {kind: maintenance, date: "2028-05-01"}',
            ":11: calendar.life[0].date: '2028-05-01' is not allowed — must fall within the "
            "calendar's 2 months, 2028-01-01 to 2028-02-29",
        ),
        (
            '  life:\n    - {kind: maintenance, on: "2028-05-01"}',
            ":10: calendar.life[0]: key 'on' is not allowed — YAML reads it as True",
        ),
        ("  weeks: 3", ":9: calendar: unknown field 'weeks' — allowed: start, months,"),
    ],
)
def test_a_bad_calendar_is_refused_at_its_line(tmp_path: Path, calendar: str, message: str) -> None:
    path = scenario_file(tmp_path, calendar)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{path}{message}" in str(err.value)


def test_a_good_calendar_loads(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        '  start: "2028-03-01"\n  months: 2\n  events_per_day: 20\n  timezone: UTC\n'
        '  life:\n    - {kind: maintenance, date: "2028-04-02", params: {hour: 1}, title: x}',
    )
    calendar = load_scenario(path).calendar
    assert calendar is not None
    assert (calendar.months, calendar.events_per_day, calendar.timezone) == (2, 20, "UTC")
    assert calendar.life is not None and calendar.life[0].params == {"hour": 1}


def test_a_project_file_takes_a_calendar(tmp_path: Path) -> None:
    path = tmp_path / "harness.yaml"
    path.write_text('calendar:\n  events_per_day: 1000\n  timezone: "Bad/Zone"\n')
    with pytest.raises(ScenarioError, match=r"harness.yaml:3: calendar.timezone: 'Bad/Zone'"):
        load_project(path)
    path.write_text("calendar:\n  events_per_day: 1000\n")
    project = load_project(path)
    assert project.calendar is not None and project.calendar.events_per_day == 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["duplicate-storm", "--months", "3"], "--months: --months is for a year"),
        (["year", "--months", "0"], "--months: --months 0 is not 1 or more"),
        (["year", "--months", "200"], "--months: --months 200 is more than 120"),
        (["year", "--events-per-day", "0"], "--events-per-day: --events-per-day 0 is not 1"),
        (["year", "--day-seconds", "-1"], "--day-seconds: --day-seconds -1.0 is not a number"),
        (["year", "--resume", "{tmp}/none.db"], "--resume: no journal"),
        (["year", "duplicate-storm"], "'year' is a year and runs alone"),
        (["year", "--time-scale", "0.1"], "--time-scale: --time-scale does not pace a year"),
        (
            ["year", "--resume", "{tmp}/empty.db", "--journal", "{tmp}/j.db"],
            "--journal: --resume names the journal",
        ),
    ],
)
def test_bad_year_flags_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    argv = ["run", *[a.replace("{tmp}", str(tmp_path)) for a in args]]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--target", "http://127.0.0.1:1/hooks", "--no-project"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_a_year_is_never_prepared_as_one_run(tmp_path: Path) -> None:
    """A run of a scenario with a calendar (the pytest plugin, harness.run) would be one run of
    its example source at its own pace: refused, saying how a year runs."""
    from harness.engine import RunOptions, prepare
    from harness.scenario._load import resolve

    (year,) = resolve(["year"])
    options = RunOptions.create("http://127.0.0.1:1/hooks", seed=1, journal=tmp_path / "j.db")
    with pytest.raises(InputError, match=r"'year' is a year .* runs as its months"):
        prepare(year, options)
