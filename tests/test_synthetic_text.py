"""A synthetic source's events written as JSON text in one pass (``drive._synthetic_text``) are
the events the object way makes: the same ids, keys, types and times, and payload texts equal,
character for character, to ``json.dumps`` of the payloads the tracer rewrites (issue #16,
goal 2). Checked on every library payload and on examples Hypothesis makes: nested objects and
lists, emails, free text, ids, strings that need escapes, '%', the character the compiler
stands a token with, paths written where the example has nothing, constants equal to an id."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core import _library
from harness.core._model import Event
from harness.core._providers import LAYOUTS, PRETTY, PROVIDERS, Provider
from harness.core._scenario import SyntheticSource, TracerSpec
from harness.core._text_event import TextEvent, payload_json, payload_text, text_event
from harness.drive._event_batch import EventBatch
from harness.drive._sources import Shape, checked, synthetic_events
from harness.drive._synthetic_text import (
    _plain_text,
    laid_batches,
    laid_synthetic,
    traced_objects,
    traced_synthetic,
)
from harness.drive._tracer import Tokens, Tracer, token_prefix, token_prefixes, traced
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

TAG = "zqtestab"


def both(spec: SyntheticSource, seed: int = 5, tracing: TracerSpec | None = None) -> Any:
    """Each event as (id, key, seq, type, time, payload JSON), made the object way and as
    text."""
    made = [
        (e.id, e.key, e.seq, e.type, e.occurred_at, json.dumps(e.payload), e.headers)
        for e in traced_objects(Shape(checked(spec)), seed, TAG, tracing)
    ]
    written = [
        (e.id, e.key, e.seq, e.type, e.occurred_at, payload_json(e), e.headers)
        for e in traced_synthetic(spec, seed, TAG, tracing)
    ]
    return made, written


@pytest.mark.parametrize("name", _library.names())
def test_library_payloads_are_written_as_the_tracer_rewrites_them(name: str) -> None:
    spec = _library_source(SyntheticDoc(library=name, events=300, records=40, over=30.0))
    made, written = both(spec)
    assert written == made


def test_the_events_hold_text_until_read_and_decode_to_the_payload() -> None:
    example = {"id": "evt_1A2b3C4d5E6f", "key": "ord_9Z8y7X6w5V", "note": "thanks a lot"}
    spec = SyntheticSource(example, events=5, records=2, over=1.0)
    events = list(traced_synthetic(spec, 1, TAG))
    assert all(isinstance(e, TextEvent) for e in events)
    made = list(traced(synthetic_events(spec, 1, TAG), TAG))
    assert [e.payload for e in events] == [e.payload for e in made]
    assert events == made


def test_an_event_whose_id_is_one_of_the_examples_strings_is_rewritten_as_one() -> None:
    # ``evt_000002`` (the second event's numbered id) is also a constant of the example: the
    # tracer rewrites every string equal to the id, the constant included.
    example = {"id": "evt_1", "key": "k", "ref": "evt_000002", "list": ["evt_000002", 1.5]}
    spec = SyntheticSource(example, events=4, records=2, over=1.0)
    made, written = both(spec)
    assert written == made
    assert f"{TAG}e1" in written[1][5] and "evt_000002" not in written[1][5]


def test_other_tracings_are_the_tracers_own() -> None:
    example = {"id": "evt_1A2b3C4d5E6f", "key": "ord_9Z8y7X6w5V", "who": "Ada Lovelace"}
    spec = SyntheticSource(example, events=20, records=4, over=1.0)
    for tracing in (
        TracerSpec(rewrite=False),
        TracerSpec(paths=("$.who",)),
        TracerSpec(ids=True),
    ):
        made, written = both(spec, tracing=tracing)
        assert written == made


_WORDS = st.sampled_from(
    [
        "usd",
        "paid",
        "Ada Lovelace",
        "ada@example.com",
        "x+y@mail.example.org",
        "cus_N1a2B3c4D5e6F7",
        "ord_12345678",
        "2024-07-29T10:36:56Z",
        "2024-07-29 10:36:56",
        "100%",
        "50% off today",
        "caf\u00e9 cr\u00e8me",
        "line\nbreak here",
        'quote " and \\ slash',
        "\ue000 private use",
        "\ue000",
        "emoji \U0001f600 here",
        " ",
        "",
        "evt_000001",
        "rec_00001",
    ]
)
_SCALARS = st.one_of(
    _WORDS,
    st.text(max_size=12),
    st.integers(-(10**12), 10**14),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
_NAMES = st.sampled_from(
    ["id", "name", "email", "note", "amount", "created", "customer", "status", "items", "x%y"]
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_NAMES, inner, max_size=5)
    ),
    max_leaves=20,
)


@st.composite
def examples(draw: st.DrawFn, values: st.SearchStrategy[Any] = _JSON) -> SyntheticSource:
    body = draw(st.dictionaries(_NAMES, values, max_size=6))
    example: dict[str, Any] = {
        # Ids and keys as numbers too (GitHub's, Shopify's): a number the payload also holds
        # stays as it is.
        "id": draw(st.sampled_from(["evt_1", "evt_1A2b3C4d5E6fG7h8", "abc", 4815162342, "7"])),
        "type": "thing.happened",
        "created": draw(st.sampled_from([1722249416, "2024-07-29T10:36:56.123+02:00"])),
        "sequence": 0,
        "data": {
            "object": {**body, "id": draw(st.sampled_from(["ord_1", "ord_9Z8y7X6w5V4u", 81234567]))}
        },
    }
    # The default key path may be written where the example has nothing (a new member).
    key_path = draw(st.sampled_from(["$.data.object.id", "$.key"]))
    time_path = draw(st.sampled_from([None, "$.created"]))
    seq_path = draw(st.sampled_from([None, "$.sequence"]))
    return SyntheticSource(
        example,
        events=draw(st.integers(1, 12)),
        records=draw(st.integers(1, 4)),
        over=10.0,
        key_path=key_path,
        time_path=time_path,
        seq_path=seq_path,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=examples(), seed=st.integers(0, 3))
def test_any_example_is_written_as_the_tracer_rewrites_it(spec: SyntheticSource, seed: int) -> None:
    made, written = both(spec, seed)
    assert written == made


def test_a_number_id_the_example_also_holds_as_a_number_is_renumbered_everywhere() -> None:
    """The tracer renumbers an id the payload holds as a number (``_tracer``), every
    occurrence of it, the example's own numbers included. An id drawn here (1 and five digits)
    is one of the example's 2,000 numbers once in 50 events: a few of these 200 (seed 5)."""
    example = {"id": "123456", "key": "ord_9Z8y7X6w5V", "codes": list(range(100_000, 102_000))}
    spec = SyntheticSource(example, events=200, records=1, over=1.0)
    made, written = both(spec, seed=5)
    assert written == made
    assert sum(event[0].isdigit() for event in written) >= 2  # not tokens


def test_an_example_with_keys_that_are_not_strings_goes_the_object_way() -> None:
    """Built in Python, an example may have number, bool or null keys (YAML's loader refuses
    them): ``json.dumps`` writes them as strings, and so do its events here."""
    example = {"id": "evt_1A2b3C4d5E6f", "key": "ord_9Z8y7X6w5V", "codes": {1: "one two", None: 2}}
    spec = SyntheticSource(example, events=3, records=2, over=1.0)
    made, written = both(spec)
    assert written == made


def test_a_text_event_is_pickled_and_copied_as_its_text() -> None:
    """Locust hands the prepared run to its recorder pickled: as text, not decoded objects
    (several times the text's size), and the original is not decoded by it."""
    text = '{"x": [1, 2.5, "\\u00e9"], "who": "Ada Lovelace"}'
    event = text_event("evt_1", "k", 0, "t", 0.0, text, {})
    copies = [pickle.loads(pickle.dumps(event)), copy.copy(event), copy.deepcopy(event)]
    assert [payload_text(c) for c in copies] == [text] * 3
    assert payload_text(event) == text
    assert all(c == event for c in copies)  # (reads, so decodes, every payload)
    decoded_first = text_event("evt_2", "k", 1, "t", 0.0, text, {})
    assert decoded_first.payload["who"] == "Ada Lovelace"
    assert pickle.loads(pickle.dumps(decoded_first)) == decoded_first


def test_a_constant_holding_an_events_key_inside_it_is_rewritten_as_the_tracer_does() -> None:
    """An id inside a string takes the run's own value (``_inner_ids``); a constant of the
    example that holds the event's key inside it is written the way of objects, the key in it
    the key's token."""
    example = {"id": "evt_1", "key": "k", "ref": "/records/rec_00002/notes"}
    spec = SyntheticSource(example, events=6, records=2, over=1.0)
    made, written = both(spec)
    assert written == made
    payloads = [json.loads(event[5]) for event in written]
    # The first event is rec_00002's (seed 5): its record's events name their own key there,
    # the other record's keep the constant as it is.
    mine = [p for p in payloads if p["key"] == f"rec_{TAG}k0"]
    others = [p for p in payloads if p["key"] == f"rec_{TAG}k1"]
    assert mine and all(p["ref"] == f"/records/rec_{TAG}k0/notes" for p in mine), payloads
    assert others and all(p["ref"] == "/records/rec_00002/notes" for p in others), payloads


def test_a_batch_writes_the_events_that_hold_their_key_inside_a_string_one_by_one() -> None:
    """A batch's events are written hole by hole (``TextTemplate.texts``); an event whose
    string holds its key inside (a URL naming its customer) is the tracer's: the key in it the
    key's token, in every event of a batch of 256 and the one after."""
    example = {
        "id": "evt_1A2b3C4d5E6fG7h8",
        "customer": "cus_CsMehGAkWvj7FA",
        "url": "https://example.com/customers/cus_CsMehGAkWvj7FA/charges",
        "note": "paid in full",
        "email": "jenny.rosen@example.com",
    }
    spec = SyntheticSource(example, events=300, records=60, over=1.0, key_path="$.customer")
    made, written = both(spec)
    assert written == made
    payloads = [json.loads(event[5]) for event in written]
    assert all(
        p["url"] == f"https://example.com/customers/{p['customer']}/charges" for p in payloads
    )
    assert all(f"{TAG}k" in p["customer"] for p in payloads)


def test_a_batchs_tokens_are_its_events_made_one_by_one() -> None:
    """``Tokens.ids_of`` (a batch of events none of whose ids or keys is a number) gives what
    ``ids`` gives event by event: each key numbered where it is first met, a record's key one
    token in all its events, the prefixes kept (none for a UUID)."""
    event_ids = ["evt_1aB2c3D4", "pi_3Pgcc9QeWJKY40", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"]
    event_ids += ["evt_1xY", "cs_test_a1B2c3"]
    keys = ["cus_A1b2C3d4", "cus_B2c3D4e5", "cus_A1b2C3d4", "a plain key", "cus_B2c3D4e5"]
    seqs = range(7, 12)
    one_by_one, batched = Tokens(TAG), Tokens(TAG)
    one_by_one.ids("evt_0", "cus_Z9y8X7w6", 6)  # a record met before the batch
    batched.ids("evt_0", "cus_Z9y8X7w6", 6)
    expected = [one_by_one.ids(i, k, s) for i, k, s in zip(event_ids, keys, seqs, strict=True)]
    new_ids, new_keys, _ = batched.ids_of(event_ids, keys, seqs)
    assert list(zip(new_ids, new_keys, strict=True)) == expected
    assert all(batched.record_token(k) == one_by_one.record_token(k) for k in keys)
    assert new_keys[0] == new_keys[2] == f"cus_{TAG}k1" and new_ids[2] == f"{TAG}e9"


@pytest.mark.parametrize("name", ["stripe:checkout.session.completed", "attio:record.updated"])
def test_a_batch_made_as_columns_indexes_the_tracer_as_its_events_do(name: str) -> None:
    """A batch written as text is handed on as columns (``laid_batches``: an EventBatch, its
    tokens' parts as ``Tokens.ids_of`` made them); a Tracer indexed from those parts
    (``extend_made``) holds the events and attributes text to them and their records as one
    indexed from the events themselves, their keys read back out of their tokens."""
    spec = _library_source(SyntheticDoc(library=name, events=700, records=90, over=30.0))
    batches = [b for b in laid_batches(spec, 5, TAG) if isinstance(b, EventBatch)]
    assert len(batches) == 3 and all(b.tokens is not None for b in batches)
    by_tokens, by_events = Tracer(TAG, columns=True), Tracer(TAG, columns=True)
    for batch in batches:
        by_tokens.extend_made(batch)
        by_events.extend(batch.events())
    assert list(by_tokens.events) == list(by_events.events)
    assert [(e.id, e.key) for e in by_tokens.events] == [
        (e.id, e.key) for e in traced_synthetic(spec, 5, TAG)
    ]
    for ev in by_events.events:
        for text in (f"/x/{ev.id}", f'{{"customer": "{ev.key}"}}', f"{ev.key}/{ev.id}"):
            assert by_tokens.attribute(text) == by_events.attribute(text)


@pytest.mark.parametrize(
    "values",
    [
        ["evt_1aB2c3D4", "cs_test_a1B2c3", "pi_3Pgc-c9Qe", "x_1"],
        ["evt_1aB2c3D4", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "cus_A1b2"],
        ["a_b\nc_d", "no prefix", "evt_1aB2c3D4"],  # two lines that match, one that does not
        ["evt_1aB2c3D4\n", "cus_A1b2"],
        [],
    ],
)
def test_a_batchs_prefixes_are_each_ones(values: list[str]) -> None:
    """``token_prefixes`` (one search of a batch's ids, a line each) is ``token_prefix`` of each:
    a value that is not an id of a prefix, or holds a line break, makes it look one by one."""
    assert token_prefixes(values) == [token_prefix(v) for v in values]


def test_a_batch_with_a_later_number_after_a_first_string_is_written_as_objects_are() -> None:
    """A ``later`` path whose first value is a string and later one a number: one hole holds
    both kinds in one batch, and its events are written one at a time, as the object way."""
    example = {"id": "evt_1A2b3C4d5E6fG7h8", "key": "ord_9Z8y7X6w5V4u", "state": "opened"}
    spec = SyntheticSource(example, events=40, records=8, over=1.0, later=(("$.state", 2),))
    made, written = both(spec)
    assert written == made
    states = [json.loads(event[5])["state"] for event in written]
    assert states.count("opened") == 8 and states.count(2) == 32


@pytest.mark.parametrize(
    ("own", "kept"),
    [
        ("cs_test_a1B2c3D4e5F6g7H8", "cs_test_"),
        ("4f1c2b3a-9d8e-4c7b-a6f5-e4d3c2b1a0f9", ""),
        ("U2147483697", ""),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", ""),
    ],
)
@pytest.mark.parametrize("event_id", ["evt_1A2b3C4d5E6f", 123456789])
def test_the_events_own_objects_id_is_a_token_of_the_events(
    own: str, kept: str, event_id: object
) -> None:
    """Keyed by the customer it names, a checkout's own id (``data.id``) is the event's token
    (``_tracer.Marks``), its prefix kept, as text as made as objects; the customer's email the
    record's token (an event id held as a number: the event written alone, ``text``)."""
    example = {
        "id": event_id,
        "data": {"id": own, "customer": "cus_Q1w2E3r4T5y6", "customer_email": "ada@example.com"},
    }
    spec = SyntheticSource(example, events=30, records=4, over=1.0, key_path="$.data.customer")
    made, written = both(spec)
    assert written == made
    for _, key, seq, *_, text, _ in written:
        data = json.loads(text)["data"]
        assert data["id"] == f"{kept}{TAG}e{seq}"
        record = key.removeprefix(f"cus_{TAG}k")
        assert f"+{TAG}k{record}@" in data["customer_email"], (key, data)


def laid_out_as(sender: Provider, spec: SyntheticSource, seed: int = 5) -> int:
    """How many of ``spec``'s events were written laid out as ``sender`` lays out its bodies
    (``bodies_as``), the events themselves those of ``traced_synthetic``."""
    return bodies_as(sender, laid_as_traced(spec, sender.layout, seed))


def laid_as_traced(
    spec: SyntheticSource, layout: str, seed: int = 5, traced: list[Event] | None = None
) -> list[tuple[Event, str | None]]:
    """``laid_synthetic``'s events of ``spec`` and their text in ``layout``, the events checked
    to be those of ``traced_synthetic`` (``traced``: those, already made)."""
    pairs = list(laid_synthetic(spec, seed, TAG, None, LAYOUTS[layout]))
    made = traced if traced is not None else list(traced_synthetic(spec, seed, TAG))
    assert [e for e, _ in pairs] == made
    return pairs


def bodies_as(sender: Provider, pairs: list[tuple[Event, str | None]]) -> int:
    """How many of ``pairs`` were written as text, each checked to be the bytes
    ``sender``'s ``Provider.body`` makes of its event's text (parsed, written again)."""
    for event, laid in pairs:
        if laid is not None:
            assert laid.encode() == sender.body(payload_json(event)), sender.name
    return sum(laid is not None for _, laid in pairs)


@pytest.mark.parametrize("name", _library.names())
def test_library_payloads_are_written_laid_out_as_each_provider_lays_out_its_bodies(
    name: str,
) -> None:
    # The events made once, and laid out once a layout: the providers that share one (three
    # layouts for nine providers) each check its bytes against their own Provider.body.
    spec = _library_source(SyntheticDoc(library=name, events=60, records=12, over=30.0))
    traced = list(traced_synthetic(spec, 5, TAG))
    layouts = {sender.layout for sender in PROVIDERS.values()}
    laid = {layout: laid_as_traced(spec, layout, traced=traced) for layout in layouts}
    for sender in PROVIDERS.values():
        assert bodies_as(sender, laid[sender.layout]) > 50  # written as text, not as objects


# Beside _JSON's: integers beyond 64 bits, floats of every size, any text (non-ASCII, control
# characters), and the nesting and empty containers _JSON draws.
_WIDE = st.recursive(
    st.one_of(
        _WORDS,
        st.text(max_size=12),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_NAMES | st.text(max_size=4), inner, max_size=5),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=examples(_WIDE), seed=st.integers(0, 3), sender=st.sampled_from(sorted(PROVIDERS)))
def test_any_example_is_written_laid_out_as_its_provider_lays_out_its_bodies(
    spec: SyntheticSource, seed: int, sender: str
) -> None:
    laid_out_as(PROVIDERS[sender], spec, seed)


def test_an_example_of_every_kind_of_value_is_written_laid_out_whole() -> None:
    example = {
        "id": "evt_1A2b3C4d5E6f",
        "key": "ord_9Z8y7X6w5V",
        "status": "pay\u00e9 \u2014 \U0001f600",  # a constant
        "ref": "caf\u00e9 cus_N1a2B3c4D5e6F7",  # a hole: an id varied inside non-ASCII text
        "big": 2**70,
        "ratio": 1e-07,
        "empty": {"list": [], "object": {}},
        "nested": [[1, [2.5, 2**70, {"deep": "\x7f\x01"}]], {}],
    }
    spec = SyntheticSource(example, events=20, records=4, over=1.0)
    assert laid_out_as(PROVIDERS["stripe"], spec) == 20
    assert laid_out_as(PROVIDERS["github"], spec) == 20
    (_, laid), *_ = laid_synthetic(spec, 5, TAG, None, LAYOUTS[PRETTY])
    assert laid.startswith('{\n  "id": "') and '"status": "pay\u00e9 \u2014 \U0001f600' in laid
    assert '"ref": "caf\u00e9 cus_' in laid
    assert '"empty": {\n    "list": [],\n    "object": {}\n  }' in laid


def test_a_column_is_written_bare_only_where_json_writes_each_string_as_it_is() -> None:
    """A batch's strings go between the pieces' quotes unescaped (``_plain_text``) only where
    ``json.dumps`` writes every one of them as it is, in both the ASCII and the UTF-8 way:
    not a quote, a backslash, a control character, DEL or anything beyond ASCII."""
    for code in range(0x250):
        c = chr(code)
        as_is = f'"{c}"'
        bare = json.dumps(c) == as_is and json.dumps(c, ensure_ascii=False) == as_is
        assert _plain_text(["evt_1", f"a{c}b"]) == bare, repr(c)
    assert _plain_text(["", ""])
    assert not _plain_text(["jenny@example.com", "caf\u00e9"])
