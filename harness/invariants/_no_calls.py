"""Runs in which the automation called no downstream double: nothing shows what it did.

An automation not pointed at the double (its API base URL left at the real API, or unset), or
one that does its work later than the run watches (a poll, a schedule), makes no call the run
can see. Its clean run is then as silent, and every type of event reads as "ignored by design":
``no_lost_events`` would pass, and so would every check of effects — no duplicate among none,
no order broken among none. A pass there proves nothing, so ``judge`` makes each pass of an
invariant that judges effects inconclusive, with the likely causes (``mark_unseen``). Failures
stand. A run that accepted nothing owed nothing (a run of tampered deliveries, rightly
refused; refusals are ``_refused``'s), and one whose every accepted event's type is declared
``expect: none`` is left as it is: the user said the automation makes nothing of those.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from ..core._model import Evidence, Status, Verdict
from ..core._signing import TYPE_HEADERS
from ..history import History
from ._expected import Rule, expectation_of
from ._facts import Facts

WHY = (
    "not judged: the automation made no call to any downstream double in this run{clean}, so "
    "nothing shows what it did with the events and a pass would prove nothing — {advice}"
)
ADVICE = (
    "check that its API base URL is the downstream double's address (127.0.0.1:9100 by "
    "default: --downstream, under pytest and Locust --harness-downstream; "
    "docs/five-minutes.md), and that it does its work within the settle quiet (a poll or a "
    "schedule needs a quiet as long as its interval: `settle: {quiet: …}` or --settle-quiet); "
    "declare `expect: none` for event types it ignores on purpose"
)
# Every event sent as the placeholder type in the header its provider names the type in: a
# receiver that routes on that header (a Shopify topic) made nothing of any of them.
UNTYPED = (
    "every event went out with {header}: event, the type the hazards give events whose "
    "payload holds none — a receiver that routes on {header} does nothing with them: name "
    "the type on the events item (`types: [{like}]` in harness.yaml, docs/project.md); else "
)
_LIKE = {"github": "issues", "shopify": "orders/create"}
# A run's setting: the latest earlier run of the same invocation that called its doubles.
CALLED_BEFORE = "called_before"
# An earlier run called the doubles, neither this one nor its clean run: the address was right.
ADVICE_CALLED_BEFORE = (
    "an earlier run of this invocation ({scenario}) made {calls} to its doubles, so the "
    "address was right then: the automation may have stopped working since (a worker that "
    "died, a queue that stopped: check its log), or works later than the settle quiet"
)
# The clean run called the double: the address is right, this run's silence is its own.
ADVICE_CLEAN_CALLED = (
    "its clean run did call it, so the address is right: see no_lost_events, and whether this "
    "run's work comes later than the settle quiet (`settle: {quiet: …}` or --settle-quiet)"
)


def mark_unseen(
    facts: Facts, verdicts: Sequence[Verdict], judging_effects: Collection[str]
) -> list[Verdict]:
    """``verdicts``, each pass of an invariant in ``judging_effects`` made inconclusive when
    the run accepted events and called no double (``_called``). A failure stands: where the
    clean run made calls and this one none, ``no_lost_events`` fails, rightly."""
    history = facts.history
    if _called(history) or not facts.accepted:
        # The common case, decided at once; or nothing accepted, nothing owed: a run of
        # refusals (``_refused``) or of tampered deliveries, rightly refused.
        return list(verdicts)
    if not any(v.status is Status.PASS and v.invariant in judging_effects for v in verdicts):
        return list(verdicts)
    types = accepted_types(facts)
    if declared_none(facts, types):
        return list(verdicts)
    clean = history.baseline
    before = history.info.settings.get(CALLED_BEFORE)
    if clean is not None and _called(clean):
        why = WHY.format(clean="", advice=ADVICE_CLEAN_CALLED)
    else:
        advice = ADVICE
        if isinstance(before, dict):
            calls = before.get("calls")
            calls = f"{calls:,} calls" if isinstance(calls, int) and calls != 1 else "a call"
            advice = ADVICE_CALLED_BEFORE.format(scenario=before.get("scenario"), calls=calls)
        signing = history.info.settings.get("signing")
        header = TYPE_HEADERS.get(signing) if isinstance(signing, str) else None
        if header is not None and types == {"event"}:
            advice = UNTYPED.format(header=header, like=_LIKE[str(signing)]) + advice
        why = WHY.format(clean="" if clean is None else " nor in its clean run", advice=advice)
    return [
        replace(v, status=Status.INCONCLUSIVE, summary=why, evidence=Evidence())
        if v.status is Status.PASS and v.invariant in judging_effects
        else v
        for v in verdicts
    ]


def accepted_types(facts: Facts) -> set[str]:
    """The types of the run's accepted events."""
    return {facts.events_by_id[i].type for i in facts.accepted if i in facts.events_by_id}


def declared_none(facts: Facts, types: Collection[str]) -> bool:
    """Is every one of ``types`` declared ``expect: none``: the automation makes nothing of
    them, as the user said?"""
    exp = expectation_of(facts)
    return all((r := exp.types.get(t)) and r.rule is Rule.DECLARED and r.ignored for t in types)


def _called(history: History) -> bool:
    """Did the automation call a double during ``history`` (or did an observer read a record
    of it)? Late effects do not count: they came after the run was judged, and are never
    judged. A record an observer read that names none of the run's events or records may be
    older than the run."""
    return bool(history.effects) or any(s.event_ids or s.key for s in history.states)
