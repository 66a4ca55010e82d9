"""Correlation by tracer values (DESIGN.md, "Seeing effects").

Every run rewrites its events' ids, record keys and free-text values into unique tokens built
from a per-run tag, keeping their format (an email stays an email, ``ord_…`` stays ``ord_…``).
An effect that carries any token is attributed to its event (or record) without knowing how
the target maps fields. The tag is random per run, so a stateful target that remembers a
previous run's ids never mistakes this run's events for old ones.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..core._model import Event

_ID_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9]*_)[A-Za-z0-9-]+$")
_EMAIL = re.compile(r"^([^@\s+]+)(?:\+[^@\s]*)?@([^@\s]+\.[^@\s]+)$")


def new_tag() -> str:
    """``zq`` and five random lowercase letters: tokens stand out in a body, and the runs of one
    journal (named ``scenario@tag``) do not collide — three letters did, about once in a
    hundred test sessions."""
    return "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5))


class Tracer:
    """Holds a run's traced events and attributes text back to them."""

    def __init__(self, tag: str, events: Sequence[Event]):
        self.tag = tag
        self.events = tuple(events)
        self._pattern = re.compile(re.escape(tag) + r"([ek])(\d+)")
        self._by_seq = {ev.seq: ev for ev in self.events}
        self._keys: dict[int, str] = {}
        key_token = re.compile(re.escape(tag) + r"k(\d+)")
        for ev in self.events:
            m = key_token.search(ev.key)
            if m:
                self._keys[int(m.group(1))] = ev.key

    def attribute(self, text: str) -> tuple[tuple[str, ...], str | None]:
        """The events and the record a piece of text (an effect's path and body) mentions."""
        event_ids: list[str] = []
        key: str | None = None
        record_key: str | None = None
        for kind, number in self._pattern.findall(text):
            n = int(number)
            if kind == "e":
                ev = self._by_seq.get(n)
                if ev is not None and ev.id not in event_ids:
                    event_ids.append(ev.id)
                    key = key or ev.key
            elif record_key is None:
                record_key = self._keys.get(n)
        return tuple(event_ids), record_key or key


def trace(events: Sequence[Event], tag: str) -> Tracer:
    """Rewrite ids, keys, emails and free text of ``events`` into this run's tokens."""
    key_numbers: dict[str, int] = {}
    traced: list[Event] = []
    for ev in events:
        number = key_numbers.setdefault(ev.key, len(key_numbers))
        new_id = _token_id(ev.id, f"{tag}e{ev.seq}")
        new_key = _token_id(ev.key, f"{tag}k{number}")
        rewrite = _Rewrite(ev.id, new_id, ev.key, new_key, f"{tag}e{ev.seq}")
        payload = rewrite.value(ev.payload)
        traced.append(replace(ev, id=new_id, key=new_key, payload=payload))
    return Tracer(tag, traced)


def _token_id(value: str, token: str) -> str:
    m = _ID_LIKE.match(value)
    return (m.group(1) if m else "") + token


class _Rewrite:
    def __init__(self, old_id: str, new_id: str, old_key: str, new_key: str, token: str):
        self.exact = {old_id: new_id, old_key: new_key}
        self.token = token

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: self.value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if isinstance(node, str):
            return self.text(node)
        return node

    def text(self, s: str) -> str:
        if s in self.exact:
            return self.exact[s]
        email = _EMAIL.match(s)
        if email:
            return f"{email.group(1)}+{self.token}@{email.group(2)}"
        # Free text (names, notes, addresses) carries the token; short single words are
        # left alone because they are usually enums the target switches on ("paid", "usd").
        if " " in s.strip() and len(s) <= 500:
            return f"{s} {self.token}"
        return s
