"""Events refused while their work failed, then accepted with none done
(``harness/invariants/_marked_first.py``): a receiver that marks an event id handled before
its work (tests/gallery/seen_first.py) takes the sender's retry for a duplicate. Under
downstream-outage ``no_lost_events`` failed it rightly but said only that the target
"answered these events without it"."""

from __future__ import annotations

from harness.core._model import Status, Verdict

from .test_expected import _settled, checkout_pair, lost, ok, refused, run, write

NOTE = (
    "refused first (5xx or no answer) and then accepted (2xx) by a redelivery that made no call "
    "at all: the target marked each event handled before its work was done"
)


def _lost(retry_calls: bool) -> Verdict:
    """Two checkouts, each refused while its contact call failed (503), then redelivered 5 s
    later and accepted; the redelivery called the API again (refused again) or made no call."""
    events, clean = checkout_pair(2)
    deliveries = [refused(e, at=float(n)) for n, e in enumerate(events)]
    deliveries += [ok(e, 2, at=5.0 + n) for n, e in enumerate(events)]
    calls = [write("/contacts", [e], at=n + 0.005, status=503) for n, e in enumerate(events)]
    if retry_calls:
        calls += [write("/contacts", [e], at=5.005 + n, status=503) for n, e in enumerate(events)]
    return lost(
        _settled(run(events, deliveries, calls, tag="zqrun", baseline=clean), "pending", 2.0)
    )


def test_a_retry_answered_without_work_after_a_refusal_is_said_marked_first() -> None:
    v = _lost(retry_calls=False)
    assert v.status is Status.FAIL, v.summary
    assert f"; all of them were {NOTE}" in v.summary, v.summary


def test_a_retry_that_tried_its_work_again_is_no_such_case() -> None:
    v = _lost(retry_calls=True)
    assert v.status is Status.FAIL, v.summary
    assert NOTE not in v.summary, v.summary
