"""A downstream's ``idempotency_key:``: whether its API honours the key or ignores it.

Slack's chat.postMessage, mail APIs and most CRMs ignore an Idempotency-Key: a retried message
with a key is a second message. Declared ``ignored``, the stateful double applies each repeat
and no_duplicate_effects counts it; undeclared, the key is taken as honoured and the verdict
says which repeats only the key excused, and where.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.core._model import ISSUED_MARK, KEY_REPLAY_MARK, Effect, Status
from harness.core._scenario import DownstreamSpec
from harness.history import History, Mark
from harness.invariants._idempotent import KeyRule, Repeats, repeat_settings
from harness.invariants.no_duplicate_effects import Repeat, classify
from harness.scenario._load import load_scenario

from .doubles import started
from .test_invariants import delivery, effect, event, history, one
from .test_resources import call
from .test_scenario_yaml import MINIMAL, error_of, write

KEY = {"Idempotency-Key": "whk_1"}


def keyed_twice(path: str = "/payouts", n: int = 1) -> list[Effect]:
    """Event ``n``'s POST to ``path`` and its repeat, with the same key."""
    first = effect(f"eff_{n}a", [f"evt_{n}"], 0.1 * n, "POST", path, '{"a":1}', KEY)
    return [first, replace(first, id=f"eff_{n}b", at=0.1 * n + 0.05)]


def declared(h: History, keys: dict[str, Any]) -> History:
    """``h`` as if its run's downstream api declared ``keys`` (honoured/ignored routes)."""
    settings = {**h.info.settings, "idempotency_key": {"api": keys}}
    return replace(h, info=replace(h.info, settings=settings))


def run_of(*effects: Effect, events: int = 1) -> History:
    return history(
        [event(n) for n in range(1, events + 1)],
        [delivery(f"dlv_{n}", f"evt_{n}") for n in range(1, events + 1)],
        list(effects),
    )


# --- judging ------------------------------------------------------------------------------


def test_a_repeat_excused_only_by_an_undeclared_key_passes_saying_what_it_assumed() -> None:
    v = one(run_of(*keyed_twice()), "no_duplicate_effects")
    assert v.status is Status.PASS
    assert v.summary.startswith(
        "no harmful duplicate effects: 1 repeat with the same Idempotency-Key: harmless; "
        "1 repeat excused by the Idempotency-Key alone, assumed harmless: no idempotency_key: "
        "declared for POST /payouts (api): 1, so its API was taken to honour the key"
    ), v.summary
    assert "declare `idempotency_key: honoured` or `ignored` on downstream api" in v.summary
    # The witness says it too, shortly.
    assert v.evidence.lines[0].endswith("(1 repeat with the same Idempotency-Key: harmless if "
                                        "its API honours the key)"), v.evidence.lines  # fmt: skip


def test_a_write_the_stateful_double_replayed_for_its_key_is_said_assumed() -> None:
    """The stateful double answers a repeat with its key's first answer and changes nothing:
    the effect is no write, so no repeat; its KEY_REPLAY_MARK names it. It passed saying only
    'no event produced a repeated effect'."""
    first, again = keyed_twice()
    replayed = replace(again, committed=False)
    h = run_of(first, replayed)
    h = replace(h, marks=[Mark(0.15, KEY_REPLAY_MARK, json.dumps({"effect": replayed.id}))])
    v = one(h, "no_duplicate_effects")
    assert v.status is Status.PASS
    assert v.summary == (
        "no event produced a repeated effect (1 effect over 1 event); 1 repeat excused by the "
        "Idempotency-Key alone (all answered by the stateful double with the key's first "
        "answer, not applied), assumed harmless: no idempotency_key: declared for POST "
        "/payouts (api): 1, so its API was taken to honour the key (Stripe's does; Slack's "
        "chat.postMessage, mail APIs and most CRMs ignore it and make the repeat again); "
        "declare `idempotency_key: honoured` or `ignored` on downstream api (see "
        "docs/invariants.md)"
    )
    assert v.evidence.lines == (
        "POST /payouts (api) eff_1b: 1 write answered by the stateful double with the first "
        "answer for the same Idempotency-Key, assumed honoured by its API",
    )
    assert v.evidence.effect_ids == ("eff_1b",)
    honoured = one(declared(h, {"honoured": ["POST /payouts"]}), "no_duplicate_effects")
    assert honoured.summary == "no event produced a repeated effect (1 effect over 1 event)"


def test_a_key_declared_honoured_is_harmless_without_an_assumption() -> None:
    v = one(declared(run_of(*keyed_twice()), {"honoured": ["* /*"]}), "no_duplicate_effects")
    assert v.status is Status.PASS
    assert v.summary == (
        "no harmful duplicate effects: 1 repeat with the same Idempotency-Key: harmless"
    )


def test_a_key_declared_ignored_excuses_nothing() -> None:
    v = one(declared(run_of(*keyed_twice()), {"ignored": ["* /*"]}), "no_duplicate_effects")
    assert v.status is Status.FAIL
    assert v.summary == (
        "1 of 1 event produced duplicate effects: 1 repeated request (1 POST); all of them made "
        "again by the automation itself after the API had answered the first 2xx, with no "
        "delivery of the event in between (e.g. POST /payouts eff_1a, answered 200, made again "
        "as eff_1b 0.1 s later): the same work run twice — a job whose lease (visibility "
        "timeout) ran out while it was still working, or whose worker died after the call and "
        "before the job was marked done; mark the job done in the same step as its call"
    )


def test_per_route_ignored_wins_and_the_honoured_route_stays_harmless() -> None:
    """One gateway: the CRM honours the key, Slack ignores it; ``* /*`` honoured and a Slack
    route ignored: ignored wins where both cover a write."""
    h = run_of(*keyed_twice("/crm/orders", 1), *keyed_twice("/slack/chat.postMessage", 2), events=2)
    for keys in (
        {"honoured": ["POST /crm/*"], "ignored": ["POST /slack/*"]},
        {"honoured": ["* /*"], "ignored": ["POST /slack/chat.postMessage"]},
    ):
        v = one(declared(h, keys), "no_duplicate_effects")
        assert v.status is Status.FAIL, keys
        assert v.summary.startswith(
            "1 of 2 events produced duplicate effects: 1 repeated request (1 POST); all of "
            "them made again by the automation itself"
        ), v.summary
        assert v.summary.endswith("; 1 repeat with the same Idempotency-Key: harmless")
        assert v.evidence.event_ids == ("evt_2",)


def test_an_event_written_three_times_is_classified_by_the_rule_too() -> None:
    writes = [*keyed_twice(), replace(keyed_twice()[0], id="eff_1c", at=0.3)]
    kinds = {
        rule: [kind for _, kind in classify(writes, Repeats({"idempotency_key": {"api": keys}}))]
        for rule, keys in (("ignored", {"ignored": ["POST /payouts"]}), ("none", {}))
    }
    assert kinds == {
        "ignored": [Repeat.DUPLICATE, Repeat.DUPLICATE],
        "none": [Repeat.SAME_KEY, Repeat.SAME_KEY],
    }
    v = one(declared(run_of(*writes), {"ignored": ["POST /payouts"]}), "no_duplicate_effects")
    assert v.status is Status.FAIL
    assert "2 repeated requests (2 POST)" in v.summary


def test_a_write_naming_no_event_with_an_ignored_key_may_harm() -> None:
    write_ = effect("eff_1", [], 0.1, "POST", "/slack/chat.postMessage", "{}", KEY)
    assert not Repeats({}).may_harm(write_)
    ignored = Repeats({"idempotency_key": {"api": {"ignored": ["POST /slack/*"]}}})
    assert ignored.may_harm(write_)
    assert ignored.key_rule(write_) is KeyRule.IGNORED
    assert ignored.key(write_) is None


def test_the_declaration_is_kept_in_the_runs_settings(tmp_path: Path) -> None:
    """Judged offline (``harness check``) as the run was."""
    keys = "{honoured: ['POST /crm/*'], ignored: ['* /*']}"
    path = write(
        tmp_path,
        MINIMAL + f"downstreams:\n  - name: gateway\n    idempotency_key: {keys}\n  - name: crm\n",
    )
    assert repeat_settings(load_scenario(path)) == {
        "idempotency_key": {"gateway": {"honoured": ["POST /crm/*"], "ignored": ["* /*"]}}
    }


# --- the stateful double ------------------------------------------------------------------


async def test_the_stateful_double_applies_each_repeat_where_the_key_is_ignored() -> None:
    """The CRM's repeat is replayed (and marked so), Slack's applied again."""
    spec = DownstreamSpec("gateway", stateful=True, key_ignored=("POST /slack/*",))
    marks: list[tuple[str, str]] = []
    async with started(spec, on_mark=lambda *mark: marks.append(mark)) as (
        double,
        effects,
        session,
    ):
        for path in ("/crm/orders", "/slack/chat.postMessage"):
            for _ in range(2):
                await call(session, "POST", path, json={"n": 1}, headers=KEY)
        held = [(r.collection, r.id) for r in double.resources() or []]
        assert held == [
            ("/crm/orders", "ds_1"),
            ("/slack/chat.postMessage", "ds_2"),
            ("/slack/chat.postMessage", "ds_3"),
        ]
        assert [e.committed for e in effects] == [True, False, True, True]
        replays = [m for m in marks if m[0] == KEY_REPLAY_MARK]
        assert replays == [(KEY_REPLAY_MARK, json.dumps({"effect": effects[1].id}))]
        # Each creation's id, for a later call naming it (invariants/_undone); not the replay's.
        assert [m for m in marks if m[0] == ISSUED_MARK] == [
            (ISSUED_MARK, json.dumps({"effect": effects[n].id, "id": made}))
            for n, made in ((0, "ds_1"), (2, "ds_2"), (3, "ds_3"))
        ]


# --- the declaration in a scenario file ---------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "honoured", "ignored"),
    [
        ("    idempotency_key: ignored\n", (), ("* /*",)),
        ("    idempotency_key: honoured\n", ("* /*",), ()),
        (
            "    idempotency_key: {honoured: ['POST /crm/*'], ignored: ['post /slack/*']}\n",
            ("POST /crm/*",),
            ("POST /slack/*",),
        ),
        ("", (), ()),
    ],
)
def test_idempotency_key_is_loaded(
    tmp_path: Path, tail: str, honoured: tuple[str, ...], ignored: tuple[str, ...]
) -> None:
    path = write(tmp_path, MINIMAL + "downstreams:\n  - name: crm\n" + tail)
    [crm] = load_scenario(path).downstreams
    assert (crm.key_honoured, crm.key_ignored) == (honoured, ignored)


@pytest.mark.parametrize(
    ("tail", "line", "said"),
    [
        (
            "    idempotency_key: ignore\n",
            9,
            "downstreams[0].idempotency_key: 'ignore' is not allowed — must be honoured or "
            "ignored (did you mean 'ignored'?), or a mapping with honoured and ignored route "
            "lists",
        ),
        (
            "    idempotency_key: 3\n",
            9,
            "downstreams[0].idempotency_key: 3 is not allowed — must be honoured or ignored, or "
            "a mapping with honoured and ignored route lists",
        ),
        (
            "    idempotency_key: {honored: ['POST /slack/*']}\n",
            9,
            "downstreams[0].idempotency_key: unknown field 'honored' — allowed: honoured, "
            "ignored (did you mean 'honoured'?)",
        ),
        (
            "    idempotency_key:\n      ignored: ['POST /slack/*', 'GET /slack/*']\n",
            10,
            "downstreams[0].idempotency_key.ignored[1]: 'GET /slack/*' is not allowed — must be "
            "POST, PUT, PATCH, DELETE or '*' and a path, like 'POST /v1/charges'",
        ),
        (
            "    idempotency_key: {ignored: 'POST /slack/*'}\n",
            9,
            "downstreams[0].idempotency_key.ignored: 'POST /slack/*' is not allowed — must be a "
            "list of routes",
        ),
        (
            "    idempotency_key: {ignored: ['POST /slack/{x']}\n",
            9,
            "must be a method and a path whose segments are literal, a whole '{name}', or a "
            "trailing '*'",
        ),
        (
            "    idempotency_key:\n      honoured: ['POST /c/{id}']\n"
            "      ignored: ['POST /b', 'POST /c/{x}']\n",
            11,
            "downstreams[0].idempotency_key.ignored: 'POST /c/{x}' is also honoured (as "
            "'POST /c/{id}') — its API either deduplicates a write repeated with the same "
            "Idempotency-Key or makes it again; keep the route in one of them",
        ),
    ],
)
def test_a_bad_idempotency_key_is_refused_at_its_line(
    tmp_path: Path, tail: str, line: int, said: str
) -> None:
    path = write(tmp_path, MINIMAL + "downstreams:\n  - name: crm\n" + tail)
    error = error_of(path)
    assert f"{path}:{line}: " in error, error
    assert said in error, error
