"""final_state_matches_baseline on hand-made histories, and the final state in the journal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.core._model import (
    STATE_MARK,
    STATE_UNAVAILABLE_MARK,
    Delivery,
    Effect,
    Event,
    Model,
    Outcome,
    StateRecord,
    Status,
    Verdict,
)
from harness.core._scenario import InvariantSpec
from harness.history import History, Journal, Mark, RunInfo, load, load_all
from harness.invariants import judge

NAME = "final_state_matches_baseline"


def info(tag: str, **settings: object) -> RunInfo:
    return RunInfo(
        f"s@{tag}", "s", 1, "http://127.0.0.1:1/", "t", Model.REGISTER, (), "", tag, "", settings
    )


def contact(tag: str, name: str, *, rid: str | None = None) -> StateRecord:
    """A contact of record 0 as a stateful double holds it; ``rid`` a generated id."""
    key = f"con_{tag}k0"
    body = {"name": f"{name} {tag}e1", "id": rid or key}
    return StateRecord("crm", "/contacts", rid or key, body, (f"evt_{tag}e1",), key)


def run(
    tag: str, states: list[StateRecord], effects: Sequence[Effect] = (), status: int = 200
) -> History:
    """Record 0's one event, delivered once and answered ``status``."""
    events = [Event(f"evt_{tag}e1", f"con_{tag}k0", 1, "contact.updated", 0.0, {})]
    outcome = Outcome.OK if status < 300 else Outcome.FAILED
    deliveries = [Delivery("dlv_1", events[0].id, 1, 0.1, 0.1, 0.2, status, outcome)]
    h = History(info(tag), events, deliveries, list(effects), marks=[Mark(1.0, STATE_MARK, "crm")])
    h.states = states
    return h


def judged(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec(NAME)])
    return v


def with_baseline(h: History, baseline: History) -> History:
    h.info = replace(h.info, settings={"baseline": baseline.info.run_id})
    h.baseline = baseline
    return h


def put(tag: str, eff: str, name: str) -> Effect:
    body = json.dumps({"name": f"{name} {tag}e1"})
    return Effect(
        eff,
        "crm",
        1.0,
        "PUT",
        f"/contacts/con_{tag}k0",
        {},
        body,
        200,
        (f"evt_{tag}e1",),
        f"con_{tag}k0",
    )


def test_tokens_are_mapped_between_runs_and_generated_ids_not_compared() -> None:
    base = run("zqbbbbb", [contact("zqbbbbb", "Ada", rid="ds_1")])
    mine = run("zqaaaaa", [contact("zqaaaaa", "Ada", rid="ds_7")])
    v = judged(with_baseline(mine, base))
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no record ends in another state than in the baseline run s@zqbbbbb (the final state); "
        "1 record compared"
    )


def test_a_field_that_differs_is_shown_with_both_values_and_its_writes() -> None:
    base = run("zqbbbbb", [contact("zqbbbbb", "Ada")])
    mine = run("zqaaaaa", [contact("zqaaaaa", "Bob")], [put("zqaaaaa", "eff_1", "Bob")])
    v = judged(with_baseline(mine, base))
    assert v.status is Status.FAIL
    # The baseline's value is shown in this run's tokens, as this run would have written it.
    assert v.evidence.lines == (
        'record con_zqaaaaak0 (the final state): crm /contacts: name: "Bob zqaaaaae1" '
        '(baseline "Ada zqaaaaae1"); written by PUT /contacts/con_zqaaaaak0 eff_1, last by '
        "eff_1 of event evt_zqaaaaae1 (record con_zqaaaaak0, seq 1)",
    )
    assert v.evidence.effect_ids == ("eff_1",) and v.evidence.event_ids == ("evt_zqaaaaae1",)


def numbered(tag: str, order: int, customer: int, name: str) -> History:
    """A Shopify-like run: its order (the event's id) and customer (the record) JSON numbers,
    renumbered per run as the tracer does; the CRM holds the contact under the customer id."""
    events = [Event(str(order), str(customer), 0, "orders/create", 0.0, {})]
    body = {"id": customer, "name": name, "orders": [order], "path": f"/customers/{customer}"}
    state = StateRecord("crm", "/contacts", str(customer), body, (str(order),), str(customer))
    h = History(info(tag), events, [], [], marks=[Mark(1.0, STATE_MARK, "crm")])
    h.states = [state]
    return h


def test_ids_and_keys_held_as_numbers_are_mapped_between_runs_by_seq() -> None:
    """Each run renumbers them (drive/_tracer): the same customer is 7234567891234 in the
    baseline and 7380211557651 here. Compared as they were, every record was "1 missing, 1
    extra"."""
    base = numbered("zqbbbbb", 5040876904547, 7234567891234, "Ada")
    same = numbered("zqaaaaa", 5173320931107, 7380211557651, "Ada")
    v = judged(with_baseline(same, base))
    assert v.status is Status.PASS, v.evidence.lines
    other = numbered("zqaaaaa", 5173320931107, 7380211557651, "Bob")
    v = judged(with_baseline(other, base))
    assert v.status is Status.FAIL and v.summary.endswith(": 1 differs"), v.summary
    # Shown in this run's numbers, the baseline's value too.
    assert v.evidence.lines[0].startswith(
        'record 7380211557651 (the final state): crm /contacts: name: "Bob" (baseline "Ada")'
    ), v.evidence.lines


def test_a_missing_record_is_named() -> None:
    base = run("zqbbbbb", [contact("zqbbbbb", "Ada")])
    v = judged(with_baseline(run("zqaaaaa", []), base))
    assert v.status is Status.FAIL and v.summary.endswith(": 1 missing")
    assert "crm /contacts: missing (the baseline has {" in v.evidence.lines[0]
    assert "no write of this run names it" in v.evidence.lines[0]


def test_a_record_missing_because_every_event_of_it_was_refused_is_not_failed() -> None:
    """A target that refused the record's every delivery (dead, or 503 throughout) told the
    sender: the record is missing, refused, not lost (the gallery's dies_midrun under
    import-run-twice was failed '36 of 36 records … 36 missing' with nothing accepted)."""
    base = run("zqbbbbb", [contact("zqbbbbb", "Ada")])
    v = judged(with_baseline(run("zqaaaaa", [], status=503), base))
    assert v.status is not Status.FAIL, v.summary
    assert "1 record missing, the target having accepted none of its events: refused" in (v.summary)


def test_a_baseline_that_stopped_watching_early_is_no_end_state_to_compare() -> None:
    """The clean run of a scheduled sync took its final state before the sync ran (its payout
    came late): this run's every record was 'extra' (the gallery's scheduled_sync under
    import-run-twice: '40 of 40 records … 40 extra', with no event paid twice)."""
    base = run("zqbbbbb", [])
    base.late_effects = [put("zqbbbbb", "eff_late", "Ada")]
    v = judged(with_baseline(run("zqaaaaa", [contact("zqaaaaa", "Ada")]), base))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "1 record not judged: the baseline run stopped watching before its target was done" in (
        v.summary
    )


def test_a_record_the_clean_run_was_sent_and_never_wrote_is_not_judged_extra() -> None:
    """A Node-RED flow dropping what comes faster than its rate limit dropped nearly all of its
    clean run (sent back to back): this run's records were '28 extra' against it."""
    base = run("zqbbbbb", [])
    v = judged(with_baseline(run("zqaaaaa", [contact("zqaaaaa", "Ada")]), base))
    assert v.status is not Status.FAIL, v.summary
    assert "1 record not judged: this run wrote it and the clean run, sent events of each" in (
        v.summary
    )
    # A record under a key the clean run never saw is still an extra one.
    stray = StateRecord("crm", "/contacts", "con_other", {"name": "Eve"}, (), "con_other")
    v = judged(with_baseline(run("zqaaaaa", [contact("zqaaaaa", "Ada"), stray]), base))
    assert v.status is Status.FAIL and "1 extra" in v.summary, v.summary


def test_without_a_snapshot_the_last_write_per_record_is_compared() -> None:
    base = run("zqbbbbb", [], [put("zqbbbbb", "eff_1", "Ada")])
    base.marks = []
    mine = run("zqaaaaa", [], [put("zqaaaaa", "eff_1", "Ada"), put("zqaaaaa", "eff_2", "Bob")])
    mine.marks = []
    v = judged(with_baseline(mine, base))
    assert v.status is Status.FAIL
    assert "(the last write per record): crm last write: body.name:" in v.evidence.lines[0]
    same = run("zqaaaaa", [], [put("zqaaaaa", "eff_1", "Ada")])
    same.marks = []
    assert judged(with_baseline(same, base)).passed


def test_inconclusive_without_baseline_without_state_or_when_state_was_unreadable() -> None:
    alone = judged(run("zqaaaaa", []))
    assert alone.status is Status.INCONCLUSIVE
    assert "no baseline run" in alone.summary
    gone = run("zqaaaaa", [])
    gone.info = replace(gone.info, settings={"baseline": "s@zqzzzzz"})
    assert "'s@zqzzzzz' is not in this journal" in judged(gone).summary
    empty_base, empty = run("zqbbbbb", []), run("zqaaaaa", [])
    empty_base.marks, empty.marks = [], []
    v = judged(with_baseline(empty, empty_base))
    assert v.status is Status.INCONCLUSIVE and "set `stateful: true`" in v.summary
    broken = run("zqaaaaa", [])
    broken.marks.append(Mark(2.0, STATE_UNAVAILABLE_MARK, "observer: cannot connect\n  hint: x"))
    v = judged(with_baseline(broken, run("zqbbbbb", [])))
    assert v.status is Status.INCONCLUSIVE
    assert v.summary == (
        "the final state of this run could not be read: observer: cannot connect\n  hint: x"
    )


def test_the_journal_keeps_the_final_state_and_loads_the_baseline(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = Journal(path)
    base_info = info("zqbbbbb")
    journal.begin(base_info, [])
    journal.states([contact("zqbbbbb", "Ada", rid="ds_1")])
    journal.end("complete", 1.0)
    journal.begin(info("zqaaaaa", baseline=base_info.run_id), [])
    journal.states([contact("zqaaaaa", "Ada", rid="ds_1"), contact("zqaaaaa", "Al")])
    journal.end("complete", 1.0)
    journal.close()
    loaded = load(path, "s@zqaaaaa")
    assert loaded.states == [contact("zqaaaaa", "Ada", rid="ds_1"), contact("zqaaaaa", "Al")]
    assert loaded.baseline is not None and loaded.baseline.info == base_info
    assert loaded.baseline.states == [contact("zqbbbbb", "Ada", rid="ds_1")]
    assert loaded.baseline.baseline is None


def test_load_all_reads_a_baseline_once_and_survives_runs_that_name_each_other(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    journal = Journal(path)
    base_info = info("zqbbbbb")
    journal.begin(base_info, [])
    journal.states([contact("zqbbbbb", "Ada", rid="ds_1")])
    journal.end("complete", 1.0)
    journal.begin(info("zqaaaaa", baseline=base_info.run_id), [])
    journal.end("complete", 1.0)
    # A journal edited by hand: two runs that each name the other as their baseline.
    journal.begin(info("zqccccc", baseline="s@zqddddd"), [])
    journal.end("complete", 1.0)
    journal.begin(info("zqddddd", baseline="s@zqccccc"), [])
    journal.end("complete", 1.0)
    journal.close()
    base, run, c, d = load_all(path)
    assert run.baseline is base and base.baseline is None
    assert c.baseline is d and d.baseline is c
    alone = load(path, "s@zqccccc")
    assert alone.baseline is not None and alone.baseline.baseline is alone


def _tied(stamps: tuple[int, int], sent: tuple[float, float]) -> Verdict:
    """Two updates of one contact, their times at ``$.created`` in whole seconds (Stripe's
    ``created``), sent at ``sent``; the newer one's write lands first, so this run ends on the
    older one's state where the baseline, fed one event at a time, ends on the newer one's."""

    def contact_run(tag: str, stamped: bool) -> History:
        key = f"con_{tag}k0"
        events = [
            Event(f"evt_{tag}e{n}", key, n, "contact.updated", 0.0, {"created": t})
            for n, t in zip((1, 2), stamps, strict=True)
        ]
        latencies = (0.3, 0.05)
        deliveries = [
            Delivery(f"dlv_{n}", e.id, 1, s, s, s + lat, 200, Outcome.OK, None)
            for n, e, s, lat in zip((1, 2), events, sent, latencies, strict=True)
        ]
        writes = [replace(put(tag, "eff_2", "New"), event_ids=(events[1].id,))]
        writes.append(replace(put(tag, "eff_1", "Old"), at=1.1))
        last = "New" if not stamped else "Old"
        body = {"name": f"{last} {tag}e1", "id": key}
        h = History(
            replace(info(tag), settings={"paths": {"time": "$.created"}}),
            events,
            deliveries,
            writes if stamped else writes[:1],
            marks=[Mark(1.2, STATE_MARK, "crm")],
        )
        h.states = [StateRecord("crm", "/contacts", key, body, (events[0].id,), key)]
        return h

    mine = contact_run("zqaaaaa", stamped=True)
    baseline = contact_run("zqbbbbb", stamped=False)
    mine.info = replace(mine.info, settings={**mine.info.settings, "baseline": "s@zqbbbbb"})
    mine.baseline = baseline
    return judged(mine)


def test_an_older_state_nothing_told_from_the_newest_is_not_judged() -> None:
    """The same second, the newer update sent while the older was unanswered: a correct
    automation (tests/gallery/stale_guard.py, keeping each contact's newest time) may end on
    either. It was failed, though per_key_order did not judge the same pair."""
    v = _tied((1700000000, 1700000000), (0.0, 0.1))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary == (
        "no record could be judged against the baseline run s@zqbbbbb (the final state); 1 "
        "record not judged: each ends on the state of an older event than its newest, with the "
        "same time at $.created (or the older's the later), and the two reached the target "
        "together, so nothing told their order (the baseline, sent one event at a time, ends on "
        "the newest)"
    )


def test_an_older_state_is_failed_when_its_time_or_its_arrival_told_the_order() -> None:
    by_time = _tied((1700000000, 1700000001), (0.1, 0.0))
    by_arrival = _tied((1700000000, 1700000000), (0.0, 0.5))
    for v in (by_time, by_arrival):
        assert v.status is Status.FAIL, v.summary
        assert v.summary.startswith("1 of 1 record ends in another state"), v.summary
        assert "last by eff_1 of event evt_zqaaaaae1" in v.evidence.lines[0], v.evidence.lines


def _points(tag: str, raced: bool) -> History:
    """Two orders of one member, the same second at ``$.created``, each adding its points to
    the balance it read (tests/gallery/loyalty_points.py): one at a time (the baseline) the
    writes are 10 then 30; raced, both read 0, the newer's 20 lands first and the older's 10
    last, overwriting it."""
    key = f"mem_{tag}k0"
    events = [
        Event(f"evt_{tag}e{n}", key, n, "orders/create", 0.0, {"created": 1700000000})
        for n in (1, 2)
    ]
    sent = (0.0, 0.0) if raced else (0.0, 0.5)
    deliveries = [
        Delivery(f"dlv_{n}", e.id, 1, s, s, s + 0.3, 200, Outcome.OK, None)
        for n, e, s in zip((1, 2), events, sent, strict=True)
    ]
    written = ((1, 20, 0.1), (0, 10, 0.2)) if raced else ((0, 10, 0.1), (1, 30, 0.6))
    writes = [
        Effect(
            f"eff_{n}",
            "api",
            at,
            "PUT",
            f"/members/{key}",
            {},
            json.dumps({"points": points}),
            200,
            (events[n].id,),
            key,
        )
        for n, points, at in written
    ]
    h = History(
        replace(info(tag), model=Model.LEDGER, settings={"paths": {"time": "$.created"}}),
        events,
        deliveries,
        writes,
        marks=[Mark(1.0, STATE_MARK, "api")],
    )
    body = {"points": json.loads(writes[-1].body)["points"], "id": key}
    h.states = [StateRecord("api", "/members", key, body, writes[-1].event_ids, key)]
    return h


def test_a_lost_update_is_not_taken_for_an_older_state_nothing_told() -> None:
    """The member ends on the older order's write, and the two orders were the same second
    and arrived together: it was not judged, as if the record held the older order's state.
    It holds a balance short of the newer order's points: the newer's write (20) is not the
    one the baseline made for it (30), so the writes are no event's own state."""
    mine = _points("zqaaaaa", raced=True)
    mine.info = replace(mine.info, settings={**mine.info.settings, "baseline": "s@zqbbbbb"})
    mine.baseline = _points("zqbbbbb", raced=False)
    v = judged(mine)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 1 record ends in another state"), v.summary
    assert "points: 10 (baseline 30)" in v.evidence.lines[0], v.evidence.lines


def _activity(tag: str, lines: int) -> list[StateRecord]:
    """``lines`` activity lines a stateful double holds under a generated id, naming no record."""
    body = {"action": "opened", "by": "mona-lisa"}
    return [
        StateRecord("crm", f"/tickets/t-{n}/activity", f"ds_{n}", {**body, "id": f"ds_{n}"}, ())
        for n in range(lines)
    ]


def test_the_resources_naming_no_record_are_not_counted_as_a_record() -> None:
    """A record and activity lines naming none: 'of 1 record', and the lines said apart —
    the lines were counted as a record of their own ('1 of 2 records')."""
    base = run("zqbbbbb", [contact("zqbbbbb", "Ada"), *_activity("zqbbbbb", 1)])
    same = run("zqaaaaa", [contact("zqaaaaa", "Ada"), *_activity("zqaaaaa", 1)])
    v = judged(with_baseline(same, base))
    assert v.status is Status.PASS, v.summary
    assert v.summary.endswith(
        "; 1 record compared, and the 1 resource naming no record (in 1 collection)"
    ), v.summary
    twice = run("zqaaaaa", [contact("zqaaaaa", "Ada"), *_activity("zqaaaaa", 1) * 2])
    v = judged(with_baseline(twice, base))
    assert v.status is Status.FAIL
    assert v.summary == (
        "the 2 resources naming no record (in 1 collection; the baseline's: 1) end in another "
        "state than in the baseline run s@zqbbbbb (the final state); no record differs (1 "
        "record compared)"
    ), v.summary
    assert v.evidence.lines[0].startswith("resources naming no record (the final state): crm ")
    both = run("zqaaaaa", [contact("zqaaaaa", "Bob"), *_activity("zqaaaaa", 2)])
    v = judged(with_baseline(both, base))
    assert v.summary.startswith(
        "1 of 1 record ends in another state than in the baseline run s@zqbbbbb (the final "
        "state): 1 differs; the 2 resources naming no record (in 2 collections; the baseline's: "
        "1) end in another state than in the baseline"
    ), v.summary


def test_as_many_resources_naming_no_record_with_other_values_are_not_judged() -> None:
    """A ledger of entries naming nothing, each with the running balance after it: events in
    another order leave other balances, as many entries (derived_ids under out-of-order was
    failed 'the 120 resources naming no record … end in another state')."""
    base = run("zqbbbbb", [contact("zqbbbbb", "Ada"), *_activity("zqbbbbb", 2)])
    other = _activity("zqaaaaa", 2)
    other[1] = StateRecord(
        "crm", "/tickets/t-1/activity", "ds_1", {"action": "closed", "id": "ds_1"}, ()
    )
    v = judged(with_baseline(run("zqaaaaa", [contact("zqaaaaa", "Ada"), *other]), base))
    assert v.status is Status.PASS, v.summary
    assert "; 1 record compared; the 2 resources naming no record (in 2 collections) hold as " in (
        v.summary
    ), v.summary
    assert "not judged" in v.summary


def _changes(tag: str, values: Sequence[str]) -> History:
    """A register run of one contact's changes, each PATCHing ``lifecyclestage`` to its value,
    the contact ending on the last."""
    key = f"con_{tag}k0"
    events = [
        Event(f"evt_{tag}e{n}", key, n, "contact.propertyChange", 0.0, {})
        for n in range(len(values))
    ]
    writes = [
        Effect(
            f"eff_{n}",
            "crm",
            float(n),
            "PATCH",
            f"/contacts/{key}",
            {},
            json.dumps({"lifecyclestage": value}),
            200,
            (e.id,),
            key,
        )
        for n, (e, value) in enumerate(zip(events, values, strict=True))
    ]
    body = {"lifecyclestage": values[-1], "id": key}
    state = StateRecord("crm", "/contacts", key, body, (events[-1].id,), key)
    h = History(info(tag), events, [], writes, marks=[Mark(9.0, STATE_MARK, "crm")])
    h.states = [state]
    return h


def test_a_pass_where_no_event_changed_a_value_says_nothing_shows_order() -> None:
    """Every change of the contact set lifecyclestage to 'customer' (the library's HubSpot
    payload did): a record left on an older change ends as on its newest, and the match shows
    nothing of order — inconclusive, saying so, where it passed. Values that change: a pass."""
    constant = ["customer", "customer", "customer"]
    v = judged(with_baseline(_changes("zqaaaaa", constant), _changes("zqbbbbb", constant)))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.endswith(
        "1 record compared — but nothing shows order: in the clean run, no record of several "
        "events (1 record) got another value in one write than in another, so a record left "
        "on an older event's state would end the same; give the events values that change "
        "from one to the next (a property's new value, a name, an amount)"
    ), v.summary
    # Writes naming no event, only their record (a numeric HubSpot id): the same.
    unnamed = _changes("zqbbbbb", constant)
    unnamed.effects = [replace(w, event_ids=()) for w in unnamed.effects]
    v = judged(with_baseline(_changes("zqaaaaa", constant), unnamed))
    assert v.status is Status.INCONCLUSIVE, v.summary
    changing = ["lead", "opportunity", "customer"]
    v = judged(with_baseline(_changes("zqaaaaa", changing), _changes("zqbbbbb", changing)))
    assert v.status is Status.PASS, v.summary


def _coalesced(tag: str, values: Sequence[str]) -> History:
    """One contact's changes, each setting ``lifecyclestage`` to its value, written once
    after the last (tests/gallery/debounce_sync.py: a debounce writes the newest only)."""
    h = _changes(tag, values)
    changes = zip(h.events, values, strict=True)
    h.events = [replace(e, payload={"lifecyclestage": v}) for e, v in changes]
    h.effects = h.effects[-1:]
    return h


def test_a_record_its_clean_run_wrote_once_shows_order_by_its_events_values() -> None:
    """A debounce writes each contact once, with its newest change: one write per record, so
    no value ever changed from one write to another, and the match was inconclusive, telling
    the user to give the events values that change — they did. Another change's write would
    have differed: the match shows order, and passes. Events all alike still show none."""
    changing = ["lead", "opportunity", "customer"]
    v = judged(with_baseline(_coalesced("zqaaaaa", changing), _coalesced("zqbbbbb", changing)))
    assert v.status is Status.PASS, v.summary
    constant = ["customer", "customer", "customer"]
    v = judged(with_baseline(_coalesced("zqaaaaa", constant), _coalesced("zqbbbbb", constant)))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "nothing shows order" in v.summary, v.summary


def _derived(tag: str, plans: tuple[str, str], stale: bool) -> History:
    """One contact's two changes, each PUT with a plan code the automation derived from the
    event's plan ('Basic 2023' -> 'basic_2023'); ``stale``: the older change's write came last
    (the newer event's time told the order), so the contact ends on the older plan."""
    key = f"con_{tag}k0"
    events = [
        Event(f"evt_{tag}e{n}", key, n, "contact.updated", 0.0, {"created": t, "plan": p})
        for n, t, p in zip((1, 2), (1700000000, 1700000001), plans, strict=True)
    ]
    codes = [p.lower().replace(" ", "_") for p in plans]
    writes = [
        Effect(
            f"eff_{n}",
            "crm",
            at,
            "PUT",
            f"/contacts/{key}",
            {},
            json.dumps({"plan": code}),
            200,
            (e.id,),
            key,
        )
        for n, e, code, at in zip(
            (1, 2), events, codes, (1.1, 1.0) if stale else (1.0, 1.1), strict=True
        )
    ]
    writes.sort(key=lambda w: w.at)
    body = {"plan": codes[0] if stale else codes[1], "id": key}
    h = History(
        replace(info(tag), settings={"paths": {"time": "$.created"}}),
        events,
        [],
        writes,
        marks=[Mark(1.2, STATE_MARK, "crm")],
    )
    h.states = [StateRecord("crm", "/contacts", key, body, (events[0].id,), key)]
    return h


def test_a_stale_value_the_automation_derived_from_the_event_is_compared() -> None:
    """A contact left on its older change's plan, the plan a code the automation derived from
    the event's ('pro_2024'): in no event, in neither run's final state but its own, and holding
    a digit, it was left out as made ('not compared: plan') and the stale overwrite passed. The
    baseline wrote that code too, from the same older event: a value either run wrote is not
    one run's own making."""
    for snapshot in (True, False):  # the stateful double's state, or the last write per record
        mine = _derived("zqaaaaa", ("Basic 2023", "Pro 2024"), stale=True)
        base = _derived("zqbbbbb", ("Basic 2023", "Pro 2024"), stale=False)
        if not snapshot:
            for h in (mine, base):
                h.states, h.marks = [], []
        v = judged(with_baseline(mine, base))
        assert v.status is Status.FAIL, v.summary
        assert 'plan: "basic_2023" (baseline "pro_2024")' in v.evidence.lines[0], v.evidence.lines
        assert "not compared" not in v.summary


def _ticket_run(tag: str, ends_on: int) -> History:
    """An issue's ticket of two events (opened, seq 0; closed, seq 1) as a stateful double holds
    it, its state naming the event it ended on (its title carries that event's token)."""
    key = f"iss_{tag}k0"
    events = [Event(f"evt_{tag}e{n}", key, n, "issues", 0.0, {}) for n in (0, 1)]
    state = "closed" if ends_on else "open"
    body = {"title": f"Checkout fails {tag}e{ends_on}", "state": state}
    eid = events[ends_on].id
    h = History(info(tag), events, [], [], marks=[Mark(1.0, STATE_MARK, "tracker")])
    h.states = [StateRecord("tracker", "/tickets", "ds_1", body, (eid,), key)]
    return h


def test_a_record_the_clean_run_itself_left_on_an_older_state_is_not_failed() -> None:
    """An automation that answers first and works on two threads dropped the closing event of
    the clean run, sent back to back (tests/gallery/github_issues.py): its clean ticket stays
    open. This run, at the sender's pace, closed it. It was failed, the clean run taken for the
    newest state."""
    v = judged(with_baseline(_ticket_run("zqaaaaa", 1), _ticket_run("zqbbbbb", 0)))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary == (
        "no record could be judged against the baseline run s@zqbbbbb (the final state); 1 "
        "record not judged: the clean run itself left each on an older event's state than this "
        "run did (record iss_zqaaaaak0: the clean run ended it on seq 0's, this run on seq 1's) "
        "— an automation that answers first and works on several threads can drop or reorder "
        "even events sent one at a time, so the clean run is no reference for them; "
        "per_key_order and no_lost_events judge this run's order and losses"
    )


def _subscription_run(tag: str, ends_on: int, created: tuple[int, int]) -> History:
    """A subscription's two changes (seq 0, 1) at ``created``, each sent after the last was
    answered, written inline (within its delivery) — all but seq 1 where the run ``ends_on``
    seq 0: answered with no write (tests/gallery/second_ties.py skips a change not newer than
    the last it wrote)."""
    key = f"sub_{tag}k0"
    events = [
        Event(f"evt_{tag}e{n}", key, n, "customer.subscription.updated", 0.0, {"created": t})
        for n, t in zip((0, 1), created, strict=True)
    ]
    deliveries = [
        Delivery(f"dlv_{n}", e.id, 1, n, n, n + 0.1, 200, Outcome.OK) for n, e in enumerate(events)
    ]
    written = events[: ends_on + 1]
    path = f"/subscriptions/{key}"
    writes = [
        Effect(f"eff_{n}", "crm", n + 0.05, "PUT", path, {}, _plan(e), 200, (e.id,), key)
        for n, e in enumerate(written)
    ]
    settings = {"paths": {"time": "$.created"}}
    h = History(
        replace(info(tag), settings=settings), events, deliveries, writes,
        marks=[Mark(2.0, STATE_MARK, "crm")],
    )  # fmt: skip
    body = {"plan": f"plan {written[-1].id}", "id": key}
    h.states = [StateRecord("crm", "/subscriptions", key, body, (written[-1].id,), key)]
    return h


def _plan(event: Event) -> str:
    return json.dumps({"plan": f"plan {event.id}"})


def test_a_clean_run_that_skipped_a_change_of_the_same_second_is_said_to_have() -> None:
    """The clean run, one change at a time, wrote seq 0 and answered seq 1 — the same second
    at ``$.created`` — with no write, though it writes before it answers: the automation
    skipped it as not newer. It was said to be 'an automation that answers first and works on
    several threads', which this one is not. Changes a second apart: said to be skipped,
    without the time."""
    for created, why in (
        ((1767225601, 1767225601), "whose time at $.created (1767225601) is seq 0's"),
        ((1767225601, 1767225602), "it skipped that event, sent alone,"),
    ):
        mine = _subscription_run("zqaaaaa", 1, created)
        v = judged(with_baseline(mine, _subscription_run("zqbbbbb", 0, created)))
        assert v.status is Status.INCONCLUSIVE, v.summary
        assert (
            "(record sub_zqaaaaak0: the clean run ended it on seq 0's, this run on seq 1's) — the "
            "clean run answered its seq 1 with no write, though the target does its work before "
            "it answers: it skipped that event, sent alone"
        ) in v.summary, v.summary
        assert why in v.summary, v.summary
        assert "several threads" not in v.summary, v.summary
        assert v.summary.endswith(
            "so the clean run is no reference for them; per_key_order and no_lost_events judge "
            "this run's order and losses"
        ), v.summary


def test_a_record_this_run_left_behind_the_clean_run_still_fails() -> None:
    v = judged(with_baseline(_ticket_run("zqaaaaa", 0), _ticket_run("zqbbbbb", 1)))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 1 record ends in another state"), v.summary


def test_a_value_the_automation_title_cased_is_compared_as_the_events() -> None:
    """The contact's name title-cased ('Ada Zqaaaaae1': the tracer's token in another case),
    and this run's contact left on its first event's name where the baseline's ends on the
    second's: only the token tells them apart. It was taken for a text the automation made,
    left out ('not compared: name'), and the contact passed."""

    def titled(tag: str, seq: int) -> StateRecord:
        record = contact(tag, "Ada")
        assert isinstance(record.body, dict)
        return replace(record, body={**record.body, "name": f"Ada {tag}e{seq}".title()})

    base = run("zqbbbbb", [titled("zqbbbbb", 2)])
    v = judged(with_baseline(run("zqaaaaa", [titled("zqaaaaa", 1)]), base))
    assert v.status is Status.FAIL, v.summary
    assert 'name: "Ada zqaaaaae1" (baseline "Ada zqaaaaae2")' in v.evidence.lines[0]
    alike = judged(with_baseline(run("zqaaaaa", [titled("zqaaaaa", 2)]), base))
    assert alike.status is Status.PASS, alike.summary
    assert "not compared" not in alike.summary, alike.summary


def test_a_record_with_more_resources_than_the_baseline_is_judged_though_its_order_is_untold() -> (
    None
):
    """Two updates of one contact the same second, arriving together, and each made a contact
    of its own (a find-or-create raced: tests/gallery/shopify_contacts.py) where the baseline,
    one at a time, made one: no order of the two makes a second contact. It was 'not judged:
    each ends on the state of an older event than its newest', and a run of such records
    passed."""

    def contacts_run(tag: str, made: int) -> History:
        key = f"con_{tag}k0"
        events = [
            Event(f"evt_{tag}e{n}", key, n, "contact.updated", 0.0, {"created": 1700000000})
            for n in (1, 2)
        ]
        sent = (0.0, 0.0) if made > 1 else (0.0, 0.5)
        deliveries = [
            Delivery(f"dlv_{n}", e.id, 1, s, s, s + 0.3, 200, Outcome.OK, None)
            for n, e, s in zip((1, 2), events, sent, strict=True)
        ]
        body = json.dumps({"name": f"Ada {tag}k0"})
        order = (1, 0) if made > 1 else (0, 1)  # raced: the newer one's write lands first
        writes = [
            Effect(
                f"eff_{i}",
                "crm",
                0.1 + i / 10,
                "POST",
                "/contacts",
                {},
                body,
                201,
                (events[n].id,),
                key,
            )
            for i, n in enumerate(order)
        ]
        h = History(
            replace(info(tag), settings={"paths": {"time": "$.created"}}),
            events,
            deliveries,
            writes,
            marks=[Mark(1.0, STATE_MARK, "crm")],
        )
        h.states = [
            StateRecord(
                "crm",
                "/contacts",
                f"ds_{i}",
                {"name": f"Ada {tag}k0", "id": f"ds_{i}"},
                w.event_ids,
                key,
            )
            for i, w in enumerate(writes[-made:])
        ]
        return h

    mine = contacts_run("zqaaaaa", made=2)
    mine.info = replace(mine.info, settings={**mine.info.settings, "baseline": "s@zqbbbbb"})
    mine.baseline = contacts_run("zqbbbbb", made=1)
    v = judged(mine)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 1 record ends in another state"), v.summary
    assert "crm /contacts: 2 records (all alike) where the baseline has 1" in v.evidence.lines[0]
