"""``no_duplicate_effects`` over hand-built Histories: the writes it cannot attribute, counted
against the clean run's, and which repeats a real API makes harmless (a merge PATCH).

Found on automations written as practitioners write them: a GitHub receiver appending an
activity line to a ticket whose id it derived (every line naming no event) passed under a
duplicate storm that doubled its lines; a HubSpot receiver's repeated identical merge PATCH was
failed as a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.core._model import Delivery, Effect, Event, Model, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History, RunInfo
from harness.invariants import judge

ROUTES = {"tracker": ["PUT /tickets/{id}", "POST /tickets/{id}/activity"]}
ACTIVITY = "POST /tickets/{id}/activity"
MERGE_TYPE = "application/merge-patch+json"
MERGE = {"Content-Type": MERGE_TYPE}


def ev(tag: str, seq: int) -> Event:
    return Event(f"evt_{tag}e{seq}", f"iss_{tag}k{seq}", seq, "issues", 0.0, {})


def ok(event: Event, n: int = 1) -> Delivery:
    at = event.seq + n / 10
    return Delivery(f"dlv_{event.id}_{n}", event.id, n, at, at, at + 0.01, 200, Outcome.OK)


def write(
    eid: str,
    method: str,
    path: str,
    events: Sequence[Event] = (),
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    downstream: str = "tracker",
    at: float = 0.5,
) -> Effect:
    return Effect(
        eid,
        downstream,
        at,
        method,
        path,
        headers or {},
        json.dumps({"n": 1} if body is None else body),
        201,
        tuple(e.id for e in events),
        events[0].key if events else None,
    )


def ticket(event: Event, n: int = 1, **kw: Any) -> list[Effect]:
    """The GitHub receiver's two writes for one delivery of ``event``: the ticket upserted by a
    number it derived (its title carries the event's token: attributed), then an activity line
    under it (nothing of the event: unattributed)."""
    at = event.seq + n / 10
    number = 1000 + event.seq
    return [
        write(f"eff_{event.id}_{n}p", "PUT", f"/tickets/t-{number}", [event], at=at),
        write(f"eff_{event.id}_{n}a", "POST", f"/tickets/t-{number}/activity", at=at, **kw),
    ]


def run(
    events: Sequence[Event],
    deliveries: Sequence[Delivery],
    effects: Sequence[Effect],
    *,
    tag: str,
    baseline: History | None = None,
    declared: Mapping[str, Any] | None = None,
) -> History:
    """A run of a downstream ``tracker`` whose routes are known, learning from ``baseline``;
    ``declared``: its settings' ``merges``/``appends``."""
    settings: dict[str, Any] = {"routes": ROUTES, **(declared or {})}
    if baseline is not None:
        settings["baseline"] = baseline.info.run_id
    info = RunInfo(
        f"storm@{tag}", "storm", 1, "http://127.0.0.1:1/", "t", Model.LEDGER,
        (InvariantSpec("no_duplicate_effects"),), "", tag, settings=settings,
    )  # fmt: skip
    h = History(info, list(events), list(deliveries), list(effects))
    h.baseline = baseline
    return h


def clean(n: int = 3, **kw: Any) -> History:
    """The clean run: n events, each delivered once, each a ticket and one activity line."""
    twins = [ev("zqclean", i) for i in range(n)]
    return run(twins, [ok(e) for e in twins], [w for e in twins for w in ticket(e, **kw)],
               tag="zqclean")  # fmt: skip


def storm(copies: int, n: int = 3, with_clean: bool = True, **kw: Any) -> History:
    """The same n events, each delivered ``copies`` times and handled each time, no dedup."""
    events = [ev("zqrun", i) for i in range(n)]
    deliveries = [ok(e, c) for e in events for c in range(1, copies + 1)]
    effects = [w for e in events for c in range(1, copies + 1) for w in ticket(e, c, **kw)]
    return run(events, deliveries, effects, tag="zqrun",
               baseline=clean(n, **kw) if with_clean else None)  # fmt: skip


def dup(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec("no_duplicate_effects")])
    return v


# -- unattributed writes against the clean run -----------------------------------------------


def test_more_unattributed_posts_than_the_clean_run_made_is_inconclusive_not_a_pass() -> None:
    """The practitioner's duplicate storm: the ticket PUTs repeat harmlessly, the activity
    lines (naming no event) double; the old verdict passed, 'no harmful duplicate effects'."""
    v = dup(storm(2))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        f"not judged: this run made 6 {ACTIVITY}, 6 of them naming no event, where its clean "
        "run made 3 (storm@zqclean, the same 3 events, all accepted): some event may have repeated "
        "one (a redelivery not deduplicated, a retry without an Idempotency-Key), but nothing "
        "shows which, so a pass would claim what the run could not see; add a correlate: rule "
        f"mapping a field of {ACTIVITY} to the event field it comes from; see "
        "docs/correlation.md"
    ), v.summary
    # What it can say stays said: the attributed effects' repeats, harmless.
    assert v.summary.endswith(
        "of the attributed effects, no harmful duplicate effects: 3 repeated PUTs, idempotent: "
        "harmless"
    ), v.summary
    # Each path written most often, with its effects.
    assert v.evidence.lines[0] == (
        "POST /tickets/t-1000/activity eff_evt_zqrune0_1a, eff_evt_zqrune0_2a: 2 writes, "
        "naming no event"
    )
    assert v.evidence.effect_ids[:2] == ("eff_evt_zqrune0_1a", "eff_evt_zqrune0_2a")


def test_unattributed_posts_no_more_than_the_clean_run_made_still_pass() -> None:
    v = dup(storm(1))
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no event produced a repeated effect (3 effects over 3 events); 3 effects could not be "
        f"attributed to an event ({ACTIVITY} (3): add a correlate: rule for them, see "
        "docs/correlation.md)"
    )


@pytest.mark.parametrize(
    ("kw", "harmless"),
    [
        ({"headers": {"Idempotency-Key": "k"}}, True),  # the API deduplicates it
        ({"body": {"line": "opened"}}, False),
        ({"body": [{"op": "add", "path": "/lines/-", "value": "opened"}]}, False),  # JSON Patch
    ],
)
def test_unattributed_writes_counted_are_those_a_repeat_would_harm(
    kw: dict[str, Any], harmless: bool
) -> None:
    v = dup(storm(2, **kw))
    assert (v.status is Status.PASS) == harmless, v.summary


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_unattributed_idempotent_writes_are_not_counted(method: str) -> None:
    """A PUT, a DELETE or a merge PATCH (application/merge-patch+json) repeated changes
    nothing more."""
    h = storm(2)
    for history in (h, h.baseline):
        assert history is not None
        history.effects[:] = [
            Effect(e.id, e.downstream, e.at, method, e.path, MERGE, e.body, e.status)
            if e.method == "POST"
            else e
            for e in history.effects
        ]
    assert dup(h).status is Status.PASS


def test_counted_per_downstream() -> None:
    """One request to another downstream is another request: the clean run's lines to the
    tracker do not cover an audit log's."""
    h = storm(1)
    h.effects.extend(
        write(f"eff_audit_{i}", "POST", "/log", downstream="audit", at=9.0 + i) for i in range(2)
    )
    v = dup(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "this run made 2 POST /log (audit), 2 of them naming no event, where its clean run " \
        "made 0 " in v.summary  # fmt: skip
    assert ACTIVITY not in v.summary.split("; add")[0]


def test_without_a_clean_run_unattributed_posts_are_only_noted() -> None:
    """Nothing says how many the events owe (a Locust run, `baseline: false`, or no invariant
    that needs a clean run): a correct automation's lines would be as inconclusive as a
    storm's, and pytest fails an inconclusive item. The verdict says what it judged."""
    v = dup(storm(1, with_clean=False))
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no event produced a repeated effect (3 effects over 3 events); 3 effects could not be "
        f"attributed to an event ({ACTIVITY} (3): add a correlate: rule for them, see "
        "docs/correlation.md)"
    )


def test_a_clean_run_of_fewer_events_is_counted_per_event() -> None:
    """A year's month of many events against one clean run of a few (``harness year``): a
    correct automation's one line per event is not more than the clean run's, per event."""
    h = storm(1, n=6)
    h.baseline = clean(3)
    assert dup(h).status is Status.PASS
    h = storm(2, n=6)
    h.baseline = clean(3)
    v = dup(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    made = "where its clean run made 3 (storm@zqclean, 3 events accepted there, 6 of 6 here)"
    assert made in v.summary, v.summary


def test_an_attributed_duplicate_still_fails() -> None:
    h = storm(2)
    h.effects.append(write("eff_pay", "POST", "/payouts", [h.events[0]], at=0.9))
    h.effects.append(write("eff_pay2", "POST", "/payouts", [h.events[0]], at=0.95))
    v = dup(h)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 3 events produced duplicate effects: 1 repeated request")


# -- merge PATCH: an identical repeat is harmless ----------------------------------------------


def patches(
    *bodies: Any, headers: Mapping[str, str] = MERGE, declared: Mapping[str, Any] | None = None
) -> History:
    """One HubSpot event delivered len(bodies) times, each PATCHing its member with a body."""
    event = ev("zqrun", 0)
    return run(
        [event],
        [ok(event, n) for n in range(1, len(bodies) + 1)],
        [
            write(f"eff_{n}", "PATCH", "/lists/newsletter/members/51263145977", [event],
                  body=body, headers=headers, at=n / 10)
            for n, body in enumerate(bodies, 1)
        ],
        tag="zqrun",
        declared=declared,
    )  # fmt: skip


def test_a_repeated_identical_merge_patch_is_harmless() -> None:
    merge = {"merge_fields": {"email": "jane.doe+zqrune0@example.com"}}
    v = dup(patches(merge, merge, merge))
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith(
        "no harmful duplicate effects: 2 repeated PATCHes, idempotent: harmless; "
    ), v.summary


JSON = {"Content-Type": "application/json"}
MEMBER = "PATCH /lists/newsletter/members/{id}"


def test_an_identical_json_object_patch_undeclared_is_inconclusive_naming_the_route() -> None:
    """A JSON object PATCHed as application/json is what its API makes of it: HubSpot's
    merges (harmless), Notion's PATCH /v1/blocks/{id}/children appends (a duplicate). The
    journal cannot tell which: 4460f11 failed HubSpot's repeat as a duplicate; now neither
    passed nor failed, the verdict names the route and what to declare."""
    fields = {"merge_fields": {"email": "jane.doe+zqrune0@example.com"}}
    v = dup(patches(fields, fields, headers=JSON))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary == (
        "not judged: 1 event repeated an identical JSON object PATCH sent as application/json "
        f"({MEMBER} (tracker): 1): whether its API merges it (HubSpot's PATCH sets the "
        "properties it names: harmless) or appends it (Notion's PATCH /v1/blocks/{id}/children: "
        f"a duplicate) is not in the request; declare the route on downstream tracker: "
        f"`merges: ['{MEMBER}']` if the API merges it, `appends: ['{MEMBER}']` if it appends "
        "(see docs/invariants.md)"
    )
    assert v.evidence.event_ids == ("evt_zqrune0",)


def test_an_identical_form_patch_undeclared_is_inconclusive_as_a_json_one_is() -> None:
    """A form-encoded PATCH (application/x-www-form-urlencoded: Stripe's, Twilio's) names the
    fields it sets as a JSON object does: merged or appended, the request does not say — it
    failed as a duplicate before, a JSON object's repeat being inconclusive."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    h = patches(None, None, headers=form)
    body = "merge_fields[email]=jane.doe%2Bzqrune0%40example.com"
    h.effects[:] = [replace(e, body=body) for e in h.effects]
    v = dup(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: 1 event repeated an identical form PATCH "
        f"(application/x-www-form-urlencoded) ({MEMBER} (tracker): 1)"
    ), v.summary


@pytest.mark.parametrize(
    ("declared", "status"),
    [
        ({"merges": {"tracker": ["PATCH /lists/{list}/members/{id}"]}}, Status.PASS),
        ({"appends": {"tracker": ["PATCH /lists/*"]}}, Status.FAIL),
        ({"merges": {"crm": ["PATCH /lists/{list}/members/{id}"]}}, Status.INCONCLUSIVE),
    ],
)
def test_a_declared_route_says_whether_a_repeated_patch_is_harmless(
    declared: dict[str, Any], status: Status
) -> None:
    """``merges:`` (HubSpot) makes the identical repeat harmless; ``appends:`` (Notion) a
    duplicate; a route declared on another downstream does not cover this one's."""
    children = {"children": [{"paragraph": {"text": "paid"}}]}
    v = dup(patches(children, children, headers=JSON, declared=declared))
    assert v.status is status, v.summary
    if status is Status.PASS:
        assert v.summary.startswith(
            "no harmful duplicate effects: 1 repeated PATCH, idempotent: harmless; "
        ), v.summary
    if status is Status.FAIL:
        assert "1 repeated request (1 PATCH)" in v.summary


def test_an_undeclared_patch_does_not_hide_writes_naming_no_event() -> None:
    """Both not judged: the PATCH's kind, and more activity lines than the clean run made."""
    h = storm(2)
    for n, history in enumerate((h, h.baseline)):
        assert history is not None
        event = history.events[0]
        history.effects.extend(
            write(f"eff_p{n}{c}", "PATCH", "/tickets/t-1000", [event], body={"a": 1},
                  headers=JSON, at=0.7 + c / 10)
            for c in range(1 if history is h.baseline else 2)
        )  # fmt: skip
    v = dup(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("not judged: 1 event repeated an identical JSON object PATCH")
    assert v.summary.endswith(
        "; and writes naming no event outnumber what the clean run storm@zqclean made for the "
        f"same accepted events ({ACTIVITY}): not judged either"
    ), v.summary


def test_an_undeclared_patch_does_not_hide_a_duplicate() -> None:
    """A real duplicate beside an undeclared PATCH still fails, the PATCH noted."""
    h = patches({"a": 1}, {"a": 1}, headers=JSON)
    event = h.events[0]
    h.effects.append(write("eff_pay", "POST", "/payouts", [event], at=0.9))
    h.effects.append(write("eff_pay2", "POST", "/payouts", [event], at=0.95))
    v = dup(h)
    assert v.status is Status.FAIL, v.summary


@pytest.mark.parametrize(
    "bodies",
    [
        # A JSON Patch: its add appends to the array again.
        ([{"op": "add", "path": "/tags/-", "value": "vip"}],) * 2,
        ({"email": "a+zqrune0@example.com"}, {"email": "b+zqrune0@example.com"}),  # two states
    ],
)
def test_a_json_patch_or_another_merge_patch_repeated_is_a_duplicate(bodies: Any) -> None:
    kind = "application/json-patch+json" if isinstance(bodies[0], list) else MERGE_TYPE
    v = dup(patches(*bodies, headers={"Content-Type": kind}))
    assert v.status is Status.FAIL, v.summary
    assert "1 repeated request (1 PATCH)" in v.summary


def test_a_record_sent_only_tampered_deliveries_owes_its_writes_no_comparison() -> None:
    """A receiver checking no signature logs a line for a forged delivery of a record's only
    event: an attacker's request, rejects_forged's to judge. Counted against its clean twin's
    line, none owed (no genuine event accepted), it was 'not judged: 1 record got more …' in
    every forged-signature run of tests/gallery/invoice_lines.py and payout_by_order.py."""

    def line(event: Event, tag: str) -> Effect:
        path = f"/tickets/{event.key}/activity"
        return replace(write(f"eff_{tag}{event.seq}", "POST", path, [event]), event_ids=())

    twins = [ev("zqclean", i) for i in range(2)]
    baseline = run(twins, [ok(e) for e in twins], [line(e, "c") for e in twins], tag="zqclean")
    events = [ev("zqrun", i) for i in range(2)]
    forged = ok(events[1])
    h = run(events, [ok(events[0]), forged], [line(e, "r") for e in events], tag="zqrun",
            baseline=baseline)  # fmt: skip
    h.info = replace(h.info, settings={**h.info.settings, "tampered": {forged.id: "forged"}})
    v = dup(h)
    assert v.status is Status.PASS, v.summary
    assert "1 after a single event sent only tampered" in v.summary, v.summary
