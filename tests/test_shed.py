"""503 answers a full queue gives at once while its workers are busy (``harness/invariants/
_shed.py``), over hand-built Histories: load shed, named with what the sender does with the
refused events — not "the automation crashed (5xx)".

Found on tests/gallery/worker_pool.py with ``WHEN_FULL=refuse`` under ``harness locust
bulk-import-burst``: 268 of 300 checkouts answered 503 in about 10 ms while its four workers
made the accepted ones' calls for most of a second after; the refusal box said it crashed and
``no_server_errors`` named no cause. The real automation under Locust is in
test_locust_dropped.py.
"""

from __future__ import annotations

from harness.core._model import Delivery, Outcome, Status
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge
from harness.invariants._refused import refusals

from .test_invariants import delivery, effect, event, history
from .test_refused import with_settings

CAUSE = (
    "the automation answered 503 at once (8 answers, median 5 ms beside its acceptances' 20 "
    "ms, without a call for the refused events) while it was still working off "
    "events it had accepted (calls for 2 accepted events after its first refusal): it sheds "
    "load when full — a bounded queue or pool refusing more, deliberate backpressure, not a "
    "crash — and leaves each refused event to its sender: "
)


def full_queue(provider: str, refused_latency: float = 0.005) -> History:
    """Ten checkouts at once: the first two taken (answered in 20 ms, each written 0.3 s
    later by a worker), the other eight answered 503 in ``refused_latency``, never written."""
    events = [event(i, key=f"cs_{i}") for i in range(1, 11)]
    ds: list[Delivery] = []
    for i, e in enumerate(events, 1):
        sent = i / 1000
        if i <= 2:
            ds.append(delivery(f"dlv_{i}", e.id, sent=sent, latency=0.02))
        else:
            ds.append(
                delivery(
                    f"dlv_{i}", e.id, Outcome.FAILED, sent=sent, status=503,
                    latency=refused_latency,
                )
            )  # fmt: skip
    calls = [effect(f"eff_{i}", [f"evt_{i}"], 0.3 + i / 10) for i in (1, 2)]
    return with_settings(history(events, ds, calls), provider=provider, retries=[])


def test_a_full_queue_answering_503_at_once_sheds_load_not_crashes() -> None:
    h = full_queue("stripe")
    found = refusals(h)
    assert found is not None
    assert found.cause.startswith(CAUSE + "Stripe redelivers what is answered 5xx (up to 8 "), (
        found.cause
    )
    assert "this run sent none of them (a load test never does): these events are lost " in (
        found.cause
    )
    assert found.short == "503 when full (load shed)"
    # A 5xx is still a 5xx to the sender: the verdict stands, with its cause.
    [v] = judge(h, [InvariantSpec("no_server_errors")])
    assert v.status is Status.FAIL, v.summary
    assert f"; likely cause: {CAUSE}" in v.summary, v.summary


def test_a_sender_that_never_redelivers_loses_what_is_shed() -> None:
    found = refusals(full_queue("github"))
    assert found is not None
    assert found.cause.startswith(CAUSE + "GitHub does not redeliver what the target refuses, so "
                                  "these events are lost to it"), found.cause  # fmt: skip


def test_a_503_slower_than_the_acceptances_is_not_load_shed() -> None:
    """Refused after 50 ms, over twice its 20 ms acceptances: it worked, then failed."""
    found = refusals(full_queue("stripe", refused_latency=0.05))
    assert found is not None and found.cause.startswith("the automation crashed (5xx)")
