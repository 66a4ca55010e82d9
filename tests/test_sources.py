import json
from pathlib import Path

import pytest

from harness.core._errors import SourceError
from harness.core._scenario import RecordedSource, SyntheticSource
from harness.drive._sources import recorded, synthetic

EXAMPLE = {
    "id": "evt_1",
    "type": "order.paid",
    "occurred_at": "x",
    "sequence": 1,
    "data": {
        "order_id": "ord_1",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "amount": 1999,
        "currency": "usd",
    },
}


def spec(**kw: object) -> SyntheticSource:
    base: dict[str, object] = dict(
        example=EXAMPLE,
        events=40,
        records=7,
        over=4.0,
        id_path="$.id",
        key_path="$.data.order_id",
        type_path="$.type",
        seq_path="$.sequence",
        time_path="$.occurred_at",
    )
    base.update(kw)
    return SyntheticSource(**base)  # type: ignore[arg-type]


def test_synthetic_is_seeded_and_uses_every_record() -> None:
    a, b, c = synthetic(spec(), 1), synthetic(spec(), 1), synthetic(spec(), 2)
    assert [e.payload for e in a] == [e.payload for e in b]
    assert [e.payload for e in a] != [e.payload for e in c]
    assert len(a) == 40 and len({e.key for e in a}) == 7
    assert len({e.id for e in a}) == 40


def test_synthetic_writes_paths_and_per_record_sequence() -> None:
    events = synthetic(spec(), 3)
    seen: dict[str, int] = {}
    for e in events:
        assert e.payload["id"] == e.id and e.id.startswith("evt_")
        assert e.payload["data"]["order_id"] == e.key and e.key.startswith("ord_")
        seen[e.key] = seen.get(e.key, 0) + 1
        assert e.payload["sequence"] == seen[e.key]
        assert e.payload["occurred_at"].startswith("2026-01-01T")
        assert e.payload["data"]["currency"] == "usd"  # enums are kept
        assert "@" in e.payload["data"]["customer"]["email"]
    assert events[-1].occurred_at == pytest.approx(39 * 0.1)


def test_recorded_reads_wrapped_and_bare_lines(tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_text(
        json.dumps(
            {
                "id": "a",
                "key": "k1",
                "type": "t",
                "payload": {"x": 1},
                "occurred_at": "2026-01-01T00:00:10Z",
            }
        )
        + "\n\n"
        + json.dumps({"id": "b", "n": 2})
        + "\n"
    )
    events = recorded(RecordedSource(f, over=2.0))
    assert [(e.id, e.key, e.seq) for e in events] == [("a", "k1", 0), ("b", "b", 1)]
    assert events[1].payload == {"id": "b", "n": 2}
    assert [e.occurred_at for e in events] == [0.0, 1.0]


def test_recorded_paths_pick_id_and_key(tmp_path: Path) -> None:
    f = tmp_path / "e.jsonl"
    f.write_text(json.dumps({"evt": {"uid": "u1"}, "rec": "r9"}) + "\n")
    (e,) = recorded(RecordedSource(f, id_path="$.evt.uid", key_path="$.rec"))
    assert (e.id, e.key) == ("u1", "r9")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"ok": 1}\n{not json}\n', "e.jsonl:2: not JSON"),
        ("[1, 2]\n", "e.jsonl:1: expected a JSON object, got list"),
        ("\n\n", "has no events"),
        (
            '{"payload": {}, "occurred_at": "yesterday"}\n',
            "e.jsonl:1: occurred_at: occurred_at 'yesterday'",
        ),
        ('{"payload": {}, "headers": {"a": 1}}\n', "e.jsonl:1: headers"),
    ],
)
def test_recorded_bad_lines_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "e.jsonl"
    f.write_text(content)
    with pytest.raises(SourceError) as info:
        recorded(RecordedSource(f))
    assert message in str(info.value)


def test_recorded_missing_path_value_says_which_path(tmp_path: Path) -> None:
    f = tmp_path / "e.jsonl"
    f.write_text('{"a": 1}\n')
    with pytest.raises(SourceError, match=r"e.jsonl:1: no value at \$.data.id"):
        recorded(RecordedSource(f, id_path="$.data.id"))


def test_recorded_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="event file not found"):
        recorded(RecordedSource(tmp_path / "nope.jsonl"))
