"""The last events a target accepted, never worked, while it went on working events accepted
after them: held until more come, or passed over — the journal cannot tell them apart
(tests/gallery/cursor_sync.py, a sync cursor to the second, ``CURSOR=received_at``, under a
burst of 40 checkouts in half a second: the checkout stored after a sync of its second was told
only "held until more come … write what it holds on a timer too", though the app syncs on a
timer and its next syncs sent the 14 checkouts accepted after it)."""

from __future__ import annotations

from harness.core._model import Delivery, Outcome, Status

from .test_expected import _settled, checkout_pair, lost, ok, run, write


def test_a_last_event_worked_past_by_events_accepted_after_it_may_be_passed_over() -> None:
    """Checkouts 1-4 sent in one burst, 3 answered first of the last two and never worked, 4
    (sent before 3 was answered, answered after it) worked 0.5 s after its answer: held, or
    passed over — both said, the timer advice only for a holder. With 3 the last accepted and
    nothing worked after it, "held until more come" alone, as before."""
    events, clean = checkout_pair(4)
    sent = [0.0, 0.1, 0.2, 0.2]

    def judged(answered4: float, *timer: float) -> str:
        deliveries = [ok(e, at=sent[n]) for n, e in enumerate(events[:3])]
        fourth = events[3]
        deliveries.append(
            Delivery(f"dlv_{fourth.id}_1", fourth.id, 1, 0.2, 0.2, answered4, 200, Outcome.OK)
        )
        answered = [0.01, 0.11, None, answered4]
        effects = [
            write(path, [e], at=at + 0.5)
            for e, at in zip(events, answered, strict=True)
            if at is not None
            for path in ("/contacts", "/deals")
        ]
        effects += [write("/sync", at=at) for at in timer]  # calls naming no event
        h = run(events, deliveries, effects, tag="zqrun", baseline=clean)
        v = lost(_settled(h, "pending", 2.0, quiet=2.0))
        assert v.status is Status.FAIL, v.summary
        return v.summary

    worked_past = judged(0.3)  # 4 accepted after 3 (0.21), its calls at 0.8
    assert "held until more come" in worked_past, worked_past
    assert (
        "or passed over (a sync whose cursor or watermark moved past it, a queue that skipped "
        "it): it went on to make the calls of 1 event it accepted after it, none of them its: "
        "a holder writes what it holds when more come or on its timer, a cursor that passed "
        "over it never does, and this run cannot tell the two apart — if it holds events, "
        "write what it holds on a timer too; if it syncs past a cursor, make it one no two "
        "rows share"
    ) in worked_past, worked_past
    held = judged(0.205)  # 4 accepted before 3: 3 the last accepted, nothing worked after it
    assert "held until more come" in held, held
    assert "passed over" not in held, held
    assert "— write what it holds on a timer too;" in held, held
    ticked = judged(0.205, 1.0, 1.5)  # the same, and the target's timer called twice after 3
    assert "it went on to make 2 calls naming no event (a timer's, a sync's), none of" in ticked
