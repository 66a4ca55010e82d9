"""Which header names and payload keys hold secrets: the one test every stage applies.

The report redacts the values they hold (``report._redact``), a capture drops or redacts them
before anything is written (``drive._capture``), and a pass-through double keeps them out of
the journal (``double._forward``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from ._batch_search import passing

HEADER_PARTS = (
    "authorization",
    "signature",
    "secret",
    "token",
    "cookie",
    "api-key",
    "apikey",
    "hmac",
    "password",
    "session",
)
KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "card_number",
    "cardnumber",
    "cvv",
    "cvc",
    "ssn",
    "iban",
)

# A "key": value pair in JSON text that does not parse (an answer's body cut at 200 bytes): the
# value quoted (its closing quote maybe cut off) or bare up to the next delimiter. A key of up to
# 80 characters, each maybe written as an escape (``\u0063``: an escape and four characters).
KEYED = re.compile(r'"((?:[^"\\]|\\.){1,400})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^\s,}\]]+)')
HEADER_RE = re.compile("|".join(map(re.escape, HEADER_PARTS)), re.IGNORECASE)
_KEY_RE = re.compile("|".join(map(re.escape, KEY_PARTS)))


# Cached: a run repeats the same few header names and payload keys a million times.
@functools.cache
def is_sensitive_header(name: str) -> bool:
    return HEADER_RE.search(name) is not None


@functools.cache
def is_sensitive_key(name: str) -> bool:
    return _KEY_RE.search(name.lower().replace("-", "_")) is not None


def is_sensitive_written_key(written: str) -> bool:
    """``is_sensitive_key`` of a key as JSON text writes it between its quotes: its escapes
    read first (``api\\u005fkey`` is ``api_key``)."""
    if "\\" in written:
        try:
            written = json.loads(f'"{written}"')
        except ValueError:
            pass  # cut short, or not JSON's escapes: as written
    return is_sensitive_key(written)


def may_hold_sensitive_key(json_text: str) -> bool:
    """Whether the JSON text of a value may hold a key ``is_sensitive_key`` finds, read
    without decoding it: an ASCII key is written as it is, so one of KEY_PARTS is in the text
    lowered; any escape or other character may spell one once decoded, and counts."""
    if not json_text.isascii() or "\\" in json_text:
        return True
    low = key_fold(json_text)
    return any(part in low for part in KEY_PARTS)


def holding_sensitive_keys(json_texts: Sequence[str]) -> list[int]:
    """The indices of the ``json_texts`` that ``may_hold_sensitive_key`` says may hold one,
    searched many at a time (``_batch_search``): a run's half a million, one by one, took
    seconds."""
    return passing(json_texts, may_hold_sensitive_key, (*KEY_PARTS, "\\"), key_fold)


def key_fold(text: str) -> str:
    """``text`` as a key is compared: lowered, '-' read as '_' (``Api-Key`` is ``api_key``)."""
    return text.lower().replace("-", "_")


def is_credential_param(name: str) -> bool:
    """Whether a query parameter (its name as written, maybe percent-encoded) holds a
    credential: ``?api_key=``, ``&access_token=``, ``?signature=``."""
    plain = unquote(name)
    return is_sensitive_key(plain) or is_sensitive_header(plain)


def json_leaves(value: Any) -> Iterator[Any]:
    """The strings and numbers inside a JSON value (not booleans, not null): redacting an
    object redacts all it holds."""
    if isinstance(value, dict):
        for v in value.values():
            yield from json_leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_leaves(v)
    elif isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        yield value


def secret_leaves(value: Any) -> Iterator[Any]:
    """The strings and numbers under secret-looking keys, anywhere in a JSON value (iterative:
    payloads nest)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and is_sensitive_key(k):
                    yield from json_leaves(v)
                elif isinstance(v, dict | list):
                    stack.append(v)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
