"""``harness init`` and ``harness show`` as a user meets them: files written, guesses explained,
every bad input one line and exit 2, nothing overwritten by surprise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import harness

TARGET = "http://127.0.0.1:8000/hooks/stripe"
LIBRARY = Path(__file__).parent.parent / "harness" / "core" / "payloads"
ORDER = {
    "event_id": "e_1",
    "topic": "order.created",
    "created_at": "2026-01-01T00:00:00Z",
    "data": {"order_id": "ord_1", "amount": 5},
}


def init(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    r = harness("init", *args, cwd=tmp_path)
    return r.code, r.out, r.err


def in_terminal(tmp_path: Path, args: list[str], answers: str) -> tuple[int, str, str]:
    """``harness init ARGS`` with a terminal on stdin, typed ``answers``."""
    controller, terminal = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "init", *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        text=True,
    )
    os.close(terminal)
    os.write(controller, answers.encode())
    out, err = proc.communicate(timeout=60)
    os.close(controller)
    return proc.returncode, out, err


def test_a_library_payload_in_ci_writes_the_project_and_its_test_file(tmp_path: Path) -> None:
    code, out, err = init(
        tmp_path, "--events", "stripe:checkout.session.completed", "--target", TARGET, "--yes"
    )
    assert (code, err) == (0, "")
    text = (tmp_path / "harness.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert text.rstrip().endswith("project.schema.json") is False  # more follows the schema line
    project = yaml.safe_load(text)
    assert project == {
        "target": TARGET,
        "provider": "stripe",  # from the library payload
        "secret_env": "STRIPE_WEBHOOK_SECRET",
        "events": [{"library": "stripe:checkout.session.completed"}],
        "downstreams": [{"name": "api", "port": 9100, "stateful": True}],
        "hazards": ["standard"],
    }
    assert "key   $.data.object.customer  = 'cus_" in out
    assert "harness run" in out and "pytest tests/test_harness_hazards.py" in out
    # page_size offered, not set (nothing init reads says the API pages); uncommented, it holds.
    paged = text.replace("    # page_size: 100", "    page_size: 100")
    assert yaml.safe_load(paged)["downstreams"] == [
        {"name": "api", "port": 9100, "stateful": True, "page_size": 100}
    ]
    tests = (tmp_path / "tests" / "test_harness_hazards.py").read_text()
    compile(tests, "test_harness_hazards.py", "exec")
    assert '"duplicate-storm",' in tests and "harness_run(hazard)" in tests
    # Hazards that do not apply to a Stripe project are named, not run.
    assert "    # provider-retry-storm-slack skipped: this is Slack" in tests
    assert '"provider-retry-storm-stripe",' in tests


def test_an_example_file_gets_guessed_paths_with_their_reasons(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    (events / "order.json").write_text(json.dumps(ORDER))
    code, out, _ = init(
        tmp_path,
        "--provider", "hmac",
        "--events", "events/order.json",
        "--target", "http://127.0.0.1:8000/hooks",
        "--secret-env", "ORDERS_SECRET",
        "--downstream", "crm=9200",
        "--downstream", "mail",
        "--time", "$.created_at",
        "--yes",
    )  # fmt: skip
    assert code == 0, out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [
        {
            "example": "events/order.json",
            "id": "$.event_id",
            "key": "$.data.order_id",
            "type": "$.topic",
            "time": "$.created_at",
            # No library payload knows order.created: its model from its type, said why.
            "model": "ledger",
        }
    ]
    assert project["secret_env"] == "ORDERS_SECRET"
    assert project["downstreams"] == [
        {"name": "crm", "port": 9200, "stateful": True},
        {"name": "mail", "port": 9101, "stateful": True},
    ]
    text = (tmp_path / "harness.yaml").read_text()
    assert "key: $.data.order_id   # the first field named *_id (order_id)" in text
    assert "time: $.created_at   # given" in text
    assert "model: ledger   # the type order.created reads as a fact of its own" in text
    assert "model ledger  (the type order.created reads as a fact of its own" in out
    assert "(a field named topic (type/event/topic/action) holding text)" in out
    # Each API's double is named with its port, not only the first's.
    assert (
        "start your automation with the base URL of each API it calls at its double: crm at "
        "http://127.0.0.1:9200, mail at http://127.0.0.1:9101, then run the hazards"
    ) in " ".join(out.split()), out


def test_recorded_events_need_no_path(tmp_path: Path) -> None:
    lines = [{"id": "evt_1", "key": "c_1", "payload": {"amount": 1}}, {"id": "evt_2"}]
    (tmp_path / "prod.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    code, out, _ = init(
        tmp_path, "--provider", "none", "--events", "prod.jsonl", "--target", TARGET, "-y"
    )
    assert code == 0, out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [{"recorded": "prod.jsonl"}]
    assert "secret_env" not in project  # unsigned: no secret
    assert "key   ?  no path: each line's own 'key' member" in out
    assert "type  ?  no path found: the type 'event'" in out


def init_export(tmp_path: Path, customers: list[str | None]) -> tuple[int, str, str]:
    """``harness init`` of a Stripe export of checkouts, one a line, of these customers."""
    example = json.loads((LIBRARY / "stripe" / "checkout.session.completed.json").read_text())[
        "payload"
    ]
    lines = []
    for n, customer in enumerate(customers):
        event = json.loads(json.dumps(example))
        event["id"], event["data"]["object"]["id"] = f"evt_{n}", f"cs_test_{n}"
        event["data"]["object"]["customer"] = customer
        lines.append(json.dumps(event))
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    return init(
        tmp_path, "--provider", "stripe", "--events", "events.jsonl", "--target", TARGET, "-y"
    )


def test_a_stripe_export_is_keyed_by_the_record_its_events_share(tmp_path: Path) -> None:
    """Stripe's event objects, a line each (``jq -c '.data[]'``): the reader takes each event's
    object as its record (a checkout session: one a checkout), so a customer's checkouts were
    as many records, and the hazards of one record's events (simultaneous-same-record,
    per_key_order) had nothing to judge. init writes the customer, as the layout and the
    library's checkout entry key it."""
    code, out, _ = init_export(tmp_path, ["cus_A", "cus_A", "cus_B"])
    assert code == 0, out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [{"recorded": "events.jsonl", "key": "$.data.object.customer"}]
    assert "(the stripe layout puts key at $.data.object.customer)" in out


def test_an_export_some_of_whose_events_name_no_customer_keeps_each_events_object(
    tmp_path: Path,
) -> None:
    """A guest's checkout (customer: null) beside a customer's: init wrote the customer's path
    guessed from the first event, then refused its own harness.yaml (exit 2, 'events[0].key:
    ... line 2 ... has no value there'). The reader's record, each event's object, is kept."""
    code, out, err = init_export(tmp_path, ["cus_A", None, "cus_A"])
    assert code == 0, out + err
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [{"recorded": "events.jsonl"}]
    assert "$.data.object.customer is not in every event (line 2)" in out


def test_recorded_bare_payloads_get_guessed_paths(tmp_path: Path) -> None:
    (tmp_path / "prod.jsonl").write_text(json.dumps(ORDER) + "\n" + json.dumps(ORDER) + "\n")
    code, out, _ = init(
        tmp_path, "--provider", "hmac", "--events", "prod.jsonl", "--target", TARGET, "-y"
    )
    assert code == 0, out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [
        {"recorded": "prod.jsonl", "id": "$.event_id", "key": "$.data.order_id", "type": "$.topic"}
    ]


def test_an_existing_project_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "harness.yaml").write_text("target: mine\n")
    args = ("--events", "stripe:checkout.session.completed", "--target", TARGET, "--yes")
    code, _, err = init(tmp_path, *args)
    assert code == 2
    assert "harness.yaml already exists" in err and "--force" in err
    assert (tmp_path / "harness.yaml").read_text() == "target: mine\n"
    assert init(tmp_path, *args, "--force")[0] == 0
    assert "target: mine" not in (tmp_path / "harness.yaml").read_text()


BAD = {
    "unknown provider": (
        ["--provider", "strpe", "--events", "order.json"],
        "--provider: unknown provider 'strpe' — did you mean 'stripe'?",
        "use one of standard-webhooks, stripe, github",
    ),
    "no provider": (["--events", "order.json"], "--provider: no provider given", "one of"),
    "no events": (["--provider", "stripe"], "--events: no events given", "library payload"),
    "no such file": (
        ["--provider", "stripe", "--events", "nope.json"],
        "--events: no file 'nope.json'",
        "(.jsonl)",
    ),
    "invalid JSON": (
        ["--provider", "stripe", "--events", "bad.json"],
        "bad.json:2: not JSON (Expecting value at column 7)",
        "one JSON object",
    ),
    "not an object": (
        ["--provider", "stripe", "--events", "list.json"],
        "list.json: expected a JSON object, got int",
        "one event's body",
    ),
    "a batch": (
        ["--provider", "hubspot", "--events", "batch.json"],
        "batch.json: holds a batch of 2 events (a JSON list); an example is one event",
        "save one element of the batch as its own file",
    ),
    "unknown library payload": (
        ["--events", "stripe:checkout.session.complete"],
        "--events: no payload 'stripe:checkout.session.complete' in the library — did you mean "
        "'stripe:checkout.session.completed'",
        "stripe:invoice.paid",
    ),
    "provider and payload disagree": (
        ["--provider", "github", "--events", "stripe:checkout.session.completed"],
        "--provider: --events stripe:checkout.session.completed is a stripe event, but the "
        "provider is github",
        "pass --provider stripe",
    ),
    "a path that cannot be guessed": (
        ["--provider", "stripe", "--events", "noid.json"],
        "--id: cannot guess the id path of noid.json",
        "give it with --id '$.path.to.it'; the payload has $.x, $.x.y",
    ),
    "a given path that is not there": (
        ["--provider", "stripe", "--events", "order.json", "--key", "$.data.nope"],
        "--key: $.data.nope is not in order.json",
        "$.data.order_id",
    ),
    "one path for the id and the key": (
        ["--provider", "stripe", "--events", "order.json", "--id", "$.topic", "--key", "$.topic"],
        "--key: the event id and the record key are both $.topic in order.json",
        "which its events share",
    ),
    "a path that does not parse": (
        ["--provider", "stripe", "--events", "order.json", "--key", "data.id"],
        "--key: path 'data.id' must start with '$'",
        "$.data.order_id",
    ),
    "a secret instead of its variable": (
        ["--provider", "stripe", "--events", "order.json", "--secret-env", "whsec_abc123"],
        "--secret-env: 'wh…' (12 chars) is not an environment variable name",
        "never the secret itself",
    ),
    "a bad downstream": (
        ["--provider", "stripe", "--events", "order.json", "--downstream", "crm=99999"],
        "--downstream: 'crm=99999' is not NAME or NAME=PORT",
        "crm=9100",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path, case: str) -> None:
    args, message, hint = BAD[case]
    (tmp_path / "order.json").write_text(json.dumps(ORDER))
    (tmp_path / "bad.json").write_text('{"a": 1,\n "b": }\n')
    (tmp_path / "list.json").write_text("3")
    (tmp_path / "noid.json").write_text('{"x": {"y": 1}}')
    (tmp_path / "batch.json").write_text('[{"eventId": 1}, {"eventId": 2}]')
    code, _, err = init(tmp_path, *args, "--target", TARGET, "--yes")
    assert code == 2
    first, _, rest = err.partition("\n")
    assert first == f"error: {message}" or first.startswith(f"error: {message}")
    assert hint in rest
    assert "Traceback" not in err and "whsec_abc123" not in err
    assert not (tmp_path / "harness.yaml").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (None, "--target: no target given"),
        ("http://user:pw@127.0.0.1:8000/", "holds a user name or password"),
        ("ftp://x", "is neither a URL nor module:attr"),
    ],
)
def test_a_bad_or_missing_target(tmp_path: Path, target: str | None, message: str) -> None:
    args = ["--events", "stripe:checkout.session.completed", "--yes"]
    code, _, err = init(tmp_path, *args, *(["--target", target] if target else []))
    assert code == 2 and message in err and "pw" not in err


def test_a_staging_target_is_written_its_host_allowed_at_run_time(tmp_path: Path) -> None:
    url = "https://staging.example.com/hooks/stripe"
    code, _, _ = init(
        tmp_path, "--events", "stripe:checkout.session.completed", "--target", url, "--yes"
    )
    assert code == 0
    assert yaml.safe_load((tmp_path / "harness.yaml").read_text())["target"] == url


def test_questions_in_a_terminal(tmp_path: Path) -> None:
    """With a terminal on stdin, init asks: the events, the paths, the target, the secret."""
    (tmp_path / "order.json").write_text(json.dumps(ORDER))
    answers = "order.json\nn\n\n$.data.order_id\n\n\nhttp://127.0.0.1:8001/in\nORDERS_SECRET\n"
    code, out, err = in_terminal(tmp_path, ["--provider", "hmac"], answers)
    assert code == 0, err
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["target"] == "http://127.0.0.1:8001/in"
    assert project["secret_env"] == "ORDERS_SECRET"
    assert project["events"][0]["id"] == "$.event_id"  # the guess, kept with Enter
    assert project["events"][0]["key"] == "$.data.order_id"
    assert "Use these paths?" in out


def test_show_prints_a_builtin_and_a_payload_to_copy(tmp_path: Path) -> None:
    r = harness("show", "duplicate-storm")
    assert r.code == 0
    assert yaml.safe_load(r.out)["name"] == "duplicate-storm"
    r = harness("show", "standard")
    assert r.code == 0 and "suite:" in r.out
    r = harness("show", "stripe:checkout.session.completed")
    assert r.code == 0
    assert json.loads(r.out)["type"] == "checkout.session.completed"
    assert "written from https://" in r.err
    r = harness("show")
    assert r.code == 0 and "duplicate-storm" in r.out and "stripe:invoice" not in r.err


def test_show_an_unknown_name_lists_close_ones() -> None:
    r = harness("show", "duplicate-strom")
    assert r.code == 2
    assert r.err.startswith(
        "error: harness show: no built-in scenario, suite or library payload named "
        "'duplicate-strom' — did you mean 'duplicate-storm'"
    )
    assert "`harness show` without a name lists them all" in r.err


def test_where_a_header_carries_the_id_no_id_path_is_needed(tmp_path: Path) -> None:
    order = {"id": 820982911946154500, "customer": {"id": 115310627314723950}, "updated_at": "x"}
    (tmp_path / "order.json").write_text(json.dumps(order))
    code, out, err = init(
        tmp_path, "--provider", "shopify", "--events", "order.json", "--target", TARGET, "-y"
    )
    assert code == 0, err
    assert "id    ?  no path: the X-Shopify-Webhook-Id header carries it" in out
    assert "type  ?  no path: the X-Shopify-Topic header carries it" in out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [
        {"example": "order.json", "key": "$.customer.id", "time": "$.updated_at"}
    ]
    code, out, _ = init(tmp_path, "--events", "github:issues", "--target", TARGET, "-y", "--force")
    assert code == 0 and "id    ?  no path: the X-GitHub-Delivery header carries it" in out


def test_a_terminal_and_no_flags_at_all(tmp_path: Path) -> None:
    """The provider first, then its library payloads offered, every default taken with Enter."""
    code, out, err = in_terminal(tmp_path, [], "stripe\n\n\n\n\n")
    assert code == 0, err
    assert "Library payloads: stripe:checkout.session.completed, " in out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [{"library": "stripe:checkout.session.completed"}]
    assert project["target"] == "http://127.0.0.1:8000/webhooks/stripe"
    assert project["secret_env"] == "STRIPE_WEBHOOK_SECRET"


def test_a_value_that_may_be_private_is_not_shown(tmp_path: Path) -> None:
    event = {"id": "evt_1", "data": {"email": "ada@example.com", "api_token": "tok_live_9f8e7d"}}
    (tmp_path / "e.json").write_text(json.dumps(event))
    for key in ("$.data.email", "$.data.api_token"):
        code, out, err = init(
            tmp_path, "--provider", "hmac", "--events", "e.json", "--key", key,
            "--target", TARGET, "-y", "--force",
        )  # fmt: skip
        assert code == 0, err
        assert f"key   {key}  = (a str, not shown)  (given)" in out
        assert "ada@example.com" not in out + err and "tok_live" not in out + err


def test_a_library_path_edited_in_a_terminal_is_written(tmp_path: Path) -> None:
    args = ["--events", "stripe:checkout.session.completed", "--target", TARGET]
    code, _, err = in_terminal(tmp_path, args, "n\n\n$.data.object.id\n\n\n\n")
    assert code == 0, err
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"] == [
        {"library": "stripe:checkout.session.completed", "key": "$.data.object.id"}
    ]


def test_a_har_of_several_paths_takes_the_targets(tmp_path: Path) -> None:
    """A HAR saved by a browser or proxy holds requests to several paths: the target's path
    says which are the webhook's deliveries, written into harness.yaml; the project reads the
    four POSTs to /hooks/orders, not the one to /api/cart."""
    from harness.core._scenario import RecordedSource
    from harness.drive._formats import records
    from harness.scenario._project import load_project

    from . import recorded_samples

    recorded_samples.har(tmp_path)
    args = ["--provider", "standard-webhooks", "--events", "traffic.har", "-y"]
    code, out, err = init(tmp_path, *args, "--target", "http://127.0.0.1:8000/hooks/orders")
    assert code == 0, out + err
    assert "deliveries: the requests to /hooks/orders (the target's path" in out
    project = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert project["events"][0]["har"] == {"path": "/hooks/orders"}
    source = load_project(tmp_path / "harness.yaml").events[0].source
    assert isinstance(source, RecordedSource)
    assert len(list(records(source))) == recorded_samples.ORDERS

    code, out, err = init(tmp_path, *args, "--force", "--target", "http://127.0.0.1:8000/other")
    assert code == 2
    assert (
        "--events: traffic.har: its requests with a body go to 2 paths — /hooks/orders (4), "
        "/api/cart (1); the target's path /other is none of them"
    ) in err
    assert "harness init and harness run --events take the requests to the target's path" in err
