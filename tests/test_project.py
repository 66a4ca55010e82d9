"""The project file (harness.yaml) and the built-in hazards over a user's own events: a Stripe
receiver that verifies Stripe's scheme with its own code (``tests/stripe_receiver.py``) gets
verdicts on accepted deliveries; drift hazards name the field they chose; a hazard with nothing
to act on is skipped with its reason; flags override the file; bad files get file:line."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness
from harness.cli._processes import Service, free_port
from harness.core._errors import ScenarioError
from harness.core._library import entry
from harness.core._providers import PROVIDERS
from harness.scenario._hazards import resolve_hazards
from harness.scenario._project import SCHEMA_FILE, load_project, schema_text

from .conftest import Completed, held_but_late, start_module
from .conftest import harness as run_harness

pytest_plugins = ["pytester"]

STRIPE_SECRET = "whsec_" + base64.b64encode(b"stripe-test-secret-0123456789ab").decode()
ENV = {"STRIPE_WEBHOOK_SECRET": STRIPE_SECRET}
CHECKOUT = entry("stripe:checkout.session.completed")


@dataclass
class Receiver:
    service: Service
    crm_port: int

    @property
    def hook(self) -> str:
        return self.service.url + "/hooks/stripe"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    service = start_module(
        "stripe receiver",
        "tests.stripe_receiver",
        ["--downstream", f"http://127.0.0.1:{port}"],
        ENV,
    )
    yield Receiver(service, port)
    service.stop()


def project(folder: Path, text: str) -> Path:
    (folder / "events").mkdir(exist_ok=True)
    (folder / "events" / "checkout.json").write_text(json.dumps(CHECKOUT.payload))
    path = folder / "harness.yaml"
    path.write_text(text)
    return path


def stripe_project(receiver: Receiver, hazards: str) -> str:
    return f"""
target: {receiver.hook}
provider: stripe
secret_env: STRIPE_WEBHOOK_SECRET
events:
  - example: events/checkout.json
    id: $.id
    key: $.data.object.customer
    type: $.type
    time: $.created
downstreams:
  - name: crm
    port: {receiver.crm_port}
hazards: [{hazards}]
"""


def test_hazards_over_a_stripe_project(receiver: Receiver, tmp_path: Path) -> None:
    project(tmp_path, stripe_project(receiver, "duplicate-storm, renamed-field, big-number-ids"))
    done = run_harness(
        "run", "--time-scale", "0.05", "--report", "report.json", cwd=tmp_path, env=ENV
    )
    report = json.loads((tmp_path / "report.json").read_text())
    runs = {r["scenario"]: r for r in report["runs"]}
    assert set(runs) == {"duplicate-storm", "renamed-field"}
    # Signed as Stripe signs, the receiver's own verification accepts them.
    counts = runs["duplicate-storm"]["counts"]
    assert counts["deliveries_by_answer"]["accepted"] == counts["deliveries"] > 0
    assert held_but_late(report["runs"]) == [], done.out + done.err
    late = any(v["status"] != "pass" for r in runs.values() for v in r["verdicts"])
    assert done.code == (1 if late else 0), done.out + done.err
    chose = "renamed-field chose $.data.object.customer_details.email"
    assert chose in done.out
    assert any(chose in line for line in runs["renamed-field"]["done"])
    # No 64-bit integer in a Checkout Session: skipped, with why, in console and report.
    assert "big-number-ids skipped" in done.err
    assert report["skipped"] == [
        {
            "scenario": "big-number-ids",
            "reason": "the payload of events[0] (events/checkout.json) has no integer above "
            "2**53 (a 64-bit id)",
            "not_tried": False,
        }
    ]


def test_flags_without_a_project_file_and_over_one(receiver: Receiver, tmp_path: Path) -> None:
    # A file that names another target and provider: the flags win.
    project(tmp_path, "target: http://127.0.0.1:1/hooks\nprovider: github\n")
    done = run_harness(
        "run", "duplicate-storm",
        "--events", "stripe:checkout.session.completed",
        "--provider", "stripe",
        "--secret-env", "STRIPE_WEBHOOK_SECRET",
        "--target", receiver.hook,
        "--downstream", f"127.0.0.1:{receiver.crm_port}",
        "--time-scale", "0.05", "--report", "report.json",
        cwd=tmp_path, env=ENV,
    )  # fmt: skip
    runs = json.loads((tmp_path / "report.json").read_text())["runs"]
    assert held_but_late(runs) == [], done.out + done.err
    late = any(v["status"] != "pass" for r in runs for v in r["verdicts"])
    assert done.code == (1 if late else 0), done.out + done.err
    assert "Deliveries signed as stripe with the secret in STRIPE_WEBHOOK_SECRET" in done.out
    assert "0 rejected (4xx)" in done.out


def test_no_project_ignores_a_broken_file(tmp_path: Path) -> None:
    project(tmp_path, "target: [not, a, target]\n")
    broken = run_harness("run", "duplicate-storm", "--target", "http://127.0.0.1:1/", cwd=tmp_path)
    assert broken.code == 2
    assert "harness.yaml:1: target:" in broken.err
    ignored = run_harness(
        "run", "duplicate-storm", "--no-project", "--target", "http://127.0.0.1:1/", cwd=tmp_path
    )
    assert ignored.code == 3, ignored.err  # unreachable: the file was not read


def pytest_project(pytester: pytest.Pytester, env: dict[str, str], *more: str) -> Completed:
    """``pytest harness.yaml -rs`` in pytester's folder, time-scaled, with ``env`` beside this
    process's, run in this process (pytester's): a pytest child would import harness again for
    nothing the test reads (a pytest process of the plugin: test_pytest_plugin, test_new_user)."""
    # pytest-asyncio warns in this process's session when its loop scope is unset.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        args = ("harness.yaml", "-p", "no:cacheprovider", "-rs", "--harness-time-scale", "0.05")
        result = pytester.runpytest(*args, *more)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Completed(int(result.ret), result.stdout.str(), result.stderr.str())


def test_pytest_says_a_hazard_not_tried_and_its_report_is_not_ready(
    receiver: Receiver, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """secret-rotation without the next secret's variable is not tried: through pytest as under
    `harness run`, the item's skip, the readiness total and the report say so, and the report
    is not Ready (it was, the rotation never having run)."""
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET_NEXT", raising=False)
    project(pytester.path, stripe_project(receiver, "duplicate-storm, secret-rotation"))
    proc = pytest_project(pytester, ENV, "--harness-report", "r.json")
    said = "secret-rotation not tried: set $STRIPE_WEBHOOK_SECRET_NEXT to a second secret"
    assert proc.out.count(said) >= 2, proc.out  # the skipped item, and the readiness total
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["ready"] is False, report["headline"]
    assert said in report["headline"]


def test_pytest_collects_the_project_hazards(receiver: Receiver, pytester: pytest.Pytester) -> None:
    project(pytester.path, stripe_project(receiver, "duplicate-storm, big-number-ids"))
    proc = pytest_project(pytester, ENV)
    # ack_within, one item of the seven (accepts_genuine among them: the run is signed), may be
    # left inconclusive by a loaded machine.
    late = "over the budget not counted" in proc.out
    assert proc.code == (1 if late else 0), proc.out + proc.err
    assert ("6 passed, 1 failed, 1 skipped" if late else "7 passed, 1 skipped") in proc.out
    assert "big-number-ids skipped: the payload of events[0]" in proc.out


# --- choosing fields, without a run ---------------------------------------------------------


def test_drift_hazards_choose_fields_of_the_payload(tmp_path: Path) -> None:
    payload = {
        "id": "evt_1",
        "type": "account.synced",
        "data": {"account": "acc_1", "owner_email": "ada@example.com", "total": 1999},
        "external_id": 820982911946154508,
    }
    (tmp_path / "event.json").write_text(json.dumps(payload))
    path = tmp_path / "harness.yaml"
    path.write_text(
        "provider: standard-webhooks\nevents:\n  - example: event.json\n    key: $.data.account\n"
    )
    found = resolve_hazards(
        ["renamed-field", "missing-field", "big-number-ids"], load_project(path)
    )
    assert not found.skipped
    params = {p.kind: dict(p.params) for s in found.scenarios for p in s.perturbations}
    assert params["rename_field"]["path"] == "$.data.owner_email"
    assert params["rename_field"]["to"] == "ownerEmail"
    assert params["drop_field"]["path"] == "$.data.owner_email"
    assert params["null_field"]["path"] == "$.data.total"
    assert params["retype_field"]["path"] == "$.external_id"
    big = next(s for s in found.scenarios if s.name == "big-number-ids")
    assert "big-number-ids chose $.external_id" in " ".join(big.adapted)
    # The hazard's shape is kept: its counts, pace and invariants.
    builtin = harness.resolve(["big-number-ids"])[0]
    assert (big.source.events, big.source.records) == (40, 40)
    assert big.invariants == builtin.invariants


@pytest.mark.parametrize(
    ("provider", "runs", "skipped"),
    [
        ("stripe", "provider-retry-storm-stripe", "provider-retry-storm"),
        ("hubspot", "provider-retry-storm", "provider-retry-storm-stripe"),
        ("github", None, "provider-retry-storm"),
    ],
)
def test_retry_storms_follow_the_project_provider(
    provider: str, runs: str | None, skipped: str, tmp_path: Path
) -> None:
    path = tmp_path / "harness.yaml"
    path.write_text(f"provider: {provider}\n")
    storms = [
        "provider-retry-storm",
        "provider-retry-storm-stripe",
        "provider-retry-storm-slack",
        "provider-retry-storm-shopify",
    ]
    found = resolve_hazards(storms, load_project(path))
    assert [s.name for s in found.scenarios] == ([runs] if runs else [])
    assert skipped in {s.name for s in found.skipped}
    for scenario in found.scenarios:
        assert scenario.delivery.provider is not None
        assert scenario.delivery.provider.scheme == provider


def test_the_generic_retry_storm_says_its_timeout_stands_for_the_providers(
    tmp_path: Path,
) -> None:
    """A HubSpot project's storm is failed on a 0.5 s budget where HubSpot waits 5 s: the
    adapted notes say that the storm's timeout and slow calls stand for HubSpot's and an API
    slower than it, compressed (a reader saw '32 of 46 deliveries over the 0.5 s budget')."""
    path = tmp_path / "harness.yaml"
    path.write_text("provider: hubspot\n")
    (storm,) = resolve_hazards(["provider-retry-storm"], load_project(path)).scenarios
    assert storm.delivery.provider is not None and storm.delivery.provider.timeout == 0.5
    assert any(
        n.startswith("HubSpot waits 5 s for an answer: the storm's 0.5 s ack timeout")
        for n in storm.adapted
    ), storm.adapted
    path.write_text("provider: attio\n")  # no published timeout: none is claimed
    (storm,) = resolve_hazards(["provider-retry-storm"], load_project(path)).scenarios
    assert not any("waits" in n for n in storm.adapted), storm.adapted
    assert any(
        n.startswith("Attio publishes no ack timeout: the storm's 0.5 s stands for one shorter")
        for n in storm.adapted
    ), storm.adapted


@pytest.mark.parametrize(
    ("provider", "retries", "note"),
    [
        # Stripe's first retry (17 min) fits the hazard's 20 min settle deadline; its second
        # (51 min after the delivery) does not.
        ("stripe", 1, "the run sends its first retry of 8 (16 min 56 s after the delivery"),
        ("slack", 3, "the run sends all its 3 retries (the last 6 min after the delivery)"),
        ("shopify", 4, "its first 4 retries of 8 (the last 14 min 7 s after the delivery)"),
        ("github", 0, "GitHub does not redeliver what the target refuses: an event refused"),
        ("hmac", 0, "Whether the sender (generic HMAC-SHA256) redelivers what the target"),
    ],
)
def test_a_fault_hazard_redelivers_as_the_project_provider_within_its_span(
    provider: str, retries: int, note: str, tmp_path: Path
) -> None:
    """D8: a fault hazard gets the provider's retries due within its settle deadline, and
    says which; its own planned deliveries are unchanged, and other hazards get none."""
    path = tmp_path / "harness.yaml"
    path.write_text(f"provider: {provider}\n")
    outage, storm = resolve_hazards(
        ["downstream-outage", "duplicate-storm"], load_project(path)
    ).scenarios
    sent = outage.delivery.provider
    assert sent is not None and len(sent.retries) == retries
    assert sent.retries == PROVIDERS[provider].retries[:retries]
    assert any(note in n for n in outage.adapted), outage.adapted
    builtin = harness.resolve(["downstream-outage"])[0]
    assert (outage.source, outage.perturbations, outage.faults) == (
        builtin.source,
        builtin.perturbations,
        builtin.faults,
    )
    assert storm.delivery.provider is not None and storm.delivery.provider.retries == ()


def test_a_generic_senders_note_says_its_refused_events_make_a_pass_inconclusive(
    tmp_path: Path,
) -> None:
    """hmac: the run redelivers nothing, and what the target refused is unseen — counted, a
    pass made inconclusive — not left unjudged, as the verdict says (docs/invariants.md)."""
    path = tmp_path / "harness.yaml"
    path.write_text("provider: hmac\n")
    (outage,) = resolve_hazards(["downstream-outage"], load_project(path)).scenarios
    (note,) = [n for n in outage.adapted if n.startswith("Whether the sender")]
    assert "counts an event refused during a fault window as unseen, making its pass " in note
    assert "inconclusive (a scenario of your own with provider: {name: hmac, retries: " in note


def test_each_event_source_gets_its_own_run_and_recorded_files_keep_their_events(
    tmp_path: Path,
) -> None:
    lines = [
        {"id": f"evt_{i}", "type": "contact.updated", "key": f"c_{i % 2}",
         "data": {"email": f"user{i}@example.com", "plan": "pro"}}
        for i in range(3)
    ]  # fmt: skip
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    path = tmp_path / "harness.yaml"
    path.write_text(
        "events:\n"
        "  - library: stripe:checkout.session.completed\n"
        "  - library: stripe:payment_intent.succeeded\n"
        "  - recorded: events.jsonl\n"
        "    type: $.type\n"
    )
    found = resolve_hazards(["renamed-field"], load_project(path))
    names = [s.name for s in found.scenarios]
    assert names == [
        "renamed-field:checkout.session.completed",
        "renamed-field:payment_intent.succeeded",
        "renamed-field:2",
    ]
    recorded = found.scenarios[2]
    assert isinstance(recorded.source, harness.RecordedSource)
    assert recorded.source.over == 20  # the hazard's span
    (rename,) = recorded.perturbations
    assert rename.params["path"] == "$.data.email"


def test_unsigned_projects_skip_tampering_and_untimestamped_ones_drop_stale(
    tmp_path: Path,
) -> None:
    path = tmp_path / "harness.yaml"
    path.write_text("provider: none\n")
    found = resolve_hazards(["forged-signature", "replayed-delivery"], load_project(path))
    assert not found.scenarios
    assert all("unsigned" in s.reason for s in found.skipped)
    path.write_text("provider: github\n")
    (forged,) = resolve_hazards(["forged-signature"], load_project(path)).scenarios
    modes = [p.params["mode"] for p in forged.perturbations]
    assert modes == ["forged", "unsigned"]
    assert any("Stale signatures left out" in note for note in forged.adapted)


# --- bad project files ----------------------------------------------------------------------

BAD = [
    ("provider: strype\n", "harness.yaml:1: provider: 'strype' is not allowed", "'stripe'"),
    ("tragets: x\n", "harness.yaml:1: unknown field 'tragets'", "did you mean 'target'"),
    ("target: ftp://host/x\n", "harness.yaml:1: target: 'ftp://host/x' is not allowed", "URL"),
    (
        "events:\n  - example: nowhere.json\n",
        "harness.yaml:2: events[0].example: 'nowhere.json' is not allowed",
        "there is no file",
    ),
    (
        "events:\n  - library: stripe:checkout.session.complete\n",
        "harness.yaml:2: events[0].library: 'stripe:checkout.session.complete' is not allowed",
        "did you mean 'stripe:checkout.session.completed'",
    ),
    (
        "events:\n  - example: events/checkout.json\n    library: stripe:invoice.paid\n",
        "harness.yaml:2: events[0]: has example, library",
        "give exactly one",
    ),
    (
        "events:\n  - example: events/checkout.json\n    key: $.data.object.custmer\n",
        "harness.yaml:3: events[0].key: '$.data.object.custmer' is not allowed",
        "customer",
    ),
    ("secret_env: whsec_abc def\n", "harness.yaml:1: secret_env:", "environment variable"),
    (
        "events:\n  - example: events/checkout.json\nexpect:\n  invoice.paid: [POST /x]\n",
        "harness.yaml:4: expect.invoice.paid: 'invoice.paid' is not allowed",
        "checkout.session.completed",
    ),
    ("hazards: []\n", "harness.yaml:1: hazards:", "non-empty"),
    (
        "events:\n  - example: events/checkout.json\n    type: $.type\n    types: [a]\n",
        "harness.yaml:2: events[0]: has type and types",
        "give one or the other",
    ),
    (
        "correlate:\n  - {effect: $.session, event: $.data.object.id}\n",
        "harness.yaml:1: correlate: is not allowed without events",
        "give events",
    ),
    # leave_out: each name an invariant that can be left out, each with a reason in words.
    (
        "leave_out: {per_key_ordr: x}\n",
        "harness.yaml:1: leave_out: key 'per_key_ordr' is not allowed — must name an invariant, "
        "one of: no_lost_events, no_duplicate_effects, per_key_order,",
        "(did you mean 'per_key_order'?)",
    ),
    (
        'leave_out: {per_key_order: "  "}\n',
        "harness.yaml:1: leave_out.per_key_order: '  ' is not allowed — must be the reason",
        "like 'each invoice event is about its own invoice'",
    ),
    (
        "leave_out:\n  per_key_order:\n",
        "harness.yaml:2: leave_out.per_key_order: None is not allowed — must be the reason",
        "cannot apply to this automation",
    ),
    (
        "leave_out: [per_key_order]\n",
        "harness.yaml:1: leave_out: ['per_key_order'] is not allowed — must be a mapping of "
        "invariant names to the reason each cannot apply",
        "names: no_lost_events, no_duplicate_effects, per_key_order, ack_within",
    ),
    (
        "leave_out: {target_available: restarts are fine}\n",
        "harness.yaml:1: leave_out: key 'target_available' is not allowed — is judged in every run",
        "cannot be left out; name one of: no_lost_events",
    ),
]


@pytest.mark.parametrize(("text", "where", "fix"), BAD)
def test_bad_project_files_say_file_line_field_and_fix(
    text: str, where: str, fix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project(tmp_path, text)
    with pytest.raises(ScenarioError) as raised:
        load_project(Path("harness.yaml"))
    message = str(raised.value)
    assert message.startswith(where), message
    assert fix in message


def test_a_bad_project_file_exits_2_before_anything_is_sent(tmp_path: Path) -> None:
    project(tmp_path, "provider: strype\n")
    done = run_harness("run", "--target", "http://127.0.0.1:1/", cwd=tmp_path)
    assert done.code == 2
    assert "harness.yaml:1: provider: 'strype' is not allowed" in done.err
    assert "Traceback" not in done.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "stripe:checkout.session.complete"], "did you mean"),
        (["--events", "nowhere.json"], "--events: 'nowhere.json': there is no file"),
        (["--provider", "strype"], "did you mean 'stripe'"),
        (["--secret-env", "whsec_123456"], "the NAME of the variable"),
        (["--project", "nowhere.yaml"], "no project file 'nowhere.yaml'"),
    ],
)
def test_bad_project_flags_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    done = run_harness(
        "run", "duplicate-storm", "--target", "http://127.0.0.1:1/", *args, cwd=tmp_path
    )
    assert done.code == 2, done.err
    assert message in done.err
    assert "whsec_123456" not in done.err  # a pasted secret is never echoed


def test_the_shipped_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "harness/scenario/project.schema.json is stale: regenerate it with "
        "python -c 'from harness.scenario._project import SCHEMA_FILE, schema_text; "
        "SCHEMA_FILE.write_text(schema_text())'"
    )
    schema = json.loads(SCHEMA_FILE.read_text())
    assert set(schema["properties"]) == {
        "target", "provider", "secret_env", "events", "downstreams", "expect", "correlate",
        "hazards", "reset", "restart", "calendar", "leave_out",
    }  # fmt: skip


# --- in-process targets with a path ---------------------------------------------------------


@pytest.mark.parametrize(("target", "status"), [("/webhooks/stripe", 200), ("", 404)])
def test_in_process_target_with_a_path(target: str, status: int, tmp_path: Path) -> None:
    scenario = harness.Scenario(
        name="three",
        source=harness.SyntheticSource(
            {"id": "evt_1", "key": "k_1", "type": "t"}, events=3, records=3, over=0.1
        ),
        delivery=harness.DeliverySpec(signing="none"),
        invariants=(harness.InvariantSpec("no_server_errors"),),
        baseline=False,
        settle=harness.Settle(quiet=0.2, deadline=2),
    )
    (result,) = harness.run(
        scenario,
        f"tests.project_asgi:app{target}",
        downstream="127.0.0.1:0",
        journal=tmp_path / "j.db",
    )
    assert [d.status for d in result.history.deliveries] == [status] * 3


def test_locust_applies_the_project_and_refuses_a_hazard_that_does_not_apply(
    tmp_path: Path,
) -> None:
    project(tmp_path, "target: http://127.0.0.1:1/hooks\nprovider: github\n")
    done = run_harness("locust", "provider-retry-storm", cwd=tmp_path)
    assert done.code == 2, done.err
    assert "provider-retry-storm does not apply to the project: GitHub" in done.err


def test_a_hazard_is_judged_by_the_model_of_the_project_events(tmp_path: Path) -> None:
    """A register hazard over a ledger's events (paid invoices: each its own fact) is judged as
    a ledger, and a ledger hazard over a register's (a contact's property changes) as a
    register; the model the library payload knows, or the item's model:, which wins. An
    example of no library payload's kind keeps the hazard's. The notes say which."""
    (tmp_path / "change.json").write_text(
        json.dumps(entry("hubspot:contact.propertyChange").example)
    )
    (tmp_path / "own.json").write_text(
        json.dumps({"id": "evt_1", "type": "thing.done", "key": "k_1"})
    )
    path = tmp_path / "harness.yaml"
    path.write_text(
        "events:\n"
        "  - library: stripe:invoice.paid\n"
        "  - example: change.json\n"
        "  - example: own.json\n"
        "    key: $.key\n"
        "  - library: stripe:invoice.paid\n"
        "    model: register\n"
    )
    found = resolve_hazards(["simultaneous-same-record", "duplicate-storm"], load_project(path))
    models = [(s.name, s.model.value) for s in found.scenarios]
    assert models == [
        ("simultaneous-same-record:invoice.paid", "ledger"),
        ("simultaneous-same-record:contact.propertyChange", "register"),
        ("simultaneous-same-record:thing.done", "register"),
        ("simultaneous-same-record:invoice.paid", "register"),
        ("duplicate-storm:invoice.paid", "ledger"),
        ("duplicate-storm:contact.propertyChange", "register"),
        ("duplicate-storm:thing.done", "ledger"),
        ("duplicate-storm:invoice.paid", "register"),
    ], models
    notes = [" ".join(s.adapted) for s in found.scenarios]
    assert (
        "Judged as a ledger, not as the hazard's register: the events of events[0] "
        "(stripe:invoice.paid) are each their own fact (a later one supersedes none)"
    ) in notes[0]
    assert (
        "Judged as a register, not as the hazard's ledger: the events of events[1] "
        "(change.json) are successive states of a record"
    ) in notes[5]
    assert not [n for n in (notes[2], notes[3], notes[6]) if "Judged as" in n], notes


def test_a_register_hazard_over_checkouts_owes_every_one_its_effect(
    receiver: Receiver, tmp_path: Path
) -> None:
    """Three checkouts of one customer at once, judged as the ledger they are: each accepted
    checkout owes its contact write. Judged as the hazard's register, two of each three were
    'superseded updates skipped (not loss)' — a receiver that dropped them would have passed."""
    project(tmp_path, stripe_project(receiver, "simultaneous-same-record"))
    done = run_harness(
        "run", "--time-scale", "0.05", "--report", "report.json", cwd=tmp_path, env=ENV
    )
    (run,) = json.loads((tmp_path / "report.json").read_text())["runs"]
    assert "(ledger, seed" in done.out, done.out
    assert any(line.startswith("Judged as a ledger") for line in run["done"]), run["done"]
    lost = next(v for v in run["verdicts"] if v["invariant"] == "no_lost_events")
    assert lost["status"] == "pass", lost["summary"]
    assert lost["summary"].startswith("all 36 accepted events made their expected effects")
    assert "superseded" not in lost["summary"]


def test_decimal_amounts_are_judged_to_the_cent_in_the_bulk_import(tmp_path: Path) -> None:
    """A payload with decimal amounts outside lists (a Standard Webhooks invoice's "64.32")
    gets amounts_intact in bulk-import-burst, the hazard of the most events, and says which
    fields; another hazard, or a payload of minor-unit integers (Stripe's), does not."""
    invoice = {
        "type": "invoice.paid",
        "timestamp": "2026-11-03T10:15:22.481Z",
        "data": {"id": "inv_01JBX4", "total": "64.32", "lines": [{"amount": "64.32"}]},
    }
    (tmp_path / "invoice.json").write_text(json.dumps(invoice))
    path = tmp_path / "harness.yaml"
    path.write_text("provider: standard-webhooks\nevents:\n  - example: invoice.json\n")
    burst, storm = resolve_hazards(
        ["bulk-import-burst", "duplicate-storm"], load_project(path)
    ).scenarios
    assert [i.name for i in burst.invariants][-1] == "amounts_intact"
    assert (
        "The payload's decimal amounts ($.data.total) are judged to the cent (amounts_intact) "
        "over the hazard's 200 events."
    ) in burst.adapted
    assert "amounts_intact" not in [i.name for i in storm.invariants]
    path.write_text("events:\n  - library: stripe:invoice.paid\n")
    (stripe,) = resolve_hazards(["bulk-import-burst"], load_project(path)).scenarios
    assert "amounts_intact" not in [i.name for i in stripe.invariants]
