"""What one run makes of a payload's strings, worked out once for each distinct string.

The tracer rewrites a string that is not the event's id or key (``_tracer._Rewrite.text``) into
the run's own id where it is one whole (a recording's, ``_own_ids``); else it marks free text
and emails with the event's token (``marked``) and makes the ids inside it the run's
(``_inner_ids.Inner``). Only two things in that differ from event to event: the token, and the
ids an event renumbers (its id and key, its integers under id-named fields). The rest is the
same for every event of the run, and strings repeat from event to event — an example's
constants, a record's name and email, a recording's account URL — so a string met a second
time is worked out once (``Rewrites.met``): the run's text around the token, and the words
inside the string an event may rewrite. An event then only asks whether it renumbers one of
those words (most do not, most strings have none) and otherwise joins the text to its token;
where it does, the string is rewritten as it stands, its ids looked for in it, as is a string
met once (most that vary: a synthetic source's or a recording's ids, URLs).

Exact, not a guess: the token is letters then digits after a letter (``zqabcdee12``), after a
space or a ``+`` and before ``@`` or the end, so no id pattern matches in it or across it and
whatever follows or precedes it reads it as a letter; worked out with a character the string
lacks in its place, the string's ids and digit runs are those of every event's text. A run
whose tag is not lowercase letters from ``g`` on (``new_tag`` hands out none such) rewrites
every string as it stands.
"""

from __future__ import annotations

import re

from ._inner_ids import Inner, inner_words
from ._own_ids import OwnIds

_EMAIL = re.compile(r"^([^@\s+]+)(?:\+[^@\s]*)?@([^@\s]+\.[^@\s]+)$")
# A tag whose tokens (tag, ``e``, digits) no id pattern matches in (module docstring): not a
# hex digit first, letters only.
_PLAIN_TAG = re.compile(r"[g-z][a-z]*")
_KEPT = 4096  # distinct strings kept per run: the example's constants and the recurring ones
_NONE: frozenset[str] = frozenset()

# A string's rewrite in a run: its text (before the token, and after it where it is marked:
# None where it is not), the words in it an event may rewrite, and its digit runs.
Plan = tuple[str, str | None, frozenset[str], tuple[str, ...]]


def is_email(s: str) -> bool:
    """Whether ``s`` is an email as a whole (``a@b.c``, ``a+tag@b.c``)."""
    return "@" in s and _EMAIL.match(s) is not None


def marked(s: str, token: str) -> str:
    """``s`` carrying the event's ``token`` when it is an email (``a+token@b.c``) or free text
    (names, notes, addresses: ``text token``); else ``s`` itself. Short single words are left
    alone because they are usually enums the target switches on ("paid", "usd")."""
    email = _EMAIL.match(s) if "@" in s else None  # most strings are not: no regex
    if email:
        return f"{email.group(1)}+{token}@{email.group(2)}"
    if " " in s.strip() and len(s) <= 500:
        return f"{s} {token}"
    return s


class Rewrites:
    """One run's plans of its strings (module docstring): ``own`` its ids for a recording's,
    ``mark`` whether free text carries the token. ``inert`` holds the strings every event
    leaves as they are (the example's ``usd``), ``plans`` the others worked out."""

    def __init__(self, tag: str, own: OwnIds | None, mark: bool) -> None:
        self._own = own
        self._mark = mark
        self.inert: set[str] = set()
        self.plans: dict[str, Plan] = {}
        self._once: set[str] = set()  # strings met once: worked out at the second meeting
        self._kept = _KEPT if _PLAIN_TAG.fullmatch(tag) else 0

    def met(self, s: str) -> Plan | None:
        """``s``, in neither ``inert`` nor ``plans``, worked out and kept where it is met the
        second time; else None (most strings that vary are met once: a synthetic source's or
        a recording's ids, URLs; and every string of a run whose tag is not plain, or once as
        many as are kept are): the caller rewrites it as it stands."""
        once = self._once
        if s not in once:
            if len(once) < 4 * self._kept:
                once.add(s)
            return None
        if len(self.inert) + len(self.plans) >= self._kept:  # the first recurring ones kept
            return None
        plan = self._worked_out(s)
        if plan[0] is s and plan[1] is None and not plan[2]:
            self.inert.add(s)
        else:
            self.plans[s] = plan
        return plan

    def _worked_out(self, s: str) -> Plan:
        if self._own is not None:
            whole = self._own.string(s)
            if whole is not s:
                return whole, None, _NONE, ()
        hole = "\ue000"  # a character the string lacks stands for the token
        while hole in s:
            hole = chr(ord(hole) + 1)
        text = marked(s, hole) if self._mark else s
        words, numbers = inner_words(text)
        made = Inner({}, (), self._own)(text) if words and self._own is not None else text
        if text is s:
            return made, None, words, numbers
        head, _, tail = made.partition(hole)
        return head, tail, words, numbers
