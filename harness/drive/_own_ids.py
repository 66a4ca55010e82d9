"""A recording's ids made each run's own, its payloads otherwise as recorded.

Sent as recorded, a recording's ids reach the target in every run that replays it — each
hazard of `harness run`, each test of the pytest plugin, each run of the day — and an
automation that remembers what it has seen (a table of processed event ids, an invoice it holds
by its ``in_…``) takes every replay after the first for repeats and drops it: the verdicts
read a correct automation's memory as lost work. So by default a run maps every id of its
events to an id of its own, of the same shape — the event's id and the record's key, and each
string of the payload that is an id by the rules that find an example's ids (``_vary.id_kind``:
``evt_1Pgc…``, a UUID, a 40-hex sha, a Slack ``U0…``) — through permutations of digits and
letters chosen by the run's tag (``_run_ids.RunAlphabets``): the prefix and first character
kept, each character's class kept (a hex id stays hex, a UUID keeps its version and variant),
the same id to the same id within the run and another in another run. Integers under id-named
fields are renumbered (``_tracer.renumbered``), and an id inside a longer string (a URL's
``acct_…``) is made the run's own as it is whole (``_inner_ids``). Everything else — names,
emails, amounts, enums, the rest of a URL — is sent as recorded. Effects are attributed by the
ids they carry (``_correlate``'s verbatim ids) and the correlation rules; the journal keeps each
event's recorded id beside its own (``_replay``).
"""

from __future__ import annotations

from ._run_ids import RunAlphabets
from ._vary import id_head, id_kind

_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_HEX = "0123456789abcdef"


class OwnIds:
    """One run's ids for a recording's (module docstring)."""

    def __init__(self, tag: str) -> None:
        alphabets = RunAlphabets(tag)
        self._alphabets = alphabets
        classes = (_DIGITS, _LOWER, _UPPER)
        self._chars = str.maketrans(
            "".join(classes), "".join(alphabets(c) for c in classes)
        )  # each character within its class
        self._hex = str.maketrans(_HEX, alphabets(_HEX))

    def string(self, text: str) -> str:
        """``text`` as this run's when it is an id (``_vary.id_kind``); else itself."""
        kind = id_kind(text)
        if kind is None:
            return text
        if kind == "uuid":  # in the case it was recorded in (hex digits of one case)
            made = self._alphabets.uuid(text.lower())
            return made.upper() if text.isupper() else made
        if kind == "hex":
            return text.translate(self._hex)
        kept = id_head(text)  # a prefix and first character: ``cus_`` + ``Q``
        return text[:kept] + text[kept:].translate(self._chars)

    def declared(self, text: str) -> str:
        """An event's id or record key as this run's, whatever it looks like: an id's way
        (``string``), else its first character kept and the others permuted in their class."""
        found = self.string(text)
        if found is not text or not text:
            return found
        return text[0] + text[1:].translate(self._chars)
