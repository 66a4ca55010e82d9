"""Runs in which the automation called no downstream double: nothing shows what it did.

An automation not pointed at the double (its API base URL left at the real API, or unset), or
one that does its work later than the run watches (a poll, a schedule), makes no call the run
can see. Its clean run is then as silent, and every type of event reads as "ignored by design":
``no_lost_events`` would pass, and so would every check of effects — no duplicate among none,
no order broken among none. A pass there proves nothing, so ``judge`` makes each pass of an
invariant that judges effects inconclusive, with the likely causes (``mark_unseen``). Failures
stand. A run whose every event type is declared ``expect: none`` is left as it is: the user
said the automation makes nothing of those events.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from ..core._model import Evidence, Status, Verdict
from ._expected import Rule, expectation_of
from ._facts import Facts

WHY = (
    "not judged: the automation made no call to any downstream double in this run{clean}, so "
    "nothing shows what it did with the events and a pass would prove nothing — check that "
    "its API base URL is the downstream double's address (--downstream, 127.0.0.1:9100 by "
    "default; docs/five-minutes.md), and that it does its work within the settle quiet (a "
    "poll or a schedule needs --settle-quiet as long as its interval); declare `expect: none` for "
    "event types it ignores on purpose"
)


def mark_unseen(
    facts: Facts, verdicts: Sequence[Verdict], judging_effects: Collection[str]
) -> list[Verdict]:
    """``verdicts``, each pass of an invariant in ``judging_effects`` made inconclusive when
    the run called no double (and no observer read a record). A failure stands: where the
    clean run made calls and this one none, ``no_lost_events`` fails, rightly."""
    history = facts.history
    if history.effects or history.late_effects or history.states:
        return list(verdicts)  # the common case, decided at once
    if not any(v.status is Status.PASS and v.invariant in judging_effects for v in verdicts):
        return list(verdicts)
    exp = expectation_of(facts)
    types = {e.type for e in history.events}
    if types and all((r := exp.types.get(t)) and r.rule is Rule.DECLARED for t in types):
        return list(verdicts)
    clean = history.baseline
    silent = clean is not None and not (clean.effects or clean.late_effects or clean.states)
    why = WHY.format(clean=" nor in its clean run" if silent else "")
    return [
        replace(v, status=Status.INCONCLUSIVE, summary=why, evidence=Evidence())
        if v.status is Status.PASS and v.invariant in judging_effects
        else v
        for v in verdicts
    ]
