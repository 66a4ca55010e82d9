"""Correlation rules and the tracer's settings (drive._correlate, docs/correlation.md): extraction
per kind, attribution on a real double, the YAML that declares them, and tracing turned off."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import textwrap
from pathlib import Path

import pytest

import harness
from harness.core._errors import InputError, ScenarioError
from harness.core._model import Event, Status
from harness.core._scenario import CorrelationRule, DownstreamSpec, Route, TracerSpec
from harness.core._text_event import payload_text, text_event
from harness.drive._correlate import Correlation, describe
from harness.drive._tracer import Tracer, trace
from harness.history import History, RunInfo
from harness.invariants import judge
from harness.scenario._load import load_scenario, resolve

from .conftest import SECRET
from .doubles import started

TAG = "zqtestab"
HEADERS: dict[str, str] = {"Content-Type": "application/json"}


def checkout(seq: int, customer: str, session: str, email: str = "ada@example.com") -> Event:
    """A traced-looking Stripe checkout event: its id and key carry the run's tokens."""
    payload = {
        "id": f"evt_{TAG}e{seq}",
        "data": {"object": {"id": session, "customer": customer, "email": email, "n": 100 + seq}},
    }
    return Event(f"evt_{TAG}e{seq}", customer, seq, "checkout.session.completed", 0.0, payload)


EVENTS = [
    checkout(0, "cus_a", "cs_0"),
    checkout(1, "cus_a", "cs_1", "Bob@Example.com"),
    checkout(2, "cus_b", "cs_2"),
]


def attribute_with(*rules: CorrelationRule, downstream: str = "crm") -> Correlation:
    return Correlation(Tracer(TAG, EVENTS), rules)


def rule(
    kind: str, effect: str, event: str = "$.data.object.id", **more: object
) -> CorrelationRule:
    return CorrelationRule(kind, effect, event, **more)  # type: ignore[arg-type]


# --- extraction, one kind at a time ---------------------------------------------------------


def test_a_body_rule_reads_a_json_path_of_the_effect() -> None:
    f = attribute_with(rule("body", "$.deal.session")).for_downstream("crm")
    assert f("POST", "/deals", HEADERS, '{"deal": {"session": "cs_1"}}') == (
        (EVENTS[1].id,),
        "cus_a",
    )
    # No value there, not JSON, an object, or a value no event has: nothing.
    assert f("POST", "/deals", HEADERS, '{"deal": {}}') == ((), None)
    assert f("POST", "/deals", HEADERS, "session=cs_1") == ((), None)
    assert f("POST", "/deals", HEADERS, '{"deal": {"session": {"id": "cs_1"}}}') == ((), None)
    assert f("POST", "/deals", HEADERS, '{"deal": {"session": "cs_9"}}') == ((), None)


def test_rules_index_events_made_as_text_and_leave_them_text() -> None:
    """A synthetic run's events hold their payloads as JSON text (``TextEvent``): a rule
    indexes each payload read once, not kept decoded (several times the text's size)."""
    texts = [json.dumps(ev.payload) for ev in EVENTS]
    events = [
        text_event(ev.id, ev.key, ev.seq, ev.type, ev.occurred_at, text, {})
        for ev, text in zip(EVENTS, texts, strict=True)
    ]
    f = Correlation(Tracer(TAG, events), (rule("body", "$.deal.session"),)).for_downstream("crm")
    assert f("POST", "/deals", HEADERS, '{"deal": {"session": "cs_1"}}') == (
        (EVENTS[1].id,),
        "cus_a",
    )
    assert [payload_text(ev) for ev in events] == texts


def test_a_body_rule_reads_each_value_of_a_list() -> None:
    f = attribute_with(rule("body", "$.sessions")).for_downstream("crm")
    ids, _ = f("POST", "/batch", HEADERS, '{"sessions": ["cs_0", "cs_2", "cs_9"]}')
    assert ids == (EVENTS[0].id, EVENTS[2].id)


def test_numbers_and_their_text_are_the_same_value() -> None:
    f = attribute_with(rule("body", "$.n", "$.data.object.n")).for_downstream("crm")
    assert f("POST", "/x", HEADERS, '{"n": 101}')[0] == (EVENTS[1].id,)
    assert f("POST", "/x", HEADERS, '{"n": "101"}')[0] == (EVENTS[1].id,)
    assert f("POST", "/x", HEADERS, '{"n": 101.0}')[0] == (EVENTS[1].id,)


def test_a_path_rule_reads_a_parameter_of_its_route() -> None:
    r = rule("path", "session", route="PUT /deals/{session}/stage")
    f = attribute_with(r).for_downstream("crm")
    assert f("PUT", "/deals/cs_2/stage?x=1", HEADERS, "{}")[0] == (EVENTS[2].id,)
    assert f("POST", "/deals/cs_2/stage", HEADERS, "{}") == ((), None)  # another method
    assert f("PUT", "/deals/cs_2", HEADERS, "{}") == ((), None)  # another path


def test_a_header_rule_reads_a_header_whatever_its_case() -> None:
    f = attribute_with(rule("header", "X-Session")).for_downstream("crm")
    assert f("POST", "/deals", {"x-session": " cs_0 "}, "")[0] == (EVENTS[0].id,)
    assert f("POST", "/deals", {"X-Other": "cs_0"}, "") == ((), None)


def test_a_query_rule_reads_every_value_of_a_parameter() -> None:
    f = attribute_with(rule("query", "session")).for_downstream("crm")
    ids, _ = f("GET", "/deals?session=cs_0&session=cs%5F1&other=cs_2", HEADERS, "")
    assert ids == (EVENTS[0].id, EVENTS[1].id)


def test_a_pattern_picks_the_compared_part_and_a_transform_derives_the_event_value() -> None:
    pattern = rule("body", "$.note", pattern=r"checkout (\S+) paid")
    hashed = rule("query", "em", "$.data.object.email", transform=("strip", "lower", "sha256"))
    f = attribute_with(pattern, hashed).for_downstream("crm")
    assert f("POST", "/notes", HEADERS, '{"note": "checkout cs_2 paid"}')[0] == (EVENTS[2].id,)
    digest = hashlib.sha256(b"bob@example.com").hexdigest()
    assert f("GET", f"/audiences?em={digest}", HEADERS, "")[0] == (EVENTS[1].id,)


def test_a_value_of_one_record_attributes_the_record_and_of_several_nothing() -> None:
    per_customer = rule("body", "$.customer", "$.data.object.customer")
    email = rule("body", "$.email", "$.data.object.email")
    correlation = attribute_with(per_customer, email)
    f = correlation.for_downstream("crm")
    # cus_a: events 0 and 1 -> the record; cus_b: event 2 alone -> the event.
    assert f("PUT", "/customers", HEADERS, '{"customer": "cus_a"}') == ((), "cus_a")
    assert f("PUT", "/customers", HEADERS, '{"customer": "cus_b"}') == ((EVENTS[2].id,), "cus_b")
    # ada@example.com: events of cus_a and cus_b share it, so it names nobody.
    assert f("PUT", "/customers", HEADERS, '{"email": "ada@example.com"}') == ((), None)
    counts = [(r["values"], r["ambiguous"]) for r in correlation.settings()["correlate"]]
    assert counts == [(2, 0), (2, 1)]


def test_rules_are_limited_to_their_downstream_and_route() -> None:
    r = rule("body", "$.session", downstream="crm", route="POST /deals")
    correlation = attribute_with(r)
    body = '{"session": "cs_0"}'
    assert correlation.for_downstream("crm")("POST", "/deals", HEADERS, body)[0] == (EVENTS[0].id,)
    assert correlation.for_downstream("crm")("POST", "/ledger", HEADERS, body) == ((), None)
    assert correlation.for_downstream("billing")("POST", "/deals", HEADERS, body) == ((), None)


def test_rules_add_to_the_tracer_tokens_without_repeating_an_event() -> None:
    f = attribute_with(rule("body", "$.session")).for_downstream("crm")
    body = f'{{"session": "cs_2", "ref": "{EVENTS[0].id}", "again": "{EVENTS[2].id}"}}'
    assert f("POST", "/deals", HEADERS, body) == ((EVENTS[0].id, EVENTS[2].id), "cus_a")


def test_a_bad_rule_built_in_python_is_refused_with_its_field() -> None:
    bad = rule("path", "session", route="PUT /deals/{id}")
    with pytest.raises(InputError, match=r"my\.yaml: correlate\[0\]\.effect: \{session\}"):
        Correlation(Tracer(TAG, EVENTS), [bad], where="my.yaml")
    with pytest.raises(InputError, match=r"correlate\[0\]\.effect: kind 'cookie'"):
        Correlation(Tracer(TAG, EVENTS), [rule("cookie", "sid")])


def test_describe_says_where_the_values_are_compared() -> None:
    r = rule("header", "X-Em", "$.data.object.email", route="POST /a", transform=("sha256",))
    assert describe(r) == "POST /a: header X-Em = event $.data.object.email (sha256)"
    r = rule("body", "$.note", downstream="crm", pattern="cs_(\\w+)")
    assert describe(r) == "crm: body $.note ~ /cs_(\\w+)/ = event $.data.object.id"


# --- the tracer's settings ------------------------------------------------------------------


def recorded(seq: int, event_id: str, key: str) -> Event:
    payload = {"id": event_id, "customer": key, "note": "two words", "email": "a@b.co"}
    return Event(event_id, key, seq, "t", 0.0, payload)


def test_tracing_off_sends_the_events_as_recorded_and_attributes_their_ids_verbatim() -> None:
    events = [
        recorded(0, "evt_1Q8f3j27", "cus_RZ4pQ8"),
        recorded(1, "evt_1Q8fBEkx", "cus_RZ4pQ8"),
        recorded(2, "42", "7"),  # too short to be told from other values
    ]
    tracer = trace(events, TAG, TracerSpec(rewrite=False))
    assert tracer.events == events
    correlation = Correlation(tracer, (), TracerSpec(rewrite=False))
    f = correlation.for_downstream("crm")
    assert f("POST", "/deals", HEADERS, '{"ref":"evt_1Q8fBEkx"}') == (
        ("evt_1Q8fBEkx",),
        "cus_RZ4pQ8",
    )
    assert f("PUT", "/customers/cus_RZ4pQ8", HEADERS, "{}") == ((), "cus_RZ4pQ8")
    assert f("POST", "/x", HEADERS, '{"amount": 42, "qty": 7}') == ((), None)
    # A token of this tag means nothing when nothing was rewritten.
    assert f("POST", "/x", HEADERS, f'{{"ref": "evt_{TAG}e0"}}') == ((), None)
    assert correlation.settings()["tracer"] == {"rewrite": "off", "verbatim": 3}


def test_tracing_only_some_paths_rewrites_those_and_the_id_follows_its_path() -> None:
    events = [recorded(0, "evt_1Q8f3j27", "cus_RZ4pQ8"), recorded(1, "evt_1Q8fBEkx", "cus_X")]
    spec = TracerSpec(paths=("$.id", "$.note"))
    a, b = trace(events, TAG, spec).events
    assert a.id == a.payload["id"] == f"evt_{TAG}e0"
    assert a.payload["note"] == f"two words {TAG}e0"
    # Outside the paths: as recorded, and so is the record key.
    assert a.payload["email"] == "a@b.co" and a.key == a.payload["customer"] == "cus_RZ4pQ8"
    assert events[0].payload["id"] == "evt_1Q8f3j27"  # the source is not mutated
    correlation = Correlation(Tracer(TAG, (a, b)), (), spec)
    f = correlation.for_downstream("crm")
    assert f("POST", "/x", HEADERS, f'{{"e": "{b.id}", "c": "cus_RZ4pQ8"}}') == ((b.id,), "cus_X")
    assert correlation.settings()["tracer"] == {
        "rewrite": "paths",
        "paths": ["$.id", "$.note"],
        "verbatim": 1,  # cus_X is too short
    }


def test_with_default_tracing_nothing_is_matched_verbatim() -> None:
    correlation = Correlation(trace([recorded(0, "evt_1Q8f3j27", "cus_RZ4pQ8")], TAG))
    assert correlation.settings() == {"tracer": {"rewrite": "all"}, "correlate": []}
    f = correlation.for_downstream("crm")
    assert f("POST", "/x", HEADERS, '{"e": "evt_1Q8f3j27"}') == ((), None)


# --- on a real double -----------------------------------------------------------------------


@pytest.mark.integration
async def test_a_real_double_attributes_by_rules_of_every_kind() -> None:
    rules = (
        rule("body", "$.checkout_session", route="POST /deals"),
        rule("path", "session", route="PATCH /deals/{session}"),
        rule("header", "X-Checkout"),
        rule("query", "cs"),
    )
    spec = DownstreamSpec("crm", (Route("POST", "/deals", status=201),))
    attribute = attribute_with(*rules).for_downstream("crm")
    async with started(spec, attribute=attribute) as (_, effects, session):
        async with session.post("/deals", json={"checkout_session": "cs_0"}) as r:
            assert r.status == 201
        async with session.patch("/deals/cs_1", json={"stage": "won"}) as r:
            assert r.status == 200
        async with session.post("/notes", json={}, headers={"X-Checkout": "cs_2"}) as r:
            assert r.status == 201
        async with session.get("/deals", params={"cs": "cs_1"}) as r:
            assert r.status == 200
        async with session.post("/ledger", json={"balance": 300}) as r:
            assert r.status == 201
    assert [(e.path, e.event_ids, e.key) for e in effects] == [
        ("/deals", (EVENTS[0].id,), "cus_a"),
        ("/deals/cs_1", (EVENTS[1].id,), "cus_a"),
        ("/notes", (EVENTS[2].id,), "cus_b"),
        ("/deals?cs=cs_1", (EVENTS[1].id,), "cus_a"),
        ("/ledger", (), None),
    ]


# --- the YAML -------------------------------------------------------------------------------

SCENARIO = """\
name: c
source:
  synthetic:
    example: {id: evt_1, key: cus_1, data: {session: cs_1, email: a@b.co, items: [{sku: x}]}}
    events: 4
    records: 2
    over: 1s
downstreams: [{name: crm}]
"""


def load(tmp_path: Path, more: str) -> harness.Scenario:
    path = tmp_path / "c.yaml"
    path.write_text(SCENARIO + textwrap.dedent(more), encoding="utf-8")
    return load_scenario(path)


def error(tmp_path: Path, more: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, more)
    return str(caught.value).replace(str(tmp_path / "c.yaml"), "c.yaml")


def test_rules_and_tracer_settings_are_read_into_the_scenario(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        """\
        correlate:
          - {effect: $.session, event: $.data.session, downstream: crm, route: POST /deals}
          - {effect: {path: s}, event: $.data.session, route: "PUT /deals/{s}"}
          - effect: {header: X-Email-Hash}
            event: $.data.email
            transform: [lower, sha256]
          - {effect: {query: q}, event: $.data.items, pattern: 'sku-(\\w+)', transform: upper}
        tracer: {rewrite: off}
        """,
    )
    assert scenario.correlate == (
        CorrelationRule("body", "$.session", "$.data.session", "crm", "POST /deals"),
        CorrelationRule("path", "s", "$.data.session", route="PUT /deals/{s}"),
        CorrelationRule("header", "X-Email-Hash", "$.data.email", transform=("lower", "sha256")),
        CorrelationRule("query", "q", "$.data.items", pattern="sku-(\\w+)", transform=("upper",)),
    )
    assert scenario.tracer == TracerSpec(rewrite=False)
    assert load(tmp_path, "tracer: {paths: [$.id, $.data.email]}\n").tracer == TracerSpec(
        paths=("$.id", "$.data.email")
    )
    assert load(tmp_path, "").tracer == TracerSpec() and load(tmp_path, "").correlate == ()


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (
            "correlate:\n  - {effect: $.s, event: $.data.sesion}\n",
            "c.yaml:10: correlate[0].event: '$.data.sesion' is not allowed — no value there in "
            "the example payload (did you mean '$.data.session'?); paths that exist: "
            "$.data.session, $.data.email, $.data.items[0].sku, $.id, $.key",
        ),
        (
            "correlate:\n  - {effect: $.s, event: $.data}\n",
            "c.yaml:10: correlate[0].event: '$.data' is not allowed — it holds an object in the "
            "example payload; name one of its fields: $.data.session, $.data.email, $.data.items",
        ),
        (
            "correlate:\n  - {effect: {cookie: sid}, event: $.data.session}\n",
            "c.yaml:10: correlate[0].effect: unknown field 'cookie' — allowed: body, path, header, "
            "query",
        ),
        (
            "correlate:\n  - {effect: {body: $.a, header: X-A}, event: $.data.session}\n",
            "c.yaml:10: correlate[0].effect: has body, header — give exactly one of body, path, "
            "header, query",
        ),
        (
            "correlate:\n  - {effect: session, event: $.data.session}\n",
            "c.yaml:10: correlate[0].effect: 'session' is not allowed — must be a JSONPath into "
            "the effect's JSON body",
        ),
        (
            "correlate:\n  - {effect: $.s, event: data.session}\n",
            "c.yaml:10: correlate[0].event: 'data.session' is not allowed — must be a JSONPath",
        ),
        (
            "correlate:\n  - {effect: '$.s[x', event: $.data.session}\n",
            "c.yaml:10: correlate[0].effect: '$.s[x' is not allowed — must be a JSONPath into "
            "the effect's JSON body",
        ),
        (
            "correlate:\n  - {effect: {body: '$.s[x'}, event: $.data.session}\n",
            "c.yaml:10: correlate[0].effect.body: '$.s[x' is not allowed — must be a JSONPath",
        ),
        (
            "correlate:\n  - {effect: {path: s}, event: $.data.session}\n",
            "c.yaml:10: correlate[0].route: a path rule needs a route naming its parameter",
        ),
        (
            'correlate:\n  - {effect: {path: s}, event: $.data.session, route: "PUT /d/{id}"}\n',
            "c.yaml:10: correlate[0].effect.path: {s} is not a parameter of the route "
            "'PUT /d/{id}' (its parameters are id)",
        ),
        (
            "correlate:\n  - {effect: $.s, event: $.data.session, route: /deals}\n",
            "c.yaml:10: correlate[0].route: '/deals' is not allowed — must be a method and a path",
        ),
        (
            "correlate:\n  - {effect: $.s, event: $.data.session, downstream: billing}\n",
            "c.yaml:10: correlate[0].downstream: 'billing' is not allowed — must name one of the "
            "scenario's downstreams: crm",
        ),
        (
            "correlate:\n  - {effect: $.s, event: $.data.session, pattern: '(a'}\n",
            "c.yaml:10: correlate[0].pattern: '(a' is not a regular expression",
        ),
        (
            "correlate:\n  - {effect: $.s, event: $.data.session, pattern: '(a)(b)'}\n",
            "c.yaml:10: correlate[0].pattern: '(a)(b)' has 2 groups; give at most one",
        ),
        (
            "correlate:\n  - {effect: $.s, event: $.data.session, transform: sha265}\n",
            "c.yaml:10: correlate[0].transform: 'sha265' is not allowed — must be one of lower, "
            "upper, strip, sha256, or a list of them applied in order (did you mean 'sha256'?)",
        ),
        (
            "correlate:\n  - {event: $.data.session}\n",
            "c.yaml:10: correlate[0]: missing required field 'effect'",
        ),
        (
            "tracer: {rewrite: off, paths: [$.id]}\n",
            "c.yaml:9: tracer: has rewrite: false and paths",
        ),
        (
            "tracer: {paths: [$.id, $.data.mail]}\n",
            "c.yaml:9: tracer.paths[1]: '$.data.mail' is not allowed — no value there in the "
            "example payload (did you mean '$.data.email'?)",
        ),
        (
            "tracer: {rewrite: maybe}\n",
            "c.yaml:9: tracer.rewrite: 'maybe' is not allowed — must be true or false",
        ),
        (
            "tracer: {mode: off}\n",
            "c.yaml:9: tracer: unknown field 'mode' — allowed: rewrite, paths",
        ),
    ],
)
def test_bad_rules_and_tracer_settings_say_where_and_what_is_allowed(
    tmp_path: Path, more: str, message: str
) -> None:
    assert error(tmp_path, more).startswith(message)


def test_paths_of_a_recorded_source_must_exist_in_some_recorded_event(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(
        '{"id": "evt_1", "type": "a", "data": {"x": 1}}\n'
        '{"payload": {"id": "evt_2", "type": "b", "data": {"session": null}}}\n',
        encoding="utf-8",
    )
    path = tmp_path / "r.yaml"
    text = "source: {recorded: {file: events.jsonl}}\ncorrelate:\n  - {effect: $.s, event: %s}\n"
    path.write_text(text % "$.data.session", encoding="utf-8")
    assert load_scenario(path).correlate[0].event == "$.data.session"  # null in one event
    path.write_text(text % "$.data.y", encoding="utf-8")
    with pytest.raises(
        ScenarioError, match=r"r\.yaml:3: .*any of the recorded events.*\$\.data\.x"
    ):
        load_scenario(path)


# --- the run keeps them, and the hints name them --------------------------------------------


def test_a_run_keeps_its_tracer_and_rules_in_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenario = dataclasses.replace(
        resolve(["duplicate-storm"])[0],
        correlate=(rule("body", "$.order", "$.data.order_id", route="POST /payouts"),),
    )
    options = harness.RunOptions.create("http://127.0.0.1:9", seed=1, journal=tmp_path / "j")
    settings = harness.prepare(scenario, options).info.settings
    assert settings["tracer"] == {"rewrite": "all"}
    [kept] = settings["correlate"]
    assert kept["rule"] == "POST /payouts: body $.order = event $.data.order_id"
    assert kept["values"] == 30  # one per record: an order id is the record key
    assert kept["ambiguous"] == 0


def history_of(effects: list[harness.Effect], settings: dict[str, object]) -> History:
    info = RunInfo(
        "r@t",
        "r",
        1,
        "http://t",
        "t",
        harness.Model.LEDGER,
        (),
        "2026-01-01",
        "t",
        settings=settings,
    )
    ev = Event("evt_1", "k", 0, "t", 0.0, {})
    delivery = harness.Delivery("dlv_1", "evt_1", 1, 0.0, 0.0, 0.1, 200, harness.Outcome.OK)
    return History(info, [ev], [delivery], effects)


def effect(eid: str, path: str) -> harness.Effect:
    return harness.Effect(eid, "crm", 1.0, "POST", path, {}, "{}", 201, ())


def test_the_hint_names_the_rules_that_matched_nothing_and_that_tracing_was_off() -> None:
    settings = {
        "tracer": {"rewrite": "off"},
        "correlate": [{"rule": "POST /deals: body $.s = event $.data.object.id"}],
    }
    h = history_of([effect("eff_1", "/deals/cs_1?x=1"), effect("eff_2", "/v2/deals")], settings)
    [v] = [v for v in judge(h) if v.invariant == "no_lost_events"]
    assert v.status is Status.INCONCLUSIVE
    assert "those to POST /deals/{id} (1), POST /v2/deals (1)" in v.summary
    assert "the correlate: rule (POST /deals: body $.s = event $.data.object.id) matched none" in (
        v.summary
    )
    assert "tracer rewriting was off" in v.summary and "docs/correlation.md" in v.summary
    assert v.evidence.lines == (
        "POST /deals/{id} eff_1: no event named",
        "POST /v2/deals eff_2: no event named",
    )


# --- whole runs, tracing off ----------------------------------------------------------------


def run_forwarder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **changes: object
) -> harness.RunResult:
    """duplicate-storm, changed, against tests/asgi_forwarder.py: it writes the order id and
    the customer's email of each event to POST /payouts."""
    from harness.cli._processes import free_port

    scenario = dataclasses.replace(resolve(["duplicate-storm"])[0], **changes)  # type: ignore[arg-type]
    port = free_port()
    monkeypatch.setenv("HARNESS_TEST_DOWNSTREAM", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    (result,) = harness.run(
        scenario,
        "tests.asgi_forwarder:app",
        seed=3,
        downstream=f"127.0.0.1:{port}",
        journal=tmp_path / "j.db",
    )
    return result


@pytest.mark.integration
def test_a_run_with_tracing_off_sends_the_events_as_made_and_attributes_by_a_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = rule("body", "$.email", "$.data.customer.email", route="POST /payouts")
    result = run_forwarder(
        tmp_path, monkeypatch, tracer=TracerSpec(rewrite=False), correlate=(email,)
    )
    h = result.history
    assert all(
        e.id.startswith("evt_0") and "zq" not in e.payload["data"]["customer"]["email"]
        for e in h.events
    )
    assert h.info.settings["tracer"]["rewrite"] == "off"
    assert all(e.event_ids for e in h.effects), [e.body for e in h.effects if not e.event_ids]
    verdicts = {v.invariant: v for v in result.verdicts}
    assert verdicts["no_lost_events"].passed, verdicts["no_lost_events"].summary
    assert verdicts["no_duplicate_effects"].status is Status.FAIL  # the forwarder never dedups


@pytest.mark.integration
def test_a_run_with_tracing_off_and_no_rule_judges_per_record_and_says_what_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_forwarder(tmp_path, monkeypatch, tracer=TracerSpec(rewrite=False))
    # The order id is the record key, carried as made: the record, never the event.
    assert all(e.key and not e.event_ids for e in result.history.effects)
    verdicts = {v.invariant: v for v in result.verdicts}
    # Each record's payouts against its clean twin's: none lost (it was inconclusive, "none of
    # the effects could be attributed to an event", of effects tied to their records).
    lost = verdicts["no_lost_events"]
    assert lost.passed, lost.summary
    assert "POST /payouts compared per record" in lost.summary, lost.summary
    # Redelivered and never deduplicated: more payouts per record than its clean twin, which
    # the requests cannot pin on an event — but each payout was created (201), so whichever
    # event made it, a record holds one more than its twin (it was inconclusive).
    dup = verdicts["no_duplicate_effects"]
    assert dup.status is Status.FAIL, dup.summary
    assert "records got more resources created by POST /payouts than the clean run" in (
        dup.summary
    ), dup.summary
    assert "those writes name their record, not their event" in dup.summary, dup.summary
