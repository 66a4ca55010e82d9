"""A pass over repeats that came seconds apart in a compressed run says what it could not see.

Stripe redelivers an event for up to 3 days. A receiver that deduplicates with a cache whose
entries expire (a TTL of ten minutes, say) handles a provider retry storm run at time scale
0.0002 — its retries an hour apart in the scenario arrive 0.7 s apart — and repeats the payout
in production, when the retry comes after the entry expired. The run cannot show that; its
pass must say how far apart the repeats it saw really were.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Delivery, Effect, Outcome, Status, Verdict
from harness.history import History

from .test_duplicates_unattributed import ev, run
from .test_record_attribution import verdict_of


def deduplicated(scale: float, gap: float) -> History:
    """Two events, the first delivered again ``gap`` run seconds later and answered 200
    without a second payout."""
    events = [ev("zqrun", 0), ev("zqrun", 1)]
    sent = [(events[0], 1.0), (events[1], 1.2), (events[0], 1.0 + gap)]
    deliveries = [
        Delivery(f"dlv_{n}", e.id, n, at, at, at + 0.01, 200, Outcome.OK)
        for n, (e, at) in enumerate(sent, 1)
    ]
    effects = [
        Effect(
            f"eff_{e.seq}",
            "api",
            1.1 + e.seq,
            "POST",
            "/payouts",
            {},
            f'{{"e": "{e.id}"}}',
            201,
            (e.id,),
        )
        for e in events
    ]
    h = run(events, deliveries, effects, tag="zqrun")
    h.info = replace(h.info, settings={**h.info.settings, "time_scale": scale})
    return h


def dup(h: History) -> Verdict:
    return verdict_of(h, "no_duplicate_effects")


def test_a_compressed_run_says_how_far_apart_the_repeats_really_came() -> None:
    v = dup(deduplicated(0.0002, 0.72))
    assert v.status is Status.PASS, v.summary
    assert v.summary.endswith(
        "an event's deliveries came at most 0.72 s apart here, 60 min in the scenario's time "
        "(time scale 0.0002): an automation that forgets the events it handled sooner than that "
        "— a dedup cache with a time to live — passes here and repeats them in production; keep "
        "each event's id as long as its sender redelivers (docs/providers.md)"
    ), v.summary
    # The run's provider says how long: a Shopify run was told Stripe's three days.
    for provider, span in (("stripe", "Stripe: up to 3 days"), ("shopify", "Shopify: up to 4 h")):
        h = deduplicated(0.0002, 0.72)
        h.info = replace(h.info, settings={**h.info.settings, "provider": provider})
        v = dup(h)
        assert v.summary.endswith(f"as its sender redelivers ({span}; docs/providers.md)"), (
            v.summary
        )


def test_a_run_in_real_time_or_a_short_span_needs_no_word() -> None:
    for scale, gap in ((1.0, 5.0), (0.5, 10.0)):  # 5 s, and 20 s of scenario time
        v = dup(deduplicated(scale, gap))
        assert v.status is Status.PASS, v.summary
        assert "in the scenario's time" not in v.summary, v.summary


def test_a_first_attempt_that_timed_out_counts_as_received() -> None:
    """A provider retry storm's repeats: the first attempt outlasts the sender's ack timeout
    (no answer: timed out, the target still working on it), the retry 0.72 s later is answered
    200 at once by a dedup that remembers the id. The word was missing: only answered
    deliveries were counted, so the span was the retry's alone, 0 s. A connection refused
    before any answer reached no one and still does not count."""
    h = deduplicated(0.0002, 0.72)
    first = h.deliveries[0]
    timed_out = replace(first, answered_at=None, status=None, outcome=Outcome.INDETERMINATE)
    h.deliveries = [timed_out, *h.deliveries[1:]]
    v = dup(h)
    assert v.status is Status.PASS, v.summary
    assert "deliveries came at most 0.72 s apart here, 60 min in the scenario's" in v.summary
    refused = replace(timed_out, outcome=Outcome.FAILED, error="connection refused")
    h.deliveries = [refused, *h.deliveries[1:]]
    v = dup(h)
    assert v.status is Status.PASS, v.summary
    assert "in the scenario's time" not in v.summary, v.summary


def test_a_retry_is_as_far_from_its_attempt_as_the_senders_delay_and_its_real_wait() -> None:
    """Stripe's first retry comes 16 min 56 s after the attempt it gave up on, which it waited
    0.5 s for (its ack timeout, real time in any run). Here that is 0.5 s + 0.2 s: it said '59
    min in the scenario's time', the real wait divided by the time scale as if it were
    scenario time — and a dedup keeping ids 30 min, which Stripe's first retry does not
    outlast, was told it repeats them in production."""
    h = deduplicated(0.0002, 0.72)
    delay = 1016 * 0.0002  # Stripe's first retry, on the run's clock
    h.info = replace(h.info, settings={**h.info.settings, "retries": [delay, 2 * delay]})
    first = h.deliveries[0]
    timed_out = replace(first, answered_at=None, status=None, outcome=Outcome.INDETERMINATE)
    due = first.scheduled_at + 0.5 + delay
    retry = replace(first, id=f"{first.id}.r1", attempt=2, scheduled_at=due, sent_at=due)
    h.deliveries = [timed_out, h.deliveries[1], retry]
    v = dup(h)
    assert v.status is Status.PASS, v.summary
    assert "deliveries came at most 0.703 s apart here, 17 min in the scenario's time" in (
        v.summary
    ), v.summary


def test_a_pass_over_copies_says_how_many_deliveries_came_between_them() -> None:
    """A dedup that keeps only the last ids it handled (an LRU cache of 100) passes copies
    that come a delivery apart and repeats a redelivery that comes days of events later: the
    pass says how far apart, in deliveries, the copies it saw came — with the advice once,
    where the compressed run's note gives it too."""
    for scale in (1.0, 0.0002):
        v = dup(deduplicated(scale, 0.72))
        assert v.status is Status.PASS, v.summary
        assert (
            "an event's copies came at most 1 other delivery apart: a dedup that keeps only the "
            "last ids it handled (an LRU cache, a set of the last N) passes here if it holds "
            "more than 1, and repeats events in production"
        ) in v.summary, v.summary
        assert v.summary.count("as long as its sender redelivers") == 1, v.summary


def test_a_run_without_copies_says_nothing_of_them() -> None:
    h = deduplicated(1.0, 0.72)
    h.deliveries = h.deliveries[:2]  # each event delivered once
    v = dup(h)
    assert v.status is Status.PASS, v.summary
    assert "copies came" not in v.summary, v.summary
