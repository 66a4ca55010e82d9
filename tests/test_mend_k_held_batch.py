"""The note on events judged by their type because the clean run held their twins at its end
(``_explain``): of a twin that came in one request with an event of its type that acted (a
batching sender), the clean run did not act "on all the others" — only on some of that request,
which is all the journal shows. Before, both notes read "1 event judged by what their type's
events made (held at the clean run's end: their twins were its last of their type and made no
effect, though it acted on all the others)"."""

from __future__ import annotations

from .test_expected import ev, lost, ok, run, write


def _summary(provider: str) -> str:
    """The clean run's checkout 1 alone, then 2, 3 and 4 sent at one instant, 4 making
    nothing: one HubSpot request of three, or three Stripe requests in flight together; the
    judged run sends each alone and 4 makes nothing again."""
    twins = [ev("zqclean", n) for n in range(1, 5)]
    sent = [ok(e, at=min(n, 1.0)) for n, e in enumerate(twins)]
    made = [
        write("/contacts", [e], at=d.sent_at + 0.005) for e, d in zip(twins, sent[:3], strict=False)
    ]
    settings = {"provider": provider}
    base = run(twins, sent, made, tag="zqclean", settings=settings)
    events = [ev("zqrun", n) for n in range(1, 5)]
    sent = [ok(e, at=2.0 * n) for n, e in enumerate(events)]
    made = [
        write("/contacts", [e], at=d.sent_at + 0.005)
        for e, d in zip(events, sent[:3], strict=False)
    ]
    return lost(run(events, sent, made, tag="zqrun", baseline=base, settings=settings)).summary


def test_a_twin_held_in_a_batch_is_not_said_to_be_last_of_all() -> None:
    summary = _summary("hubspot")
    assert "though it acted on all the others)" not in summary, summary
    assert (
        "; 1 event judged by what its type's events made (held at the clean run's end: its "
        "clean twin came in one request with an event of its type that acted — the sender "
        "batches events — and made no effect, and no event of its type acted after that "
        "request)"
    ) in summary, summary


def test_a_twin_held_last_says_so_in_the_words_of_one() -> None:
    summary = _summary("stripe")
    assert (
        "; 1 event judged by what its type's events made (held at the clean run's end: its "
        "clean twin was among the last events of its type there, which made no effect, though "
        "it acted on all the others)"
    ) in summary, summary
