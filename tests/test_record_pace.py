"""Calls that name only their record, read against the deliveries of its events
(``invariants/_after_answers.record_pace``).

The gallery's payout_by_order pays each order before it answers, ``POST /payouts {"order": …}``:
nothing of the event. Where an order had several events no call tied to an event, the pace was
not read, and the orders it acknowledged unpaid (its "manual review" list nobody reads) were
told "raise the settle quiet" (maybe late). Read by record, every call came while a delivery of
one of its record's events was in flight: dropped, not slow.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from harness.core._model import Event, Status
from harness.invariants._after_answers import _SCANNED, _Flights

from .test_expected import _settled, ev, lost, ok, run, write


def test_a_record_short_of_a_call_made_inline_is_dropped_not_maybe_late() -> None:
    """Payouts naming only their order, each made while a delivery of one of the order's
    events was in flight (the gallery's payout_by_order, which pays before it answers): no
    call names an event, so the pace was not read, and the orders it acknowledged unpaid were
    told 'raise the settle quiet'. Read by record, the work is inline: dropped, not slow."""

    def pair(tag: str) -> list[Event]:
        return [ev(tag, n, key=f"ord_{tag}{(n + 1) // 2}") for n in range(1, 5)]

    twins = pair("zqclean")
    clean_deliveries = [ok(e, at=n / 10) for n, e in enumerate(twins)]
    clean_paid = [write("/payouts", key=twins[n].key, at=n / 10 + 0.005) for n in (0, 2)]
    clean = run(twins, clean_deliveries, clean_paid, tag="zqclean")
    mine = pair("zqrun")
    paid = [write("/payouts", key=mine[0].key, at=0.005)]  # the second order never paid
    h = run(mine, [ok(e, at=n / 10) for n, e in enumerate(mine)], paid, tag="zqrun",
            baseline=clean)  # fmt: skip
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 record short of POST /payouts (per record); every call of this run naming only its "
        "record came while a delivery of an event of that record was in flight: the target "
        "does its work before it answers, and answered these without it (dropped, not slow: a "
        "longer settle would show nothing more)"
    ), v.summary
    assert "settle quiet" not in v.summary, v.summary


# Past _SCANNED flights of one event or record, a call is read against an index of them
# (_Flights), not a scan of them: the same reading.
@given(
    flights=st.lists(
        st.tuples(
            st.integers(0, 40).map(float),
            # How long each was in flight; rarely for good (no answer), or all after it are.
            st.sampled_from([*map(float, range(8)), math.inf]),
        ).map(lambda f: (f[0], f[0] + f[1])),
        min_size=1,
        max_size=3 * _SCANNED,
    ),
    moments=st.lists(st.integers(0, 50).map(float), max_size=20),
)
def test_many_flights_are_read_as_a_scan_reads_them(
    flights: list[tuple[float, float]], moments: list[float]
) -> None:
    index = _Flights(flights)
    for at in moments:
        answers = [a for _, a in flights if a <= at]
        assert index.last_answer(at) == (max(answers) if answers else None), at
        assert index.in_flight(at) == any(s <= at <= a for s, a in flights), at


def test_a_call_in_a_flight_after_an_answer_of_its_record_tells_no_pace() -> None:
    """Four events of one order, their deliveries overlapping (each sent 40 ms after the one
    before, in flight 100 ms, the last 300 ms), each paid 50 ms after its answer by a worker
    that pays after it answers; the last never paid yet. Every payout came while another
    delivery of the order was in flight, but after one of its answers: that says nothing of
    whether the answered event was paid inline, so 'dropped, not slow' is not said of it."""
    twins = [ev("zqclean", n, key="ord_zqclean") for n in range(1, 5)]
    clean_paid = [write("/payouts", key=twins[0].key, at=n / 10 + 0.06) for n in range(4)]
    clean = run(twins, [ok(e, at=n / 10) for n, e in enumerate(twins)], clean_paid,
                tag="zqclean")  # fmt: skip
    mine = [ev("zqrun", n, key="ord_zqrun") for n in range(1, 5)]
    deliveries = [
        replace(ok(e, at=n * 0.04), answered_at=n * 0.04 + (0.3 if n == 3 else 0.1))
        for n, e in enumerate(mine)
    ]
    paid = [write("/payouts", key=mine[0].key, at=d.answered_at + 0.05) for d in deliveries[:3]]
    h = run(mine, deliveries, paid, tag="zqrun", baseline=clean)
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 record short of POST /payouts (per record)"), v.summary
    assert "dropped, not slow" not in v.summary, v.summary
