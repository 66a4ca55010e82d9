"""What never appears in a report, in any format: secrets, signatures, credentials, PII.

Two layers, so that one missed field does not leak:

1. *where it sits* — header values of signature and authorization headers, payload values at
   the scenario's ``redact`` paths and under secret-looking keys are replaced wherever a
   payload, a body or headers are shown;
2. *anywhere* — every such value found in the run, and the signing secret from the
   environment, is replaced in every string of the report (evidence lines name record keys,
   which may be a redacted field). The same value always gets the same label, so a reader
   can still follow one record through the evidence without seeing it.

Credential-like query parameters (``?api_key=…``, ``&access_token=…``) and the userinfo of a
URL (``https://user:pass@host``) are replaced in any text as well, and their values anywhere.
Values of environment variables named like secrets (``*_TOKEN``, ``*SECRET*``, ``*PASSWORD*``,
``*API_KEY*``) are replaced as the signing secret is. With the signing secret's variable unset,
a run's keyed fingerprint of it (``core._fingerprint``) recognises it in any token shown.

``Redactor.for_environment`` is the redaction of what is printed before a run is known (the
console's progress and errors): patterns and the environment's secrets.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlencode

from ..core import _paths
from ..core._batch_search import passing
from ..core._fingerprint import Fingerprint, run_secrets
from ..core._sensitive import HEADER_PARTS as _HEADER_PARTS
from ..core._sensitive import HEADER_RE as _HEADER_RE
from ..core._sensitive import KEYED as _KEYED
from ..core._sensitive import (
    holding_sensitive_keys,
    is_credential_param,
    is_sensitive_written_key,
    json_leaves,
    key_fold,
    secret_leaves,
)
from ..core._sensitive import is_sensitive_header as is_sensitive_header
from ..core._sensitive import is_sensitive_key as is_sensitive_key
from ..core._text_effect import headers_held
from ..drive._drift import records_of
from ..history import (
    Effects,
    History,
    LazyHeaders,
    decoded,
    delivery_column,
    effect_values,
    payload_texts,
)
from ..history import headers_held as event_headers

# Values shorter than this are replaced only where they sit (layer 1): replacing "usd" or
# "17" in every sentence of a report would garble it without protecting anything.
MIN_TEXT = 4
SECRET_LABEL = "[redacted secret]"
HEADER_LABEL = "[redacted]"
# A query parameter whose name says it carries a credential: its value is replaced in any text
# (up to a control character: a terminal's colour codes follow it in what the console writes).
_QUERY = re.compile(
    r"([?&;](?:[\w.-]*(?:token|secret|passw(?:or)?d|api[-_]?key|apikey|signature|auth|session)"
    r"[\w.-]*|key|sig|pwd|code)=)([^&#\s\"'<>\x00-\x1f]+)",
    re.IGNORECASE,
)
# The userinfo of a URL: ``scheme://user:password@host`` -> ``scheme://[redacted]@host``.
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#\s@\"'<>\x00-\x1f]+)@")
# Environment variables whose values are secrets wherever they appear.
_SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL", re.IGNORECASE)
_MIN_ENV_SECRET = 8
# What in a body's text may be a secret-looking key (looked for before parsing it).
_KEY_TEXT_PARTS = (
    *("passw", "secret", "token", "api-key", "api_key", "apikey", "authorization"),
    *("card-number", "card_number", "cardnumber", "cvv", "cvc", "ssn", "iban"),
)
_KEY_TEXT = re.compile("|".join(map(re.escape, _KEY_TEXT_PARTS)), re.IGNORECASE)
# What a body ``_may_name_key`` is found by among many (``core._batch_search``), as key_fold
# folds it: one of those parts, an escape, a percent-encoding.
_BODY_WORDS = tuple(dict.fromkeys(key_fold(word) for word in (*_KEY_TEXT_PARTS, "\\", "%")))
# Candidates for the signing secret's fingerprint: runs of what a secret is made of, and their
# parts after '=' or between '/' (a query value, a path segment).
_TOKEN = re.compile(r"[^\s\"'`,;<>()\[\]{}|\\\x00-\x1f]{6,}")
_TOKEN_PART = re.compile(r"[^&?=/:]+=*")
_MIN_SECRET = 6
_PARTS = re.compile(r"[\s,;=]+")
# A credential part long enough to be recognisable on its own ("Bearer sk_live_…" -> "sk_live_…").
_MIN_PART = 8
_FORM_PARTS = re.compile(r"[\[\]]")  # a form field's name and its [bracketed] parts


class Redactor:
    """Replaces what must not appear; built once per report from every run it shows."""

    def __init__(
        self,
        values: Iterable[str] = (),
        secrets: Iterable[str] = (),
        fingerprints: Iterable[Fingerprint] = (),
    ) -> None:
        self._labels: dict[str, str] = {s: SECRET_LABEL for s in secrets if s}
        found = [v for v in values if len(v) >= MIN_TEXT]
        found.extend(s for s in self._labels if len(s) >= MIN_TEXT)
        # Longest first, so a value that contains another is replaced whole.
        self._index: dict[str, list[str]] = {}
        for value in sorted(set(found), key=len, reverse=True):
            self._index.setdefault(value[:MIN_TEXT], []).append(value)
        self._run_paths: dict[str, tuple[tuple[_paths.Step, ...], ...]] = {}
        self._fingerprints = tuple(fingerprints)
        self._tested: set[str] = set()  # candidates already tested against the fingerprints

    @classmethod
    def for_environment(cls, environ: Mapping[str, str]) -> Redactor:
        """What is known before any run: the patterns, and the environment's secrets."""
        return cls(secrets=environment_secrets(environ))

    @classmethod
    def for_runs(cls, histories: Iterable[History], environ: Mapping[str, str]) -> Redactor:
        """Everything the runs hold that must not appear, and the secrets they were signed with."""
        histories = list(histories)
        values: set[str] = set()  # a run repeats values (one bearer token per effect)
        secrets = environment_secrets(environ)
        fingerprints: list[Fingerprint] = []
        run_paths: dict[str, tuple[tuple[_paths.Step, ...], ...]] = {}
        for h in histories:
            settings = h.info.settings
            paths = tuple(_paths.parse(p) for p in settings.get("redact", ()))
            run_paths[h.info.run_id] = paths
            values.update(_run_values(h, paths))
            # The run's secret, and the next one of a rotation.
            for name, stored in run_secrets(settings):
                secret = environ.get(name, "")
                if secret:
                    secrets.append(secret)
                # Tested against tokens shown unless the variable holds the secret it was made of.
                found = Fingerprint.parse(stored)
                if found is not None and not (secret and found.matches(secret)):
                    fingerprints.append(found)
        redactor = cls(values, secrets, fingerprints)
        redactor._run_paths = run_paths
        return redactor

    def label(self, value: str) -> str:
        """The stand-in of one value: numbered in the order values are first met."""
        found = self._labels.get(value)
        if found is None:
            found = self._labels[value] = f"[redacted {len(self._labels) + 1}]"
        return found

    def text(self, text: str) -> str:
        """``text`` with every known value, credential-like query parameter and URL userinfo
        replaced."""
        # Patterns first: a known value inside a query parameter goes with the parameter.
        if "=" in text:
            text = _QUERY.sub(r"\1" + HEADER_LABEL, text)
        if "@" in text:
            text = _USERINFO.sub(r"\1" + HEADER_LABEL + "@", text)
        if self._fingerprints and len(text) >= _MIN_SECRET:
            self._recognise(text)
        if self._index and len(text) >= MIN_TEXT:
            text = self._replace_values(text)
        return text

    def _recognise(self, text: str) -> None:
        """Learn the signing secret where a token of ``text`` matches a run's fingerprint."""
        for token in _TOKEN.findall(text):
            for shown, candidate in _candidates(token):
                if candidate not in self._tested:
                    self._tested.add(candidate)
                    if any(f.matches(candidate) for f in self._fingerprints):
                        self._add(candidate, SECRET_LABEL)
                # URL-encoded, as it was shown
                if shown not in self._labels and self._labels.get(candidate) == SECRET_LABEL:
                    self._add(shown, SECRET_LABEL)

    def _add(self, value: str, label: str) -> None:
        """Replace ``value`` from now on (longest first among those of its prefix)."""
        self._labels[value] = label
        if len(value) >= MIN_TEXT:
            same = self._index.setdefault(value[:MIN_TEXT], [])
            same.append(value)
            same.sort(key=len, reverse=True)

    def _replace_values(self, text: str) -> str:
        index = self._index
        out: list[str] = []
        start = i = 0
        last = len(text) - MIN_TEXT
        while i <= last:
            candidates = index.get(text[i : i + MIN_TEXT])
            hit = None
            if candidates:
                hit = next((v for v in candidates if text.startswith(v, i)), None)
            if hit is None:
                i += 1
                continue
            out.append(text[start:i])
            out.append(self.label(hit))
            i += len(hit)
            start = i
        if not out:
            return text
        out.append(text[start:])
        return "".join(out)

    def headers(self, headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """Header pairs with credential values replaced; every other value scrubbed as text."""
        return tuple(
            (name, HEADER_LABEL if is_sensitive_header(name) else self.text(value))
            for name, value in headers.items()
        )

    def payload(self, run_id: str, value: Any) -> Any:
        """A copy of an event payload with the run's ``redact`` paths and secret keys replaced."""
        copy = _redact_keys(json.loads(json.dumps(value)), self)
        for steps in self._run_paths.get(run_id, ()):
            found = _paths.get(copy, steps, default=None)
            if found is not None and steps:
                _paths.put(copy, steps, self.stand_in(found))
        return self.json_value(copy)

    def body(self, text: str, *, form: bool = False) -> str:
        """A request body as shown: JSON with secret keys replaced, then scrubbed as text; a
        form body (``form``: its Content-Type says so) field by field, decoded, a field named
        like a secret at any of its [parts] replaced, each value scrubbed, and encoded again."""
        if form:
            return self._form(text)
        try:
            parsed = json.loads(text)
        except ValueError:
            return self.text(_KEYED.sub(self._keyed, text))
        shown = self.json_value(_redact_keys(parsed, self))
        return self.text(json.dumps(shown, ensure_ascii=False))

    def _form(self, text: str) -> str:
        fields = []
        for name, value in parse_qsl(text, keep_blank_values=True):
            secret = any(is_sensitive_key(part) for part in _FORM_PARTS.split(name) if part)
            fields.append((self.text(name), self.stand_in(value) if secret else self.text(value)))
        return urlencode(fields, safe="[]@:/")

    def json_value(self, value: Any) -> Any:
        """A JSON value with its strings scrubbed and a number that is a redacted value (a card
        number under a neutral key) replaced by its label, so the JSON stays JSON."""
        if isinstance(value, dict):
            return {self.text(k): self.json_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json_value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            return self.label(text) if text in self._index.get(text[:MIN_TEXT], ()) else value
        return value

    def _keyed(self, match: re.Match[str]) -> str:
        """One ``"key": value`` of JSON text that does not parse, its value replaced when the
        key looks secret (as ``_redact_keys`` does to JSON that parses)."""
        key, colon, value = match.groups()
        if not is_sensitive_written_key(key):
            return match.group(0)
        bare = value[1:-1] if len(value) > 1 and value.endswith('"') else value.lstrip('"')
        return f'"{key}"{colon}"{self.stand_in(bare)}"'

    def tree(self, obj: Any) -> Any:
        """``obj`` (strings, containers, dataclasses) with every string scrubbed as text."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, tuple):
            return tuple(self.tree(x) for x in obj)
        if isinstance(obj, list):
            return [self.tree(x) for x in obj]
        if isinstance(obj, dict):
            return {self.tree(k): self.tree(v) for k, v in obj.items()}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            changes = {f.name: self.tree(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            return dataclasses.replace(obj, **changes)
        return obj

    def stand_in(self, value: Any) -> Any:
        """What a redacted payload value becomes: its label, or a plain mark for an object."""
        text = _scalar_text(value)
        return self.label(text) if text else HEADER_LABEL


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """The values of environment variables named like secrets (``GITHUB_TOKEN``,
    ``DB_PASSWORD``, ``HARNESS_SECRET``), long enough to be recognised on their own."""
    return [
        value
        for name, value in environ.items()
        if len(value) >= _MIN_ENV_SECRET and _SECRET_ENV.search(name)
    ]


def _candidates(token: str) -> Iterator[tuple[str, str]]:
    """(as shown, candidate): a token, its parts (a query value, a path segment), and their
    URL-decoded forms."""
    parts = {token, *(p for p in _TOKEN_PART.findall(token) if len(p) >= _MIN_SECRET)}
    for part in parts:
        yield part, part
        if "%" in part:
            yield part, unquote(part)


def _run_values(history: History, paths: tuple[tuple[_paths.Step, ...], ...]) -> Iterator[str]:
    """The values of one run that must not appear anywhere."""
    # A loaded run's payloads stay JSON text (``core._text_event``): here those that may hold a
    # value to hide (a path is redacted, or the text names a secret-looking key) are decoded,
    # a chunk at a time, walked, and let go; the rest are never decoded. Texts are searched
    # many at a time (``core._batch_search``): a run holds a million, and nearly none names
    # anything.
    held = payload_texts(history.events)
    texts = cast("list[str]", held)
    if None in held:  # some payloads are held decoded: each read as it is held
        texts = []
        for event, text in zip(history.events, held, strict=True):
            if text is None:
                yield from _payload_values(event.payload, paths)
            else:
                texts.append(text)
    if not paths:
        texts = [texts[i] for i in holding_sensitive_keys(texts)]
    for chunk in decoded(texts):
        yield from [v for payload in chunk for v in _payload_values(payload, paths)]
    # The effects' fields as a loaded run holds them (in no order: a set of values is made):
    # no Effect made.
    effects = history.effects
    yield from _headers_values(event_headers(history.events))
    if isinstance(effects, Effects):
        yield from _headers_values(effects.stored("headers"))
    else:
        yield from _headers_values(headers_held(effects))
    for path in set(effect_values(effects, "path")):  # the same few paths, a million times
        if "=" in path or "@" in path:
            yield from _url_values(path)
    bodies = list(effect_values(effects, "body"))  # an empty one holds no word: never tested
    bodies.extend(filter(None, delivery_column(history.deliveries, "answer_body")))
    for i in _naming_keys(bodies):
        yield from _body_values(bodies[i])
    yield from _url_values(history.info.target)
    yield from _drifted_values(history, paths)


def _payload_values(payload: Any, paths: tuple[tuple[_paths.Step, ...], ...]) -> Iterator[str]:
    """The values of one payload at the paths to redact, and under secret-looking keys."""
    for steps in paths:
        yield from _leaves(_paths.get(payload, steps, default=None))
    if isinstance(payload, dict | list):
        yield from _secret_key_values(payload)


def _url_values(text: str) -> Iterator[str]:
    """Credential-like query values and URL userinfo in a text, with the userinfo's parts."""
    for match in _QUERY.finditer(text):
        yield unquote(match.group(2))
        yield match.group(2)
    for match in _USERINFO.finditer(text):
        userinfo = match.group(2)
        yield userinfo
        yield from (p for p in userinfo.split(":") if len(p) >= _MIN_PART)
    if "%" in text:  # a field whose name is percent-encoded, which _QUERY reads as written
        yield from _form_values(text.partition("?")[2].partition("#")[0])


def _body_values(body: str) -> Iterator[str]:
    """Values under secret-looking keys in a body: JSON, or JSON cut short (an answer's first
    200 bytes), or a form."""
    try:
        parsed = json.loads(body)
    except ValueError:
        for key, _, value in _KEYED.findall(body):
            if is_sensitive_written_key(key):
                bare = value.strip('"')
                if bare:
                    yield bare
        yield from _url_values("?" + body)
        return
    if isinstance(parsed, dict | list):
        yield from _secret_key_values(parsed)


def _form_values(query: str) -> Iterator[str]:
    """Values of a query's or a form's credential fields whose names are percent-encoded
    (``api%5Fkey=``): decoded, and as written."""
    for pair in re.split("[&;]", query):
        name, equals, value = pair.partition("=")
        if equals and value and "%" in name and is_credential_param(name):
            yield unquote(value.replace("+", " "))
            yield value


def _drifted_values(history: History, paths: tuple[tuple[_paths.Step, ...], ...]) -> Iterator[str]:
    """The original values of drifted fields at redacted paths or secret-looking keys: a
    dropped or renamed field is no longer where it sat, but the run kept it (for judging) and
    drift_is_loud's evidence names it."""
    for record in records_of(history.info.settings):
        steps = _paths.parse(record.path)
        last = steps[-1] if steps else None
        if steps in paths or (isinstance(last, str) and is_sensitive_key(last)):
            for original in record.events.values():
                yield from _leaves(original)


def _headers_values(many: Sequence[Mapping[str, str] | str]) -> Iterator[str]:
    """The values of credential headers in ``many`` headers (or their JSON texts)."""
    # A journal's headers stay JSON text until read (a loaded effect's, LazyHeaders): most
    # name nothing sensitive, and a search of the texts spares decoding them.
    texts = [headers for headers in many if type(headers) is str]
    if len(texts) < len(many):  # a test of a Mapping goes through its ABC: the few left only
        for headers in many:
            if isinstance(headers, LazyHeaders):
                texts.append(headers.text)
            elif not isinstance(headers, str):
                yield from _header_values(headers)
    for i in _naming_headers(texts):
        yield from _header_values(LazyHeaders(texts[i]))


def _header_values(headers: Mapping[str, str]) -> Iterator[str]:
    for name, value in headers.items():
        if value and is_sensitive_header(name):
            yield value
            yield from (p for p in _PARTS.split(value) if len(p) >= _MIN_PART)


def _naming_headers(texts: Sequence[str]) -> list[int]:
    """The indices of the JSON ``texts`` of headers that may name a credential header."""
    return passing(texts, _names_header, _HEADER_PARTS)


def _names_header(text: str) -> bool:
    return _mentions(text, _HEADER_PARTS, _HEADER_RE)


def _naming_keys(bodies: Sequence[str]) -> list[int]:
    """The indices of the ``bodies`` that may hold a secret-looking key (``_may_name_key``)."""
    return passing(bodies, _may_name_key, _BODY_WORDS, key_fold)


def _may_name_key(body: str) -> bool:
    """Whether a body may hold a secret-looking key: one written out, or an escape of a
    character that lowers to a letter of one (``\\u0074oken``: ASCII, or the Kelvin sign).
    Bodies with such escapes are read as JSON; others (most: an encoder escapes what is not
    ASCII, Python's json by default) are searched as text, ten times faster."""
    if "\\u" in body and _KEY_ESCAPE.search(body) is not None:  # the search only past a find
        return True
    if "%" in body and _mentions(unquote(body), _KEY_TEXT_PARTS, _KEY_TEXT):  # a form's api%5Fkey
        return True
    return _mentions(body, _KEY_TEXT_PARTS, _KEY_TEXT)


_KEY_ESCAPE = re.compile(r"\\u(?:00[2-7][0-9a-fA-F]|212[aA])")


def _mentions(text: str, parts: tuple[str, ...], pattern: re.Pattern[str]) -> bool:
    """Whether ``text`` holds one of ``parts`` in any case, as the case-insensitive
    ``pattern`` of them finds. ASCII text (nearly all) is lowered once and each part looked for:
    a tenth of the regex's time, which a run's million effects took 15 s of here. Other text
    is searched by the regex itself, whose case folding knows more than ``lower()``."""
    if not text.isascii():
        return pattern.search(text) is not None
    low = text.lower()
    for part in parts:
        if part in low:
            return True
    return False


def _secret_key_values(value: Any) -> Iterator[str]:
    """Values under secret-looking keys, anywhere in a payload, as text."""
    return (text for text in map(str, secret_leaves(value)) if text)


def _leaves(value: Any) -> Iterator[str]:
    """Every scalar inside a value, as text: redacting an object redacts all it holds."""
    return (text for text in map(str, json_leaves(value)) if text)


def _scalar_text(value: Any) -> str:
    # A bool or null is not a value anyone could recognise; numbers are (card numbers, ids).
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, str | int | float) else ""


def _redact_keys(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                redactor.stand_in(v)
                if isinstance(k, str) and is_sensitive_key(k)
                else _redact_keys(v, redactor)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_keys(v, redactor) for v in value]
    return value
