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
    events = recorded(RecordedSource(f, over=2.0)).events
    assert [(e.id, e.key, e.seq) for e in events] == [("a", "k1", 0), ("b", "b", 1)]
    assert events[1].payload == {"id": "b", "n": 2}
    assert [e.occurred_at for e in events] == [0.0, 1.0]


def test_recorded_paths_pick_id_and_key(tmp_path: Path) -> None:
    f = tmp_path / "e.jsonl"
    f.write_text(json.dumps({"evt": {"uid": "u1"}, "rec": "r9"}) + "\n")
    (e,) = recorded(RecordedSource(f, id_path="$.evt.uid", key_path="$.rec")).events
    assert (e.id, e.key) == ("u1", "r9")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"ok": 1}\n{not json}\n', "e.jsonl:2: not JSON"),
        ("[1, 2]\n", "e.jsonl:1: a JSON array, where JSON Lines holds one event object"),
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


def test_recorded_missing_path_names_the_lines_and_the_paths_there(tmp_path: Path) -> None:
    f = tmp_path / "e.jsonl"
    lines = [{"data": {"id": f"d{n}"}} if n % 3 else {"data": {"uid": n}} for n in range(1, 9)]
    f.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(SourceError) as info:
        recorded(RecordedSource(f, id_path="$.data.id"))
    assert (
        "e.jsonl: id path '$.data.id': lines 3 and 6 of e.jsonl (2 of 8 lines) have no value "
        "there; line 3 has $.data, $.data.uid"
    ) in str(info.value)
    with pytest.raises(SourceError) as info:
        recorded(RecordedSource(f, key_path="$.dat.id"))
    assert "key path '$.dat.id': no line of e.jsonl has a value there (8 lines read)" in str(
        info.value
    )


def test_a_null_id_is_no_id(tmp_path: Path) -> None:
    f = tmp_path / "e.jsonl"
    f.write_text('{"id": "a"}\n{"id": null}\n')
    with pytest.raises(SourceError, match=r"line 2 of e.jsonl \(1 of 2 lines\) has no value there"):
        recorded(RecordedSource(f, id_path="$.id"))


def test_recorded_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="event file not found"):
        recorded(RecordedSource(tmp_path / "nope.jsonl"))


# --- redeliveries: lines that share an event id ----------------------------------------------


def redelivered(tmp_path: Path, second: dict[str, object] | None = None) -> Path:
    """evt_a delivered three times (lines 1, 3, 4), evt_b once (line 2), 10 s apart."""
    a = {"id": "evt_a", "type": "t", "n": 1}
    lines = [a, {"id": "evt_b", "type": "t", "n": 2}, second or a, a]
    f = tmp_path / "e.jsonl"
    f.write_text(
        "".join(
            json.dumps({"payload": line, "occurred_at": 1_767_225_600 + 10 * i}) + "\n"
            for i, line in enumerate(lines)
        )
    )
    return f


def test_lines_with_one_id_are_one_event_redelivered_at_their_recorded_times(
    tmp_path: Path,
) -> None:
    stream = recorded(RecordedSource(redelivered(tmp_path), id_path="$.id"))
    assert [(e.id, e.seq, e.occurred_at) for e in stream.events] == [
        ("evt_a", 0, 0.0),
        ("evt_b", 1, 10.0),
    ]
    assert [(r.event, r.at, r.line) for r in stream.redeliveries] == [(0, 20.0, 3), (0, 30.0, 4)]
    assert stream.differing == ()


def test_separate_keeps_each_line_an_event_of_its_own(tmp_path: Path) -> None:
    f = redelivered(tmp_path)
    stream = recorded(RecordedSource(f, id_path="$.id", redeliveries="separate"))
    assert [(e.id, e.seq, e.occurred_at) for e in stream.events] == [
        ("evt_a", 0, 0.0),
        ("evt_b", 1, 10.0),
        ("evt_a", 2, 20.0),
        ("evt_a", 3, 30.0),
    ]
    assert stream.redeliveries == ()


def test_a_redelivery_with_another_payload_keeps_the_first_and_says_where(tmp_path: Path) -> None:
    changed = {"id": "evt_a", "type": "t", "n": 1, "attempt": 2}
    f = redelivered(tmp_path, second=changed)
    stream = recorded(RecordedSource(f, id_path="$.id"))
    assert stream.events[0].payload == {"id": "evt_a", "type": "t", "n": 1}
    assert stream.differing == (("evt_a", 1, 3, ("$.attempt",)),)
    assert stream.settings(RecordedSource(f)) == {
        "redeliveries": {
            "file": "e.jsonl",
            "events": 1,
            "deliveries": 2,
            "differing": [{"event": "evt_a", "lines": [1, 3], "paths": ["$.attempt"]}],
            "differing_count": 1,
        }
    }


def test_a_synthetic_path_built_in_python_must_name_a_field_of_the_example() -> None:
    with pytest.raises(SourceError) as info:
        synthetic(spec(key_path="$.data.ordr_id"), 1)
    assert (
        "synthetic source: key path '$.data.ordr_id': the example payload has no such field; "
        "it has $.id, $.type"
    ) in str(info.value)
    assert "did you mean $.data.order_id?" in str(info.value)
    # A path left at its default is written into each payload, as it always was.
    bare = spec(key_path="$.key", example={"data": {"a": 1}}, seq_path=None, time_path=None)
    events = synthetic(bare, 1)
    assert events[0].payload["key"] == events[0].key


# --- a recorded file written newest first --------------------------------------------------


def stripe_lines(tmp_path: Path, created: list[int]) -> Path:
    """A subscription's updates, a Stripe event object a line (``jq -c '.data[]'`` of
    ``stripe events list``), in the order of ``created``: line n's event is ``evt_ln``."""
    f = tmp_path / "events.jsonl"
    f.write_text(
        "".join(
            json.dumps(
                {
                    "object": "event",
                    "id": f"evt_l{n}",
                    "type": "customer.subscription.updated",
                    "created": at,
                    "data": {"object": {"id": "sub_1", "status": f"s{at}"}},
                }
            )
            + "\n"
            for n, at in enumerate(created, 1)
        )
    )
    return f


def test_a_file_written_newest_first_is_numbered_oldest_first_and_says_so(tmp_path: Path) -> None:
    """Stripe lists events newest first; written a line each, the subscription's latest event
    by seq was its oldest (line 4, created first), and a register's latest, final states and
    the schedule read time backwards (fails before). Taken in reverse, seq follows the times —
    a tie too, newest first within its second as Stripe lists them."""
    f = stripe_lines(tmp_path, [1_722_249_437, 1_722_249_427, 1_722_249_427, 1_722_249_417])
    stream = recorded(RecordedSource(f))
    assert [(e.id, e.seq, e.occurred_at) for e in stream.events] == [
        ("evt_l4", 0, 0.0),
        ("evt_l3", 1, 10.0),
        ("evt_l2", 2, 10.0),
        ("evt_l1", 3, 20.0),
    ]
    assert stream.settings(RecordedSource(f)) == {
        "newest_first": {"file": "events.jsonl", "lines": 4}
    }


def test_a_file_in_time_order_or_in_no_one_order_keeps_its_lines_order(tmp_path: Path) -> None:
    for created in ([10, 20, 30], [20, 10, 30], [10, 10, 10]):
        f = stripe_lines(tmp_path, [1_722_249_400 + at for at in created])
        stream = recorded(RecordedSource(f))
        assert [e.id for e in stream.events] == ["evt_l1", "evt_l2", "evt_l3"], created
        assert stream.settings(RecordedSource(f)) == {}
