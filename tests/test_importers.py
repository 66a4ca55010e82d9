"""The importers of recorded sources (issue #14, point 1): each format read into events with the
recorded ids, types, times and headers (signatures and credentials dropped), detected when the
scenario does not name it, and each bad file refused with the format's name and the first bad
record."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.core._errors import InputError, SourceError
from harness.core._model import Event
from harness.core._scenario import RecordedSource, TracerSpec
from harness.drive._correlate import Correlation
from harness.drive._formats import detect, provider, recognised, records
from harness.drive._sources import recorded
from harness.drive._tracer import trace
from harness.scenario._load import load_scenario
from harness.scenario._project import events_flag, load_project

from . import recorded_samples as samples


def events(path: Path, **kw: Any) -> list[Any]:
    return list(recorded(RecordedSource(path, **kw)).events)


def test_a_har_file_gives_the_webhooks_requests_with_their_headers(tmp_path: Path) -> None:
    path = samples.har(tmp_path)
    assert detect(path) == "har"
    found = events(path, har_path="/hooks/orders")
    assert [e.id for e in found] == samples.ORDER_IDS
    assert [e.payload for e in found] == [samples.order(n) for n in range(1, 5)]
    assert [e.occurred_at for e in found] == [0.0, 1.0, 2.0, 3.0]
    headers = found[0].headers
    assert headers["x-shop-domain"] == "shop.example"
    # no pseudo-header, no recorded signature (each delivery is signed afresh)
    assert not [h for h in headers if h.startswith(":") or "signature" in h.lower()]
    assert provider(RecordedSource(path, har_path="/hooks/orders")) == "standard-webhooks"


def test_a_har_files_base64_bodies_are_decoded(tmp_path: Path) -> None:
    path = samples.har(tmp_path, base64_body=True)
    found = events(path, har_url="https://hooks.example/hooks/orders")
    assert [e.payload for e in found] == [samples.order(n) for n in range(1, 5)]


def test_a_har_file_without_a_chosen_path_names_the_paths_it_holds(tmp_path: Path) -> None:
    path = samples.har(tmp_path)
    with pytest.raises(SourceError) as err:
        events(path)
    text = str(err.value)
    assert "har format: requests go to 2 paths" in text
    assert "POST /hooks/orders (4)" in text and "har: {path: /hooks/...}" in text
    with pytest.raises(SourceError, match="no request with a body goes to /nowhere"):
        events(path, har_path="/nowhere")


def test_a_har_file_without_entries_says_how_to_record_one(tmp_path: Path) -> None:
    path = tmp_path / "empty.har"
    path.write_text('{"log": {"entries": []}}')
    with pytest.raises(SourceError) as err:
        events(path)
    text = str(err.value)  # it said "…; found " and nothing after
    assert "no request with a body goes to any URL (0 entries)" in text
    assert "found" not in text and "Export HAR" in text and "harness record" in text


def test_a_stripe_event_list_replays_oldest_first_with_stripes_ids(tmp_path: Path) -> None:
    path = samples.stripe_list(tmp_path)
    assert detect(path) == "stripe"
    found = events(path)
    assert [e.id for e in found] == samples.STRIPE_IDS
    assert {e.type for e in found} == {"invoice.paid"}
    assert found[0].key == "in_1PgcInvoice0001"
    assert found[0].payload == samples.stripe_event(1)
    assert provider(RecordedSource(path)) == "stripe"


def test_stripe_events_one_a_line_are_read_a_line_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(samples.stripe_event(n)) + "\n" for n in (1, 2)))
    assert detect(path) == "stripe"
    assert [e.id for e in events(path)] == samples.STRIPE_IDS[:2]


def test_github_deliveries_keep_the_guid_and_merge_a_redelivery(tmp_path: Path) -> None:
    path = samples.github_deliveries(tmp_path)
    assert detect(path) == "github"
    stream = recorded(RecordedSource(path))
    assert [e.id for e in stream.events] == samples.GITHUB_GUIDS
    assert {e.type for e in stream.events} == {"order"}
    assert len(stream.redeliveries) == 1 and stream.redeliveries[0].event == 0
    headers = stream.events[0].headers
    assert headers["X-GitHub-Hook-ID"] == "42" and "X-Hub-Signature-256" not in headers
    assert provider(RecordedSource(path)) == "github"


def test_a_folder_of_octokit_examples_is_one_event_per_payload(tmp_path: Path) -> None:
    folder = samples.github_examples(tmp_path)
    found = events(folder, format="github")
    assert [(e.id, e.type) for e in found] == [
        ("issues.closed", "issues"),
        ("issues.opened", "issues"),
        ("push.push", "push"),
    ]


def test_a_svix_message_list_gives_message_ids_and_event_types(tmp_path: Path) -> None:
    path = samples.svix_export(tmp_path)
    assert detect(path) == "svix"
    found = events(path)
    assert [e.id for e in found] == samples.SVIX_IDS
    assert [e.payload for e in found] == [samples.order(n) for n in range(1, 5)]
    assert provider(RecordedSource(path)) == "standard-webhooks"


def test_hookdeck_events_take_the_providers_id_from_the_headers(tmp_path: Path) -> None:
    path = samples.hookdeck_events(tmp_path)
    assert detect(path) == "hookdeck"
    found = events(path)
    assert [e.id for e in found] == samples.ORDER_IDS
    assert "webhook-id" in found[0].headers


def test_a_capture_is_read_a_line_at_a_time_with_its_body_as_text(tmp_path: Path) -> None:
    path = samples.capture(tmp_path)
    assert detect(path) == "capture"
    found = events(path)
    assert [e.id for e in found] == samples.ORDER_IDS
    assert found[0].headers == {"Content-Type": "application/json", "X-Shop-Domain": "shop.example"}


def test_a_json_array_of_events_works_as_jsonl_does(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps([{"id": i, "payload": samples.order(1)} for i in samples.ORDER_IDS]))
    assert detect(path) == "json"
    assert [e.id for e in events(path)] == samples.ORDER_IDS


def break_line(path: Path, line: int, change: dict[str, Any]) -> None:
    rows = path.read_text().splitlines()
    rows[line - 1] = json.dumps({**json.loads(rows[line - 1]), **change})
    path.write_text("\n".join(rows) + "\n")


def document(path: Path, edit: Any) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _bad_har(p: Path) -> None:
    document(p, lambda d: d["log"]["entries"][3]["request"]["postData"].update(text="<xml/>"))


def _bad_stripe(p: Path) -> None:
    document(p, lambda d: d["data"][2].pop("created"))


def _bad_github(p: Path) -> None:
    document(p, lambda d: d[1].pop("request"))


def _bad_svix(p: Path) -> None:
    document(p, lambda d: d["data"][1].pop("payload"))


def _bad_hookdeck(p: Path) -> None:
    document(p, lambda d: d["models"][0].pop("data"))


def _bad_capture(p: Path) -> None:
    break_line(p, 3, {"body": "not json"})


@pytest.mark.parametrize(
    ("make", "edit", "where", "said"),
    [
        (samples.har, _bad_har, "traffic.har: log.entries[3].request.postData.text", "har format:"),
        (samples.stripe_list, _bad_stripe, "events.json: data[2]: created", "stripe format:"),
        (samples.github_deliveries, _bad_github, "deliveries.json: [1]: request", "Get a delivery"),
        (samples.svix_export, _bad_svix, "messages.json: data[1]: payload", "with_content"),
        (samples.hookdeck_events, _bad_hookdeck, "hookdeck.json: models[0]: data", "include=data"),
        (samples.capture, _bad_capture, "capture.jsonl:3: body", "capture format:"),
    ],
)
def test_a_bad_file_names_the_format_and_the_first_bad_record(
    tmp_path: Path, make: Any, edit: Any, where: str, said: str
) -> None:
    path = make(tmp_path)
    edit(path)
    spec = RecordedSource(path, har_path="/hooks/orders" if path.suffix == ".har" else None)
    with pytest.raises(SourceError) as err:
        list(records(spec))
    text = str(err.value)
    assert f"{tmp_path}/{where}" in text and said in text, text


def test_a_document_larger_than_the_limit_says_how_to_raise_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = samples.stripe_list(tmp_path)
    monkeypatch.setenv("HARNESS_MAX_DOCUMENT_BYTES", "100")
    with pytest.raises(SourceError) as err:
        events(path)
    text = str(err.value)
    assert "stripe format: the file is" in text and "HARNESS_MAX_DOCUMENT_BYTES=" in text
    assert "jq -c" in text  # or convert it to JSON Lines, read a line at a time


def test_a_scenario_names_the_format_and_har_path(tmp_path: Path) -> None:
    samples.har(tmp_path)
    scenario = tmp_path / "s.scenario.yaml"
    scenario.write_text(
        "name: s\nsource:\n  recorded:\n    file: traffic.har\n    format: har\n"
        "    har: {path: /hooks/orders}\n"
    )
    loaded = load_scenario(scenario)
    assert loaded.source == RecordedSource(
        tmp_path / "traffic.har", format="har", har_path="/hooks/orders"
    )
    assert loaded.tracer.rewrite is None  # a recorded source replays as recorded
    assert loaded.delivery.signing == "standard-webhooks"  # webhook-id in the recording


def test_a_project_names_a_recordings_format_and_har_path(tmp_path: Path) -> None:
    samples.har(tmp_path)
    (tmp_path / "harness.yaml").write_text(
        "target: http://127.0.0.1:8000/hooks/orders\n"
        "events:\n"
        "  - recorded: traffic.har\n"
        "    har: {path: /hooks/orders}\n"
    )
    [events] = load_project(tmp_path / "harness.yaml").events
    assert events.source == RecordedSource(tmp_path / "traffic.har", har_path="/hooks/orders")
    (tmp_path / "harness.yaml").write_text(
        "target: http://127.0.0.1:8000/hooks/orders\n"
        "events:\n  - example: a.json\n    format: har\n"
    )
    with pytest.raises(InputError, match="has format or har without recorded"):
        load_project(tmp_path / "harness.yaml")


def test_an_empty_export_is_refused_and_a_recording_is_told_from_an_example(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "events.json"
    empty.write_text('{"object": "list", "url": "/v1/events", "has_more": false, "data": []}')
    with pytest.raises(SourceError, match="stripe format: the file holds no deliveries"):
        events(empty)
    example = tmp_path / "example.json"
    example.write_text(json.dumps(samples.order(1), indent=2))
    assert recognised(example) is None  # an example payload, not a recording
    assert recognised(samples.stripe_list(tmp_path)) == "stripe"
    assert recognised(samples.capture(tmp_path)) == "capture"
    assert recognised(samples.har(tmp_path)) == "har"
    assert recognised(samples.github_deliveries(tmp_path)) == "github"
    assert recognised(samples.svix_export(tmp_path)) == "svix"


def test_events_flag_takes_a_provider_export_as_recorded_events(tmp_path: Path) -> None:
    path = samples.stripe_list(tmp_path)
    # Keyed as init keys it: the record its events share (the invoice's customer), by
    # Stripe's layout, where the export's reader would take each event's own object.
    assert events_flag(str(path)).source == RecordedSource(
        path.absolute(), key_path="$.data.object.customer"
    )
    example = tmp_path / "example.json"
    example.write_text(json.dumps(samples.order(1)))
    assert not isinstance(events_flag(str(example)).source, RecordedSource)


def test_events_flag_takes_an_export_whose_events_do_not_all_name_the_customer(
    tmp_path: Path,
) -> None:
    """A guest's checkout (customer: null) and a customer.created after a customer's checkout:
    the key guessed from the first event leads nowhere in them, and ``harness run --events``
    (which has no --key) refused the export over a path the user never gave. Each event's own
    object is the record there, as the export's reader takes it."""
    first = {"id": "cs_1", "object": "checkout.session", "customer": "cus_1"}
    objects = [first, {**first, "id": "cs_2", "customer": None}, {"id": "cus_1"}]
    kinds = ["checkout.session.completed", "checkout.session.completed", "customer.created"]
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"evt_{n}",
                    "object": "event",
                    "type": kind,
                    "created": n,
                    "data": {"object": obj},
                }
            )
            + "\n"
            for n, (kind, obj) in enumerate(zip(kinds, objects, strict=True))
        )
    )
    found = events_flag(str(path)).source
    assert found == RecordedSource(path.absolute())
    assert [e.key for e in events(path)] == ["cs_1", "cs_2", "cus_1"]


def test_a_faithful_replay_attributes_an_event_id_passed_on_as_idempotency_key() -> None:
    """The id a careful receiver passes on as Idempotency-Key ties its request to the event."""
    payload = samples.stripe_event(1)
    event = Event(payload["id"], "in_1PgcInvoice0001", 0, "invoice.paid", 0.0, payload)
    tracer = trace([event], "zqabcde", TracerSpec(rewrite=False))
    attribute = Correlation(tracer, (), TracerSpec(rewrite=False)).for_downstream("api")
    assert attribute("POST", "/payouts", {"idempotency-key": payload["id"]}, "{}") == (
        (payload["id"],),
        "in_1PgcInvoice0001",
    )
    assert attribute("POST", "/payouts", {"X-Request-Id": payload["id"]}, "{}") == ((), None)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_har_size_hints_jq_line_turns_a_har_into_a_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = samples.har(tmp_path)
    monkeypatch.setenv("HARNESS_MAX_DOCUMENT_BYTES", "100")
    with pytest.raises(SourceError) as err:
        events(path, har_path="/hooks/orders")
    line = str(err.value).split("as a capture: ", 1)[1].split(", then format: capture")[0]
    program = line.split("'")[1].replace("/hooks/…", "/hooks/orders")
    monkeypatch.delenv("HARNESS_MAX_DOCUMENT_BYTES")
    converted = subprocess.run(
        ["jq", "-c", program, str(path)], capture_output=True, text=True, check=True
    ).stdout
    capture = tmp_path / "capture.jsonl"
    capture.write_text(converted)
    found = events(capture, format="capture")
    assert [e.id for e in found][:4] == samples.ORDER_IDS  # and the cart's POST, unfiltered
