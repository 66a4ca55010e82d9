"""Made again after the API had taken it: repeats of a write applied and then answered 5xx.

A downstream that applies a write and then fails its answer (a gateway's 502 after the
backend committed, the double's ``commit-then-fail``) leaves the caller unable to tell a write
taken from one refused. Whatever tries again — the automation's own retry (a task queue's
``retries=``, an HTTP client's retry policy), or its work for the sender's redelivery of the
event — writes it twice. Deduplicating deliveries by event id does not cure the first, and
marking an event done only after its write succeeded cures neither: an Idempotency-Key made
from the event id, honoured by the API, does. ``no_duplicate_effects`` says so where the
journal shows the first write committed with a 5xx (or no) answer and the same request made
again after it — and where the first write already carried a key, it does not advise one: the
key changed between the attempts (made per call), or the API took the same key's repeat all
the same (its downstream declares it ignores the key, or it did not honour it).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Effect
from ..history import Effects
from ._facts import Facts
from ._idempotent import IDEMPOTENCY_KEY, KeyRule, Repeats
from ._open_calls import identical, share


class Keyed(enum.Enum):
    """What the Idempotency-Keys of a write made again say of the repeat."""

    NONE = "none"  # the first write carried no key
    CHANGED = "changed"  # the repeat carried another key, or none
    IGNORED = "ignored"  # the same key, its downstream declared to ignore it
    UNHONOURED = "unhonoured"  # the same key, made again all the same


@dataclass(frozen=True, slots=True)
class Taken:
    """``again``, the same request as ``first``, which the API applied and answered a failure;
    ``keyed``: what their Idempotency-Keys say."""

    first: Effect
    again: Effect
    keyed: Keyed = Keyed.NONE

    def answer(self) -> str:
        return f"answered {self.first.status}" if self.first.status else "not answered"

    def text(self) -> str:
        """``eff_1, applied and answered 502, made again as eff_31 1.0 s later``."""
        return (
            f"{self.first.id}, applied and {self.answer()}, made again as {self.again.id} "
            f"{self.again.at - self.first.at:.1f} s later"
        )


def taken_then_failed(facts: Facts, event_ids: Sequence[str]) -> dict[str, Taken]:
    """Of ``event_ids`` (events written more than once), those with a write the API applied
    but answered 5xx or not at all, made again after it (the same request, body and all), each
    with the first such pair."""
    found: dict[str, Taken] = {}
    if not _applied_and_failed(facts.history.effects):
        return found  # the common case: no Effect made (a loaded run's effects are columns)
    repeats = Repeats(facts.history.info.settings)
    for eid in event_ids:
        writes = facts.writes_of(eid)
        for i, first in enumerate(writes):
            if not first.committed or 0 < first.status < 500:
                continue
            request = identical(first)
            again = next((w for w in writes[i + 1 :] if identical(w) == request), None)
            if again is not None:
                found[eid] = Taken(first, again, keyed_of(first, again, repeats))
                break
    return found


def keyed_of(first: Effect, again: Effect, repeats: Repeats) -> Keyed:
    """What the Idempotency-Keys of ``first`` and ``again``, the same write, say of the repeat."""
    key = first.header(IDEMPOTENCY_KEY)
    if key is None:
        return Keyed.NONE
    if again.header(IDEMPOTENCY_KEY) != key:
        return Keyed.CHANGED
    if repeats.key_rule(first) is KeyRule.IGNORED:
        return Keyed.IGNORED
    return Keyed.UNHONOURED


def _applied_and_failed(effects: Sequence[Effect]) -> bool:
    """Whether any of ``effects`` was applied and answered 5xx or not at all."""
    if isinstance(effects, Effects):
        import numpy as np

        status = np.asarray(effects.stored("status"), dtype=np.int64)
        committed = np.asarray(effects.stored("committed"), dtype=bool)
        return bool(np.any(committed & ((status >= 500) | (status == 0))))
    return any(e.committed and not 0 < e.status < 500 for e in effects)


def taken_text(facts: Facts, taken: Mapping[str, Taken], repeated: int) -> str:
    """``; all of them made again a write the API had applied …`` of ``taken`` (by event id,
    ``taken_then_failed``'s); "" for none."""
    if not taken:
        return ""
    found = list(taken.values())
    shown = found[0]
    advice = key_advice([(t.keyed, t.first.downstream) for t in found])
    return (
        f"; {share(len(found), repeated)} of them made again a write the API had applied but "
        f"{shown.answer()} (e.g. "
        f"{shown.first.method.upper()} {shown.first.path} {shown.text()}): "
        f"{_made_by(facts, taken)}; nothing in such an answer tells a write applied from one "
        f"refused; {advice}"
    )


def _made_by(facts: Facts, taken: Mapping[str, Taken]) -> str:
    """What made the writes again, as far as the deliveries tell: an event delivered once was
    written again by the automation's own retry; one delivered more than once may have been
    written again for another delivery (a receiver that answered first and never retries,
    working a redelivery) as well — one run does not tell that from a retry."""
    counts = [len(ds) for ds in facts.deliveries_of(list(taken)).values()]
    once = sum(1 for n in counts if n <= 1)
    more = len(counts) - once
    retry = "a retry of the automation's own after a failure that was no failure"
    either = "by a retry of the automation's own or by its work for another delivery of the event"
    if not more:
        return f"{retry} (each event was delivered once)"
    if not once:
        times = (
            f"each was delivered {counts[0]} times"
            if len(set(counts)) == 1
            else "each was delivered more than once"
        )
        return f"{either} ({times}): this run does not tell which"
    return (
        f"{once:,} of them, delivered once, {retry}; the other {more:,}, delivered more than "
        f"once, {either}: this run does not tell which"
    )


def key_advice(repeats: Sequence[tuple[Keyed, str]]) -> str:
    """What to do about writes made again, by what their keys say (``(keyed, downstream)`` a
    repeat), each kind with its share where they differ."""
    causes = Counter(keyed for keyed, _ in repeats)
    return "; ".join(
        (f"{share(n, len(repeats))} of them: " if len(causes) > 1 else "")
        + _ADVICE[keyed].format(downstream=next(d for k, d in repeats if k is keyed))
        for keyed, n in causes.most_common()
    )


_ADVICE = {
    Keyed.NONE: "send an Idempotency-Key made from the event id, which the API honours",
    Keyed.CHANGED: (
        "the first carried an Idempotency-Key and the repeat another, or none: the key "
        "changed between the attempts, so the API took the repeat for a new request — make "
        "the key once per event, from its id, and send it on every attempt"
    ),
    Keyed.IGNORED: (
        "both carried the same Idempotency-Key, which downstream {downstream} is declared to "
        "ignore (idempotency_key: ignored): the downstream ignored the key, so it cannot make "
        "this write safe to retry — look the write up before making it again, or write "
        "through a route that honours the key"
    ),
    Keyed.UNHONOURED: (
        "both carried the same Idempotency-Key, and downstream {downstream} made the repeat "
        "all the same: it did not honour the key — check that the API deduplicates this "
        "route by the key (else declare `idempotency_key: ignored` on it), or look the write "
        "up before making it again"
    ),
}
