"""A target that answers first and works from a queue, whose worker dies on a failed call
(tests/gallery/newsletter_sync.py: ``raise_for_status()`` in an ``asyncio`` task nothing
awaits). Under downstream-outage every record's latest change was lost from the first 503 on;
``no_lost_events`` said the target 'passed these over rather than queued them': the stop went
unseen, because a register owes only each record's latest event (the older ones after the
stop, lost as surely, are not counted) and because one of the calls had been refused.
"""

from __future__ import annotations

from harness.core._model import Event, Fault, Model, Status

from .test_expected import _settled, clean_run, ev, lost, ok, run, write

KEYS = (0, 1, 1, 2, 2, 3, 3)  # by seq from 1: contact 0 changed once, the others twice


def _changes(tag: str) -> list[Event]:
    """Four contacts' changes, each contact's in a row."""
    return [ev(tag, n, "contact.updated", key=f"c_{tag}k{k}") for n, k in enumerate(KEYS, 1)]


def test_a_worker_that_died_on_a_refused_call_is_said_stopped() -> None:
    twins = _changes("zqclean")
    clean = clean_run(
        twins,
        [write(f"/members/{e.key}", [e], method="PUT", at=n + 0.02) for n, e in enumerate(twins)],
        model=Model.REGISTER,
    )
    events = _changes("zqrun")
    deliveries = [ok(e, at=n / 10) for n, e in enumerate(events)]
    written = write(f"/members/{events[0].key}", [events[0]], method="PUT", at=0.015)
    refused = write(f"/members/{events[1].key}", [events[1]], method="PUT", at=0.115, status=503)
    h = run(events, deliveries, [written, refused], tag="zqrun", baseline=clean,
            model=Model.REGISTER)  # fmt: skip
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert (
        "all 3 records' latest events it accepted from event evt_zqrune3 (seq 3), 0.2 s into "
        "the run, on are lost, none before: it stopped working then"
    ) in v.summary, v.summary
    assert (
        f"; its last call, PUT /members/c_zqrunk1 {refused.id}, was answered 503: a worker that "
        "dies on a failed call (an exception nothing catches) stops so"
    ) in v.summary, v.summary
    assert "passed these over" not in v.summary, v.summary


def test_events_each_refused_429_and_dropped_are_not_a_worker_that_stopped() -> None:
    """tests/gallery/throttled_orders under Locust's downstream-throttled: each order answered
    at once, its one ``POST /orders`` made after the answer and refused 429 (Retry-After 2 s),
    logged "rate limited, skipping" and never made again. Every order was lost from the first
    on, so it read 'it stopped working at the first event … a worker that died'; but each made
    its own call: the target went on working and dropped each refused one."""
    orders = [ev("zqthrottle", n) for n in range(4)]
    deliveries = [ok(e, at=n / 10) for n, e in enumerate(orders)]
    calls = [write("/orders", [e], at=n / 10 + 0.015, status=429) for n, e in enumerate(orders)]
    h = run(orders, deliveries, calls, tag="zqthrottle")
    h.faults = [Fault("crm", "throttle", 0.0, 1.0, {"retry_after": 2.0})]
    v = lost(_settled(h, "pending", 2.0, quiet=3.0))
    assert v.status is Status.FAIL, v.summary
    assert "stopped working" not in v.summary, v.summary
    assert (
        "each of these had its calls refused (4 calls answered 429, Retry-After 2 s), none made "
        "again in the 29.7 s before settling stopped: it drops an event's work when the "
        "downstream refuses its call"
    ) in v.summary, v.summary
