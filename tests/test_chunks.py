"""Format 7's chunks (``history._chunks``): a batch of rows written as columns reads back as the
very rows written, whatever their values hold, in as many chunks as it takes, each run's apart."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core._errors import InputError, OutputError
from harness.core._model import Delivery, Effect, Event, Model, Outcome
from harness.history import Journal, RunInfo, export, load
from harness.history import _chunks as chunks
from harness.history._schema import SCHEMA, SCHEMA_VERSION

# Text that a naive join or split would cut in the wrong place: JSON's own punctuation, quotes,
# escapes, a NUL, a line break, text that is not ASCII and text outside the BMP.
AWKWARD = ["", "a,b", "]", "[", '"', "\\", "\x00", "line\nbreak", "é", "😀", '{"x": [1, 2]}']


def _info(run_id: str = "r1") -> RunInfo:
    return RunInfo(run_id, "s", 1, "http://127.0.0.1:9/", "t", Model.LEDGER, (), "now", "zq")


def _write(
    path: Path, events: list[Event], deliveries: list[Delivery], effects: list[Effect]
) -> None:
    j = Journal(path)
    j.begin(_info(), events)
    for d in deliveries:
        j.delivery(d)
    for e in effects:
        j.effect(e)
    j.end("complete", 1.0)
    j.close()


def test_awkward_values_read_back_as_written(tmp_path: Path) -> None:
    events = [
        Event(f"e{i}{text}", text, i, text or "t", i * 0.5, {"v": text, text: [text]}, {text: text})
        for i, text in enumerate(AWKWARD)
    ]
    deliveries = [
        Delivery(
            f"d{i}",
            e.id,
            1,
            0.1,
            0.2,
            None if i % 2 else 0.3,
            None if i % 3 else 200,
            Outcome.OK if i % 3 == 0 else Outcome.INDETERMINATE,
            e.key or None,
            e.key or None,
        )
        for i, e in enumerate(events)
    ]
    effects = [
        Effect(
            f"f{i}",
            "api",
            1.0 + i,
            "POST",
            f"/p?{e.key}",
            {"h": e.key},
            e.key,
            201,
            (e.id,) if i % 2 else (e.id, events[0].id),
            e.key or None,
            i % 2 == 0,
        )
        for i, e in enumerate(events)
    ]
    _write(tmp_path / "j.db", events, deliveries, effects)
    h = load(tmp_path / "j.db", "r1")
    assert h.events == events and h.deliveries == deliveries and h.effects == effects


def test_a_batch_larger_than_a_chunk_and_late_effects_of_another_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 3)
    path = tmp_path / "j.db"
    j = Journal(path, batch=10_000, interval=3600)  # one flush at the end: many chunks of 3
    events = [Event(f"e{i}", "k", i, "t", float(i), {"i": i}) for i in range(10)]
    j.begin(_info("first"), events)
    first = [
        Effect(f"f{i}", "api", float(i), "POST", "/p", {}, "", 201, (f"e{i}",)) for i in range(4)
    ]
    for e in first:
        j.effect(e)
    j.end("complete", 1.0)
    j.begin(_info("second"), events[:2])
    late = Effect("late", "api", 9.0, "POST", "/p", {}, "", 201, ("e1",))
    second = Effect("s0", "api", 1.0, "POST", "/p", {}, "", 201, ("e0",))
    j.effect(second)
    j.late_effect("first", late)  # between two effects of the second run, in one batch
    j.effect(second)
    j.end("complete", 2.0)
    j.close()
    db = sqlite3.connect(path)
    counted = db.execute('SELECT count(*), sum("rows"), max("rows") FROM events').fetchone()
    db.close()
    assert counted == (4 + 1, 12, 3)  # 10 events in chunks of 3, then the second run's 2
    assert load(path, "first").effects == first
    assert load(path, "first").late_effects == [late]
    assert load(path, "second").effects == [second, second]


def test_numbers_are_stored_little_endian(tmp_path: Path) -> None:
    _write(tmp_path / "j.db", [Event("e", "k", 7, "t", 1.25, {})], [], [])
    db = sqlite3.connect(tmp_path / "j.db")
    seq, at = db.execute("SELECT seq, occurred_at FROM events").fetchone()
    db.close()
    assert struct.unpack("<q", seq) == (7,) and struct.unpack("<d", at) == (1.25,)


def test_a_value_a_chunk_cannot_hold_stops_the_run_with_what_was_kept(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    j.begin(_info(), [Event("e", "k", 0, "t", 0.0, {})])
    j.delivery(Delivery("d1", "e", 1, 0.0, 0.1, 0.2, 200, Outcome.OK))
    j.flush()
    bad: Any = 12  # an event id that is no text: a bug of whoever made the Delivery
    j.delivery(Delivery("d2", bad, 1, 0.0, 0.1, 0.2, 200, Outcome.OK))
    with pytest.raises(
        OutputError,
        match=r"the journal refused a row \(deliveries.event_id holds 12, where text is",
    ):
        j.flush()
    j.close()
    assert [d.id for d in load(tmp_path / "j.db", "r1").deliveries] == ["d1"]


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
delivery_rows = st.lists(
    st.tuples(
        st.just(1),
        texts,
        texts,
        st.integers(-(2**63) + 1, 2**63 - 1),
        st.floats(allow_nan=False),
        st.floats(allow_nan=False),
        st.none() | st.floats(allow_nan=False),
        st.none() | st.integers(-(2**63) + 1, 2**63 - 1),
        st.sampled_from([o.value for o in Outcome]),
        st.none() | texts,
        st.none() | texts,
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(delivery_rows)
def test_any_rows_round_trip_through_a_chunk(rows: list[tuple[Any, ...]]) -> None:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    db.execute("INSERT INTO runs(run_id, info, status) VALUES ('r', '{}', 'complete')")
    chunks.write(db, "deliveries", rows, 7)
    assert list(chunks.rows(db, "deliveries", SCHEMA_VERSION)) == rows


def test_a_batch_over_the_value_budget_is_split_and_a_single_row_over_sqlites_limit_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "VALUE_BUDGET", 3_000)
    path = tmp_path / "j.db"
    events = [Event(f"e{i}", "k", i, "t", float(i), {"blob": "x" * 1_000}) for i in range(10)]
    j = Journal(path)
    j.begin(_info(), events)
    j.end("complete", 1.0)
    j.close()
    db = sqlite3.connect(path)
    counted = db.execute('SELECT count(*), max("rows") FROM events').fetchone()
    db.close()
    assert counted[0] > 1 and counted[1] <= 2  # ~1 kB a payload, 3 kB a value at most
    assert load(path, "r1").events == events
    # One row over SQLite's own limit: refused as format 6 refused it, the run stopped there.
    j = Journal(tmp_path / "small.db")
    j._db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 500)
    with pytest.raises(OutputError, match=r"the journal refused a row \(string or blob too big"):
        j.begin(_info(), events[:1])
    j.close()


class Method(StrEnum):
    POST = "POST"


def test_text_of_a_str_subclass_and_an_integral_float_status_are_kept_as_sqlite_kept_them(
    tmp_path: Path,
) -> None:
    effect = Effect("f", "api", 1.0, Method.POST, "/p", {}, "", cast(int, 201.0), ("e",))
    _write(tmp_path / "j.db", [Event("e", "k", 0, "t", 0.0, {})], [], [effect])
    (loaded,) = load(tmp_path / "j.db", "r1").effects
    assert loaded == effect and type(loaded.method) is str and type(loaded.status) is int


def test_the_integer_a_chunk_holds_null_as_is_refused(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    j.begin(_info(), [])
    j.effect(Effect("f", "api", 1.0, "POST", "/p", {}, "", -(2**63), ()))
    with pytest.raises(OutputError, match=r"effects.status holds -9223372036854775808, which"):
        j.flush()
    j.close()


def _tampered(tmp_path: Path, sql: str) -> Path:
    path = tmp_path / "j.db"
    events = [Event(f"e{i}", "k", i, "t", 0.0, {"note": "a, b"}, {"h": "v"}) for i in range(3)]
    effects = [Effect("f", "api", 1.0, "POST", "/p", {"h": "v"}, "", 201, ("e0",))]
    _write(path, events, [], effects)
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.close()
    return path


# Chunks whose values are cut out where no value ends: loaded, then refused where read.
CUT_WRONG = {
    # the first payload's end moved onto the comma inside it: '{"note": "a,' is no JSON
    "payload-cut-inside": "UPDATE events SET payload_ends = "
    "CAST(x'0c00000000000000' || substr(payload_ends, 9) AS BLOB);",
    # an effect's headers a JSON list, its end where the list ends
    "headers-not-an-object": "UPDATE effects SET headers = '[[\"h\"]]', "
    "headers_ends = x'0600000000000000';",
}


@pytest.mark.parametrize("sql", CUT_WRONG.values(), ids=CUT_WRONG)
def test_a_value_cut_out_wrong_is_a_damaged_journal_when_read(tmp_path: Path, sql: str) -> None:
    history = load(_tampered(tmp_path, sql), "r1")
    with pytest.raises(InputError, match=r"damaged journal: (the payload of event|headers are)"):
        [e.payload for e in history.events] + [dict(e.headers) for e in history.effects]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET payload_ends = "
        "CAST(x'ffffffffffffffff' || substr(payload_ends, 9) AS BLOB);",  # before the text
        "UPDATE effects SET method = '[' || replace(hex(zeroblob(1500)), '00', '[') || '\"POST\"'"
        " || replace(hex(zeroblob(1500)), '00', ']') || ']';",  # deeper than Python reads
        # the events' one key ("k") said to be at a second place it does not hold
        "UPDATE events SET key_codes = x'000000000100000000000000';",
    ],
    ids=["end-before-the-text", "nested-too-deep", "one-value-column-names-another"],
)
def test_a_chunk_damaged_past_what_sqlite_checks_is_refused_on_load(
    tmp_path: Path, sql: str
) -> None:
    with pytest.raises(InputError, match=r"damaged journal: run 'r1' cannot be read"):
        load(_tampered(tmp_path, sql), "r1")


def test_events_without_headers_read_back_as_no_headers_and_a_wrong_end_is_still_damage(
    tmp_path: Path,
) -> None:
    # A chunk whose headers are all {} is read without cutting each out (``_decode_json``),
    # only where each ends where a {} would.
    path = tmp_path / "j.db"
    _write(path, [Event(f"e{i}", "k", i, "t", 0.0, {"n": i}) for i in range(3)], [], [])
    assert [dict(e.headers) for e in load(path, "r1").events] == [{}, {}, {}]
    db = sqlite3.connect(path)
    # The first two ends swapped for 6 and 3: '{},{}' then '' and '{}' cut out.
    db.execute("UPDATE events SET headers_ends = ?", (struct.pack("<3q", 6, 3, 9),))
    db.commit()
    db.close()
    with pytest.raises(InputError, match="damaged journal: headers are not a JSON object"):
        [dict(e.headers) for e in load(path, "r1").events]


def test_small_and_distinct_integers_read_back_as_written(tmp_path: Path) -> None:
    # Small ints (attempts, statuses under 257, committed flags) and all-distinct ones (seq) are
    # taken as read (``_one_each``); larger repeated ones shared; null read as None.
    path = tmp_path / "j.db"
    events = [Event(f"e{i}", "k", i, "t", 0.0, {}) for i in range(4)]
    statuses = [200, 256, -5, 201]
    effects = [
        Effect(f"f{i}", "api", float(i), "POST", "/p", {}, "", s, (f"e{i}",), committed=i != 2)
        for i, s in enumerate(statuses)
    ]
    deliveries = [
        Delivery(f"d{i}", f"e{i}", i % 2 + 1, 0.0, 0.0, None, s, Outcome.OK)
        for i, s in enumerate([500, 500, None, 257])
    ]
    _write(path, events, deliveries, effects)
    history = load(path, "r1")
    assert [e.seq for e in history.events] == [0, 1, 2, 3]
    assert [e.status for e in history.effects] == statuses
    assert [e.committed for e in history.effects] == [True, True, False, True]
    assert [(d.attempt, d.status) for d in history.deliveries] == [
        (1, 500),
        (2, 500),
        (1, None),
        (2, 257),
    ]


class _AsIs:
    """A Scrubber that replaces nothing."""

    def text(self, text: str) -> str:
        return text

    def headers(self, headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple(headers.items())

    def payload(self, run_id: str, value: Any) -> Any:
        return value

    def body(self, text: str, *, form: bool = False) -> str:
        return text

    def json_value(self, value: Any) -> Any:
        return value


@pytest.mark.parametrize("sql", CUT_WRONG.values(), ids=CUT_WRONG)
def test_a_damaged_journal_is_not_exported(tmp_path: Path, sql: str) -> None:
    source = _tampered(tmp_path, sql)
    with pytest.raises(InputError, match="damaged journal"):
        export(source, tmp_path / "shared.db", _AsIs())
    assert not (tmp_path / "shared.db").exists()


def test_a_journal_exports_as_it_reads(tmp_path: Path) -> None:
    source = _tampered(tmp_path, "SELECT 1;")
    export(source, tmp_path / "shared.db", _AsIs())
    assert load(tmp_path / "shared.db", "r1") == load(source, "r1")
