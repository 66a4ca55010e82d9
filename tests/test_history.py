import gc
import json
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from harness.core._errors import InputError, OutputError
from harness.core._model import Delivery, Effect, Event, Fault, Model, Outcome, StateRecord
from harness.core._scenario import InvariantSpec
from harness.core._text_effect import headers_held
from harness.history import (
    Deliveries,
    Journal,
    LazyHeaders,
    RunInfo,
    delivery_column,
    delivery_rows,
    load,
    load_all,
    merge_journals,
    payload_text,
    run_ids,
)

from .old_journals import as_format_5, as_format_6


def info(run_id: str = "r1") -> RunInfo:
    return RunInfo(
        run_id,
        "duplicate-storm",
        7,
        "http://127.0.0.1:1/h",
        "t",
        Model.LEDGER,
        (InvariantSpec("ack_within", {"seconds": 1.5}),),
        "2026-11-24T00:00:00+00:00",
        "zqabc",
        "desc",
        {"downstream": "127.0.0.1:9100"},
    )


def test_round_trip(tmp_path: Path) -> None:
    j = Journal(tmp_path / "run.db")
    events = [Event("e1", "k1", 0, "order.paid", 0.0, {"a": [1, "x"]}, {"h": "v"})]
    j.begin(info(), events, [Fault("crm", "status", 1.0, 2.0, {"status": 503})])
    d = Delivery("dlv_1", "e1", 1, 0.0, 0.01, 0.02, 200, Outcome.OK)
    timeout = Delivery("dlv_2", "e1", 2, 0.0, 0.01, None, None, Outcome.INDETERMINATE, "slow")
    refused = Delivery("dlv_3", "e1", 3, 0.0, 1.0, 1.1, 503, Outcome.FAILED, None, "é down")
    eff = Effect("eff_1", "api", 0.5, "POST", "/payouts", {"A": "b"}, '{"x":1}', 201, ("e1",), "k1")
    j.delivery(d)
    j.delivery(timeout)
    j.delivery(refused)
    j.effect(eff)
    j.mark(0.7, "settling")
    j.end("complete", 1.0)
    j.close()
    h = load(tmp_path / "run.db", "r1")
    assert h.info == info()
    assert h.events == events and h.deliveries == [d, timeout, refused] and h.effects == [eff]
    assert h.deliveries[2].answer_body == "é down"  # format 5: the start of the answer
    assert h.faults[0].params == {"status": 503}
    assert h.marks[0].name == "settling"
    assert (h.status, h.ended_at) == ("complete", 1.0)
    assert timeout.latency is None and d.latency == pytest.approx(0.01)
    # Journals of format 5 (tables without checks, rows checked on load) and 6 (a row per
    # event, delivery and effect, each checked by SQLite) read the same.
    for version, convert in ((5, as_format_5), (6, as_format_6)):
        old = convert(tmp_path / "run.db", tmp_path / f"format-{version}.db")
        db = sqlite3.connect(old)
        assert db.execute("PRAGMA user_version").fetchone()[0] == version
        db.close()
        assert load(old, "r1") == h
        with pytest.raises(InputError, match=rf"journal format {version} .*\n  hint: write to a"):
            Journal(old)


def test_several_runs_in_one_journal(tmp_path: Path) -> None:
    j = Journal(tmp_path / "run.db")
    for rid in ("a", "b"):
        j.begin(info(rid), [])
        j.end("complete", 0.0)
    j.close()
    assert run_ids(tmp_path / "run.db") == ["a", "b"]
    assert [h.info.run_id for h in load_all(tmp_path / "run.db")] == ["a", "b"]


def test_merged_journals_hold_every_run_as_written_oldest_first(tmp_path: Path) -> None:
    """``harness demo``'s instances write journals of their own, merged into one at the end:
    each run reads back from it as from its own journal, late effects and all."""
    started = {"a": "2026-11-24T00:00:02+00:00", "b": "2026-11-24T00:00:01+00:00"}
    parts = []
    for part, rids in (("one", ["a", "a2"]), ("two", ["b"])):
        j = Journal(tmp_path / f"{part}.db")
        for rid in rids:
            at = started.get(rid, "2026-11-24T00:00:03+00:00")
            events = [Event(f"{rid}-e", "k1", 0, "order.paid", 0.0, {"n": 1})]
            j.begin(replace(info(rid), started_at=at), events, [Fault("api", "status", 0, 1, {})])
            j.delivery(Delivery(f"{rid}-d", f"{rid}-e", 1, 0.0, 0.01, 0.02, 200, Outcome.OK))
            j.effect(Effect(f"{rid}-x", "api", 0.5, "POST", "/p", {}, "{}", 201, (f"{rid}-e",)))
            j.mark(0.7, "settled", "{}")
            j.end("complete", 1.0)
        if "a" in rids:
            j.late_effect("a", Effect("late", "api", 2.0, "POST", "/p", {}, "{}", 201, ("a-e",)))
        j.close()
        parts.append(tmp_path / f"{part}.db")
    merged = tmp_path / "out" / "merged.db"
    merge_journals(merged, parts)
    assert run_ids(merged) == ["b", "a", "a2"]
    for part, rid in ((parts[0], "a"), (parts[0], "a2"), (parts[1], "b")):
        assert load(merged, rid) == load(part, rid)
    assert [e.id for e in load(merged, "a").late_effects] == ["late"]
    assert not list(tmp_path.glob("out/*-wal"))


def test_killed_writer_keeps_what_was_flushed(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    script = f"""
import os
from harness.core._scenario import InvariantSpec
from harness.history import Journal, RunInfo
from harness.core._model import Delivery, Model, Outcome
j = Journal({str(db)!r}, batch=10)
j.begin(RunInfo("r", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"), [])
for i in range(25):
    j.delivery(Delivery(f"d{{i}}", "e", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
os._exit(9)  # no close, no end: as if killed
"""
    subprocess.run([sys.executable, "-c", script], check=False)
    h = load(db, "r")
    assert h.status == "running"
    assert len(h.deliveries) == 20  # two full batches were flushed, the last 5 were in memory


def test_bad_journal_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such journal file"):
        load_all(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite at all" * 100)
    with pytest.raises(InputError, match="not a harness journal"):
        load_all(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(InputError, match="not a harness journal"):
        load_all(other)
    j = Journal(tmp_path / "ok.db")
    j.close()
    with pytest.raises(InputError, match="no run 'zz'"):
        load(tmp_path / "ok.db", "zz")


def test_effects_keep_none_one_or_several_event_ids_and_their_order(tmp_path: Path) -> None:
    events = [Event(f"e{i}", "k", i, "t", 0.0, {}) for i in range(3)]
    effects = [
        Effect("none", "api", 0.3, "POST", "/audit", {}, "", 201),
        Effect("one", "api", 0.1, "POST", "/p", {"X-Id": "é"}, "é", 201, ("e1",), "k"),
        Effect("two", "crm", 0.2, "PUT", "/c/k", {"A": "1"}, "{}", 200, ("e2", "e0"), None),
        Effect("tie", "api", 0.1, "DELETE", "/p", {}, "", 204, ("e0",)),
    ]
    j = Journal(tmp_path / "run.db")
    j.begin(info(), events)
    for e in effects:
        j.effect(e)
    j.end("complete", 1.0)
    j.close()
    loaded = load(tmp_path / "run.db", "r1").effects
    # By time; a tie keeps the order the effects were recorded in.
    assert [e.id for e in loaded] == ["one", "tie", "two", "none"]
    assert sorted(loaded, key=lambda e: e.id) == sorted(effects, key=lambda e: e.id)
    assert [e.event_ids for e in loaded] == [("e1",), ("e0",), ("e2", "e0"), ()]


def test_loaded_records_name_their_event_by_the_events_own_id(tmp_path: Path) -> None:
    j = Journal(tmp_path / "run.db")
    events = [Event(f"evt_{i}", "ord_1", i, "order.paid", 0.0, {}) for i in (1, 2)]
    j.begin(info(), events)
    j.delivery(Delivery("d1", "evt_1", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
    j.delivery(Delivery("d2", "evt_9", 1, 0.0, 0.0, None, None, Outcome.FAILED, "refused"))
    j.effect(Effect("f1", "api", 0.1, "POST", "/payouts", {}, "", 201, ("evt_2",)))
    j.effect(Effect("f2", "api", 0.2, "POST", "/payouts", {}, "", 201, ("evt_1", "evt_2")))
    j.close()
    h = load(tmp_path / "run.db", "r1")
    ev1, ev2 = h.events
    assert h.deliveries[0].event_id is ev1.id
    assert h.deliveries[1].event_id == "evt_9"  # not a source event: kept as written
    assert h.effects[0].event_ids[0] is ev2.id
    assert h.effects[1].event_ids[0] is ev1.id and h.effects[1].event_ids[1] is ev2.id
    assert h.effects[0].method is h.effects[1].method and h.effects[0].path is h.effects[1].path
    assert ev1.key is ev2.key and ev1.type is ev2.type
    assert [d.outcome for d in h.deliveries] == [Outcome.OK, Outcome.FAILED]
    assert h.deliveries[1].outcome is Outcome.FAILED


def test_loaded_deliveries_are_columns_made_into_deliveries_when_read(tmp_path: Path) -> None:
    written = [
        Delivery("d1", "evt_1", 1, 0.0, 0.5, 0.7, 200, Outcome.OK),
        Delivery("d2", "evt_1", 2, 1.0, 1.5, None, None, Outcome.INDETERMINATE, "no answer"),
        Delivery("d3", "evt_2", 1, 2.0, 2.5, 2.6, 500, Outcome.FAILED, None, "oops"),
    ]
    j = Journal(tmp_path / "run.db")
    j.begin(info(), [Event(f"evt_{i}", "k", i, "t", 0.0, {}) for i in (1, 2)])
    for d in written:
        j.delivery(d)
    j.close()
    loaded = load(tmp_path / "run.db", "r1").deliveries
    assert isinstance(loaded, Deliveries) and len(loaded) == 3
    assert delivery_column(loaded, "status") == [200, None, 500]  # as held: no object made
    assert list(delivery_column(written, "status")) == [200, None, 500]  # read from each
    assert list(delivery_rows(loaded, "id", "status")) == [("d1", 200), ("d2", None), ("d3", 500)]
    assert list(delivery_rows(written, "id", "status")) == list(
        delivery_rows(loaded, "id", "status")
    )
    assert [loaded[i] for i in range(3)] == written and loaded[-1] == written[-1]
    assert loaded[1:] == written[1:] and list(reversed(loaded)) == written[::-1]
    assert loaded == written and list(loaded) == written and written[1] in loaded
    assert next(iter(loaded)) is loaded[0]  # once all are made, each is kept
    with pytest.raises(IndexError):
        loaded[3]


def test_event_payloads_load_as_written_and_are_decoded_when_first_read(tmp_path: Path) -> None:
    payloads: list[object] = [
        {"a": [1, "x"]},
        [],
        "text, with a comma",
        None,
        1.5,
        {"nested": {"b": None}},
        [1, [2, [3]]],
        True,
        {},
        "]",
    ]
    # Written out of order: loaded in seq order all the same.
    events = [Event(f"e{i}", "k", i, "t", float(i), p) for i, p in enumerate(payloads)]
    j = Journal(tmp_path / "run.db")
    j.begin(info(), reversed(events))
    j.close()
    loaded = load(tmp_path / "run.db", "r1").events
    assert [payload_text(e) for e in loaded] == [json.dumps(p) for p in payloads]
    assert [e.payload for e in loaded] == payloads
    assert [payload_text(e) for e in loaded] == [None] * len(payloads)  # decoded once, kept
    assert loaded == events and events == loaded


def test_lazy_headers_behave_as_a_read_only_mapping() -> None:
    h = LazyHeaders('{"Content-Type": "application/json", "Idempotency-Key": "k1"}')
    assert isinstance(h, Mapping)
    assert h["Idempotency-Key"] == "k1" and h.get("nope") is None
    with pytest.raises(KeyError):
        h["nope"]
    assert list(h) == ["Content-Type", "Idempotency-Key"] and len(h) == 2
    assert "Content-Type" in h and "content-type" not in h
    assert dict(h.items()) == {"Content-Type": "application/json", "Idempotency-Key": "k1"}
    same = {"Idempotency-Key": "k1", "Content-Type": "application/json"}
    assert h == same and same == h and h == LazyHeaders(json.dumps(same))
    assert h == MappingProxyType(same) and MappingProxyType(same) == h
    assert h != {"Idempotency-Key": "k1"} and h != LazyHeaders("{}") and h != "text"
    assert repr(h) == f"LazyHeaders({dict(h)!r})"
    with pytest.raises(TypeError):
        hash(h)  # like the dict it stands for
    with pytest.raises(TypeError):
        h["x"] = "y"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(h)) == h


def test_loaded_headers_read_like_the_written_ones(tmp_path: Path) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "ключ"}
    j = Journal(tmp_path / "run.db")
    j.begin(
        info(),
        [Event("e1", "k", 0, "t", 0.0, {}, {"X-Src": "a"}), Event("e2", "k", 1, "t", 0.0, {})],
    )
    j.effect(Effect("f1", "api", 0.1, "POST", "/p", headers, "", 201, ("e1",)))
    j.effect(Effect("f2", "api", 0.2, "POST", "/p", {}, "", 201, ("e2",)))
    j.close()
    h = load(tmp_path / "run.db", "r1")
    eff = h.effects[0]
    assert eff.headers == headers and eff.header("idempotency-key") == "ключ"
    assert h.effects[1].headers == {} and h.effects[1].header("Idempotency-Key") is None
    assert h.events[0].headers == {"X-Src": "a"} and dict(h.events[1].headers) == {}
    # Loaded records go back into a journal as they came out.
    j = Journal(tmp_path / "again.db")
    j.begin(h.info, h.events)
    j.effect(eff)
    j.close()
    again = load(tmp_path / "again.db", "r1")
    assert again.events == h.events and again.effects == [eff]


def test_load_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    j = Journal(tmp_path / "run.db")
    j.begin(info(), [])
    j.close()
    assert gc.isenabled()
    load(tmp_path / "run.db", "r1")
    assert gc.isenabled()
    with pytest.raises(InputError):
        load(tmp_path / "run.db", "missing")
    assert gc.isenabled()
    gc.disable()
    try:
        load(tmp_path / "run.db", "r1")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_journal_of_another_format_is_refused_with_a_hint(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, info TEXT, status TEXT, ended_at)")
    db.execute("INSERT INTO runs VALUES ('r1', '{}', 'complete', 1.0)")
    db.commit()
    db.close()
    with pytest.raises(InputError, match=r"journal format 0 .*format 7\n  hint: judge it with"):
        load(old, "r1")
    with pytest.raises(InputError, match=r"journal format 0 .*\n  hint: write to a new journal"):
        Journal(old)
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite at all" * 100)
    with pytest.raises(InputError, match="not a harness journal"):
        Journal(junk)


@pytest.mark.parametrize("name", ["run#1.db", "what?.db", "100%.db", "a b.db"])
def test_any_file_name_can_be_written_and_read_back(tmp_path: Path, name: str) -> None:
    j = Journal(tmp_path / name)
    j.begin(RunInfo("r", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"), [])
    j.end("complete", 1.0)
    j.close()
    assert run_ids(tmp_path / name) == ["r"]
    assert load(tmp_path / name, "r").status == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no stray file beside it


def test_a_closed_journal_is_one_self_contained_file(tmp_path: Path) -> None:
    db = tmp_path / "run.db"
    j = Journal(db)
    j.begin(RunInfo("r", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"), [])
    j.delivery(Delivery("d1", "e", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
    j.end("complete", 1.0)
    j.close()
    assert not (tmp_path / "run.db-wal").exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert len(load(db, "r").deliveries) == 1


def test_a_killed_run_leaves_its_rows_in_the_db_file_alone(tmp_path: Path) -> None:
    """The .db without its -wal (as attached to a ticket) holds what was written over a second
    before the kill: the log is copied into it while the run goes on."""
    db = tmp_path / "killed.db"
    script = f"""
import os, time
from harness.history import Journal, RunInfo
from harness.core._model import Delivery, Model, Outcome
j = Journal({str(db)!r}, batch=10)
j.begin(RunInfo("r", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"), [])
for i in range(20):
    j.delivery(Delivery(f"d{{i}}", "e", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
time.sleep(1.2)
for i in range(20, 30):
    j.delivery(Delivery(f"d{{i}}", "e", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
os._exit(9)
"""
    subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "killed.db").write_bytes(db.read_bytes())
    h = load(alone / "killed.db", "r")
    assert h.status == "running"
    assert len(h.deliveries) >= 20


def test_two_runs_started_in_one_second_get_journals_of_their_own() -> None:
    from harness.engine._options import default_journal

    names = {default_journal() for _ in range(50)}
    assert len(names) == 50
    assert all(p.parent == Path("harness-runs") and p.suffix == ".db" for p in names)


def test_lazy_headers_find_a_header_in_any_case_from_their_text() -> None:
    h = LazyHeaders('{"content-type": "a/b", "IDEMPOTENCY-KEY": "k1", "Idempotency-Key": "k2"}')
    assert h.header("Idempotency-Key") == "k1"  # the first in any case, as a dict's scan finds
    assert LazyHeaders('{"x-request-id": "r1"}').header("Idempotency-Key") is None
    # An escape can spell the name where the text does not show it.
    assert LazyHeaders('{"Idempotency\\u002dKey": "k3"}').header("idempotency-key") == "k3"
    effect = Effect("f1", "d", 0.0, "POST", "/p", h, "", 201, ("e1",))
    assert effect.header("idempotency-key") == "k1"
    assert replace(effect, headers=dict(h)).header("idempotency-key") == "k1"


def test_a_loaded_effect_keeps_its_headers_as_text_until_they_are_read(tmp_path: Path) -> None:
    headers = {"Content-Type": "a/b", "Idempotency-Key": "k1"}
    written = [
        Effect("f1", "ds", 0.1, "POST", "/p", headers, "{}", 201, ("e1",)),
        Effect("f2", "ds", 0.2, "POST", "/p", {"x-request-id": "r"}, "{}", 201, ("e1",)),
    ]
    j = Journal(tmp_path / "run.db")
    j.begin(info(), [Event("e1", "k", 0, "t", 0.0, {})])
    for e in written:
        j.effect(e)
    j.close()
    keyed, plain = load(tmp_path / "run.db", "r1").effects
    assert isinstance(keyed, Effect) and headers_held([plain]) == ['{"x-request-id": "r"}']
    assert plain.header("idempotency-key") is None and isinstance(headers_held([plain])[0], str)
    assert keyed.header("idempotency-key") == "k1" and keyed.headers == headers
    assert isinstance(headers_held([keyed])[0], LazyHeaders)  # read once: kept decoded
    assert [keyed, plain] == written and written == [keyed, plain]
    assert replace(plain, id="f3").headers == {"x-request-id": "r"}
    assert pickle.loads(pickle.dumps(plain)) == written[1]


def test_loaded_rows_are_the_model_objects_their_constructors_make(tmp_path: Path) -> None:
    event = Event("e1", "k", 0, "t", 1.5, {"a": [1]}, {"H": "v"})
    delivery = Delivery("d1", "e1", 1, 0.0, 0.1, 0.2, 200, Outcome.OK)
    effect = Effect("f1", "ds", 0.3, "POST", "/p", {}, "{}", 201, ("e1",), "k")
    j = Journal(tmp_path / "run.db")
    j.begin(info(), [event])
    j.delivery(delivery)
    j.effect(effect)
    j.close()
    h = load(tmp_path / "run.db", "r1")
    # A loaded event is an Event whose payload is decoded when first read (``_event``).
    assert isinstance(h.events[0], Event) and h.events[0] == event and event == h.events[0]
    for loaded, made in ((h.events[0], event), (h.deliveries[0], delivery), (h.effects[0], effect)):
        # A loaded effect is an Effect whose headers are read from their text when first read.
        assert (type(loaded) is type(made) or made in (event, effect)) and loaded == made
        with pytest.raises(AttributeError):  # frozen as the constructor's
            loaded.id = "x"  # type: ignore[misc]
        assert replace(loaded, id="x").id == "x"
    assert hash(h.deliveries[0]) == hash(delivery) and repr(h.deliveries[0]) == repr(delivery)


def test_a_row_the_format_refuses_stops_the_run_with_a_message_and_keeps_what_was_written(
    tmp_path: Path,
) -> None:
    """A NaN in a downstream's record (json.dumps writes it, json_valid refuses it): one
    OutputError naming the cause, later writes dropped, the journal still closes and loads."""
    j = Journal(tmp_path / "run.db")
    j.begin(info(), [Event("e1", "k1", 0, "order.paid", 0.0, {"a": 1})])
    j.delivery(Delivery("dlv_1", "e1", 1, 0.0, 0.01, 0.02, 200, Outcome.OK))
    with pytest.raises(OutputError, match=r"the journal refused a row .*NaN or Infinity"):
        j.states([StateRecord("crm", "/contacts", "c1", {"amount": float("nan")}, ("e1",))])
    assert j.failed is not None
    j.end("complete", 1.0)  # dropped: the run stopped at the refused row
    j.close()
    h = load(tmp_path / "run.db", "r1")
    assert h.status == "running" and [d.id for d in h.deliveries] == ["dlv_1"]
