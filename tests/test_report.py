"""The production-readiness report from a deterministic history built here (no live run):
content, redaction in every format, the Markdown snapshot, JSON, JUnit, comparison, the CLI.

Set HARNESS_UPDATE_SNAPSHOTS=1 to rewrite tests/report_snapshots/ after a deliberate change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import _commands as cli_module
from harness.cli._report import FORMATS, report
from harness.core._errors import InputError
from harness.core._model import Delivery, Effect, Event, Fault, Model, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History, Journal, RunInfo
from harness.invariants import judge
from harness.invariants._registry import INVARIANTS
from harness.report import _charts, _describe, html, junit, markdown
from harness.report._advice import _BY_INVARIANT
from harness.report._content import RunInput, build_report
from harness.report._describe import FAILURES, TITLES
from harness.report._redact import Redactor
from harness.report._writers import WRITERS, writer_for
from harness.report.json import SCHEMA, document, render_json, report_dict, write_report

SNAPSHOTS = Path(__file__).resolve().parent / "report_snapshots"
SIGNING_SECRET = "whsec_fixture0signing0secret"
ENV = {"HARNESS_SECRET": SIGNING_SECRET}
CARD = "4111111111111111"
API_TOKEN = "tok_live_SECRETVALUE42"
BEARER = "sk_live_TOPSECRET123456"
EVENT_SIGNATURE = "v1=deadbeefcafebabe0123456789"
QUERY_KEY = "qk_0123456789abcdef"
EMAILS = [f"ada.lovelace{i}+zqtste{i}@example.com" for i in range(12)]
# Every value above must be absent from every format.
SECRETS = [SIGNING_SECRET, CARD, API_TOKEN, BEARER, EVENT_SIGNATURE, QUERY_KEY, *EMAILS]


def fixture_history(*, fixed: bool = False, run_id: str = "payouts-under-outage@zqtst") -> History:
    """A ledger run of 12 payouts over 6 orders that shows every kind of trouble at once.

    Duplicates (one harmful, one with the same Idempotency-Key), a lost event, an order
    violation, a slow ack, a timeout, a rejected delivery, a 2 s outage of the payments API
    with refused effects and a late retry, secrets in payloads, headers, a body and a query.
    ``fixed`` gives the same run against a target that deduplicates and keeps order.
    """
    events = [
        Event(
            id=f"evt_zqtste{i}",
            key=f"ord_zqtstk{i // 2}",
            seq=i,
            type="order.paid",
            occurred_at=i * 0.2,
            payload={
                "id": f"evt_zqtste{i}",
                "type": "order.paid",
                "data": {
                    "order_id": f"ord_zqtstk{i // 2}",
                    "amount": 1000 + i,
                    "customer": {"name": f"Ada Lovelace {i}", "email": EMAILS[i]},
                    "card_number": CARD,
                    "api_token": API_TOKEN,
                },
            },
            headers={"Stripe-Signature": EVENT_SIGNATURE} if i == 0 else {},
        )
        for i in range(12)
    ]
    deliveries: list[Delivery] = []
    effects: list[Effect] = []

    def deliver(i: int, at: float, status: int | None, latency: float | None = 0.004) -> None:
        outcome = (
            Outcome.INDETERMINATE
            if status is None
            else Outcome.OK
            if status < 300
            else Outcome.REJECTED
        )
        n = len(deliveries) + 1
        answered = None if latency is None else at + latency
        attempt = sum(d.event_id == events[i].id for d in deliveries) + 1
        deliveries.append(
            Delivery(f"dlv_{n:06d}", events[i].id, attempt, at, at, answered, status, outcome)
        )

    def effect(i: int, at: float, status: int = 201, *, key: bool = False, path: str = "") -> None:
        body = {"order_id": events[i].key, "amount": 1000 + i, "email": EMAILS[i]}
        if i == 1:
            body["debug_secret"] = SIGNING_SECRET  # a target that leaks its secret downstream
        headers = {
            "Host": "127.0.0.1:9100",
            "Authorization": f"Bearer {BEARER}",
            "Content-Type": "application/json",
        }
        if key:
            headers["Idempotency-Key"] = events[i].id
        effects.append(
            Effect(
                f"eff_{len(effects) + 1}",
                "payments",
                at,
                "POST",
                path or "/payouts",
                headers,
                json.dumps(body),
                status,
                (events[i].id,),
                events[i].key,
                committed=status < 400,  # as the double records a route's answer
            )
        )

    _keyed = "/payouts?api_key=" + QUERY_KEY  # a credential in a query string
    for i in range(12):
        at = i * 0.2
        if i == 9:  # timed out, then retried
            deliver(i, at, None, None)
            deliver(i, at + 0.5, 200)
            effect(i, at + 0.51)
            continue
        if i == 11:  # rejected: never accepted, so not lost
            deliver(i, at, 400)
            continue
        deliver(i, at, 200, 1.5 if i == 10 and not fixed else 0.004)
        if i == 6 and not fixed:  # accepted, then dropped
            continue
        if i == 2 and not fixed:  # slow processing: lands after the next event of its record
            effect(i, 0.75)
        elif i in (4, 5):  # during the outage: refused, retried by the target afterwards
            effect(i, at + 0.01, 503)
            effect(i, 2.9 + i * 0.01)
        else:
            effect(i, at + 0.01, key=i == 3, path=_keyed if i == 1 else "")
    if not fixed:
        deliver(1, 0.25, 200)  # a twin of event 1: a second payout
        effect(1, 0.26, path=_keyed)
    deliver(3, 0.65, 200)  # a twin of event 3 with the same Idempotency-Key: harmless
    effect(3, 0.66, key=True)
    info = RunInfo(
        run_id=run_id,
        scenario="payouts-under-outage",
        seed=42,
        target="http://127.0.0.1:8000/hooks/orders",
        target_name="billing-sync",
        model=Model.LEDGER,
        invariants=(
            InvariantSpec("no_lost_events"),
            InvariantSpec("no_duplicate_effects"),
            InvariantSpec("per_key_order"),
            InvariantSpec("ack_within", {"seconds": 1.0}),
        ),
        started_at="2026-01-02T03:04:05+00:00",
        tracer_tag="zqtst",
        description="Payouts while the payments API is down for 2 s; each must pay out once.",
        settings={
            "perturbations": [
                {"duplicate": {"rate": 0.25, "copies": 2, "spread": 0}},
                {"burst": {"within": 2}},
            ],
            "settle": {"quiet": 0.5, "deadline": 10.0},
            "timeout": 5.0,
            "downstream": "127.0.0.1:9100",
            "reproduce": None,
            "redact": ["$.data.customer.email"],
            "secret_env": "HARNESS_SECRET",
        },
    )
    faults = [Fault("payments", "status", 0.8, 2.8, {"status": 503})]
    effects.sort(key=lambda e: e.at)
    return History(info, events, deliveries, effects, faults, [], "complete", 3.6)


def judged(history: History, journal: Path | None = None) -> RunInput:
    return RunInput(history, judge(history), journal)


@pytest.fixture(scope="module")
def failing() -> RunInput:
    return judged(fixture_history(), Path("runs/payouts.db"))


@pytest.fixture(scope="module")
def rendered(failing: RunInput) -> dict[str, str]:
    content = build_report([failing], environ=ENV)
    return {name: w.render(content) for name, w in WRITERS.items()}


def test_fixture_fails_the_way_it_was_built(failing: RunInput) -> None:
    status = {v.invariant: v.status for v in failing.verdicts}
    assert status == {
        "no_lost_events": Status.FAIL,
        "no_duplicate_effects": Status.FAIL,
        "per_key_order": Status.FAIL,
        "ack_within": Status.FAIL,
        # Its timeout was followed by answers: the target was slow, not gone.
        "target_available": Status.PASS,
    }


def test_verdict_first_with_areas_and_principles(failing: RunInput) -> None:
    content = build_report([failing], environ=ENV)
    assert not content.ready and content.verdict == "Not ready"
    # The counts only: the matrix under the headline shows which scenario and which check.
    assert content.headline == "1 of 5 checks held, 4 failed in 1 scenario."
    (target,) = content.targets
    assert target.headline.startswith("1 of 5 checks held, 4 failed in 1 scenario: lost events")
    areas = {a.key: a for a in target.areas}
    assert (areas["silent"].held, areas["silent"].checks, areas["silent"].status) == (
        0,
        3,
        "not ready",
    )
    assert areas["slow"].status == "not ready"
    # target_available is judged in every run: the loud area is never left unchecked.
    assert (areas["loud"].held, areas["loud"].checks, areas["loud"].status) == (1, 1, "ready")
    assert "1 rejected (4xx)" in areas["loud"].observed
    principles = {p.title: p for p in target.principles}
    assert list(principles) == [
        "Failure modes handled",
        "Idempotent",
        "Queued and ordered under load",
        "Documented",
        "Runs unattended",
    ]
    assert principles["Idempotent"].status == "fails"
    assert principles["Documented"].status == "holds"
    assert "1 fault window simulated" in principles["Failure modes handled"].basis


def test_scenario_says_what_was_done_in_plain_words(failing: RunInput) -> None:
    (s,) = build_report([failing], environ=ENV).scenarios
    done = " ".join(s.done)
    assert "12 order.paid events for 6 records" in done
    assert "25% of events delivered twice at the same instant" in done
    assert "all events squeezed into 2 s (a burst)" in done
    assert "Payments down (503) for 2 s from 0.8 s." in done
    assert "1 rejected (4xx)" in done and "1 timed out" in done
    assert s.reproduce == (
        "harness run payouts-under-outage --target http://127.0.0.1:8000/hooks/orders "
        "--seed 42 --downstream 127.0.0.1:9100"
    )
    failed = {v.invariant: v for v in s.failed}
    dup = failed["no_duplicate_effects"]
    assert dup.lines[0].startswith("event evt_zqtste1 (record ord_zqtstk0, seq 1) was delivered")
    assert [r.effect_id for r in dup.requests] == list(dup.effect_ids[:2])


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_no_secret_appears_in_any_format(rendered: dict[str, str], fmt: str) -> None:
    text = rendered[fmt]
    leaked = [s for s in SECRETS if s in text]
    assert leaked == []
    if fmt in ("html", "md"):  # they show witness requests, with stand-ins
        assert "[redacted" in text


def test_the_reproduce_line_gives_the_time_scale_back_with_every_digit() -> None:
    """``:g`` kept six digits: a run at 0.1234567 was reproduced at 0.123457, another run."""
    history = fixture_history()
    settings = {**history.info.settings, "time_scale": 0.1234567}
    history = dataclasses.replace(
        history, info=dataclasses.replace(history.info, settings=settings)
    )
    (s,) = build_report([judged(history)], environ=ENV).scenarios
    assert s.reproduce.endswith("--downstream 127.0.0.1:9100 --time-scale 0.1234567")


def test_a_redacted_record_key_is_pseudonymised_in_every_sentence() -> None:
    h = fixture_history()
    redact = ["$.data.customer.email", "$.data.order_id"]
    info = dataclasses.replace(h.info, settings={**h.info.settings, "redact": redact})
    content = build_report([judged(dataclasses.replace(h, info=info))], environ=ENV)
    for name, writer in WRITERS.items():
        text = writer.render(content)
        assert "ord_zqtstk" not in text, name
    (dup,) = [v for v in content.scenarios[0].failed if v.invariant == "no_duplicate_effects"]
    # Event 1 (record 0) was paid twice: its record has one stand-in, in the sentence and in
    # the bodies of the two payouts shown as witnesses.
    label = re.search(r"event evt_zqtste1 \(record (\[redacted \d+\])", dup.lines[0])
    assert label is not None
    assert [label.group(1) in r.body for r in dup.requests] == [True, True]


def test_html_shows_redacted_headers_and_labels(rendered: dict[str, str]) -> None:
    page = rendered["html"]
    assert "Authorization: [redacted]" in page
    assert "Host:" not in page  # client noise is left out of witnesses
    assert "api_key=[redacted]" in page
    assert "[redacted secret]" in page  # the leaked signing secret in a body


def test_markdown_matches_snapshot(rendered: dict[str, str]) -> None:
    snapshot = SNAPSHOTS / "fixture.md"
    if os.environ.get("HARNESS_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(rendered["md"], encoding="utf-8")
    assert rendered["md"] == snapshot.read_text(encoding="utf-8"), (
        "the Markdown report changed; if on purpose, rerun with HARNESS_UPDATE_SNAPSHOTS=1 "
        "and review the diff of tests/report_snapshots/fixture.md"
    )


def test_html_is_self_contained(rendered: dict[str, str]) -> None:
    page = rendered["html"]
    assert page.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", " src=", "url(", "@import", 'href="http'):
        assert forbidden not in page
    assert page.count("<svg") == 3  # timeline, ack latency, effect lag
    assert '<meta name="viewport"' in page and "@media print" in page


def test_json_extends_the_first_shape_without_breaking_it(rendered: dict[str, str]) -> None:
    doc = json.loads(rendered["json"])
    assert doc["schema"] == SCHEMA == "harness.report/1"
    assert doc["passed"] is False
    (run,) = doc["runs"]
    first_version = {
        "run_id": str,
        "scenario": str,
        "description": str,
        "seed": int,
        "target": str,
        "target_name": str,
        "model": str,
        "started_at": str,
        "status": str,
        "passed": bool,
        "journal": str,
        "reproduce": str,
        "counts": dict,
        "verdicts": list,
    }
    for key, kind in first_version.items():
        assert isinstance(run[key], kind), key
    assert set(run["counts"]) >= {
        "events",
        "deliveries",
        "effects",
        "deliveries_by_outcome",
        "unattributed_effects",
    }
    assert run["counts"]["deliveries_by_outcome"] == {"indeterminate": 1, "ok": 13, "rejected": 1}
    verdict = run["verdicts"][1]
    assert set(verdict) >= {"invariant", "status", "class", "summary", "evidence"}
    assert set(verdict["evidence"]) == {"lines", "events", "deliveries", "effects"}
    # Added members:
    assert doc["ready"] is False and doc["verdict"] == "Not ready"
    assert doc["targets"][0]["areas"]["silent"]["status"] == "not ready"
    assert run["ack_latency"]["count"] == 14 and run["effect_lag"]["max"] > 2
    assert {a["key"] for a in doc["handoff"]["advice"]} >= {"lost", "duplicate", "order", "slow"}
    assert "comparison" not in doc


def test_report_dict_keeps_its_signature(failing: RunInput) -> None:
    doc = report_dict([(failing.history, failing.verdicts)], Path("j.db"))
    assert doc["runs"][0]["journal"] == "j.db"


def test_junit_has_a_case_per_invariant_and_evidence_in_failures(rendered: dict[str, str]) -> None:
    root = ET.fromstring(rendered["junit"].encode())
    assert root.tag == "testsuites" and root.get("tests") == "5" and root.get("failures") == "4"
    (suite,) = root
    assert suite.get("name") == "billing-sync · payouts-under-outage"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "no_lost_events",
        "no_duplicate_effects",
        "per_key_order",
        "ack_within",
        "target_available",
    ]
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("type") == "silent"
    assert "evt_zqtste1" in (failure.text or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "42"


def test_passing_run_is_ready(tmp_path: Path) -> None:
    content = build_report([judged(_passing())], environ=ENV)
    assert content.ready and content.verdict == "Ready"
    assert content.headline == "All 5 checks held in 1 scenario."
    assert [a.key for a in content.advice] == ["clean"]
    assert ET.fromstring(junit.render(content)).get("failures") == "0"


def _passing() -> History:
    """The fixed target, without the rejected delivery and the timeout."""
    h = fixture_history(fixed=True)
    keep = [d for d in h.deliveries if d.outcome is Outcome.OK]
    return dataclasses.replace(h, deliveries=keep)


def test_comparison_shows_what_a_fix_changed() -> None:
    before = [judged(fixture_history(), Path("before.db"))]
    after = [judged(fixture_history(fixed=True, run_id="payouts@zqnew"), Path("after.db"))]
    content = build_report(after, before=before, environ=ENV)
    assert content.comparison is not None
    kinds = {c.invariant: c.kind for c in content.comparison.changes}
    assert kinds == {
        "no_lost_events": "fixed",
        "no_duplicate_effects": "fixed",
        "per_key_order": "fixed",
        "ack_within": "still failing",  # the timeout is still there
        "target_available": "unchanged",
    }
    assert content.comparison.headline == "3 fixed, 1 still failing"
    page = markdown.render(content)
    assert "## What changed" in page and "| fixed | billing-sync · payouts-under-outage |" in page
    doc = document(content)
    assert doc["comparison"]["before"] == "before.db"
    back = build_report(before, before=after, environ=ENV).comparison
    assert back is not None and back.headline == "3 regressed, 1 still failing"


def test_comparison_pairs_a_renamed_target_by_scenario() -> None:
    before = judged(fixture_history())
    renamed = dataclasses.replace(
        before.history.info, target_name="127.0.0.1:8001", run_id="payouts@other"
    )
    after = judged(dataclasses.replace(before.history, info=renamed))
    comparison = build_report([after], before=[before], environ=ENV).comparison
    assert comparison is not None
    assert {c.kind for c in comparison.changes} == {"still failing", "unchanged"}


def test_write_report_picks_the_format_from_the_extension(tmp_path: Path) -> None:
    runs = [(fixture_history(), judge(fixture_history()))]
    for name, check in (
        ("r.json", lambda t: json.loads(t)["schema"] == SCHEMA),
        ("r.html", lambda t: t.startswith("<!DOCTYPE html>")),
        ("r.HTM", lambda t: t.startswith("<!DOCTYPE html>")),
        ("r.md", lambda t: t.startswith("# Production readiness: Not ready")),
        ("r.xml", lambda t: ET.fromstring(t.encode()).tag == "testsuites"),
    ):
        write_report(tmp_path / name, runs)
        assert check((tmp_path / name).read_text(encoding="utf-8")), name
    write_report(tmp_path / "forced.txt", runs, fmt="md")
    assert (tmp_path / "forced.txt").read_text().startswith("# Production readiness")
    with pytest.raises(InputError, match=r"--report .*out\.pdf: cannot tell the report format"):
        write_report(tmp_path / "out.pdf", runs)
    with pytest.raises(InputError, match="unknown report format 'pdf'"):
        writer_for(None, "pdf", where="--format")
    assert not (tmp_path / "out.pdf").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_cli_formats_are_the_writers() -> None:
    assert tuple(WRITERS) == FORMATS


def test_redactor_replaces_values_consistently() -> None:
    r = Redactor(["alice@example.com", "bob", "alice@example.com.au"], secrets=["s3cret-value"])
    text = "from alice@example.com.au and alice@example.com, bob, key s3cret-value"
    assert r.text(text) == (
        "from [redacted 2] and [redacted 3], bob, key [redacted secret]"
    )  # longest first; values under 4 characters are left to the structural layer
    assert r.text("again alice@example.com") == "again [redacted 3]"
    assert r.text("GET /x?token=abc&id=7") == "GET /x?token=[redacted]&id=7"
    assert r.headers({"X-Hub-Signature-256": "sha256=1", "Accept": "a"}) == (
        ("X-Hub-Signature-256", "[redacted]"),
        ("Accept", "a"),
    )
    assert r.body('{"password": "hunter22", "n": 1}') == '{"password": "[redacted 4]", "n": 1}'
    assert r.body("not json s3cret-value") == "not json [redacted secret]"


def test_redact_paths_replace_payload_values_and_objects() -> None:
    h = fixture_history()
    info = dataclasses.replace(h.info, settings={**h.info.settings, "redact": ["$.data.customer"]})
    r = Redactor.for_runs([dataclasses.replace(h, info=info)], ENV)
    shown = r.payload(h.info.run_id, h.events[0].payload)
    assert shown["data"]["customer"] == "[redacted]"
    assert shown["data"]["card_number"].startswith("[redacted")
    assert r.text(f"name Ada Lovelace 3 mail {EMAILS[3]}").count("[redacted") == 2


def test_describe_in_plain_words() -> None:
    assert _describe.duration(0.0042) == "4.2 ms"
    assert _describe.duration(1.0) == "1 s"
    assert _describe.duration(2.5) == "2.5 s"
    assert _describe.duration(240) == "4 min"
    assert _describe.duration(3 * 86400) == "3 days"
    assert _describe.clock(600) == "10:00"
    assert _describe.fault(Fault("crm", "status", 600, 840, {"status": 503})) == (
        "crm down (503) for 4 min from 10:00"
    )
    assert _describe.fault(Fault("crm", "throttle", 0, 30, {"retry_after": 5})) == (
        "crm rate-limiting (429, Retry-After 5 s) for 30 s from 0.0 s"
    )
    assert (
        _describe.fault(
            Fault("api", "commit-then-fail", 1, 3, {"status": 500, "route": "POST /payouts"})
        )
        == "api applying writes, then failing the answer (500) on POST /payouts for 2 s from 1.0 s"
    )
    assert _describe.perturbation("reorder", {"window": 6, "rate": 0.5}) == (
        "deliveries shuffled within windows of 6 (50% of windows)"
    )
    assert _describe.perturbation("replay", {"times": 2, "gap": 1}) == (
        "the whole stream replayed 2 more times, 1 s after each pass ended"
    )
    assert _describe.perturbation("field_drift", {"rename": "a"}) == "field drift (rename a)"


def test_charts_are_svg_with_fault_windows_and_failure_marks(failing: RunInput) -> None:
    (s,) = build_report([failing], environ=ENV).scenarios
    timeline = _charts.timeline(s.pictures.timeline)
    ET.fromstring(timeline)  # well-formed
    assert 'fill-opacity="0.16"' in timeline and "payments down (503)" in timeline
    assert "failure witnesses" in timeline
    latency = _charts.latency(s.pictures.latency)
    ET.fromstring(latency)
    assert "budget 1 s" in latency and "timed out" in latency
    ET.fromstring(_charts.lag(s.pictures.lag))
    text = markdown.timeline_text(s.pictures.timeline)
    assert text.splitlines()[0].startswith("sent     ") and "░" in text and "▼" in text


def _big(deliveries: int) -> History:
    """A passing-shaped run of ``deliveries`` deliveries, one effect each."""
    h = fixture_history(fixed=True)
    events = [
        Event(f"evt_{i}", f"ord_{i % 997}", i, "order.paid", i * 0.001, {"id": f"evt_{i}"})
        for i in range(deliveries)
    ]
    ds = [
        Delivery(
            f"dlv_{i}", f"evt_{i}", 1, i * 0.001, i * 0.001, i * 0.001 + 0.003, 200, Outcome.OK
        )
        for i in range(deliveries)
    ]
    es = [
        Effect(f"eff_{i}", "api", i * 0.001 + 0.004, "POST", "/p", {}, "{}", 201, (f"evt_{i}",))
        for i in range(deliveries)
    ]
    return History(h.info, events, ds, es, [], [], "complete", deliveries * 0.001)


def test_html_size_does_not_grow_with_the_number_of_deliveries() -> None:
    verdict = [Verdict("no_lost_events", Status.PASS, judge(_big(10))[0].failure_class, "ok")]
    sizes = []
    for n in (1_000, 20_000):
        page = html.render(build_report([RunInput(_big(n), verdict)], environ={}))
        sizes.append(len(page))  # its time is benchmarks/bench_report.py's
    assert abs(sizes[1] - sizes[0]) < 0.05 * sizes[0], sizes


def run_cli(*args: str) -> int:
    """``harness report ...`` through the real entry point (exit-code mapping included)."""
    cli_module.cli.add_command(report)  # _commands registers it; harmless when it already has
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["report", *args])
    return int(exit_info.value.code or 0)


def _journal(path: Path, *histories: History) -> Path:
    journal = Journal(path)
    for h in histories:
        journal.begin(h.info, h.events, h.faults)
        for d in h.deliveries:
            journal.delivery(d)
        for e in h.effects:
            journal.effect(e)
        journal.end(h.status, h.ended_at or 0.0)
    journal.close()
    return path


def test_cli_renders_stored_runs_with_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SIGNING_SECRET)
    bad = _journal(tmp_path / "before.db", fixture_history())
    good = _journal(tmp_path / "after.db", _passing())
    assert run_cli(str(bad), "-o", str(tmp_path / "r.html")) == 1
    page = (tmp_path / "r.html").read_text()
    assert "Not ready" in page and not [s for s in SECRETS if s in page]
    assert "Not ready: 1 of 5 checks held" in capsys.readouterr().err

    assert run_cli(str(good), "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["ready"] is True

    assert run_cli(str(bad), str(good)) == 0  # compared: the after runs hold
    out = capsys.readouterr().out
    assert "## What changed" in out and "4 fixed" in out

    assert run_cli(str(bad), str(good), "--no-compare", "--format", "junit") == 1
    root = ET.fromstring(capsys.readouterr().out.encode())
    assert len(root.findall("testsuite")) == 2


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = _journal(tmp_path / "j.db", fixture_history())
    assert run_cli(str(tmp_path / "missing.db")) == 2
    assert "no such journal file" in capsys.readouterr().err
    assert run_cli(str(journal), "-o", str(tmp_path / "r.pdf")) == 2
    assert "cannot tell the report format from '.pdf'" in capsys.readouterr().err
    assert run_cli(str(journal), "--format", "pdf") == 2
    assert run_cli(str(journal), str(journal), str(journal), "--compare") == 2
    assert "--compare takes two journals (before, after), got 3" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    Journal(empty).close()
    assert run_cli(str(empty)) == 2
    assert "the journal holds no run" in capsys.readouterr().err


def test_render_json_round_trips(failing: RunInput) -> None:
    text = render_json(build_report([failing], environ=ENV))
    assert json.loads(text)["runs"][0]["scenario"] == "payouts-under-outage"


def test_a_run_stopped_for_its_target_gone_says_so_and_what_to_check() -> None:
    h = dataclasses.replace(fixture_history(), status="unavailable")
    content = build_report([judged(h)], environ=ENV)
    assert not content.ready
    assert "stopped, the target answering nothing: payouts-under-outage" in content.headline
    assert "interrupted" not in content.headline
    assert "stopped" in {a.key for a in content.advice}
    for writer in WRITERS.values():
        assert writer.render(content)


def test_an_interrupted_run_with_nothing_delivered_renders_in_every_format() -> None:
    h = dataclasses.replace(fixture_history(), deliveries=[], effects=[], status="aborted")
    content = build_report([judged(h)], environ=ENV)
    assert not content.ready
    assert "interrupted: payouts-under-outage" in content.headline
    assert {a.key for a in content.advice} >= {"aborted", "inconclusive"}
    (s,) = content.scenarios
    assert "nothing was delivered" in s.done[0]
    for writer in WRITERS.values():
        assert writer.render(content)


def test_every_invariant_has_its_words_in_the_report() -> None:
    """A new invariant without them read "Backs off" and went to the advice's "other"."""
    names = set(INVARIANTS)
    assert names <= set(TITLES) and names <= set(FAILURES) and names <= set(_BY_INVARIANT)


def test_a_scenario_held_but_for_a_check_not_judged_is_not_called_failed() -> None:
    """Found on float_balance's duplicate-storm: six checks held, per_key_order not judged, and
    the contents and the scenario's heading said "✗ … failed" where the matrix said "?"."""
    run = judged(_passing())
    first = run.verdicts[0]
    unjudged = dataclasses.replace(first, status=Status.INCONCLUSIVE, summary="cannot tell")
    content = build_report([RunInput(run.history, (unjudged, *run.verdicts[1:]), None)])
    (s,) = content.scenarios
    assert (s.outcome, s.outcome_word) == ("inconclusive", "inconclusive")
    page = html.render(content)
    assert f'<span class="mark-inconclusive">?</span> <a href="#{s.anchor}">' in page
    assert '<span class="badge inconclusive">inconclusive</span>' in page
    assert '<span class="badge fail">failed</span>' not in page
    text = markdown.render(content)
    assert "### ? payouts-under-outage — inconclusive" in text
    # The principle it counts toward says so, not "held in 0 of 1 runs" alone.
    assert (
        f"{_describe.title(first.invariant).lower()}: held in 0 of 1 runs, not judged in 1" in text
    )
    failed = dataclasses.replace(run.verdicts[1], status=Status.FAIL, summary="lost")
    content = build_report([RunInput(run.history, (unjudged, failed, *run.verdicts[2:]), None)])
    assert content.scenarios[0].outcome_word == "failed"


def test_an_interrupted_run_whose_verdicts_held_is_not_passed_in_json() -> None:
    """The top level said false and the run true: runs[].passed read the verdicts alone."""
    h = dataclasses.replace(_passing(), status="aborted")
    doc = json.loads(render_json(build_report([judged(h)], environ=ENV)))
    assert all(v["status"] == "pass" for v in doc["runs"][0]["verdicts"]), doc["runs"][0]
    assert doc["passed"] is False and doc["runs"][0]["passed"] is False
