import pytest

from harness.core import _paths
from harness.core._errors import InputError
from harness.core._model import Event
from harness.drive._tracer import new_tag, trace


def test_paths_parse_get_put() -> None:
    steps = _paths.parse("$.data.items[1]['odd key']")
    assert steps == ("data", "items", 1, "odd key")
    doc: dict[str, object] = {}
    _paths.put(doc, ("a", "b"), 3)
    assert doc == {"a": {"b": 3}}
    assert _paths.get(doc, ("a", "b")) == 3
    assert _paths.get(doc, ("a", "zz"), None) is None
    assert _paths.render(steps[:3]) == "$.data.items[1]"


@pytest.mark.parametrize("bad", ["data.id", "$.data..id", "$[x]", "$.a b"])
def test_paths_bad_syntax(bad: str) -> None:
    with pytest.raises(InputError, match="path"):
        _paths.parse(bad)


def ev(seq: int, key: str, payload: object) -> Event:
    return Event(f"evt_{seq}", key, seq, "t", float(seq), payload)


def test_paths_leaves_lists_every_leaf_in_document_order() -> None:
    doc = {"a": {"b": 1, "c": [2, {"d": None}]}, "e": [], "f": {}, "g": "x"}
    assert list(_paths.leaves(doc)) == [
        (("a", "b"), 1),
        (("a", "c", 0), 2),
        (("a", "c", 1, "d"), None),
        (("e",), []),
        (("f",), {}),
        (("g",), "x"),
    ]
    assert list(_paths.leaves(7)) == [] and list(_paths.leaves([])) == []


def test_trace_keeps_formats_and_attributes_back() -> None:
    events = [
        ev(
            0,
            "con_1",
            {
                "id": "evt_0",
                "contact": "con_1",
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "status": "active",
                "n": 5,
            },
        ),
        ev(1, "con_1", {"id": "evt_1", "contact": "con_1", "email": "x+old@example.org"}),
        ev(2, "con_2", {"id": "evt_2", "contact": "con_2"}),
    ]
    tag = new_tag()
    tracer = trace(events, tag)
    a, b, c = tracer.events
    assert a.id == f"evt_{tag}e0" and a.key == f"con_{tag}k0" and c.key == f"con_{tag}k1"
    assert a.payload["email"] == f"ada+{tag}e0@example.com"
    assert b.payload["email"] == f"x+{tag}e1@example.org"
    assert a.payload["name"] == f"Ada Lovelace {tag}e0"
    assert a.payload["status"] == "active" and a.payload["n"] == 5
    assert a.payload["contact"] == a.key
    assert events[0].payload["email"] == "ada@example.com"  # the source is not mutated

    assert tracer.attribute(f'{{"email": "{b.payload["email"]}"}}') == ((b.id,), b.key)
    assert tracer.attribute(f"/contacts/{c.key}") == ((), c.key)
    assert tracer.attribute(f"{a.id} {b.id} {a.id}") == ((a.id, b.id), a.key)
    assert tracer.attribute("nothing here zqqqqe1") == ((), None)
    assert tracer.attribute(f"{tag}e99") == ((), None)


def test_events_whose_seqs_are_not_their_positions_attribute_by_seq() -> None:
    tag = new_tag()
    tracer = trace([ev(0, "con_1", {}), ev(5, "con_2", {}), ev(2, "con_3", {})], tag)
    first, fifth, second = tracer.events
    assert tracer.attribute(f"{tag}e5 {tag}e2") == ((fifth.id, second.id), fifth.key)
    assert tracer.attribute(f"{tag}e0") == ((first.id,), first.key)
    assert tracer.attribute(f"{tag}e1") == ((), None)


def test_tags_differ_between_runs() -> None:
    assert len({new_tag() for _ in range(50)}) > 40
