"""Bad input through the real entry points: a clear message, the exit code of the one rule
(docs/cli.md), never a traceback.

Two tables of (input, expected exit code, a fragment the message must hold):

- CASES: argv of the ``harness`` command, run through ``harness.cli.main`` in-process as the
  command runs it — scenario files, recorded JSONL files, damaged journals for ``check`` and
  ``report``, flags. Refused input never writes a journal: it is refused before anything is
  sent.
- PLUGIN_CASES: pytest options and scenario files, run through pytest with the plugin
  (pytester): a bad option is pytest's usage error (4), a scenario file that cannot be read a
  collection error (2), a run that cannot happen an error, never a failure or an INTERNALERROR.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from harness.cli import main
from harness.core._model import Delivery, Effect, Event, Model, Outcome
from harness.history import Journal, RunInfo

from .conftest import SECRET
from .old_journals import as_format_5, as_format_6

pytest_plugins = ["pytester"]

LOOPBACK = "http://127.0.0.1:1/hooks"

SMALL = """\
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: EVENTS
    records: 2
    over: 1s
    key: $.data.order_id
perturbations: PERTURBATIONS
"""


def small(events: int = 4, perturbations: str = "[]") -> str:
    return SMALL.replace("EVENTS", str(events)).replace("PERTURBATIONS", perturbations)


def nested(depth: int) -> str:
    return small().replace("{order_id: ord_1}", "[" * depth + "1" + "]" * depth)


# Files the cases name as {tmp}/<name>, written before each case.
FILES: dict[str, str | bytes] = {
    "huge-events.scenario.yaml": small(50_000_000),
    "huge-events-30.scenario.yaml": small(10**30),
    "over-years.scenario.yaml": small().replace("over: 1s", "over: 99999999h"),
    "huge-copies.scenario.yaml": small(perturbations="[{duplicate: {rate: 1, copies: 100000000}}]"),
    "huge-replay.scenario.yaml": small(perturbations="[{replay: {times: 100000000}}]"),
    "many-deliveries.scenario.yaml": small(
        1_000_000, "[{duplicate: {rate: 1, copies: 100}}, {replay: {times: 9}}]"
    ),
    "deep-70.scenario.yaml": nested(70),
    "deep-5000.scenario.yaml": nested(5000),
    "crlf-header.scenario.yaml": small()
    + 'delivery: {signing: none, headers: {X-Tenant: "a\\r\\nX-Admin: 1"}}\n',
    "unbalanced-route.scenario.yaml": small()
    + "downstreams: [{name: api, routes: [{method: POST, path: '/deals/{id'}]}]\n",
    "self.suite.yaml": "suite: [self.suite.yaml]\n",
    "pasted-secret.yaml": "secret_env: whsec_QUJDQUJDQUJDQUJD\n",
    "a.suite.yaml": "suite: [b.suite.yaml]\n",
    "b.suite.yaml": "suite: [a.suite.yaml]\n",
}
RECORDED = """\
source:
  recorded:
    file: NAME.jsonl
delivery: {signing: none}
"""


def jsonl(name: str, text: str | bytes, scenario: str = "") -> dict[str, str | bytes]:
    """A recorded file ``<name>.jsonl`` and a scenario ``<name>.scenario.yaml`` replaying it."""
    return {
        f"{name}.jsonl": text,
        f"{name}.scenario.yaml": RECORDED.replace("NAME", name) + scenario,
    }


def line(**members: str) -> str:
    """One JSONL line of an event with ``members`` (raw JSON text) beside a small payload."""
    found = {"id": '"evt_1"', "payload": '{"order": "ord_1"}', **members}
    return "{" + ", ".join(f'"{k}": {v}' for k, v in found.items()) + "}\n"


def scenario(extra: str) -> str:
    """A small synthetic scenario, unsigned, with ``extra`` YAML added."""
    return small() + "delivery: {signing: none}\n" + extra


DEEP = 100_000
# A billion laughs: nine references to nine references ... to nine strings.
LAUGHS = (
    "a: &a ["
    + ", ".join(["lol"] * 9)
    + "]\n"
    + "".join(
        f"{n}: &{n} [" + ", ".join([f"*{m}"] * 9) + "]\n"
        for m, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
)
RECORDED_FILES: dict[str, str | bytes] = {
    **jsonl("deep-100000", '{"payload": ' + "[" * DEEP + "]" * DEEP + "}\n"),
    **jsonl("deep-70-line", '{"payload": ' + "[" * 70 + "]" * 70 + "}\n"),
    **jsonl("id-null", line(id="null")),
    **jsonl("id-nan", line(id="NaN")),
    **jsonl("id-infinity", line(id="Infinity")),
    **jsonl("id-minus-infinity", line(id="-Infinity")),
    **jsonl("id-object", line(id='{"a": 1}')),
    **jsonl("id-list", line(id="[1]")),
    **jsonl("id-bool", line(id="true")),
    **jsonl("id-float", line(id="1.5")),
    **jsonl("id-empty", line(id='""')),
    **jsonl("id-crlf", line(id='"evt\\r\\nX-Admin: 1"')),
    **jsonl("id-long", line(id='"' + "x" * 2000 + '"')),
    **jsonl("key-null", line(key="null")),
    **jsonl("key-object", line(key='{"a": 1}')),
    **jsonl("type-list", line(type='["a"]')),
    **jsonl("payload-5", line(payload="5")),
    **jsonl("payload-string", line(payload='"hello"')),
    **jsonl("payload-null", line(payload="null")),
    **jsonl("payload-true", line(payload="true")),
    **jsonl("bare-5", "5\n"),
    **jsonl("bare-string", '"evt_1"\n'),
    **jsonl("bare-null", "null\n"),
    **jsonl(
        "year-apart",
        line(occurred_at='"2025-01-01T00:00:00Z"')
        + line(id='"evt_2"', occurred_at='"2026-01-01T00:00:00Z"'),
    ),
    **jsonl(
        "year-apart-scaled",
        line(occurred_at="0") + line(id='"evt_2"', occurred_at="31536000"),
        "time_scale: 0.01\n",
    ),
    **jsonl("mixed-times", line(occurred_at="1772366400") + line(id='"evt_2"')),
    **jsonl("time-nan", line(occurred_at="NaN")),
    **jsonl("time-word", line(occurred_at='"yesterday"')),
    **jsonl("time-bool", line(occurred_at="true")),
    **jsonl("time-year-99999", line(occurred_at='"99999-01-01T00:00:00Z"')),
    **jsonl("time-huge", line(occurred_at="1e400")),
    **jsonl("number-huge", line(payload='{"amount": 1e400}')),
    **jsonl("number-nan-deep", line(payload='{"a": {"b": [1, NaN]}}')),
    **jsonl("headers-string", line(headers='"X-A: 1"')),
    **jsonl("headers-list", line(headers='["X-A"]')),
    **jsonl("header-number", line(headers='{"X-A": 1}')),
    **jsonl("header-crlf", line(headers='{"X-A": "1\\r\\nX-Admin: yes"}')),
    **jsonl("header-nul", line(headers='{"X-A": "1\\u0000"}')),
    **jsonl("header-name-space", line(headers='{"X A": "1"}')),
    **jsonl("header-name-colon", line(headers='{"X-A:": "1"}')),
    **jsonl("header-long", line(headers='{"X-A": "' + "v" * 9000 + '"}')),
    **jsonl("bad-utf8", b'{"id": "evt_1", "payload": {"name": "\xff\xfe"}}\n'),
    **jsonl("latin-1", '{"id": "evt_1", "payload": {"name": "Andr\xe9"}}\n'.encode("latin-1")),
    **jsonl("gzipped", b"\x1f\x8b\x08\x00compressed"),
    **jsonl("empty", ""),
    **jsonl("blank-lines", "\n  \n\n"),
    **jsonl("json-array", '[{"id": "evt_1", "payload": {}}, {"id": "evt_2", "payload": {}}]\n'),
    **jsonl("pretty-array", '[\n  {"id": "evt_1", "payload": {}}\n]\n'),
    **jsonl("pretty-object", '{\n  "id": "evt_1",\n  "payload": {}\n}\n'),
    **jsonl("truncated", '{"id": "evt_1", "payload": {"order": "ord_1"}\n'),
    **jsonl("trailing-comma", '{"id": "evt_1", "payload": {},}\n'),
    **jsonl("single-quotes", "{'id': 'evt_1', 'payload': {}}\n"),
    **jsonl("raw-nul", '{"id": "evt_1", "payload": {"a": "\x00"}}\n'),
    **jsonl("second-line-bad", line() + "{nope}\n"),
    **jsonl("long-line", line(payload='{"a": "' + "x" * 500 + '"}')),
    **jsonl("id-path-nowhere", line()),
    **jsonl("many-lines", line() * 20, "perturbations: [{duplicate: {rate: 1, copies: 5}}]\n"),
    **jsonl("untimed-many", '{"payload": {}}\n' * 86_402),
    **jsonl("over-huge", line()),
    "over-huge.scenario.yaml": RECORDED.replace("NAME.jsonl", "over-huge.jsonl\n    over: 720h"),
    "dir-source.scenario.yaml": RECORDED.replace("NAME.jsonl", "adir"),
    "missing-source.scenario.yaml": RECORDED.replace("NAME", "nowhere"),
    "id-path-nowhere.scenario.yaml": "source:\n  recorded:\n    file: id-path-nowhere.jsonl\n"
    "    id: $.payload.nope\ndelivery: {signing: none}\n",
}

# Scenario files that are wrong in one place each.
SCENARIO_FILES: dict[str, str | bytes] = {
    "ok.scenario.yaml": scenario(""),
    "yaml-empty.scenario.yaml": "",
    "list-root.scenario.yaml": "- a\n- b\n",
    "bad-yaml.scenario.yaml": "source:\n  synthetic: {example: [1, 2\n",
    "tab-indent.scenario.yaml": "source:\n\tsynthetic: {}\n",
    "duplicate-key.scenario.yaml": scenario("model: ledger\nmodel: register\n"),
    "unknown-key.scenario.yaml": scenario("perturbation: []\n"),
    "events-negative.scenario.yaml": small(-1),
    "events-zero.scenario.yaml": small(0),
    "events-word.scenario.yaml": small().replace("events: 4", "events: many"),
    "events-float.scenario.yaml": small().replace("events: 4", "events: 1.5"),
    "records-zero.scenario.yaml": small().replace("records: 2", "records: 0"),
    "over-word.scenario.yaml": small().replace("over: 1s", "over: forever"),
    "over-negative.scenario.yaml": small().replace("over: 1s", "over: -1s"),
    "over-100h.scenario.yaml": scenario("").replace("over: 1s", "over: 100h"),
    "provider-unknown.scenario.yaml": small() + "provider: {name: paypal}\n",
    "signing-unknown.scenario.yaml": small() + "delivery: {signing: rsa}\n",
    "timeout-zero.scenario.yaml": small() + "delivery: {signing: none, timeout: 0}\n",
    "invariant-unknown.scenario.yaml": scenario("invariants: [no_dupes]\n"),
    "invariant-param.scenario.yaml": scenario("invariants: [{ack_within: {seconds: -1}}]\n"),
    "perturbation-unknown.scenario.yaml": small(perturbations="[{shuffle: {}}]"),
    "rate-2.scenario.yaml": small(perturbations="[{duplicate: {rate: 2}}]"),
    "time-scale-zero.scenario.yaml": scenario("time_scale: 0\n"),
    "auth-kind.scenario.yaml": scenario("downstreams: [{name: crm, auth: {kind: saml}}]\n"),
    "auth-pasted-key.scenario.yaml": scenario(
        "downstreams: [{name: crm, auth: {kind: api-key, key_env: sk_live_51Habc}}]\n"
    ),
    "page-size-stateless.scenario.yaml": scenario("downstreams: [{name: crm, page_size: 5}]\n"),
    "rate-limit-no-rate.scenario.yaml": scenario(
        "downstreams: [{name: crm}]\nfaults: [{downstream: crm, mode: rate-limit, at: 0, for: 1}]\n"
    ),
    "settle-inverted.scenario.yaml": scenario("settle: {quiet: 5s, deadline: 1s}\n"),
    "model-unknown.scenario.yaml": scenario("model: queue\n"),
    "key-no-dollar.scenario.yaml": small().replace("key: $.data.order_id", "key: data.order_id"),
    "example-file-missing.scenario.yaml": small().replace(
        "example: {id: evt_1, data: {order_id: ord_1}}", "example_file: nowhere.json"
    ),
    "date-value.scenario.yaml": small().replace(
        "order_id: ord_1}", "order_id: ord_1, on: 2026-01-01}"
    ),
    "nan-value.scenario.yaml": small().replace("order_id: ord_1}", "order_id: ord_1, x: .nan}"),
    "bool-key.scenario.yaml": small().replace("order_id: ord_1}", "order_id: ord_1, yes: 1}"),
    "content-length.scenario.yaml": small()
    + "delivery: {signing: none, headers: {Content-Length: '5'}}\n",
    "host-header.scenario.yaml": small()
    + "delivery: {signing: none, headers: {host: evil.example}}\n",
    "huge.scenario.yaml": scenario("description: '" + "x" * (10 * 1024 * 1024) + "'\n"),
    "laughs.scenario.yaml": LAUGHS,
    "yaml-bad-utf8.scenario.yaml": b"source: {synthetic: {example: {name: \xff}}}\n",
}


def rotation(provider: str, body: str) -> str:
    """A scenario of ``provider`` whose delivery rotates its secret as ``body`` says."""
    return small() + f"provider: {provider}\ndelivery:\n  rotation:\n{body}"


# A secret rotation and the sender's clock skew (delivery.rotation, delivery.clock_skew).
FILES |= {
    "rotation-github-overlap.scenario.yaml": rotation(
        "github", "    next_secret_env: ROTATION_NEXT\n    at: 1s\n    overlap: 1h\n"
    ),
    "rotation-github-default.scenario.yaml": rotation(
        "github", "    next_secret_env: ROTATION_NEXT_UNSET\n    at: 1s\n"
    ),
    "rotation-negative-overlap.scenario.yaml": rotation(
        "stripe", "    next_secret_env: ROTATION_NEXT\n    at: 1s\n    overlap: -5s\n"
    ),
    "rotation-no-at.scenario.yaml": rotation("stripe", "    next_secret_env: ROTATION_NEXT\n"),
    "rotation-same-env.scenario.yaml": rotation(
        "stripe", "    next_secret_env: HARNESS_SECRET\n    at: 1s\n"
    ),
    "rotation-secret-pasted.scenario.yaml": rotation(
        "stripe", "    next_secret_env: next secret\n    at: 1s\n"
    ),
    "rotation-unsigned.scenario.yaml": small()
    + "delivery:\n  signing: none\n  rotation: {next_secret_env: ROTATION_NEXT, at: 1s}\n",
    "rotation-missing-env.scenario.yaml": rotation(
        "stripe", "    next_secret_env: ROTATION_NEXT_UNSET\n    at: 1s\n"
    ),
    "rotation-bad-secret.scenario.yaml": rotation(
        "standard-webhooks", "    next_secret_env: ROTATION_NEXT\n    at: 1s\n"
    ),
    "skew-word.scenario.yaml": small() + "delivery: {signing: none, clock_skew: soon}\n",
    "skew-far.scenario.yaml": small() + "delivery: {signing: none, clock_skew: 200h}\n",
}

RUN_AT = ["--target", "http://127.0.0.1:1/hooks", "--journal", "{tmp}/j.db"]
RUN = ["run", "duplicate-storm", "--journal", "{tmp}/j.db"]

CASES: list[tuple[list[str], int, str]] = [
    # --target: URLs a client would dial differently from what the check saw, or cannot dial
    ([*RUN, "--target", "http://127.0.0.1:99999/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://127.0.0.1:abc/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://[::1/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://[zz::1]:8000/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://127.0.0.1:0/h"], 2, "port 0"),
    ([*RUN, "--target", "http://example.com\\@127.0.0.1:8000/h"], 2, "backslash"),
    ([*RUN, "--target", "http://127.0.0.1:8000/h ook"], 2, "a space"),
    ([*RUN, "--target", "http://127.0.0.1:8000/h\r\nX-Evil: 1"], 2, "control character"),
    ([*RUN, "--target", "http://user:pw@127.0.0.1:8000/h"], 2, "user name or password"),
    ([*RUN, "--target", "http://user@127.0.0.1:8000/h"], 2, "user name or password"),
    ([*RUN, "--target", "http:///h"], 2, "has no host"),
    ([*RUN, "--target", "http://10.0.0.8:8000/h"], 2, "outside loopback"),
    ([*RUN, "--target", "http://169.254.169.254/latest"], 2, "outside loopback"),
    ([*RUN, "--target", "ftp://127.0.0.1/h"], 2, "neither a URL nor module:attr"),
    ([*RUN, "--target", "127.0.0.1:8000"], 2, "neither a URL nor module:attr"),
    # --target module:attr that is not an ASGI app
    ([*RUN, "--target", "os:getcwd"], 2, "not an ASGI app"),
    ([*RUN, "--target", "json:dumps"], 2, "not an ASGI app"),
    ([*RUN, "--target", "os:sep"], 2, "not an ASGI app"),
    ([*RUN, "--target", "no_such_module_here:app"], 2, "cannot import"),
    ([*RUN, "--target", "os:no_such_attr"], 2, "has no attribute"),
    # the double listens on loopback unless one flag says otherwise
    ([*RUN, "--target", LOOPBACK, "--downstream", "0.0.0.0:0"], 2, "--listen-beyond-loopback"),
    ([*RUN, "--target", LOOPBACK, "--downstream", "[::]:0"], 2, "--listen-beyond-loopback"),
    (["downstream", "--listen", "0.0.0.0:0", "--for", "1"], 2, "--listen-beyond-loopback"),
    (
        ["locust", "duplicate-storm", "--target", LOOPBACK, "--downstream", "0.0.0.0:0"],
        2,
        "--listen-beyond-loopback",
    ),
    # --report: refused before the run, not after it
    ([*RUN, "--target", LOOPBACK, "--report", "{tmp}/dir.json"], 2, "is a directory"),
    ([*RUN, "--target", LOOPBACK, "--report", "{tmp}/file.txt/r.json"], 2, "is a file"),
    ([*RUN, "--target", LOOPBACK, "--report", "{tmp}/r.pdf"], 2, "report format"),
    (["report", "{tmp}/none.db", "-o", "{tmp}/dir.json"], 2, "is a directory"),
    # harness downstream --for and harness sign --secret
    (["downstream", "--listen", "127.0.0.1:0", "--for", "-1"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "0"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "nan"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "inf"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "5 min"], 2, "'5 min' is not a duration"),
    (["sign", "--provider", "stripe", "--secret", "", "{tmp}/file.txt"], 2, "--secret is empty"),
    # scenario files: sizes that would hang or exhaust memory, nesting, suites that loop
    (["run", "{tmp}/huge-events.scenario.yaml", *RUN_AT], 2, "the limit is 5,000,000"),
    (["run", "{tmp}/huge-events-30.scenario.yaml", *RUN_AT], 2, "HARNESS_MAX_DELIVERIES="),
    # a typo of a span: refused before the events are dated past the year 9999
    (["run", "{tmp}/over-years.scenario.yaml", *RUN_AT], 2, "are dated, and may span at most 100"),
    (["run", "{tmp}/huge-copies.scenario.yaml", *RUN_AT], 2, "an integer from 2 to 100"),
    (["run", "{tmp}/huge-replay.scenario.yaml", *RUN_AT], 2, "an integer from 1 to 100"),
    (["run", "{tmp}/many-deliveries.scenario.yaml", *RUN_AT], 2, "plans about 1,000,000,000"),
    (["run", "{tmp}/deep-70.scenario.yaml", *RUN_AT], 2, "nested more than 64 levels"),
    (["run", "{tmp}/deep-5000.scenario.yaml", *RUN_AT], 2, "nested far more than 64 levels"),
    (["run", "{tmp}/crlf-header.scenario.yaml", *RUN_AT], 2, "must be one line"),
    (["run", "{tmp}/unbalanced-route.scenario.yaml", *RUN_AT], 2, "'{id'"),
    (["run", "{tmp}/self.suite.yaml", *RUN_AT], 2, "this suite or one that includes it"),
    (["run", "{tmp}/a.suite.yaml", *RUN_AT], 2, "this suite or one that includes it"),
]


def _info() -> RunInfo:
    return RunInfo(
        "r1",
        "duplicate-storm",
        7,
        "http://127.0.0.1:1/h",
        "t",
        Model.LEDGER,
        (),
        "2026-11-24T00:00:00+00:00",
        "zqabcde",
        "",
        {},
    )


def _write_journal(path: Path, events: int = 300) -> None:
    """A complete journal of ``events`` events, each delivered once with one effect: about
    120 KB, so that 4 KB flipped in its middle land in its rows."""
    j = Journal(path)
    j.begin(
        _info(),
        [
            Event(f"e{i}", f"k{i % 7}", i, "order.paid", float(i), {"a": "x" * 50})
            for i in range(events)
        ],
    )
    for i in range(events):
        j.delivery(Delivery(f"dlv_{i}", f"e{i}", 1, float(i), i + 0.01, i + 0.02, 200, Outcome.OK))
        j.effect(Effect(f"eff_{i}", "api", i + 0.5, "POST", "/pay", {}, "{}", 201, (f"e{i}",)))
    j.end("complete", float(events))
    j.close()


# Journals damaged one way each: the SQL that damages a copy of a good one.
DAMAGED = {
    "foreign-columns": "DROP TABLE deliveries; CREATE TABLE deliveries (a, b, c);",
    "foreign-table-missing": "DROP TABLE effects;",
    "checks-dropped": "DROP TABLE marks; CREATE TABLE marks (run, at, name, detail);",
    "info-without-fields": "UPDATE runs SET info = '{}';",
    "newer-format": "PRAGMA user_version = 99;",
    "no-runs": "DELETE FROM runs;",
    "running": "UPDATE runs SET status = 'running', ended_at = NULL;",
    "aborted": "UPDATE runs SET status = 'aborted';",
}
# Chunks (format 7) that SQLite's checks let through, but that hold what no chunk this harness
# writes holds: each is refused as it is read, naming the table and column.
DAMAGED_CHUNKS = {
    "chunk-id-not-text": "UPDATE deliveries SET id = "
    "(SELECT json_group_array(1) FROM json_each(deliveries.id));",
    "chunk-ends-wrong": 'UPDATE events SET payload_ends = zeroblob(8 * "rows");',
    "chunk-outcome-unknown": "UPDATE deliveries SET outcome = "
    "(SELECT json_group_array('weird') FROM json_each(deliveries.outcome));",
    "chunk-code-beyond": "UPDATE events SET key = json_remove(key, '$[#-1]');",
}
# Chunks a journal of this format refuses when they are written: its tables check each column
# of a chunk (packed numbers of the chunk's length, JSON arrays of as many values).
REFUSED_CHUNKS = {
    "payload-not-json": "UPDATE events SET payload = '[{\"a\": 1' || substr(payload, 2);",
    "time-as-text": "UPDATE deliveries SET sent_at = 'soon';",
    "numbers-cut-short": "UPDATE deliveries SET attempt = substr(attempt, 9);",
    "codes-one-short": "UPDATE effects SET id_codes = substr(id_codes, 5);",
    "no-distinct-values": "UPDATE effects SET method = '[]';",
    "no-rows": 'UPDATE events SET "rows" = 0;',
}
# Rows of another type than the format's: formats 6 and 7 refuse them when they are written
# (their tables check their columns), so these damage a copy in format 5, whose rows are
# checked when they are read.
DAMAGED_ROWS = {
    "nonjson-payload": "UPDATE events SET payload = 'not json' WHERE seq = 5;",
    "nonjson-info": "UPDATE runs SET info = '{{{';",
    "nonjson-headers": "UPDATE effects SET headers = 'nope' WHERE id = 'eff_3';",
    "nonjson-fault-params": "INSERT INTO faults VALUES (1, 'api', 'status', 1.0, 2.0, 'nope');",
    "outcome-unknown": "UPDATE deliveries SET outcome = 'weird' WHERE id = 'dlv_3';",
    "time-as-text": "UPDATE effects SET at = 'soon' WHERE id = 'eff_3';",
    "seq-null": "UPDATE events SET seq = NULL WHERE seq = 3;",
    "status-as-text": "UPDATE deliveries SET status = 'ok' WHERE id = 'dlv_3';",
    "event-ids-not-json": "UPDATE effects SET event_id = NULL, event_ids = 'x' WHERE id = 'eff_4';",
    "state-body-not-json": "INSERT INTO states VALUES (1, 's', 'c', 'x', 'nope', '[]', 'k');",
}


@pytest.fixture(scope="session")
def journals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good journal and its damaged copies (read-only use: check and report only read)."""
    folder = tmp_path_factory.mktemp("journals")
    good = folder / "good.db"
    _write_journal(good)
    old = as_format_5(good, folder / "good-format-5.db")
    as_format_6(good, folder / "good-format-6.db")
    for name, sql in [*DAMAGED.items(), *DAMAGED_CHUNKS.items(), *DAMAGED_ROWS.items()]:
        copy = folder / f"{name}.db"
        shutil.copy(old if name in DAMAGED_ROWS else good, copy)
        db = sqlite3.connect(copy)
        db.executescript(sql)
        db.close()
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(b ^ 0xFF for b in data[middle : middle + 4096])
    (folder / "flipped.db").write_bytes(bytes(data))
    (folder / "text.db").write_text("hello, not SQLite\n")
    (folder / "zero-bytes.db").write_bytes(b"")
    (folder / "a-folder.db").mkdir()
    other = sqlite3.connect(folder / "other-app.db")
    other.executescript("CREATE TABLE users (id, name); INSERT INTO users VALUES (1, 'ada');")
    other.close()
    return folder


# Each damaged journal, for `check` and for `report`: (journal, exit code, message fragment).
JOURNAL_CASES = [
    ("foreign-columns", 2, "its table 'deliveries' has columns a, b, c"),
    ("foreign-table-missing", 2, "its table 'effects' is missing"),
    ("checks-dropped", 2, "its table 'marks' is not defined as the format's"),
    ("nonjson-payload", 2, "events: payload is 'not json', where JSON is expected"),
    ("nonjson-info", 2, "runs: info is '{{{', where a JSON object is expected"),
    ("info-without-fields", 2, "run 'r1' cannot be read (KeyError"),
    ("nonjson-headers", 2, "effects: headers is 'nope'"),
    ("nonjson-fault-params", 2, "faults: params is 'nope'"),
    ("outcome-unknown", 2, "outcome is 'weird', where one of ok, rejected"),
    ("time-as-text", 2, "effects: at is 'soon', where a number is expected"),
    ("seq-null", 2, "events: seq is null, where an integer is expected"),
    ("status-as-text", 2, "deliveries: status is 'ok'"),
    ("event-ids-not-json", 2, "effects: event_ids is 'x', where a JSON list or null"),
    ("state-body-not-json", 2, "states: body is 'nope'"),
    ("chunk-id-not-text", 2, "(ValueError: deliveries.id holds other values than text)"),
    ("chunk-ends-wrong", 2, "events.payload holds no 300 JSON values where it says they end"),
    ("chunk-outcome-unknown", 2, "run 'r1' cannot be read (KeyError: 'weird')"),
    ("chunk-code-beyond", 2, "(ValueError: events.key names a value it does not hold)"),
    ("newer-format", 2, "journal format 99"),
    ("no-runs", 2, "the journal holds no run"),
    ("running", 3, "incomplete (running: the harness stopped before the run ended)"),
    ("aborted", 3, "incomplete (aborted: interrupted or terminated)"),
    ("flipped", 2, "damaged journal: database disk image is malformed"),
    ("text", 2, "not a harness journal (file is not a database)"),
    ("zero-bytes", 2, "not a harness journal (no such table: runs)"),
    ("a-folder", 2, "is a directory, not a journal"),
    ("missing", 2, "no such journal file"),
    ("other-app", 2, "not a harness journal (no such table: runs)"),
]


@pytest.mark.parametrize(
    ("name", "sql"),
    [*(("format-6", sql) for sql in DAMAGED_ROWS.values()), *REFUSED_CHUNKS.items()],
    ids=[*(f"format-6-{n}" for n in DAMAGED_ROWS), *REFUSED_CHUNKS],
)
def test_a_journal_refuses_a_row_of_another_type(
    journals: Path, tmp_path: Path, name: str, sql: str
) -> None:
    """Formats 6 (a row per record) and 7 (chunks) check what each column holds."""
    good = journals / ("good-format-6.db" if name == "format-6" else "good.db")
    copy = shutil.copy(good, tmp_path / "good.db")
    db = sqlite3.connect(copy)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            db.executescript(sql)
    finally:
        db.close()


def rec(name: str) -> list[str]:
    """`harness run` of the scenario replaying ``<name>.jsonl``."""
    return ["run", f"{{tmp}}/{name}.scenario.yaml", *RUN_AT]


def yaml(name: str) -> list[str]:
    return ["run", f"{{tmp}}/{name}.scenario.yaml", *RUN_AT]


OK = ["run", "{tmp}/ok.scenario.yaml", "--target", LOOPBACK]

RECORDED_CASES: list[tuple[list[str], int, str]] = [
    # a line nested 100,000 deep is refused, not a RecursionError
    (rec("deep-100000"), 2, "deep-100000.jsonl:1: the event is nested far more than 64"),
    (rec("deep-70-line"), 2, "deep-70-line.jsonl:1: the event is nested more than 64"),
    # ids, keys and types: a string or an integer, one short printable line
    (rec("id-null"), 2, "id-null.jsonl:1: id: id null is not a string or an integer"),
    (rec("id-nan"), 2, "id-nan.jsonl:1: NaN is not a JSON number"),
    (rec("id-infinity"), 2, "id-infinity.jsonl:1: Infinity is not a JSON number"),
    (rec("id-minus-infinity"), 2, "-Infinity is not a JSON number"),
    (rec("id-object"), 2, "id-object.jsonl:1: id: id {'a': 1} is not a string or an integer"),
    (rec("id-list"), 2, "id [1] is not a string or an integer"),
    (rec("id-bool"), 2, "id True is not a string or an integer"),
    (rec("id-float"), 2, "id 1.5 is not a string or an integer"),
    (rec("id-empty"), 2, "id '' is empty"),
    (rec("id-crlf"), 2, "holds a control character"),
    (rec("id-long"), 2, "is longer than 1,000 characters"),
    (rec("key-null"), 2, "key-null.jsonl:1: key: key null is not a string or an integer"),
    (rec("key-object"), 2, "key {'a': 1} is not a string or an integer"),
    (rec("type-list"), 2, "type ['a'] is not a string or an integer"),
    # a payload is a body: an object or an array
    (rec("payload-5"), 2, "payload-5.jsonl:1: payload: payload 5 is not a JSON object or array"),
    (rec("payload-string"), 2, "payload 'hello' is not a JSON object or array"),
    (rec("payload-null"), 2, "payload None is not a JSON object or array"),
    (rec("payload-true"), 2, "payload True is not a JSON object or array"),
    (rec("bare-5"), 2, "bare-5.jsonl:1: expected a JSON object, got a number 5"),
    (rec("bare-string"), 2, 'expected a JSON object, got a string "evt_1"'),
    (rec("bare-null"), 2, "expected a JSON object, got null"),
    # times: a run must not wait a year, nor mix Unix times with line numbers
    (rec("year-apart"), 2, "the recorded events span 365.0 days (line 1 to line 2)"),
    (rec("year-apart"), 2, "over: under source.recorded"),
    (rec("year-apart-scaled"), 2, "the run would take 3.6 days"),
    (rec("untimed-many"), 2, "replayed 1 s apart (no line has an occurred_at) the run would"),
    (rec("over-huge"), 2, "span 30.0 days (line 1 to line 1); replayed spread evenly over"),
    (rec("mixed-times"), 2, "line 1 has an occurred_at and line 2 has none"),
    (rec("time-nan"), 2, "time-nan.jsonl:1: NaN is not a JSON number"),
    (rec("time-word"), 2, "occurred_at 'yesterday' is neither ISO 8601 nor Unix seconds"),
    (rec("time-bool"), 2, "occurred_at True is neither ISO 8601 nor Unix seconds"),
    (rec("time-year-99999"), 2, "is neither ISO 8601 nor Unix seconds"),
    (rec("time-huge"), 2, "1e400 is too large for a JSON number"),
    (rec("number-huge"), 2, "number-huge.jsonl:1: 1e400 is too large for a JSON number"),
    (rec("number-nan-deep"), 2, "NaN is not a JSON number"),
    # headers: one-line strings under valid names
    (rec("headers-string"), 2, "headers: headers must be an object of strings"),
    (rec("headers-list"), 2, "headers must be an object of strings, got ['X-A']"),
    (rec("header-number"), 2, "X-A: 1 is not a one-line string"),
    (rec("header-crlf"), 2, "is not a one-line string"),
    (rec("header-nul"), 2, "is not a one-line string"),
    (rec("header-name-space"), 2, "'X A' is not an HTTP header name"),
    (rec("header-name-colon"), 2, "'X-A:' is not an HTTP header name"),
    (rec("header-long"), 2, "X-A: the value is longer than 8,192 characters"),
    # the file itself: UTF-8 JSON Lines, one object per line
    (rec("bad-utf8"), 2, "bad-utf8.jsonl:1: not UTF-8: byte 0xff at column 38"),
    (rec("latin-1"), 2, "latin-1.jsonl:1: not UTF-8: byte 0xe9"),
    (rec("gzipped"), 2, "gzipped.jsonl: the event file is gzip-compressed"),
    (rec("empty"), 2, "the event file has no events (it is empty"),
    (rec("blank-lines"), 2, "the event file has no events"),
    (rec("json-array"), 2, "json-array.jsonl:1: a JSON array, where JSON Lines holds one"),
    (rec("json-array"), 2, "jq -c '.[]'"),
    (rec("pretty-array"), 2, "looks like JSON spread over lines"),
    (rec("pretty-object"), 2, "pretty-object.jsonl:1: not JSON"),
    (rec("truncated"), 2, "truncated.jsonl:1: not JSON (Expecting ',' delimiter at column 46)"),
    (rec("trailing-comma"), 2, "trailing-comma.jsonl:1: not JSON"),
    (rec("single-quotes"), 2, "single-quotes.jsonl:1: not JSON"),
    (rec("raw-nul"), 2, "raw-nul.jsonl:1: not JSON (Invalid control character"),
    (rec("second-line-bad"), 2, "second-line-bad.jsonl:2: not JSON"),
    (["env:HARNESS_MAX_LINE_BYTES=200", *rec("long-line")], 2, "longer than 200 bytes"),
    (["env:HARNESS_MAX_LINE_BYTES=200", *rec("long-line")], 2, "HARNESS_MAX_LINE_BYTES=800"),
    (["env:HARNESS_MAX_LINE_BYTES=lots", *rec("long-line")], 2, "'lots' is not a positive"),
    (["env:HARNESS_MAX_DELIVERIES=50", *rec("many-lines")], 2, "plans about 100 deliveries"),
    (rec("id-path-nowhere"), 2, "'$.payload.nope' is not allowed"),
    (rec("dir-source"), 2, "there is no file"),
    (rec("missing-source"), 2, "there is no file"),
]

SCENARIO_CASES: list[tuple[list[str], int, str]] = [
    (yaml("yaml-empty"), 2, "the file holds nothing"),
    (yaml("list-root"), 2, "list-root.scenario.yaml"),
    (yaml("bad-yaml"), 2, "not valid YAML"),
    (yaml("tab-indent"), 2, "not valid YAML"),
    (yaml("duplicate-key"), 2, "model"),
    (yaml("unknown-key"), 2, "perturbation"),
    (yaml("events-negative"), 2, "events"),
    (yaml("events-zero"), 2, "events"),
    (yaml("events-word"), 2, "'many'"),
    (yaml("events-float"), 2, "events"),
    (yaml("records-zero"), 2, "records"),
    (yaml("over-word"), 2, "'forever'"),
    (yaml("over-negative"), 2, "over"),
    (yaml("over-100h"), 2, "the run would send its last delivery 3.1 days after it starts"),
    (yaml("provider-unknown"), 2, "'paypal'"),
    (yaml("signing-unknown"), 2, "'rsa'"),
    (yaml("timeout-zero"), 2, "timeout"),
    (yaml("invariant-unknown"), 2, "'no_dupes'"),
    (yaml("invariant-param"), 2, "seconds"),
    (yaml("perturbation-unknown"), 2, "shuffle"),
    (yaml("rate-2"), 2, "rate"),
    (yaml("time-scale-zero"), 2, "time_scale"),
    (yaml("auth-kind"), 2, "downstreams[0].auth.kind: 'saml' is not allowed"),
    (yaml("auth-pasted-key"), 2, "auth.key_env: 'sk…' (14 chars) is not an environment variable"),
    (yaml("page-size-stateless"), 2, "page_size: 5 is not allowed without stateful: true"),
    (yaml("rate-limit-no-rate"), 2, "has mode: rate-limit without rate"),
    (yaml("settle-inverted"), 2, "deadline"),
    (yaml("model-unknown"), 2, "'queue'"),
    (yaml("key-no-dollar"), 2, "data.order_id"),
    (yaml("example-file-missing"), 2, "nowhere.json"),
    (yaml("date-value"), 2, "date"),
    (yaml("nan-value"), 2, "nan"),
    (yaml("bool-key"), 2, "yes"),
    (yaml("content-length"), 2, "delivery.headers.Content-Length: 'Content-Length' is not allowed"),
    (yaml("host-header"), 2, "'host' is not allowed — the harness frames each request itself"),
    (yaml("huge"), 2, "at most 10,485,760 characters are read"),
    (yaml("laughs"), 2, "laughs.scenario.yaml"),
    (yaml("yaml-bad-utf8"), 2, "cannot read the scenario file"),
    (["run", "{tmp}/adir", *RUN_AT], 2, "adir"),
    (["run", "{tmp}/nowhere.scenario.yaml", *RUN_AT], 2, "nowhere.scenario.yaml"),
    (["run", "no-such-builtin", *RUN_AT], 2, "no-such-builtin"),
]

JOURNAL_PATH_CASES: list[tuple[list[str], int, str]] = [
    # --journal: checked before anything is sent, and no journal written for it
    ([*OK, "--journal", "{tmp}/dir.json"], 2, "--journal: '{tmp}/dir.json' is a directory"),
    ([*OK, "--journal", "{tmp}/dir.json"], 2, "e.g. {tmp}/dir.json/run.db"),  # not report.json
    ([*OK, "--journal", "{tmp}/file.txt/j.db"], 2, "is a file, so"),
    ([*OK, "--journal", "{tmp}/file.txt"], 2, "is not a harness journal (file is not a database)"),
    ([*OK, "--journal", "/dev/null"], 2, "'/dev/null' is not a regular file"),
    ([*OK, "--journal", "{journals}/newer-format.db"], 2, "journal format 99"),
    ([*OK, "--journal", "{journals}/foreign-columns.db"], 2, "has columns a, b, c"),
    ([*OK, "--journal", "{journals}/other-app.db"], 2, "an SQLite file of another program"),
    ([*OK, "--journal", "{journals}/flipped.db"], 2, "--journal"),
]

FLAG_CASES: list[tuple[list[str], int, str]] = [
    (["run", "{tmp}/ok.scenario.yaml"], 2, "--target: no target"),
    (["run", "--target", LOOPBACK], 2, "SCENARIOS: no scenario named"),
    (["run", "--nosuch", *OK[1:]], 2, "No such option '--nosuch'"),
    (["nosuch"], 2, "No such command 'nosuch'"),
    ([*OK, "--seed", "abc"], 2, "Invalid value for '--seed'"),
    ([*OK, "--time-scale", "0"], 2, "time scale 0.0 is not usable"),
    ([*OK, "--time-scale", "-1"], 2, "time scale -1.0 is not usable"),
    ([*OK, "--time-scale", "nan"], 2, "time scale nan is not usable"),
    ([*OK, "--time-scale", "inf"], 2, "time scale inf is not usable"),
    ([*OK, "--time-scale", "fast"], 2, "Invalid value for '--time-scale'"),
    (
        [*OK, "--time-scale", "200000"],
        2,
        "the run would send its last delivery 41.7 hours after it starts",
    ),
    ([*OK, "--settle-quiet", "a while"], 2, "'a while' is not a duration"),
    ([*OK, "--settle-quiet", "-1"], 2, "settle time -1.0 is not usable"),
    ([*OK, "--settle-quiet", "0"], 2, "settle time 0.0 is not usable"),
    ([*OK, "--settle-deadline", "nan"], 2, "settle time nan is not usable"),
    ([*OK, "--settle-quiet", "5", "--settle-deadline", "1"], 2, "--settle-deadline"),
    ([*OK, "--downstream", "nowhere"], 2, "nowhere"),
    ([*OK, "--downstream", "127.0.0.1:99999"], 2, "99999"),
    ([*OK, "--downstream", "127.0.0.1:-1"], 2, "-1"),
    ([*OK, "--report", "{tmp}/r"], 2, "cannot tell the report format"),
    (["env:HARNESS_MAX_DELIVERIES=abc", *OK], 2, "HARNESS_MAX_DELIVERIES='abc' is not"),
    (["env:HARNESS_MAX_DELIVERIES=2", *OK], 2, "the limit is 2"),
    (["check"], 2, "Missing argument 'JOURNAL'"),
    (["check", "{journals}/good.db", "--report", "{tmp}/r.pdf"], 2, "report format"),
    (["check", "{journals}/good.db", "--report", "{tmp}/dir.json"], 2, "is a directory"),
    (["report"], 2, "Missing argument 'RUNS...'"),
    (["report", "{journals}/good.db", "--format", "pdf"], 2, "Invalid value for '--format'"),
    (["report", "{journals}/good.db", "-o", "{tmp}/r.pdf"], 2, "report format"),
    (["report", "{journals}/good.db", "-o", "{tmp}/file.txt/r.md"], 2, "is a file"),
    (
        ["report", "{journals}/good.db", "{journals}/good.db", "{journals}/good.db", "--compare"],
        2,
        "--compare takes two journals",
    ),
    (["report", "{journals}/good.db", "{journals}/flipped.db"], 2, "flipped.db: damaged journal"),
    (["sign", "--provider", "paypal", "--secret", "s", "{tmp}/file.txt"], 2, "paypal"),
    (["sign", "--provider", "stripe", "--secret", "s", "{tmp}/nowhere"], 2, "nowhere"),
    (["sign", "--provider", "stripe", "--secret", "s", "--timestamp", "x"], 2, "'--timestamp'"),
    (["sign", "--secret", "s", "{tmp}/file.txt"], 2, "Missing option '--provider'"),
    (["downstream", "--listen", "nowhere", "--for", "1"], 2, "nowhere"),
    (["downstream", "--listen", "127.0.0.1:99999", "--for", "1"], 2, "99999"),
    (["downstream", "--listen", "127.0.0.1:0", "--scenario", "no-such"], 2, "no-such"),
    (["demo", "--time-scale", "0"], 2, "time scale 0.0 is not usable"),
    (["demo", "--seed", "x"], 2, "Invalid value for '--seed'"),
    (["locust", "{tmp}/ok.scenario.yaml"], 2, "--target"),
]


ROTATION_CASES: list[tuple[list[str], int, str]] = [
    (
        yaml("rotation-github-overlap"),
        2,
        "rotation-github-overlap.scenario.yaml:14: delivery.rotation.overlap: 3600 is not "
        "allowed — provider 'github' signs with 'github', which carries one signature",
    ),
    # A one-signature scheme's rotation is a switch at `at` by default: loaded, then the
    # next secret's variable is missing.
    (
        yaml("rotation-github-default"),
        2,
        "rotation-github-default.scenario.yaml:12: scenario 'rotation-github-default' rotates "
        "its signing secret but the environment variable ROTATION_NEXT_UNSET",
    ),
    (
        yaml("rotation-negative-overlap"),
        2,
        "rotation-negative-overlap.scenario.yaml:14: delivery.rotation.overlap: '-5s' is not "
        "allowed — must be a duration",
    ),
    (
        yaml("rotation-no-at"),
        2,
        "rotation-no-at.scenario.yaml:11: delivery.rotation: missing required field 'at'",
    ),
    (
        yaml("rotation-same-env"),
        2,
        "rotation-same-env.scenario.yaml:12: delivery.rotation.next_secret_env: "
        "'HARNESS_SECRET' is not allowed — it is delivery.secret_env",
    ),
    (
        yaml("rotation-secret-pasted"),
        2,
        "delivery.rotation.next_secret_env: 'ne…' (11 chars) is not an environment variable name",
    ),
    (
        yaml("rotation-unsigned"),
        2,
        "rotation-unsigned.scenario.yaml:11: delivery.rotation is not allowed — the deliveries "
        "are not signed",
    ),
    (
        yaml("rotation-missing-env"),
        2,
        "hint: export ROTATION_NEXT_UNSET=<the new secret>, a value other than $HARNESS_SECRET",
    ),
    (
        ["env:ROTATION_NEXT=whsec_not base64!", *yaml("rotation-bad-secret")],
        2,
        "the secrets in HARNESS_SECRET and ROTATION_NEXT: Standard Webhooks secret is not base64",
    ),
    (yaml("skew-word"), 2, "skew-word.scenario.yaml:9: delivery.clock_skew: 'soon' is not"),
    (yaml("skew-far"), 2, "at most 7 days either way"),
]

# A new user's mistakes, each once told otherwise: a crash, the wrong cause, or no hint.
MISTAKE_CASES: list[tuple[list[str], int, str]] = [
    # was an internal error (70): the output was compared with a journal that did not exist
    (["export", "{tmp}/none.db", "-o", "{tmp}/file.txt", "--redacted"], 2, "no such journal file"),
    (["export", "{journals}/good.db", "-o", "{tmp}/adir", "--redacted"], 2, "is a directory"),
    # inspect said "no such journal file" of a directory; a negative --limit listed all but
    # the last lines
    (["inspect", "{tmp}/adir"], 2, "is a directory, not a journal"),
    (["inspect", "{journals}/good.db", "--limit", "-3"], 2, "-3 is not in the range x>=0"),
    # a directory named as a file said "no project file" / "no scenario file"
    (["run", "--project", "{tmp}/adir", *RUN_AT], 2, "'{tmp}/adir' is a directory, not a project"),
    (["run", "--project", "{tmp}/adir", *RUN_AT], 2, "harness.yaml (in it: {tmp}/adir/harness"),
    (["run", "{tmp}/adir/", *RUN_AT], 2, "is a directory, not a scenario file"),
    # a huge project file was called a scenario file, with a scenario's hint
    (["run", "--project", "{tmp}/huge.scenario.yaml", *RUN_AT], 2, "the project file holds"),
    # an address without its scheme: say which scheme is missing
    (["run", "duplicate-storm", "--target", "localhost:8000"], 2, "lacks its scheme: http://lo"),
    # a secret with a line break kept from a file: refused, never echoed
    (["env:HARNESS_SECRET=" + SECRET + "\n", *RUN, "--target", LOOPBACK], 2, "ends with a line"),
    (
        ["env:HARNESS_SECRET=plain-hmac-secret\r\n", *RUN, "--provider", "hmac", *RUN_AT[:2]],
        2,
        "the secret in HARNESS_SECRET: it ends with a line break",
    ),
    (["env:HARNESS_SECRET= " + SECRET, *RUN, "--target", LOOPBACK], 2, "starts with a space"),
    (["sign", "--provider", "stripe", "--secret", "whsec_a\n", "{tmp}/file.txt"], 2, "ends with"),
    # a built-in hazard's secret unset: not "set delivery.signing in the scenario" (not theirs)
    (["env:HARNESS_SECRET=", *RUN, "--target", LOOPBACK], 2, "send unsigned (--provider none)"),
    # a secret pasted as the variable's name in harness.yaml was taken for a name, and echoed
    # whole in "the environment variable whsec_… is not set"; told by its shape now
    (
        ["run", "--project", "{tmp}/pasted-secret.yaml", *RUN_AT],
        2,
        "pasted-secret.yaml:1: secret_env: 'wh…' (22 chars) is not an environment variable name",
    ),
    # explore checked --report only when it wrote it, after the whole search
    (
        ["explore", "duplicate-storm", *RUN_AT, "--report", "{tmp}/r.pdf", "--no-database"],
        2,
        "cannot tell the report format from '.pdf'",
    ),
]

CASES += RECORDED_CASES + SCENARIO_CASES + JOURNAL_PATH_CASES + FLAG_CASES + ROTATION_CASES
CASES += MISTAKE_CASES
CASES += [
    ([command, f"{{journals}}/{name}.db"], code, fragment)
    for name, code, fragment in JOURNAL_CASES
    for command in ("check", "report")
]
# A path that exists but is no file: it said "no such journal file".
CASES += [([command, "/dev/null"], 2, "not a regular file") for command in ("check", "report")]


def _case_id(argv: list[str]) -> str:
    words = [a.rsplit("/", 1)[-1] for a in argv if not a.startswith("env:")]
    return " ".join(words[:2] + words[-2:]) if len(words) > 4 else " ".join(words)


@functools.cache
@functools.cache
def _input_files() -> dict[str, bytes]:
    """Every input file as the bytes written for a case (text as UTF-8), encoded once."""
    files = {**FILES, **RECORDED_FILES, **SCENARIO_FILES}
    return {n: t if isinstance(t, bytes) else t.encode("utf-8") for n, t in files.items()}


def _named_files(argv: list[str]) -> dict[str, bytes]:
    """The input files a case names, in its arguments or in a file it names (a scenario's
    recorded source, a project's scenario), and those they name: writing all ~180 for each of
    the ~270 cases cost the file a third of its time in system calls. A file left out that a
    case needed would change its error, which the case's fragment would not match."""
    files = _input_files()
    texts = [" ".join(argv).encode()]
    named: dict[str, bytes] = {}
    while texts:
        text = texts.pop()
        for name, data in files.items():
            if name not in named and name.encode() in text:
                named[name] = data
                texts.append(data[:100_000])
    return named


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


@pytest.mark.parametrize(("argv", "code", "fragment"), CASES, ids=[_case_id(c[0]) for c in CASES])
def test_bad_input_is_refused_before_anything_is_sent(
    argv: list[str],
    code: int,
    fragment: str,
    tmp_path: Path,
    journals: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    (tmp_path / "file.txt").write_text("{}")
    (tmp_path / "dir.json").mkdir()
    (tmp_path / "adir").mkdir()
    for name, data in _named_files(argv).items():
        _write(tmp_path / name, data)
    places = {"{tmp}": str(tmp_path), "{journals}": str(journals)}
    args = []
    for arg in argv:
        for mark, place in places.items():
            arg = arg.replace(mark, place)
        if arg.startswith("env:"):
            monkeypatch.setenv(*arg.removeprefix("env:").split("=", 1))
        else:
            args.append(arg)
    for mark, place in places.items():
        fragment = fragment.replace(mark, place)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert exit_.value.code == code, text
    assert fragment in text, text
    assert "Traceback" not in text and "internal error" not in text
    assert not (tmp_path / "j.db").exists(), "a journal was written for refused input"


def test_a_pipe_named_as_the_project_file_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "harness.yaml"
    os.mkfifo(fifo)  # opened for reading, it would wait for a writer for ever
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--project", str(fifo), *[a.replace("{tmp}", str(tmp_path)) for a in RUN_AT]])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert "is not a regular file (a pipe, a device or a socket), not a project file" in err


PIPED_OUTPUTS = [
    [*RUN, "--target", LOOPBACK, "--report", "{fifo}.json"],
    ["check", "{journals}/good.db", "--report", "{fifo}.html"],
    ["report", "{journals}/good.db", "-o", "{fifo}.md"],
    [
        "record",
        "--listen",
        "127.0.0.1:0",
        "--forward-to",
        LOOPBACK,
        "--no-pseudonymise",
        "-o",
        "{fifo}.jsonl",
    ],
]


@pytest.mark.parametrize("argv", PIPED_OUTPUTS, ids=[_case_id(a) for a in PIPED_OUTPUTS])
def test_a_pipe_named_as_an_output_is_refused_and_left_a_pipe(
    argv: list[str], tmp_path: Path, journals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Opened for writing, a pipe nobody reads waits for a reader for ever (`record`); a report
    # written whole would have been renamed over it, the pipe gone.
    args = [a.replace("{fifo}", str(tmp_path / "out")) for a in argv]
    args = [a.replace("{journals}", str(journals)).replace("{tmp}", str(tmp_path)) for a in args]
    (fifo,) = (Path(a) for a in args if a.startswith(str(tmp_path / "out")))
    os.mkfifo(fifo)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert f"{str(fifo)!r} is not a regular file (a pipe, a device or a socket)" in err
    assert stat.S_ISFIFO(fifo.stat().st_mode)


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """A TLS hello is a bad request to it: nothing to print."""


def test_https_to_a_server_without_tls_is_told_before_any_delivery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It ran the clean run and the scenario, every delivery failing on a TLS error."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    plain = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["run", "duplicate-storm", "--no-project", "--journal", str(tmp_path / "j.db"),
                  "--target", plain.replace("http:", "https:")])  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    err = capsys.readouterr().err
    assert exit_.value.code == 3, err
    assert "accepts connections but no TLS handshake" in err and f"--target {plain}" in err
    assert "Traceback" not in err and not (tmp_path / "j.db").exists()


def test_a_secret_the_scheme_cannot_use_is_one_message_before_any_delivery(
    tmp_path: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No part of the secret is echoed: not its start (a secret without the prefix, or one
    # shorter than the start once shown), not the character that is wrong.
    for secret, why in [
        ("whsec_this is not base64!", "character 5 (after any prefix) is not one of"),
        ("Sup3rSecretValue!!", "character 17 (after any prefix)"),
        ("Zq", "2 characters are not a whole number of base64 groups of 4"),
    ]:
        monkeypatch.setenv("HARNESS_SECRET", secret)
        with pytest.raises(SystemExit) as exit_:
            main(["run", "duplicate-storm", *[a.replace("{tmp}", str(tmp_path)) for a in RUN_AT]])
        out = capsys.readouterr()
        text = out.out + out.err
        assert exit_.value.code == 2, text
        assert "the secret in HARNESS_SECRET" in text and "not base64" in text and why in text
        assert "error: the built-in scenario duplicate-storm: the secret in" in text
        assert text.count("not base64") == 1 and "Traceback" not in text
        assert secret.removeprefix("whsec_")[:4] not in text, text
        assert not (tmp_path / "j.db").exists()


def test_a_secret_not_set_names_the_built_in_scenario_not_a_path_in_the_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's hazard without its secret was told at '/…/site-packages/…/scenarios/
    duplicate-storm.scenario.yaml': a file the user never wrote nor should edit."""
    monkeypatch.delenv("HARNESS_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "harness.yaml").write_text(
        f"target: {LOOPBACK}\nevents:\n  - library: stripe:invoice.paid\nhazards: [standard]\n"
    )
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--journal", str(tmp_path / "j.db")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert err.startswith(
        "error: the built-in scenario duplicate-storm: it signs deliveries (standard-webhooks) "
        "but the environment variable HARNESS_SECRET is not set"
    ), err
    assert ".scenario.yaml" not in err and "secret_env: in harness.yaml" in err
    assert not (tmp_path / "j.db").exists()


def test_an_internal_error_is_one_line_a_crash_file_and_exit_70(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import re
    import tempfile

    from harness.scenario import _load

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the crash file goes here

    def broken() -> list[tuple[str, str, str]]:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(_load, "builtin_catalogue", broken)
    with pytest.raises(SystemExit) as exit_:
        main(["scenarios"])
    err = capsys.readouterr().err
    assert exit_.value.code == 70
    assert "internal error in harness" in err and "Traceback" not in err
    crash = re.search(r"the traceback is in (\S+harness-crash-\S+\.txt)", err)
    assert crash, err
    path = Path(crash.group(1))
    assert path.parent == tmp_path
    assert "RuntimeError: a bug of ours" in path.read_text(encoding="utf-8")


# --- the pytest plugin ------------------------------------------------------------------------

UNREACHABLE = "http://127.0.0.1:1/hooks"
PLUGIN_FILES: dict[str, str | bytes] = {
    "file.txt": "{}",
    "ok.scenario.yaml": scenario(""),
}
PLUGIN_SCENARIOS: dict[str, dict[str, str | bytes]] = {
    "broken": {"broken.scenario.yaml": "source:\n  synthetic: {example: [1, 2\n"},
    "latin": {"latin.scenario.yaml": b"source: {synthetic: {example: {name: \xe9}}}\n"},
    "nan-id": jsonl("nan-id", line(id="NaN")),
    "year": jsonl(
        "year",
        line(occurred_at='"2025-01-01T00:00:00Z"')
        + line(id='"evt_2"', occurred_at='"2026-01-01T00:00:00Z"'),
    ),
    "deep": jsonl("deep", '{"payload": ' + "[" * DEEP + "]" * DEEP + "}\n"),
    "huge-events": {"huge.scenario.yaml": small(50_000_000)},
}

# (pytest arguments, files beside ok.scenario.yaml, pytest's exit code, a message fragment).
# pytest's own codes: 4 a usage error (a bad option, at configure time), 2 an interrupted
# session (a scenario file that cannot be collected), 1 some item failed or errored.
PLUGIN_CASES: list[tuple[list[str], str | None, int, str]] = [
    (["--harness-downstream", "127.0.0.1:99999"], None, 4, "'127.0.0.1:99999' is not an address"),
    (["--harness-downstream", "-1"], None, 4, "'-1' is not an address"),
    (["--harness-downstream", "0.0.0.0:9100"], None, 4, "--harness-listen-beyond-loopback"),
    (["--harness-report", "r.pdf"], None, 4, "cannot tell the report format"),
    (["--harness-report", "report"], None, 4, "cannot tell the report format"),
    (["--harness-report", "file.txt/r.json"], None, 4, "is a file, so"),
    (["--harness-report", "."], None, 4, "cannot tell the report format"),
    (["--harness-target", UNREACHABLE, "--harness-journal", "."], None, 4, "is a directory"),
    (["--harness-target", UNREACHABLE, "--harness-journal", "file.txt/j.db"], None, 4, "is a file"),
    (
        ["--harness-target", UNREACHABLE, "--harness-journal", "file.txt"],
        None,
        4,
        "is not a harness journal",
    ),
    (
        ["--harness-target", UNREACHABLE, "--harness-journal", "/dev/null"],
        None,
        4,
        "is not a regular file",
    ),
    (["--harness-seed", "seven"], None, 4, "'seven' is not an integer"),
    (["--harness-time-scale", "0"], None, 4, "--harness-time-scale / harness_time_scale: '0'"),
    (["--harness-time-scale", "nan"], None, 4, "'nan' is not allowed"),
    (["--harness-settle-quiet", "soon"], None, 4, "'soon' is not a duration"),
    (["--harness-settle-deadline", "-1"], None, 4, "'-1' is not a duration"),
    (["--harness-secret-env", "lower"], None, 4, "is not an environment variable name"),
    (["--harness-target", "http://127.0.0.1:0/h"], None, 4, "port 0"),
    (["--harness-target", "http://10.0.0.8/h"], None, 4, "outside loopback"),
    (["--harness-httpx-route", "nope"], None, 4, "'nope' is not a route"),
    ([], "broken", 2, "broken.scenario.yaml:3:1: not valid YAML"),
    ([], "latin", 2, "cannot read the scenario file"),
    ([], "nan-id", 2, "nan-id.jsonl:1: NaN is not a JSON number"),
    ([], "year", 2, "the recorded events span 365.0 days"),
    ([], "deep", 2, "deep.jsonl:1: the event is nested far more than 64"),
    ([], "huge-events", 2, "the limit is 5,000,000"),
    # a run that cannot happen is an error of its items, never a failure
    (["--harness-target", UNREACHABLE], None, 1, "could not run: cannot connect to the target"),
    # an app is imported when its run starts, not at configure time (conftest may set it up)
    (["--harness-target", "os:getcwd"], None, 1, "could not run: --target: 'os:getcwd' is"),
]


@pytest.mark.parametrize(
    ("args", "extra", "code", "fragment"),
    PLUGIN_CASES,
    ids=[" ".join([*c[0][-2:], c[1] or ""]).strip() for c in PLUGIN_CASES],
)
def test_bad_plugin_input_is_a_usage_or_collection_error_never_an_internal_error(
    pytester: pytest.Pytester, args: list[str], extra: str | None, code: int, fragment: str
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    files = {**PLUGIN_FILES, **(PLUGIN_SCENARIOS[extra] if extra else {})}
    for name, text in files.items():
        (pytester.path / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    result = pytester.runpytest(*args)
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == code, text
    assert fragment in text, text
    assert "INTERNALERROR" not in text and "Traceback" not in text
    if code == 1:  # errors at setup, not failures
        outcomes = result.parseoutcomes()
        assert outcomes.get("errors", 0) > 0 and "failed" not in outcomes, outcomes
    if code in (2, 4):
        assert not (pytester.path / "harness-runs").exists(), "refused input was journaled"
