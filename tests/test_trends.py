"""Trends over a year of month runs (report/_trends, report/_year): synthetic figures for each
case — growing, flat, noisy, too few months — and month runs built as histories."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace

from harness.core._model import (
    NO_ANSWER_WITHIN,
    SAMPLE_MARK,
    Delivery,
    Effect,
    Event,
    Evidence,
    FailureClass,
    Model,
    Outcome,
    Status,
    Verdict,
)
from harness.history import History, RunInfo
from harness.history._history import Mark
from harness.report._trends import (
    NOT_SAMPLED,
    MonthSpan,
    latency_trend,
    memory_trend,
    per_events,
    theil_sen,
)
from harness.report._year import figures, year

SHOPIFY = "Shopify's 5 s ack timeout"


def _months(per_month: int, observed: dict[int, float]) -> list[MonthSpan]:
    return [MonthSpan(i, f"2028-{i:02d}", per_month * i, observed.get(i)) for i in range(1, 13)]


def _growing(months: int, per_month: int, slope: float, noise: float = 0.0, seed: int = 1):
    rng = random.Random(seed)
    points, observed = [], {}
    for m in range(1, months + 1):
        for k in range(10):
            x = per_month * (m - 1) + per_month * (k + 0.5) / 10
            points.append((x, max(0.0, 0.01 + slope * x + rng.uniform(-noise, noise))))
        observed[m] = max(y for x, y in points[-10:])
    return points, observed


def test_theil_sen_shrugs_off_a_wild_month_that_moves_least_squares() -> None:
    points = [(float(x), 0.02 + 0.001 * x) for x in range(40)]
    points[5:9] = [(float(x), 9.0) for x in range(5, 9)]  # one maintenance window
    fit = theil_sen(points)
    assert fit is not None
    assert abs(fit.slope - 0.001) < 1e-9
    assert fit.lower <= fit.slope <= fit.upper
    # Least squares through the same points: the window early on tilts it downwards.
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    ols = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    assert ols < 0 < fit.slope


def test_theil_sen_needs_three_distinct_x() -> None:
    assert theil_sen([(1.0, 1.0), (1.0, 2.0), (2.0, 3.0)]) is None


def test_a_growing_trend_is_a_finding_naming_the_month_and_the_rate() -> None:
    # 30,000 events a month, +0.02 ms per event: 5 s is passed at 250,000 events, in month 9.
    points, observed = _growing(4, 30_000, 2e-5)
    trend = latency_trend(points, _months(30_000, observed), 5.0, SHOPIFY)
    assert trend.status == "finding"
    assert trend.month == 9 and trend.month_label == "2028-09"
    assert trend.per == per_events(360_000) == 100_000
    assert trend.rate is not None and abs(trend.rate - 2.0) < 1e-6
    assert trend.text == (
        "acks grow 2 s per 100,000 events: past Shopify's 5 s ack timeout in month 9 (2028-09)"
    )
    assert not trend.observed_crossing
    assert dict(trend.projected)["2028-09"] >= 5.0 > dict(trend.projected)["2028-08"]


def test_a_crossing_measured_in_a_month_is_named_as_measured() -> None:
    points, observed = _growing(6, 30_000, 3e-5)
    trend = latency_trend(points, _months(30_000, observed), 5.0, SHOPIFY)
    assert trend.status == "finding" and trend.observed_crossing
    assert trend.month == 6 and "measured" in trend.text


def test_a_flat_trend_is_no_finding() -> None:
    points, observed = _growing(12, 30_000, 0.0, noise=0.005)
    trend = latency_trend(points, _months(30_000, observed), 5.0, SHOPIFY)
    assert trend.status == "flat" and trend.month is None
    assert trend.text.startswith("acks stay under Shopify's 5 s ack timeout")


def test_noisy_months_are_inconclusive_not_fine() -> None:
    rng = random.Random(3)
    points = [(30_000 * (m + k / 10), rng.uniform(0.0, 4.0)) for m in range(3) for k in range(2)]
    observed = {m: 3.9 for m in (1, 2, 3)}
    trend = latency_trend(points, _months(30_000, observed), 5.0, SHOPIFY)
    assert trend.status == "inconclusive"
    assert "too noisy" in trend.text


def test_too_few_months_are_inconclusive() -> None:
    points, observed = _growing(2, 30_000, 2e-5)
    trend = latency_trend(points, _months(30_000, observed), 5.0, SHOPIFY)
    assert trend.status == "inconclusive" and trend.fit is None
    assert "only 2 months measured" in trend.text


def test_memory_that_grows_without_bound_is_a_finding_and_steady_memory_is_not() -> None:
    months = _months(30_000, {1: 50.0, 2: 60.0, 3: 70.0, 4: 80.0})
    growing = [(30_000 * m + 3_000 * k, 40.0 + 1e-3 * (30_000 * m + 3_000 * k)) for m in range(4)
               for k in range(10)]  # fmt: skip
    assert memory_trend(growing, months).status == "finding"
    steady = [(30_000 * m + 3_000 * k, 50.0 + (k % 2)) for m in range(4) for k in range(10)]
    assert memory_trend(steady, months).status == "flat"
    unsampled = memory_trend([], _months(30_000, {}))
    assert unsampled.status == "inconclusive" and unsampled.text == NOT_SAMPLED


# --- month runs as histories -------------------------------------------------------------


def _calendar(
    index: int, life: Sequence[dict[str, str]] = (), in_force: Sequence[dict[str, str]] = ()
) -> dict[str, object]:
    return {
        "month": f"2028-{index:02d}",
        "index": index,
        "first_day": f"2028-{index:02d}-01",
        "days": 30,
        "day_seconds": 0.01,
        "timezone": "Europe/Berlin",
        "events_per_day": 10,
        "life": list(life),
        "in_force": list(in_force),
    }


def month_run(
    index: int,
    ack: float,
    *,
    lost: int = 0,
    rss: float | None = None,
    life: Sequence = (),
    in_force: Sequence = (),
) -> tuple[History, list[Verdict]]:
    """A month run of 300 events, each acked in ``ack`` s and making one effect."""
    n = 300
    events = [Event(f"e{index}_{i}", f"k{i}", i, "t", i * 0.01, {}) for i in range(n)]
    deliveries = [
        Delivery(f"d{index}_{i}", f"e{index}_{i}", 1, i * 0.01, i * 0.01, i * 0.01 + ack,
                 200 if i % 50 else 503, Outcome.OK if i % 50 else Outcome.FAILED)
        for i in range(n)
    ]  # fmt: skip
    effects = [
        Effect(f"f{index}_{i}", "api", i * 0.01 + ack, "POST", "/p", {}, "{}",
               201 if i % 100 else 500, (f"e{index}_{i}",))
        for i in range(n)
    ]  # fmt: skip
    marks = [] if rss is None else [Mark(1.0, SAMPLE_MARK, json.dumps({"rss_bytes": rss}))]
    info = RunInfo(
        f"month-{index}@t",
        f"2028-{index:02d}",
        1,
        "http://127.0.0.1:1/",
        "dedup",
        Model.LEDGER,
        (),
        "",
        "t",
        settings={
            "calendar": _calendar(index, life, in_force),
            "provider": "shopify",
            "ack_timeout": 5.0,
        },
    )
    verdicts = [Verdict("no_duplicate_effects", Status.PASS, FailureClass.SILENT, "ok")]
    if lost:
        verdicts.append(
            Verdict(
                "no_lost_events",
                Status.FAIL,
                FailureClass.SILENT,
                f"{lost:,} of 300 events produced no effect (lost)",
                Evidence(event_ids=(f"e{index}_0",)),
            )
        )
    return History(info, events, deliveries, effects, marks=marks), verdicts


def test_month_figures_come_from_the_run_and_its_verdicts() -> None:
    h, v = month_run(3, 0.2, lost=1_234, rss=52_000_000)
    m = figures(h, v)
    assert (m.index, m.month, m.name) == (3, "2028-03", "March 2028")
    assert (m.events, m.deliveries, m.accepted) == (300, 300, 294)
    assert m.errors == 6 and m.error_rate == 0.02 and m.refusals == 0
    assert m.ack.p95 is not None and abs(m.ack.p95 - 0.2) < 1e-9
    assert m.lost == 1_234 and m.duplicated == 0
    assert m.downstream_errors == 3
    assert m.memory_mb == 52.0
    assert m.failed == ("no_lost_events",)


def test_runs_without_a_calendar_make_no_year() -> None:
    h, v = month_run(1, 0.01)
    plain = History(RunInfo("x@t", "x", 1, "t", "t", Model.LEDGER, (), "", "t"), h.events, [], [])
    assert year([(plain, v)]) is None


def test_a_year_whose_acks_grow_names_the_month_and_what_broke() -> None:
    # Four months, acks growing 0.5 s a month (of 300 events): past 5 s in month 10 at the
    # month's end; the flat steps within each month pull the median slope a little lower.
    runs = [month_run(i, 0.5 * i, life=[{"kind": "dst", "on": "2028-03-26", "title": "DST"}])
            for i in range(1, 5)]  # fmt: skip
    y = year(runs)
    assert y is not None and not y.survived
    latency = y.trends[0]
    assert latency.status == "finding" and latency.month in (10, 11)
    assert y.broke[-1].index == latency.month and y.broke[-1].projected
    assert y.answer.startswith(f"It breaks in month {latency.month} (")
    assert "acks too slow for Shopify's 5 s ack timeout (projected)" in y.answer
    assert any("8 of 12 months were not run" in u for u in y.untested)
    assert NOT_SAMPLED in y.untested


def test_a_timed_out_ack_counts_as_the_wait_its_error_names() -> None:
    """Shopify's 5 s ack timeout is the run's setting, but these deliveries waited 10 s (the
    sender's own timeout, said in their error): the year counts them 10 s slow, not 5."""
    runs = []
    for i in range(1, 4):
        h, v = month_run(i, 0.01)
        waited = [
            replace(d, answered_at=None, status=None, outcome=Outcome.INDETERMINATE,
                    error=f"{NO_ANSWER_WITHIN} 10 s")
            for d in h.deliveries
        ]  # fmt: skip
        runs.append((replace(h, deliveries=waited), v))
    y = year(runs)
    assert y is not None
    assert {p95 for _, p95 in y.trends[0].points} == {10.0}
    assert [m.ack.p50 for m in y.months] == [10.0] * 3  # the month table says it too


def test_a_sound_year_survives_and_says_what_was_not_tested() -> None:
    life = [{"kind": "api-key-rotation", "on": "2028-02-01", "title": "API key rotated",
             "skipped": "the project's downstream has no api-key auth"}]  # fmt: skip
    runs = [month_run(i, 0.01, rss=50e6, life=life if i == 2 else ()) for i in range(1, 13)]
    y = year(runs)
    assert y is not None and y.survived, y.answer
    assert y.answer.startswith("It survived the 12 months it ran")
    assert [t.status for t in y.trends] == ["flat", "flat"]
    assert any("API key rotated (February 2028) was not applied" in u for u in y.untested)


def test_a_month_that_failed_says_why_and_what_it_cost() -> None:
    life = [{"kind": "maintenance", "on": "2028-02-10", "title": "CRM maintenance"}]
    runs = [month_run(i, 0.01, lost=7 if i == 2 else 0, life=life if i == 2 else ())
            for i in range(1, 4)]  # fmt: skip
    y = year(runs)
    assert y is not None and [b.index for b in y.broke] == [2]
    b = y.broke[0]
    assert b.what == "lost events"
    assert b.why == "CRM maintenance on 2028-02-10"
    assert b.cost == "7 events lost, none duplicated, none late"
    assert "it cost 7 events lost" in y.answer
    # Beside the month's life events, not because of them: nothing ties the loss to one (the
    # gallery's dedup_store broke "because" of March's maintenance, renamed field, DST and
    # quarter-end import, where two events of one record in flight at once did it).
    assert "(February 2028): lost events, in a month with CRM maintenance on 2028-02-10" in (
        y.answer
    ), y.answer
    assert "because" not in y.answer


# --- the year in the report --------------------------------------------------------------


def _rendered(runs: Sequence[tuple[History, list[Verdict]]]) -> dict[str, str]:
    from harness.report import html, markdown
    from harness.report._content import build_report, inputs
    from harness.report.json import render_json

    report = build_report(inputs(runs), environ={})
    return {
        "html": html.render(report),
        "md": markdown.render(report),
        "json": render_json(report),
    }


def test_the_year_is_the_first_section_of_every_format() -> None:
    life = [{"kind": "dst", "on": "2028-03-26", "title": "DST starts"}]
    runs = [month_run(i, 0.5 * i, life=life if i == 3 else ()) for i in range(1, 5)]
    out = _rendered(runs)
    question = "If it runs twelve months with nobody watching, what breaks?"
    html_text, md_text = out["html"], out["md"]
    assert html_text.index(question) < html_text.index('id="matrix"')
    assert "<h1>Not ready</h1>" in html_text and "Over the year it breaks in month" in html_text
    assert html_text.count("<svg") >= 1 and 'aria-label="The year month by month' in html_text
    assert "DST starts" in html_text and "acks too slow for Shopify" in html_text
    assert md_text.index(question) < md_text.index("| scenario")
    assert "| 3 · March 2028 | 300 | 300 | 294 |" in md_text
    doc = json.loads(out["json"])
    assert doc["year"]["survived"] is False
    assert [m["label"] for m in doc["year"]["months"]] == [
        "2028-01",
        "2028-02",
        "2028-03",
        "2028-04",
    ]
    latency = doc["year"]["trends"][0]
    assert latency["status"] == "finding" and latency["fit"]["method"] == "theil-sen"
    assert latency["points"] and len(latency["projected"]) == 12


def test_runs_that_are_not_months_have_no_year_section() -> None:
    h, v = month_run(1, 0.01)
    plain = History(
        RunInfo("x@t", "x", 1, "t", "t", Model.LEDGER, (), "", "t"), h.events, h.deliveries, []
    )
    out = _rendered([(plain, v)])
    assert "nobody watching" not in out["html"] + out["md"]
    assert "year" not in json.loads(out["json"])


def test_the_year_section_is_redacted(monkeypatch: object) -> None:
    from harness.report._content import build_report, inputs
    from harness.report.markdown import render

    secret = "whsec_year0secret0value0not0real"
    life = [{"kind": "secret-rotation", "on": "2028-02-01", "title": f"rotated to {secret}"}]
    runs = [month_run(i, 0.01, life=life if i == 2 else ()) for i in range(1, 4)]
    text = render(build_report(inputs(runs), environ={"HARNESS_SECRET": secret}))
    assert "rotated to" in text and secret not in text


def test_memory_growth_is_told_beside_the_answer_without_breaking_the_year() -> None:
    runs = [month_run(i, 0.01, rss=40e6 * i) for i in range(1, 5)]
    y = year(runs)
    assert y is not None and y.survived and not y.broke
    assert y.trends[1].status == "finding"
    assert "Watch its memory: memory grows" in y.answer


def test_a_failure_names_the_lasting_life_events_in_force_that_act_on_it() -> None:
    """November loses events at its peak under the rate limit tightened in May: the why names
    that limit beside November's own life events — not the field added in February, which
    does not act on what no_lost_events judges."""
    held = [
        {"kind": "field-added", "on": "2028-02-15", "title": "a field added"},
        {"kind": "rate-limit", "on": "2028-05-03", "title": "the rate limit tightens"},
    ]
    peak = [{"kind": "peak", "on": "2028-11-24", "title": "Black Friday"}]
    runs = [month_run(i, 0.01, lost=5 if i == 11 else 0, life=peak if i == 11 else (),
                      in_force=held if i > 5 else ())
            for i in range(1, 13)]  # fmt: skip
    y = year(runs)
    assert y is not None and [b.index for b in y.broke] == [11]
    assert (
        y.broke[0].why == "Black Friday on 2028-11-24; the rate limit tightens (since 2028-05-03)"
    )
