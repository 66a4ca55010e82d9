"""Replay of provider exports (issue #14, points 1 and 3), end to end: a HAR file, a Stripe
event list, a GitHub deliveries export and a Svix export each replay against the sound demo
automation (a real process on loopback) as recorded but for their ids, each run's own — the
provider's ids in the journal and the report beside them — again and again without the target
taking a replay for repeats; and a bad file of each format is refused, naming the format and
the first bad record, before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.history import load_all

from . import recorded_samples as samples
from .conftest import SECRET, Automation, Completed
from .conftest import harness as harness_cli

pytest_plugins = ["pytester"]

# The sound demo passes the body's own id on as Idempotency-Key: the rule that ties its
# requests to the events of an export whose event ids are the sender's message ids.
BY_IDEMPOTENCY_KEY = "correlate:\n  - {effect: {header: Idempotency-Key}, event: $.id}\n"
ORDERS = (
    "model: ledger\n"
    + BY_IDEMPOTENCY_KEY
    + "downstreams:\n  - name: api\n    routes: [{method: POST, path: /payouts, status: 201}]\n"
)
INVOICES = (
    "model: register\n"
    "downstreams:\n  - name: api\n"
    "    routes: [{method: PUT, path: '/invoices/{id}', status: 200}]\n"
)


def scenario(folder: Path, source: str, rest: str) -> Path:
    path = folder / "replay.scenario.yaml"
    path.write_text(
        "name: replay\n"
        f"source:\n  recorded:\n{source}"
        "invariants: [no_lost_events, no_duplicate_effects]\n"
        f"{rest}"
        "settle: {quiet: 1s, deadline: 20s}\n"
    )
    return path


def run(automation: Automation, path: Path, tmp_path: Path) -> tuple[int, dict[str, Any], str]:
    """``harness run``: exit code, the run's JSON report, its Markdown report."""
    report = tmp_path / "report.json"
    markdown = tmp_path / "report.md"
    done = harness_cli(
        "run",
        str(path),
        "--target",
        automation.hook,
        "--downstream",
        f"127.0.0.1:{automation.downstream_port}",
        "--seed",
        "5",
        "--report",
        str(report),
        "--journal",
        str(tmp_path / "j.db"),
        env={"HARNESS_SECRET": SECRET},
    )
    assert report.exists(), done.out + done.err
    harness_cli("report", str(tmp_path / "j.db"), "--output", str(markdown))
    [only] = json.loads(report.read_text())["runs"]
    text = markdown.read_text() if markdown.exists() else ""
    return done.code, only, done.out + text


CASES: dict[str, tuple[Callable[[Path], Path], str, str, list[str], str]] = {
    "har": (
        samples.har,
        "    file: traffic.har\n    har: {path: /hooks/orders}\n    key: $.data.order_id\n",
        ORDERS,
        samples.ORDER_IDS,
        "har",
    ),
    "stripe": (
        samples.stripe_list,
        "    file: events.json\n",
        INVOICES,
        samples.STRIPE_IDS,
        "stripe",
    ),
    "github": (
        samples.github_deliveries,
        "    file: deliveries.json\n    key: $.data.order_id\n",
        ORDERS,
        samples.GITHUB_GUIDS,
        "github",
    ),
    "svix": (
        samples.svix_export,
        "    file: messages.json\n    key: $.data.order_id\n",
        ORDERS,
        samples.SVIX_IDS,
        "svix",
    ),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(CASES))
def test_an_export_replays_again_and_again_with_its_recorded_ids_in_the_report(
    sound: Automation, tmp_path: Path, name: str
) -> None:
    """Each replay sends the export's ids as its own (of their shape), so the sound demo, which
    keeps the event ids it has handled, meets the second replay's events as new: sent as
    recorded, it took them for repeats and every one was judged lost."""
    make, source, rest, ids, fmt = CASES[name]
    make(tmp_path)
    path = scenario(tmp_path, source, rest)
    replays = [run(sound, path, tmp_path) for _ in range(2)]
    for code, found, _ in replays:
        verdicts = {v["invariant"]: v for v in found["verdicts"]}
        for invariant in ("no_lost_events", "no_duplicate_effects"):
            assert verdicts[invariant]["status"] == "pass", verdicts[invariant]["summary"]
        assert code == 0
    for _, found, text in replays:
        done = " ".join(found["done"])
        assert f"({fmt} format) as recorded but for its ids, each this run's own" in done
        assert f"was {ids[0]}" in done
        assert found["counts"]["events"] == len(ids)
        assert ids[0] in text  # the Markdown report names them too


@pytest.mark.integration
def test_a_traced_replay_names_each_events_recorded_id_beside_its_token(
    fragile: Automation, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tracer: {rewrite: true}`` rewrites a recording's ids; the evidence of a failed
    verdict names the recorded id beside the token the run sent."""
    folder = pytester.path
    samples.github_deliveries(folder)
    source = "    file: deliveries.json\n    key: $.data.order_id\n"
    path = scenario(folder, source, "tracer: {rewrite: true}\n" + ORDERS)
    code, found, _ = run(fragile, path, folder)
    verdicts = {v["invariant"]: v for v in found["verdicts"]}
    duplicates = verdicts["no_duplicate_effects"]  # fragile acts on GitHub's redelivery
    assert duplicates["status"] == "fail" and code == 1
    [line] = [x for x in duplicates["evidence"]["lines"] if "recorded as" in x]
    assert f"recorded as {samples.GITHUB_GUIDS[0]}," in line
    assert "rewritten into tracer tokens" in " ".join(found["done"])
    # The pytest plugin's failure names the recorded id beside the token as the reports do, in
    # pytester's session in this process (a pytest child imported harness again for nothing).
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    monkeypatch.setenv("COLUMNS", "200")
    result = pytester.runpytest(
        path.name, "-p", "no:cacheprovider", "--harness-target", fragile.hook,
        "--harness-seed", "5", "--harness-downstream", f"127.0.0.1:{fragile.downstream_port}",
    )  # fmt: skip
    assert result.ret == 1, result.stdout.str() + result.stderr.str()
    assert f"recorded as {samples.GITHUB_GUIDS[0]}," in result.stdout.str()


@pytest.mark.integration
def test_run_events_takes_a_hars_requests_to_the_targets_path(
    sound: Automation, tmp_path: Path
) -> None:
    """A HAR of the webhook's four POSTs to /hooks/orders beside a POST to /api/cart, given to
    ``harness run --events``: the requests to the target's path are the deliveries, as
    ``harness init`` picks them — it was refused, 'requests go to 2 paths; say which are the
    webhook's', with nothing but a project file's ``har:`` to say it by (fails before). A
    target at neither path is refused before anything is sent, exit 2, the paths listed."""
    samples.har(tmp_path)
    report = tmp_path / "report.json"

    def run_events(target: str) -> Completed:
        return harness_cli(
            *("run", "duplicate-storm", "--no-project", "--events", "traffic.har"),
            *("--provider", "standard-webhooks", "--target", target, "--seed", "5"),
            *("--downstream", f"127.0.0.1:{sound.downstream_port}", "--report", str(report)),
            *("--journal", str(tmp_path / "j.db")),
            cwd=tmp_path,
            env={"HARNESS_SECRET": SECRET},
        )

    elsewhere = run_events(sound.service.url + "/hooks/refunds")
    assert elsewhere.code == 2, elsewhere.out + elsewhere.err
    assert (
        "error: --events: traffic.har: its requests with a body go to 2 paths — /hooks/orders "
        "(4), /api/cart (1); the target's path /hooks/refunds is none of them"
    ) in elsewhere.err
    assert "give --target the automation's URL at the webhook's path" in elsewhere.err
    assert "Traceback" not in elsewhere.err and not report.exists()

    done = run_events(sound.hook)
    assert report.exists(), done.out + done.err
    [found] = [
        r for r in json.loads(report.read_text())["runs"] if r["scenario"] == "duplicate-storm"
    ]
    assert found["counts"]["events"] == samples.ORDERS, found["counts"]
    [run_] = [r for r in load_all(tmp_path / "j.db") if r.baseline is not None]
    assert sorted(e.payload["data"]["amount"] for e in run_.events) == [1001, 1002, 1003, 1004]


def _bad_svix(p: Path) -> None:
    doc = json.loads(p.read_text())
    doc["data"][2]["eventType"] = 7
    p.write_text(json.dumps(doc, indent=2))


def _bad_stripe(p: Path) -> None:
    doc = json.loads(p.read_text())
    doc["data"][1]["object"] = "invoice"
    p.write_text(json.dumps(doc, indent=2))


def _bad_github(p: Path) -> None:
    doc = json.loads(p.read_text())
    del doc[2]["request"]
    p.write_text(json.dumps(doc, indent=2))


def _bad_har(p: Path) -> None:
    doc = json.loads(p.read_text())
    doc["log"]["entries"][2]["request"]["postData"]["text"] = "amount=1"
    p.write_text(json.dumps(doc, indent=2))


@pytest.mark.parametrize(
    ("name", "edit", "said"),
    [
        (
            "har",
            _bad_har,
            "traffic.har: log.entries[2].request.postData.text: har format: the body",
        ),
        ("stripe", _bad_stripe, "events.json: data[1]: object: stripe format: not a Stripe event"),
        ("github", _bad_github, "deliveries.json: [2]: request: github format: request is missing"),
        ("svix", _bad_svix, "messages.json: data[2]: eventType: svix format: eventType is 7"),
    ],
)
def test_a_bad_export_is_refused_with_its_format_and_first_bad_record(
    tmp_path: Path, name: str, edit: Callable[[Path], None], said: str
) -> None:
    make, source, rest, _, _ = CASES[name]
    edit(make(tmp_path))
    done = harness_cli(
        "run",
        str(scenario(tmp_path, source, rest)),
        "--target",
        "http://127.0.0.1:1/hooks",  # nothing listens: the file is refused before any send
        "--journal",
        str(tmp_path / "j.db"),
    )
    assert done.code == 2, done.out + done.err
    assert said in done.err and "Traceback" not in done.err, done.err


@pytest.mark.integration
def test_a_replay_nothing_ties_to_an_event_is_judged_by_each_orders_single_event(
    sound: Automation, tmp_path: Path
) -> None:
    """Svix message ids appear in no request the demo makes: without the Idempotency-Key rule
    no effect names an event, only its order (the record key, carried as recorded). Each order
    has a single event in the export, sent before its payout: each payout is taken as that
    event's, and the verdicts judge per event and say so (they were judged per record, "4
    effects name only their record (…; each of the 4 records named had a single event)", and
    per_key_order and recovers_after_outage were inconclusive, "none of the 4 effects names an
    event")."""
    samples.svix_export(tmp_path)
    rest = ORDERS.replace(BY_IDEMPOTENCY_KEY, "")
    source = "    file: messages.json\n    key: $.data.order_id\n"
    _, found, _ = run(sound, scenario(tmp_path, source, rest), tmp_path)
    verdicts = {v["invariant"]: v for v in found["verdicts"]}
    lost, dup = verdicts["no_lost_events"], verdicts["no_duplicate_effects"]
    taken = (
        "4 effects naming only their record were taken as its single event's (POST /payouts (4): "
        "the record had a single event in the run, sent before them)"
    )
    assert lost["status"] == "pass", lost["summary"]
    assert lost["summary"].startswith(
        f"all 4 accepted events made their expected effects; {taken}"
    ), lost["summary"]
    assert dup["status"] == "pass", dup["summary"]
    assert dup["summary"].startswith(
        f"no event produced a repeated effect (4 effects over 4 events); {taken}"
    ), dup["summary"]


STATEFUL = "model: register\ndownstreams:\n  - name: api\n    stateful: true\n"


@pytest.mark.integration
@pytest.mark.parametrize("tracer", ["", "tracer: {rewrite: false}\n"])
def test_a_replay_that_compares_final_states_is_traced_unless_told_not_to(
    sound: Automation, tmp_path: Path, tracer: str
) -> None:
    """Comparing final states needs the run and its clean run traced alike: a recording is then
    traced by default (the evidence naming its ids); told to go exactly as recorded, the
    comparison is inconclusive and says why."""
    samples.stripe_list(tmp_path)
    path = scenario(tmp_path, "    file: events.json\n", tracer + STATEFUL)
    path.write_text(
        path.read_text().replace(
            "invariants: [no_lost_events, no_duplicate_effects]",
            "invariants: [final_state_matches_baseline]",
        )
    )
    _, found, _ = run(sound, path, tmp_path)
    [state] = [v for v in found["verdicts"] if v["invariant"] == "final_state_matches_baseline"]
    done = " ".join(found["done"])
    if not tracer:
        assert state["status"] == "pass", state["summary"]
        assert "rewritten into tracer tokens" in done and samples.STRIPE_IDS[0] in done
    else:
        assert state["status"] == "inconclusive", state["summary"]
        assert "leave the tracer at its default" in state["summary"]
        assert "as recorded: the events' own ids and values" in done
