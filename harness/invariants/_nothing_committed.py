"""A run whose writes the downstreams all turned away: nothing a repeat could be of.

An automation that made its calls while every one was refused (a downstream down the whole
run, a wrong API key answered 401) or rolled back (a creation its event undid, ``_undone``)
changed nothing: ``no_duplicate_effects`` saw no write that a second could repeat, so "no event
produced a repeated effect" would claim what the run could not see — the verdict is
inconclusive, with what became of the calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..core._model import Effect
from ._facts import is_write, plural, uncommitted, would_write
from ._undone import Undone


def nothing_committed(effects: Iterable[Effect]) -> str:
    """``not judged: no downstream committed any of the automation's 4 writes (4
    refused 503) …`` where the run made writes and the downstreams committed none, else ""."""
    why: Counter[str] = Counter()
    for e in effects:
        if is_write(e):
            return ""  # most runs: the first effect
        if isinstance(e, Undone):
            if e.method.upper() != "DELETE":  # the creation, not the DELETE that undid it
                why["undone by their event's own DELETE"] += 1
        elif not e.committed and would_write(e):
            why[uncommitted(e)] += 1
    if not why:
        return ""
    n = sum(why.values())
    fates = ", ".join(f"{count:,} {text}" for text, count in why.most_common())
    return (
        "not judged: no downstream committed any of the automation's "
        f"{plural(n, 'write')} ({fates}), so the run saw no write a second could repeat — run "
        "again with the downstream taking calls (a fault window shorter than the run; the API "
        "key or the path it refused fixed) to see whether a repeated event writes twice"
    )
