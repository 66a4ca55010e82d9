"""A run's own string ids: the ids a synthetic source draws, made different in every run.

A source's draws follow its seed, so a run and its clean run (the baseline) draw the same ids:
their twins are the same events. The tracer makes the event's id and the record's key a token
of each run's tag, but the other ids an event carries (a Stripe invoice's ``in_1Pgd…`` under
an event keyed by its customer, a charge's ``ch_…``, a UUID) would reach the target twice,
once in each run — and an automation that remembers objects by their id (as a correct one
does: "this invoice is paid already") takes the run's events for the clean run's and skips
them, which the verdicts read as lost work. So each run draws every string id through a
permutation of the id's alphabet chosen by its tag (``RunAlphabets``): the same random bytes
as the seed's, each mapped to the permuted alphabet's character instead of the alphabet's — the
seed's id with each drawn character permuted, at no cost per id. Prefix, first character,
length, case and alphabet are kept (a UUID keeps its version and variant), distinct ids of a
run stay distinct, and another run draws another id. A short id has few values, and repeats
between runs as often (a 4-digit body: about 1 in 1,000 per id).

The two runs' ids are paired again where they are compared (``final_state_matches_baseline``
maps this run's to the baseline's through the payloads of the events of one seq). Integers
are renumbered per run by the tracer instead (``_tracer.renumbered``), and so not here; nor are
the event's id and the record's key, which the tracer makes tokens of.
"""

from __future__ import annotations

import random

_HEX = "0123456789abcdef"


class RunAlphabets:
    """The alphabets a run draws its string ids from: each a permutation, chosen by the run's
    tag, of the alphabet the seed's ids are drawn from."""

    def __init__(self, tag: str) -> None:
        self._tag = tag
        self._permuted: dict[str, str] = {}
        self._hex: dict[int, int] | None = None

    def __call__(self, alphabet: str) -> str:
        """``alphabet`` in this run's order."""
        found = self._permuted.get(alphabet)
        if found is None:
            letters = list(alphabet)
            random.Random(f"{self._tag}:{alphabet}").shuffle(letters)
            found = self._permuted[alphabet] = "".join(letters)
        return found

    def uuid(self, made: str) -> str:
        """A UUID drawn from the seed (``_vary.random_uuid``, lower case) as this run's: its hex
        digits permuted, its version (14) and variant (19) kept; the caller upper-cases it for
        an example in upper case."""
        if self._hex is None:
            self._hex = {ord(a): ord(b) for a, b in zip(_HEX, self(_HEX), strict=True)}
        t = self._hex
        return (
            made[:14].translate(t)
            + made[14]
            + made[15:19].translate(t)
            + made[19]
            + made[20:].translate(t)
        )
