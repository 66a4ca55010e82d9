"""Events short of an effect in a run whose target was still working when it stopped watching
(``harness/invariants/_behind_late.py``). A job paying out stored orders every 4 s
(tests/gallery/scheduled_sync.py), watched with a 2 s quiet: 4 orders were paid after the
final state was taken (late effects), and the 36 others, accepted after every order it paid
while the run watched, were called lost — a pass of the job nobody watched."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.core._model import Status, Verdict

from .test_expected import _settled, checkout_pair, lost, ok, run, write


def _judged(first_short: bool) -> Verdict:
    """Three checkouts (four with ``first_short``, the first short of its effects): the next
    written while the run watched, the one after late, the last with nothing seen."""
    events, clean = checkout_pair(4)
    if not first_short:
        events = events[1:]
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    written, came_late = events[-3], events[-2]
    effects = [write(p, [written], at=len(events) - 2.5) for p in ("/contacts", "/deals")]
    h = run(events, deliveries, effects, tag="zqrun", baseline=clean)
    h = _settled(h, "pending", 2.0)
    late = [write(p, [came_late], at=40.0) for p in ("/contacts", "/deals")]
    return lost(replace(h, late_effects=late))


@pytest.mark.parametrize("first_short", [False, True])
def test_an_event_accepted_after_the_last_worked_is_not_called_lost(first_short: bool) -> None:
    """Not the one passed over before an event worked (``first_short``): still lost."""
    v = _judged(first_short)
    behind = (
        "1 event was accepted after the last event the target worked while the run watched, "
        "and effects of the run arrived after its final state was taken"
    )
    assert behind in v.summary, v.summary
    if first_short:
        assert v.summary.startswith("1 of 4 accepted events produced no effect (lost)")
    else:
        assert v.status is Status.INCONCLUSIVE, v.summary
