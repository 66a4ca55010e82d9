"""The redaction searches a run's texts many at a time (``core._batch_search``): a secret is
found wherever it sits among thousands of clean texts — the last text of a chunk, the first of
the next, right after a text that is not ASCII, spelled with an escape — and the texts a batch
finds are exactly those the test of one text finds."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core import _batch_search
from harness.core._batch_search import CHUNK, passing
from harness.core._model import Delivery, Effect, Model, Outcome
from harness.core._sensitive import holding_sensitive_keys, may_hold_sensitive_key
from harness.core._text_event import text_event
from harness.history import History, LazyHeaders, RunInfo
from harness.report import _redact
from harness.report._redact import Redactor

N = CHUNK + 2  # a full chunk, and two texts of the next
SEED = "seedvalue-0d9f8e7a6b5c"  # no word of any search in it


def _history(
    payloads: dict[int, str] | None = None,
    headers: dict[int, str] | None = None,
    bodies: dict[int, str] | None = None,
    answers: dict[int, str] | None = None,
) -> History:
    """A loaded-like run of N events, deliveries and effects, all clean but those given."""
    info = RunInfo(
        run_id="r@zq",
        scenario="s",
        seed=1,
        target="http://127.0.0.1:8000/hook",
        target_name="127.0.0.1:8000",
        model=Model.LEDGER,
        invariants=(),
        started_at="2026-01-01T00:00:00+00:00",
        tracer_tag="zq",
        settings={},
    )
    payloads, headers, bodies, answers = payloads or {}, headers or {}, bodies or {}, answers or {}
    events = [
        text_event(f"evt_{i}", "k", i, "t", 0.0, payloads.get(i, f'{{"id": "evt_{i}"}}'), {})
        for i in range(N)
    ]
    deliveries = [
        Delivery(
            f"dlv_{i}", f"evt_{i}", 1, 0.0, 0.0, 0.1, 500, Outcome.FAILED, None, answers.get(i)
        )
        for i in range(N)
    ]
    effects = [
        Effect(
            f"eff_{i}",
            "api",
            0.2,
            "POST",
            "/x",
            LazyHeaders(headers.get(i, f'{{"x-request-id": "eff_{i}"}}')),
            bodies.get(i, f'{{"event": "evt_{i}", "amount": 1250}}'),
            201,
            (f"evt_{i}",),
        )
        for i in range(N)
    ]
    return History(info, events, deliveries, effects)


def _hidden(history: History) -> bool:
    shown = Redactor.for_runs([history], {}).text(f"the record {SEED} was charged")
    return SEED not in shown


@pytest.mark.parametrize("at", [0, CHUNK - 1, CHUNK, N - 1])
def test_a_secret_key_is_found_in_any_payload_of_a_chunk(at: int) -> None:
    assert _hidden(_history(payloads={at: json.dumps({"Api-Key": SEED})}))


def test_a_secret_key_is_found_in_the_payload_after_one_not_ascii() -> None:
    payloads = {CHUNK - 3: json.dumps({"name": "Zoë"}, ensure_ascii=False)}
    payloads[CHUNK - 2] = json.dumps({"token": SEED})
    assert _hidden(_history(payloads))


def test_a_secret_key_spelt_with_an_escape_is_found_among_thousands_of_clean_payloads() -> None:
    # No word of the search in its text: only its backslash says it may spell one.
    assert _hidden(_history({CHUNK // 2: '{"to\\u006ben": "' + SEED + '"}'}))


@pytest.mark.parametrize("at", [CHUNK - 1, CHUNK])
def test_an_authorization_header_is_found_in_any_effect(at: int) -> None:
    assert _hidden(_history(headers={at: json.dumps({"Authorization": f"Bearer {SEED}"})}))


def test_a_credential_header_is_found_after_headers_not_ascii() -> None:
    headers = {CHUNK - 2: json.dumps({"x-name": "Zoë"}, ensure_ascii=False)}
    headers[CHUNK - 1] = json.dumps({"X-Api-Key": SEED})
    assert _hidden(_history(headers=headers))


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"client_secret": SEED}),
        json.dumps({"X-API-KEY": SEED}),  # '-' read as '_'
        '{"api\\u005fkey": "' + SEED + '"}',  # an escape
        f"amount=12&api%5Fkey={SEED}",  # a form's percent-encoded name
    ],
)
@pytest.mark.parametrize("at", [CHUNK - 1, N - 1])
def test_a_secret_key_is_found_in_any_body(body: str, at: int) -> None:
    assert _hidden(_history(bodies={at: body}))


def test_a_secret_key_is_found_in_an_answer_after_the_bodies() -> None:
    # Searched with the run's bodies, after them: here in the second chunk.
    assert _hidden(_history(answers={0: '{"error": "bad", "password": "' + SEED}))


# Texts of the pieces the searches look for, in any case, and of what makes a text special.
_PIECES = st.sampled_from(
    [
        *("token", "SeCrEt", "api-key", "Api_Key", "passw", "authorization", "cvv", "iban"),
        *("\\u0074", "\\", "%5F", "%", "é", "\u212a", "\u0130", "\x00", '"k": 1', "api", "key"),
    ]
)
_TEXTS = st.lists(st.lists(_PIECES, max_size=4).map("".join), max_size=40)


@given(_TEXTS)
def test_a_batch_finds_what_each_text_one_by_one_finds(texts: list[str]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_batch_search, "CHUNK", 7)  # chunk boundaries among few texts
        payloads = holding_sensitive_keys(texts)
        bodies = _redact._naming_keys(texts)
        headers = _redact._naming_headers(texts)
    assert payloads == [i for i, text in enumerate(texts) if may_hold_sensitive_key(text)]
    assert bodies == [i for i, text in enumerate(texts) if _redact._may_name_key(text)]
    assert headers == [i for i, text in enumerate(texts) if _redact._names_header(text)]


def test_words_a_batch_cannot_search_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        passing(["a"], bool, ["to\x00ken"])
