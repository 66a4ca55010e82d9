"""``no_duplicate_effects`` over a run where the automation made its calls but the downstream
committed none (every call refused, or a creation its event undid): no write was seen that a
repeat could be of, so the verdict cannot say none repeated — inconclusive, with the reason, as
``no_lost_events`` says "nothing to judge" of a target that accepted no event."""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge

from .test_expected import ev, ok, run, write
from .test_undone import failed, issued, saga, verdicts


def _dup(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec("no_duplicate_effects")])
    return v


def test_calls_all_refused_are_inconclusive_not_a_pass() -> None:
    """Two payments, each delivered twice, each delivery's call refused 503: had the
    downstream taken them, the second could have been a duplicate — the run did not see.
    Before: PASS, "no event produced a repeated effect (0 effects over 0 events)"."""
    events = [ev("zqrefused", i) for i in range(2)]
    deliveries = [ok(e, n, at=float(n)) for e in events for n in (1, 2)]
    calls = [write("/payments", [e], at=float(n) + 0.1, status=503) for e in events for n in (1, 2)]
    v = _dup(run(events, deliveries, calls, tag="zqrefused"))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "0 effects over 0 events" not in v.summary, v.summary
    assert v.summary.startswith(
        "not judged: no downstream committed any of the automation's 4 writes "
    ), v.summary
    assert "(4 refused 503)" in v.summary, v.summary


def test_one_committed_write_is_judged() -> None:
    """The same run with one call taken: the verdict holds over what it saw."""
    events = [ev("zqonetaken", i) for i in range(2)]
    deliveries = [ok(e, n, at=float(n)) for e in events for n in (1, 2)]
    calls = [
        write("/payments", [e], at=float(n) + 0.1, status=201 if (e.seq, n) == (0, 1) else 503)
        for e in events
        for n in (1, 2)
    ]
    v = _dup(run(events, deliveries, calls, tag="zqonetaken"))
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("no event produced a repeated effect (1 effect over 1 event)")


def test_creations_each_undone_by_its_event_are_inconclusive() -> None:
    """A saga that invoices, has its reservation refused 503 and deletes the invoice, for an
    order delivered twice (answered 500, then 200): neither invoice stands. Before: PASS, "no
    event produced a repeated effect (0 effects over 0 events)"."""
    [order] = [ev("zqrun", 1)]
    first = write("/invoices", [order], at=0.05)
    second = write("/invoices", [order], at=1.05)
    effects = [
        first,
        write("/reservations", [order], at=0.1, status=503),
        write("/invoices/ds_1", [], method="DELETE", at=0.2, status=204),
        second,
        write("/reservations", [order], at=1.1, status=503),
        write("/invoices/ds_2", [], method="DELETE", at=1.2, status=204),
    ]
    sent = [failed(order), replace(ok(order, 2, at=1.0), answered_at=1.3)]
    h = saga([order], effects, issued((first, "ds_1"), (second, "ds_2")), sent)
    status, summary, _ = verdicts(h)["no_duplicate_effects"]
    assert status is Status.INCONCLUSIVE, summary
    assert (
        "no downstream committed any of the automation's 4 writes (2 undone by their event's "
        "own DELETE, 2 refused 503)"
    ) in summary, summary
