"""A run in which the automation wrote nothing a downstream kept: nothing a repeat could be of.

An automation that made its calls while every one was refused (a downstream down the whole
run, a wrong API key answered 401) or rolled back (a creation its event undid, ``_undone``)
changed nothing: ``no_duplicate_effects`` saw no write that a second could repeat, so "no event
produced a repeated effect" would claim what the run could not see — the verdict is
inconclusive, with what became of the calls. So is a run that accepted events and made no
write at all: only reads (GET), or no call while an observer read records it wrote elsewhere
(a database, an API the harness does not stand in for), whose final state shows where each
record ended, not how many times it was written — unless every accepted event's type is declared
``expect: none``. A run with no call and nothing observed is ``_no_calls``'s, which says it for
every check of effects.
"""

from __future__ import annotations

from collections import Counter

from ._facts import Facts, is_write, plural, uncommitted, would_write
from ._no_calls import accepted_types, declared_none
from ._undone import Undone

_NO_WRITE = (
    "not judged: the automation wrote nothing to a downstream double in this run ({made}), so "
    "the run saw no write a second could repeat — if it writes to an API the harness does not "
    "stand in for, point that API's base URL at the downstream double (docs/five-minutes.md) "
    "and run again{judges}"
)


def nothing_committed(facts: Facts) -> str:
    """``not judged: no downstream committed any of the automation's 4 writes (4
    refused 503) …`` where the run made writes and the downstreams committed none, or
    ``not judged: the automation wrote nothing …`` where it accepted events and made no
    write (``_NO_WRITE``), else ""."""
    why: Counter[str] = Counter()
    reads = 0
    for e in facts.effects_in_order:
        if is_write(e):
            return ""  # most runs: the first effect
        if isinstance(e, Undone):
            if e.method.upper() != "DELETE":  # the creation, not the DELETE that undid it
                why["undone by their event's own DELETE"] += 1
        elif not e.committed and would_write(e):
            why[uncommitted(e)] += 1
        elif not would_write(e):
            reads += 1
    if why:
        n = sum(why.values())
        fates = ", ".join(f"{count:,} {text}" for text, count in why.most_common())
        return (
            "not judged: no downstream committed any of the automation's "
            f"{plural(n, 'write')} ({fates}), so the run saw no write a second could repeat — "
            "run again with the downstream taking calls (a fault window shorter than the run; "
            "the API key or the path it refused fixed) to see whether a repeated event writes "
            "twice"
        )
    observed = len(facts.history.states)
    if not facts.accepted or not (reads or observed):
        return ""  # nothing owed; or no call and nothing observed: ``_no_calls`` says it
    if declared_none(facts, accepted_types(facts)):
        return ""  # the user said the automation makes nothing of these events
    made = [f"its {reads:,} calls were all reads" if reads > 1 else "its one call was a read"]
    if not reads:
        made = ["no call"]
    judges = "; no_lost_events judges whether its events came to nothing"
    if observed:
        made.append(
            f"an observer read {plural(observed, 'record')} of its state, which shows where "
            "each ended, not how many times it was written"
        )
        # A database it writes itself is no API to point: its rows show a repeat, not calls.
        judges = (
            "; final_state_matches_baseline judges where the records ended — a table it writes "
            "itself shows a repeat only in its rows (keep a unique key on the event id)"
        )
    return _NO_WRITE.format(made="; ".join(made), judges=judges)
