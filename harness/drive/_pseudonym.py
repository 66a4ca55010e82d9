"""Pseudonymising captured deliveries (``harness record``): PII replaced, secrets never kept.

A pseudonym is an HMAC-SHA256 of the value under a key the user keeps, so the same value gets
the same pseudonym in one file and across captures made with the same key, and nobody without
the key can tell which value it stands for. Pseudonyms keep the value's format, so a replay
exercises the same code: an email stays an email (``user_3f9a0c17d2@example.invalid`` — the
reserved ``.invalid`` domain, so an automation replaying it cannot mail anyone), a phone number
stays a phone number of the same length and punctuation, a name stays words of the same length
and capitals, digits stay digits.

What is replaced: every leaf at the configured paths (``$.data.object.customer_details.name``),
and every email address and phone number detected anywhere in a body, a header value, the path
or the query. What is never kept, with or without a key: the values under secret-looking keys
(``core._sensitive``), replaced by ``[redacted]``. Headers are the caller's (``_capture``) to
drop.

A JSON body is rewritten token by token in its own text, each token's path followed: only the
replaced strings and numbers change, the rest (key order, spaces, number formats) stays as
received, and a number is replaced only where it sits (a ``cvc`` of 123 does not touch a
``quantity`` of 123).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, unquote

from ..core import _paths
from ..core._sensitive import is_credential_param, is_sensitive_key

REDACTED = "[redacted]"
EMAIL_DOMAIN = "example.invalid"
# A key shorter than this makes every pseudonym guessable from a list of likely emails.
MIN_KEY = 16

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# International (+country code, then groups), or North American ((555) 123-4567, 555-123-4567);
# never a bare run of digits: those are ids, amounts and timestamps.
_PHONE = (
    r"(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,4}){2,5}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w])"  # an extension: 555-123-4567x89
)
_DETECT = re.compile(f"(?P<email>{_EMAIL})|(?P<phone>{_PHONE})")
# A value at a configured path: emails and phones, then every word and every run of digits.
_ALL = re.compile(f"(?P<email>{_EMAIL})|(?P<phone>{_PHONE})|(?P<word>[^\\W\\d_]+)|(?P<digits>\\d+)")
_PHONE_DIGITS = range(7, 22)  # up to 15, and an extension
# A JSON string or number token in a body's text.
_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}\[\]:,]|true|false|null'
)
_CONSONANTS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"


class Scrubber:
    """What a capture writes instead of what it received.

    ``key`` None (``--no-pseudonymise``): PII is kept, secrets are still redacted.
    ``paths``: JSONPaths whose values are pseudonymised whatever they look like.
    """

    def __init__(self, key: bytes | None, paths: Sequence[str] = ()) -> None:
        self._key = key
        self._paths = tuple(_paths.parse(p) for p in paths)

    @property
    def pseudonymises(self) -> bool:
        return self._key is not None

    def text(self, text: str) -> str:
        """``text`` with every detected email and phone number replaced."""
        if self._key is None:
            return text
        return _DETECT.sub(self._replace, text)

    def value(self, text: str) -> str:
        """A value at a configured path: every part of it replaced, in its format."""
        return _ALL.sub(self._replace, text)

    def body(self, raw: bytes) -> bytes:
        """A request body as a capture keeps it (a body that is not UTF-8 is kept as is)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        try:
            json.loads(text)
        except ValueError:
            return self.text(text).encode()
        return _rewrite(text, self._json_value, self.text).encode()

    def query(self, query: str) -> str:
        """A query string with credential parameters redacted and PII replaced."""
        parts = []
        for part in query.split("&") if query else ():
            name, sep, value = part.partition("=")
            plain = unquote(value)
            new = REDACTED if is_credential_param(name) else self.text(plain)
            parts.append(f"{name}{sep}{quote(new, safe='@+') if new != plain else value}")
        return "&".join(parts)

    def _json_value(self, steps: tuple[_paths.Step, ...], token: str) -> str:
        """What a body's string or number token at ``steps`` becomes."""
        if any(isinstance(step, str) and is_sensitive_key(step) for step in steps):
            return json.dumps(REDACTED)
        configured = self._key is not None and any(
            steps[: len(path)] == path for path in self._paths
        )
        if token.startswith('"'):
            value = json.loads(token)
            new = self.value(value) if configured else self.text(value)
            return token if new == value else json.dumps(new, ensure_ascii=False)
        return self._number(token) if configured else token

    def _number(self, token: str) -> str:
        """A number at a configured path: the digits before any exponent replaced, its sign,
        point and exponent kept."""
        cut = len(token.split("e")[0].split("E")[0])
        head = re.sub(r"\d+", lambda m: self._digits(m.group(0), lead=True), token[:cut])
        return head + token[cut:]

    def _replace(self, m: re.Match[str]) -> str:
        found = m.group(0)
        if m.group("email"):
            return self._email(found)
        if m.group("phone"):
            return self._phone(found)
        if m.lastgroup == "word":
            return self._word(found)
        return self._digits(found, lead=found[0] != "0")

    def _email(self, email: str) -> str:
        return f"user_{self._digest('email', email.lower()).hex()[:10]}@{EMAIL_DOMAIN}"

    def _phone(self, phone: str) -> str:
        digits = sum(c.isdigit() for c in phone)
        if digits not in _PHONE_DIGITS:
            return phone
        # The country code (+1, +44) is kept: validators check it, and it says little.
        keep = len(re.match(r"\+\d{1,3}[ .-]?|", phone).group(0))  # type: ignore[union-attr]
        if keep and not phone[keep - 1].isdigit():
            keep -= 1
        elif keep:  # +15551234567: keep the first digit only
            keep = 2
        return phone[:keep] + self._digits_in(phone[keep:], "phone", phone)

    def _word(self, word: str) -> str:
        stream = self._stream("word", word)
        letters = []
        for i, c in enumerate(word):
            pool = _CONSONANTS if i % 2 == 0 else _VOWELS
            letter = pool[next(stream) % len(pool)]
            letters.append(letter.upper() if c.isupper() else letter)
        return "".join(letters)

    def _digits(self, digits: str, *, lead: bool) -> str:
        new = self._digits_in(digits, "digits", digits)
        if lead and new[0] == "0":
            new = "1" + new[1:]
        return new

    def _digits_in(self, text: str, kind: str, value: str) -> str:
        """``text`` with each digit replaced, the first by 2-9 (no leading zero, a valid
        North American area code), the other characters kept."""
        stream = self._stream(kind, value)
        out = []
        first = True
        for c in text:
            if c.isdigit():
                out.append(str(2 + next(stream) % 8) if first else str(next(stream) % 10))
                first = False
            else:
                out.append(c)
        return "".join(out)

    def _digest(self, kind: str, value: str, block: int = 0) -> bytes:
        assert self._key is not None  # only called when pseudonymising
        message = f"{kind}\x00{block}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _stream(self, kind: str, value: str) -> Iterator[int]:
        block = 0
        while True:
            yield from self._digest(kind, value, block)
            block += 1


def _rewrite(
    text: str,
    value: Callable[[tuple[_paths.Step, ...], str], str],
    key: Callable[[str], str],
) -> str:
    """JSON ``text`` with each string or number token replaced by ``value(its path, token)``
    and each object key by ``key``; everything between tokens as it was."""
    out: list[str] = []
    stack: list[list[Any]] = []  # [key or index, expecting a key (objects)] per container
    last = 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        out.append(text[last : m.start()])
        last = m.end()
        top = stack[-1] if stack else None
        if token in "{[":
            stack.append(["", True] if token == "{" else [0, False])
        elif token in "}]":
            stack.pop()
        elif token == ",":
            if top is not None and isinstance(top[0], int):
                top[0] += 1
            elif top is not None:
                top[1] = True
        elif token == ":":
            if top is not None:
                top[1] = False
        elif top is not None and top[1] and token.startswith('"'):  # an object's key
            top[0] = json.loads(token)
            new = key(top[0])
            token = token if new == top[0] else json.dumps(new, ensure_ascii=False)
        elif token[0] == '"' or token[0] == "-" or token[0].isdigit():
            token = value(tuple(frame[0] for frame in stack), token)
        out.append(token)
    out.append(text[last:])
    return "".join(out)
