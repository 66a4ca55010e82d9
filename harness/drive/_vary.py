"""Variation: synthetic events as varied as real ones (docs/scenarios.md, "What varies").

An example payload is read once into *atoms*: its id-like values (``cs_test_a1…``, ``cus_…``, a
UUID, a 40-hex sha, a Slack ``U…`` id, a numeric id), its timestamps (Unix seconds or
milliseconds, ISO 8601, Slack's ``1355517523.000005``), its amounts (minor-unit integers,
decimal strings) and the free text faker fills by field name (emails, people's names, notes).
Every event gets new values for them, of the same shape — prefix, length, alphabet, digit
count, unit, decimals — and an atom found in several places, or inside a longer string (an
order id in its ``gid://shopify/Order/…``, a session id in its checkout URL), takes one new
value everywhere in the event.

The record key's value is drawn once per record, so a record's events share it and everything
equal to it. When the key is an object's own id (``$.issue.id``, ``$.data.object.id``), the
other ids and text of that object belong to the record as well (its author, its customer);
when it names another object (a checkout's ``customer``), the fields beside it describing that
object do (``customer_details``, ``customer_email``).
Timestamps move with the event's time and keep their distances to each other (those within a
second of the event's time in the example — the same moment written another way, as Slack's
``event_ts`` beside ``event_time`` — move with it exactly, the others a little earlier); the
amounts of one event are scaled by one factor, so a total stays about the sum of its parts. A
property change's new value (HubSpot's ``propertyValue``) is filled by the name of its property
(``propertyName``: an ``email`` gets a new email per event), as each change of a real one brings
a new value. Values that are none of these (``usd``, ``complete``, ``event``, ``false``) stay
as they are.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, lru_cache
from typing import Any

from ..core import _paths
from ..core._js_numbers import EXACT_IN_DOUBLE
from ..core._model import JSON
from ._drift import is_big
from ._fakes import PERSON_NAME, FakeText
from ._instants import Instants, micros, unix_times
from ._run_ids import RunAlphabets
from ._template import Spans, Whole, compile_payload

Steps = tuple[_paths.Step, ...]

ID_KINDS = frozenset({"prefixed", "uuid", "hex", "upper", "digits", "int", "big"})
_STRING_IDS = frozenset({"prefixed", "uuid", "hex", "upper"})  # never all digits
_MIN_BODY = 8  # a prefixed id's body (after ``cus_``) at least this long; ``evt_1`` is a label
_MIN_EMBEDDED_DIGITS = 6  # a digit run inside a string counts as an id from this length
_JITTER = 600.0  # s: how much earlier than their event's time an event's other timestamps move
# Times of the example less than this apart from its event's time stand for that moment itself.
_SAME_MOMENT = timedelta(seconds=1)
_MICRO = timedelta(microseconds=1)
_SCALE = (0.25, 4.0)  # the range of one event's amount factor (log-uniform)

# An id, whole or inside a longer string, by its shape (``_inner_ids`` finds ids in strings by it).
ID_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<hex>[0-9a-f]{32,64})"
    r"|(?P<prefixed>(?P<prefix>[A-Za-z][A-Za-z0-9]*_(?:test_|live_)?)(?P<body>[A-Za-z0-9]+))"
    r"|(?P<upper>[A-Z][A-Za-z0-9]{7,}|[0-9](?=[0-9]*[A-Z])[0-9A-Z]{7,})"
    r"|(?P<digits>\d{4,})"
    r")(?![A-Za-z0-9])"
)
_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})([T ])(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)
_HEAD = re.compile(r"[A-Za-z][A-Za-z0-9]*_(?:test_|live_)?[A-Za-z0-9]|[A-Za-z]+")
_DIGIT = re.compile(r"\d")
_SLACK_TS = re.compile(r"^\d{10}\.\d{6}$")
_DECIMAL = re.compile(r"^-?\d+\.(\d+)$")
_MONEY = ("amount", "price", "total", "subtotal", "balance", "fee", "tax", "discount", "cost")
_NOT_MONEY = ("weight", "count", "quantity")
_TIME_WORDS = ("created", "updated", "time", "date", "expires", "period", "start", "end")
# A value field -> the sibling field that names the property it is the value of.
_NAMED_BY = {"propertyValue": "propertyName"}
_SECONDS = (10**9, 10**10)
_MILLIS = (10**12, 10**13)


@dataclass(slots=True)
class _Atom:
    """One value of the example that varies: ``kind`` says how, ``field`` is the (lower-cased)
    name it was found under, ``record`` whether it is drawn per record instead of per event."""

    text: str
    kind: str
    value: Any
    field: str
    record: bool = False
    unit: str = ""  # time: "s", "ms", "iso", "slack"


@dataclass(slots=True)
class _Leaf:
    """Where atoms sit in the example: a whole leaf, or spans of a string leaf."""

    steps: Steps
    whole: str | None = None  # the atom's text
    spans: list[tuple[int, int, str]] = field(default_factory=list)


def _name(steps: Steps) -> str:
    """The field a leaf is found under (a list item: its list's field)."""
    return next((s for s in reversed(steps) if isinstance(s, str)), "")


# A number a sender counts its objects by, the one people read (Shopify's ``order_number``,
# from which an order's ``name`` "#1001" is written): each object's its own, counted from the
# example's (``Variation.counted_columns``), and renumbered per run as an id is (``id_named``).
COUNTED = frozenset({"order_number"})


@lru_cache(maxsize=4096)  # asked of every integer a traced payload holds: its few names
def id_named(name: str) -> bool:
    """Is a field of this name an id: `id`, `number`, `*_id`, `*Id` (an issue's `number`), or a
    number its object is counted by (``COUNTED``: an order's `order_number`)?"""
    return name == "id" or name.lower() in ("number", *COUNTED) or name.endswith(("_id", "Id"))


def _money(name: str) -> bool:
    low = name.lower()
    return any(w in low for w in _MONEY) and not any(w in low for w in _NOT_MONEY)


def _decimal_amount(name: str, value: object) -> bool:
    """A money-named field holding a decimal: a string like ``"19.99"``, or a JSON float."""
    if isinstance(value, str):
        return bool(_DECIMAL.match(value)) and _money(name)
    return isinstance(value, float) and _money(name)


def decimal_amount_at(steps: Steps, value: object) -> bool:
    """Is the payload's leaf at ``steps`` a decimal amount, as variation scales it (the field
    a list item is in names it: ``lines[0].amount``)?"""
    return _decimal_amount(_name(steps), value)


def _is_time_name(name: str) -> bool:
    low = name.lower()
    return low.endswith(("at", "_ts")) or low == "ts" or any(w in low for w in _TIME_WORDS)


def _int_kind(name: str, value: int) -> tuple[str, str] | None:
    if is_big(value):
        return "big", ""
    if value > 0 and (name.lower() in COUNTED or (id_named(name) and value < 10)):
        # An id of one digit (Shopify's order ``number`` 1) keeps its first digit when drawn,
        # so it would be the same in every event: it is counted instead, as an order's is.
        return "counted", ""
    if _is_time_name(name):
        if _SECONDS[0] <= value < _SECONDS[1]:
            return "time", "s"
        if _MILLIS[0] <= value < _MILLIS[1]:
            return "time", "ms"
    if _money(name):
        return "amount", ""
    if id_named(name) and value > 0:
        return "int", ""
    return None


def _fakes(name: str, value: str) -> bool:
    """Free text faker refills by field name: an email, a person's first or last name (one
    word: Shopify's ``customer.first_name``), or words with a space in them."""
    low = name.lower()
    if "email" in low:
        return "@" in value
    if PERSON_NAME.search(low):
        return bool(value.strip())
    words = ("name", "company", "organization", "phone", "city", "address", "street")
    text = ("note", "description", "comment", "message", "text", "title")
    return " " in value.strip() and any(w in low for w in (*words, *text))


class Variation:
    """The atoms of one example, and new values for them per record and per event."""

    def __init__(
        self,
        example: JSON,
        *,
        id_steps: Steps | None,
        key_steps: Steps,
        time_steps: Steps | None,
        keep: set[Steps],
    ) -> None:
        self.example = example
        self.atoms: dict[str, _Atom] = {}
        self.leaves: list[_Leaf] = []
        scalars = [
            (steps, value)
            for steps, value in _paths.leaves(example)
            if steps not in keep and not isinstance(value, dict | list)
        ]
        # Numbers first: a numeric id found again inside a string takes the number's kind.
        for steps, value in scalars:
            if isinstance(value, int | float) and not isinstance(value, bool):
                self._number(steps, value)
        for steps, value in scalars:
            if isinstance(value, str):
                self._string(steps, value)
        # A leaf equal to an atom found elsewhere is that atom: one value within each event.
        placed = {leaf.steps for leaf in self.leaves}
        for steps, value in scalars:
            atom = self.atoms.get(str(value))
            if steps not in placed and atom is not None and type(atom.value) is type(value):
                if atom.kind != "counted":  # a count's 1 is no quantity's 1
                    self.leaves.append(_Leaf(steps, atom.text))
        self.id_atom = self._atom_at(id_steps, ID_KINDS)
        self.key_atom = self._atom_at(key_steps, ID_KINDS)
        self.time_atom = self._atom_at(time_steps, {"time"})
        self.anchor = self.time_atom or next(
            (a for a in self.atoms.values() if a.kind == "time"), None
        )
        self._mark_record(key_steps)
        self.own_atom = self._own_atom(key_steps)
        self.fills = {x.steps: self._filled(x) for x in self.leaves}  # how each leaf varies
        self._build = compile_payload(example, self.fills)
        # The atoms ``record_values`` and ``columns`` draw for, in the example's order (their
        # draws' order)
        self._drawn = {
            record: [a for a in self.atoms.values() if a.record == record and self._drawn_for(a)]
            for record in (True, False)
        }
        self._moving = [a for a in self.atoms.values() if a.kind in ("time", "amount")]
        self._counted = [a for a in self.atoms.values() if a.kind == "counted"]
        self.counts = bool(self._counted)  # does ``counted_columns`` give any column?

    # --- reading the example --------------------------------------------------------------

    def _add(self, text: str, kind: str, value: Any, name: str, unit: str = "") -> str:
        if text not in self.atoms:
            self.atoms[text] = _Atom(text, kind, value, name.lower(), unit=unit)
        return text

    def _number(self, steps: Steps, value: int | float) -> None:
        name = _name(steps)
        if isinstance(value, float):
            if _decimal_amount(name, value):
                self.leaves.append(_Leaf(steps, self._add(repr(value), "amount", value, name)))
            return
        found = _int_kind(name, value)
        if found is not None:
            kind, unit = found
            self.leaves.append(_Leaf(steps, self._add(str(value), kind, value, name, unit)))

    def _string(self, steps: Steps, value: str) -> None:
        name = self._property(steps) or _name(steps)
        if _ISO.match(value) or _SLACK_TS.match(value):
            unit = "iso" if _ISO.match(value) else "slack"
            self.leaves.append(_Leaf(steps, self._add(value, "time", value, name, unit)))
            return
        if _decimal_amount(name, value):
            self.leaves.append(_Leaf(steps, self._add(value, "amount", value, name)))
            return
        if _fakes(name, value):
            self.leaves.append(_Leaf(steps, self._add(value, "fake", value, name)))
            return
        spans = list(self._tokens(value, name))
        if spans:
            whole = spans[0][2] if spans[0][:2] == (0, len(value)) else None
            self.leaves.append(_Leaf(steps, whole, [] if whole else spans))

    def _property(self, steps: Steps) -> str | None:
        """The property a property change's new value is of (HubSpot's ``propertyValue``
        beside its ``propertyName``: ``email``): that value varies as the property's would,
        from one change to the next."""
        if not steps or steps[-1] not in _NAMED_BY:
            return None
        named = _paths.get(self.example, (*steps[:-1], _NAMED_BY[str(steps[-1])]), None)
        return named if isinstance(named, str) and named else None

    def _tokens(self, value: str, name: str) -> Iterator[tuple[int, int, str]]:
        for m in ID_TOKEN.finditer(value):
            text, kind = m.group(0), _kind(m)
            if kind is None:
                continue
            if kind == "digits" and text not in self.atoms and len(text) < _MIN_EMBEDDED_DIGITS:
                continue
            yield m.start(), m.end(), self._add(text, kind, text, name)

    def _atom_at(self, steps: Steps | None, kinds: set[str] | frozenset[str]) -> _Atom | None:
        if steps is None:
            return None
        leaf = next((x for x in self.leaves if x.steps == steps), None)
        atom = self.atoms.get(leaf.whole) if leaf and leaf.whole else None
        return atom if atom is not None and atom.kind in kinds else None

    def _mark_record(self, key_steps: Steps) -> None:
        """The atoms of the object the key is the id of belong to the record; so does a count
        (``COUNTED``) in it, the payload's own where the key is its ``id`` (an order updated).
        A key naming another object (a checkout's ``customer``, an ``order_id``): the fields
        beside it that describe that object (``customer_details``, ``customer_email``)."""
        if key_steps[-1:] != ("id",):  # ``order_id`` names another object
            self._mark_described(key_steps)
            return
        for leaf in self.leaves:
            atom = self.atoms[leaf.whole] if leaf.whole else None
            if atom is not None and atom.kind == "counted":
                atom.record = leaf.steps[: len(key_steps) - 1] == key_steps[:-1]
        if len(key_steps) < 2:
            return
        inside = key_steps[:-1]
        for leaf in self.leaves:
            if leaf.steps[: len(inside)] != inside:
                continue
            for text in [leaf.whole] if leaf.whole else [s[2] for s in leaf.spans]:
                atom = self.atoms[text]
                if atom.kind not in ("time", "amount") and atom is not self.id_atom:
                    atom.record = True

    def _mark_described(self, key_steps: Steps) -> None:
        """The atoms beside the key describing the object it names (``customer``:
        ``customer_details.email``, ``customer_email``) belong to the record: a customer's
        checkouts carry its email and name, and a find-or-create by email races only where
        they do."""
        name = key_steps[-1] if key_steps else None
        if not isinstance(name, str):
            return
        prefix = f"{name.removesuffix('_id')}_"
        depth = len(key_steps) - 1
        for leaf in self.leaves:
            steps = leaf.steps
            if len(steps) <= depth or steps[:depth] != key_steps[:-1] or steps == key_steps:
                continue
            beside = steps[depth]
            if not (isinstance(beside, str) and beside.startswith(prefix)):
                continue
            for text in [leaf.whole] if leaf.whole else [s[2] for s in leaf.spans]:
                atom = self.atoms[text]
                if atom.kind not in ("time", "amount") and atom is not self.id_atom:
                    atom.record = True

    def _own_atom(self, key_steps: Steps) -> _Atom | None:
        """Where the key names another object (a checkout's ``customer``), the id of the
        event's own object beside it (the session's ``id``), a string drawn per event: what an
        automation writes to say which checkout a write is for (``_tracer.Marks``). None where
        the key is that object's own id, or that id is the event's, or a number."""
        if not key_steps or not isinstance(key_steps[-1], str) or key_steps[-1] == "id":
            return None
        atom = self._atom_at((*key_steps[:-1], "id"), _STRING_IDS)
        if atom is None or atom.record or atom is self.id_atom or atom is self.key_atom:
            return None
        return atom

    def _filled(self, leaf: _Leaf) -> Whole | Spans:
        """How the compiled payload fills ``leaf``."""
        text = _paths.get(self.example, leaf.steps)
        if leaf.whole is not None:
            return Whole(leaf.whole, isinstance(text, str))
        return Spans(text, tuple(leaf.spans))

    def _drawn_for(self, atom: _Atom) -> bool:
        """Is ``atom`` drawn by ``record_values`` or ``columns`` (an id or free text other than
        the event's id and the record's key)?"""
        if atom is self.id_atom or atom is self.key_atom:
            return False
        return atom.kind in ID_KINDS or atom.kind == "fake"

    # --- new values -----------------------------------------------------------------------

    def new_id(self, atom: _Atom, rng: random.Random, run: RunAlphabets | None = None) -> Any:
        """A new value of an id-like atom's shape (a number for a number); a string one drawn
        from ``run``'s alphabets where given (``_run_ids``)."""
        kind, old = atom.kind, atom.text
        if kind == "big":
            return rng.randrange(EXACT_IN_DOUBLE, 2**63) | 1
        if kind == "uuid":
            made = random_uuid(rng)
            made = run.uuid(made) if run is not None else made
            return made.upper() if old.isupper() else made
        kept, alphabet, length = _id_shape(kind, old)
        if kind == "int":
            return min(int(kept + _drawn(rng, alphabet, length)), EXACT_IN_DOUBLE - 1)
        return kept + _drawn(rng, run(alphabet) if run is not None else alphabet, length)

    def shapes(self, atom: _Atom) -> int:
        """How many different values ``new_id`` makes for ``atom``."""
        if atom.kind == "uuid":
            return 2**122
        if atom.kind == "big":
            return (2**63 - EXACT_IN_DOUBLE) // 2
        _, alphabet, length = _id_shape(atom.kind, atom.text)
        return int(len(alphabet) ** length)

    @property
    def per_record(self) -> list[_Atom]:
        """The atoms drawn once per record (``record_values``), in the order they are drawn."""
        return self._drawn[True]

    def record_ids(self) -> list[_Atom]:
        """The id-like atoms drawn once per record (an issue's ``number``, its author's id): the
        ids of the record's own objects, which no other record shares."""
        return [a for a in self._drawn[True] if a.kind in ID_KINDS]

    def record_emails(self) -> frozenset[str]:
        """The atoms drawn once per record that are emails (a customer's, on its checkouts):
        the tracer marks them with the record's token, not the event's, so that a record's
        events carry one email, as a customer's do (``_tracer.Tokens.record_token``)."""
        return frozenset(a.text for a in self._drawn[True] if a.kind == "fake" and "@" in a.text)

    def record_values(
        self, rng: random.Random, fake: FakeText, run: RunAlphabets | None = None
    ) -> dict[str, Any]:
        """New values of the atoms drawn once per record, by atom text, string ids from
        ``run``'s alphabets; the other atoms' are drawn per event by ``columns``."""
        made: dict[str, Any] = {}
        for atom in self._drawn[True]:
            if atom.kind == "fake":
                made[atom.text] = fake(atom.field)
            else:
                made[atom.text] = self.new_id(atom, rng, run)
        return made

    def columns(
        self,
        rng: random.Random,
        fake: FakeText,
        instants: Instants,
        run: RunAlphabets | None = None,
    ) -> list[tuple[str, list[Any]]]:
        """New values of the atoms drawn per event (as ``record_values`` draws a record's), then of
        the times and amounts, for the ``len(instants)`` events at those instants at once: each
        atom's column of values, by atom text. Each timestamp is at its event's instant (the
        anchor) or moved with it, a little earlier; each event's amounts are scaled by one
        factor. Drawn a batch at a time (an id's characters for every event in one draw of
        random bytes, each event's two draws in one pass), where an event at a time cost a call
        per value: 16 of 33 µs an event's draws took; Unix times and integer amounts written
        as numpy's columns (``_instants``, ``_scaled_column``)."""
        count = len(instants)
        made: list[tuple[str, list[Any]]] = []
        for atom in self._drawn[False]:
            if atom.kind == "fake":
                made.append((atom.text, fake.many(atom.field, count)))
            else:
                made.append((atom.text, self.new_ids(atom, rng, count, run)))
        if not self._moving:
            return made
        anchor = _instant(self.anchor) if self.anchor is not None else None
        # Each event's two draws: how much earlier its other times move, its amounts' factor.
        low, high = math.log(_SCALE[0]), math.log(_SCALE[1])
        draws = [rng.random() for _ in range(2 * count)]
        factors = [math.exp(low + (high - low) * u) for u in draws[count:]]
        for atom in self._moving:
            if atom.kind == "amount":
                made.append((atom.text, _scaled_column(atom.value, factors)))
                continue
            start = timedelta(0)  # where it stands from the event's time
            jitter = False  # moved a random bit earlier than the event's time
            if atom is not self.anchor:  # the anchor is a time atom: there is one where this is
                assert anchor is not None
                start = _instant(atom) - anchor
                # Within a second, the event's own time written another way (Slack's
                # ``event_ts`` beside ``event_time``): it moves with the event, or the two would
                # disagree on which of two events came first.
                jitter = abs(start) >= _SAME_MOMENT
            made.append(
                (atom.text, _times(atom, instants, start, draws[:count] if jitter else None))
            )
        return made

    def new_ids(
        self, atom: _Atom, rng: random.Random, count: int, run: RunAlphabets | None = None
    ) -> list[Any]:
        """``count`` new values of an id-like atom (``new_id``), a string id's characters
        drawn at once."""
        kind = atom.kind
        if kind in ("big", "uuid", "int"):
            return [self.new_id(atom, rng, run) for _ in range(count)]
        kept, alphabet, length = _id_shape(kind, atom.text)
        text = _drawn(rng, run(alphabet) if run is not None else alphabet, length * count)
        return _cut(kept, text, length, count)

    def counted_columns(self, events: range, records: list[int]) -> dict[str, list[Any]]:
        """Each count (``COUNTED``) of each event of ``events``, its record's number in
        ``records``: the example's, plus the events before (the record's, for a count of the
        record's object); each count's column, by atom text."""
        return {
            a.text: [a.value + n for n in (records if a.record else events)] for a in self._counted
        }

    def apply(self, values: dict[str, Any]) -> JSON:
        """A copy of the example with every atom replaced by its value in ``values``."""
        # Compiled once (``_template``): the copies share the example's strings, and a million
        # events do not hold a million copies of each.
        return self._build(values)


def id_kind(text: str) -> str | None:
    """The kind of id ``text`` is, whole, by the rules that find an example's id atoms
    (``prefixed``, ``uuid``, ``hex``, ``upper``); None for anything else (``usd``,
    ``subscription_cycle``, a bare number, a URL holding an id)."""
    m = ID_TOKEN.fullmatch(text)
    kind = _kind(m) if m is not None else None
    return None if kind == "digits" else kind


def holds_id(text: str) -> bool:
    """Does ``text`` hold an id of a string kind (``prefixed``, ``uuid``, ``hex``, ``upper``),
    whole or inside (``cus_Q8fK2mZx9a/notes``): what a run draws or permutes as its own
    (``_run_ids``, ``_own_ids``), where a name, a phone number or a date is kept."""
    return any(_kind(m) in _STRING_IDS for m in ID_TOKEN.finditer(text))


def id_head(text: str) -> int:
    """How many leading characters a new id of ``text``'s shape keeps: a prefix and its first
    character (``cus_`` + ``Q``), a Slack id's letters (``U``); none for a hex id."""
    m = _HEAD.match(text)
    return len(m.group(0)) if m is not None else 0


def _kind(m: re.Match[str]) -> str | None:
    """The kind of id a match of ``ID_TOKEN`` is; None for a word not taken for one (a prefixed
    word with a short body or no digit, ``charge_automatically``; a capitalised word)."""
    kind = m.lastgroup if m.lastgroup != "body" else "prefixed"
    digit = _DIGIT.search(m.group(0)) is not None
    if kind == "prefixed" and (len(m.group("body")) < _MIN_BODY or not digit):
        return None
    if kind == "upper" and not digit:
        return None
    return kind


def random_uuid(rng: random.Random) -> str:
    """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, the same text at a fifth of
    the cost: the version and variant bits set, the hex grouped 8-4-4-4-12."""
    bits = rng.getrandbits(128) & _UUID_KEPT | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID_KEPT = ~((0xC000 << 48) | (0xF000 << 64))  # the variant's and the version's bits cleared
_UUID_SET = (0x8000 << 48) | (4 << 76)  # RFC 4122's variant, version 4


@cache  # called per generated id with the example's few id bodies
def _alphabet(sample: str) -> str:
    """The characters a generated id body draws from, of the example body's class."""
    digits = "0123456789"
    if sample.isdigit() or not sample:
        return digits
    lower = any(c.islower() for c in sample)
    upper = any(c.isupper() for c in sample)
    low, up = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return digits + (low if lower else "") + (up if upper else "")


@cache  # per generated id, with the example's few ids
def _id_shape(kind: str, old: str) -> tuple[str, str, int]:
    """What a new id of ``kind`` shaped like ``old`` keeps of it, and the alphabet and length
    of the part drawn (``new_id``, ``shapes``)."""
    if kind == "hex":
        return "", "0123456789abcdef", len(old)
    if kind in ("digits", "int"):
        return old[0], "0123456789", len(old) - 1
    # A prefixed id keeps its prefix and first character (``cus_`` + ``C``), a Slack id its
    # letters (``Ev08MFMKH6``: ``Ev``, then 8 of [0-9A-Z]).
    head = old[: id_head(old)]  # none for an upper-case id led by a digit (``6C2E1A3B``)
    rest = old[len(head) :]
    return head, _alphabet(rest), len(rest)


def _cut(kept: str, text: str, length: int, count: int) -> list[str]:
    """``count`` ids, each ``kept`` and the next ``length`` characters of ``text`` (ASCII):
    written as one numpy array of fixed-width strings and handed out by ``tolist`` (110 ns an
    id, where a slice and a concatenation each took 290)."""
    # numpy's fixed-width strings drop trailing NULs: each id ends in a drawn character (the
    # alphabets hold none), but without any drawn the prefix would end it.
    if not length or not count:
        return [kept + text[n : n + length] for n in range(0, length * count, length)]
    import numpy as np

    width = len(kept) + length
    chars = np.empty((count, width), np.uint32)
    chars[:, : len(kept)] = np.frombuffer(kept.encode("utf-32-le"), np.uint32)
    chars[:, len(kept) :] = np.frombuffer(text.encode("ascii"), np.uint8).reshape(count, length)
    made: list[str] = chars.view(f"<U{width}").ravel().tolist()
    return made


def _drawn(rng: random.Random, alphabet: str, length: int) -> str:
    """``length`` characters of ``alphabet`` (ASCII), each uniform: random bytes, those that
    would favour the alphabet's first characters dropped, the rest mapped onto it (C calls:
    1.8 µs for 24 characters, where ``rng.choices`` a character at a time took 6.7)."""
    table, dropped = _byte_table(alphabet)
    made = b""
    while len(made) < length:
        made += rng.randbytes(length + length // 8 + 1).translate(table, dropped)
    return made[:length].decode("ascii")


@lru_cache(maxsize=1024)  # the example's few alphabets, in each run's order
def _byte_table(alphabet: str) -> tuple[bytes, bytes]:
    """Byte -> its character of ``alphabet`` (byte mod its size), and the bytes past the last
    whole multiple of its size (dropped: each character then has the same odds)."""
    size = len(alphabet)
    kept = 256 - 256 % size
    table = bytes(ord(alphabet[b % size]) for b in range(256))
    return table, bytes(range(kept, 256))


def _times(
    atom: _Atom, instants: Instants, start: timedelta, draws: list[float] | None
) -> list[Any]:
    """``atom``'s time in each event: its instant moved by ``start``, and where ``draws`` are
    given each earlier by ``_JITTER`` times its draw (as ``timedelta`` rounds it)."""
    made = instants.micros
    if atom.unit != "iso" and made is not None:
        import numpy as np

        moved = made + start // _MICRO
        if draws is not None:
            moved = moved - micros(_JITTER * np.array(draws, dtype=np.float64))
        return unix_times(atom.unit, moved)
    whens = instants.whens
    if draws is None:
        return [render_time(atom, at + start) for at in whens]
    earlier = [timedelta(seconds=_JITTER * u) for u in draws]
    return [render_time(atom, at + start - e) for at, e in zip(whens, earlier, strict=True)]


def _scaled_column(value: Any, factors: list[float]) -> list[Any]:
    """``_scaled(value, f)`` for each factor: an integer amount's in numpy (its product a
    double, rounded half to even as ``round`` does), the others' one by one."""
    if type(value) is not int or abs(value) >= 2**53:
        return [_scaled(value, f) for f in factors]
    if not value:
        return [0] * len(factors)
    import numpy as np

    rounded = np.rint(value * np.array(factors, dtype=np.float64))
    bounded = np.maximum(rounded, 1) if value > 0 else np.minimum(rounded, -1)
    return bounded.astype(np.int64).tolist()  # type: ignore[no-any-return]


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, str):
        m = _DECIMAL.match(value)
        assert m is not None  # an amount string is a decimal
        return f"{float(value) * factor:.{len(m.group(1))}f}"
    if isinstance(value, float):
        return round(value * factor, 2)
    if value == 0:
        return 0
    return max(1, round(value * factor)) if value > 0 else min(-1, round(value * factor))


def _instant(atom: _Atom) -> datetime:
    """The moment a time atom of the example stands for."""
    return _moment(atom.unit, atom.value)


@cache  # per event and time atom: the example's few times
def _moment(unit: str, value: Any) -> datetime:
    if unit == "s":
        return datetime.fromtimestamp(value, UTC)
    if unit == "ms":
        return datetime.fromtimestamp(value / 1000, UTC)
    if unit == "slack":
        return datetime.fromtimestamp(float(value), UTC)
    m = _ISO.match(value)
    assert m is not None  # an ISO time atom
    day, _, clock, fraction, zone = m.groups()
    micros = int((fraction or "0").ljust(6, "0")[:6])
    base = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micros)
    return base.replace(tzinfo=_zone(zone))


def _zone(zone: str | None) -> timezone:
    if not zone or zone == "Z":
        return UTC
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


@dataclass(frozen=True, slots=True)
class _IsoForm:
    """How an ISO time atom writes a time: separator, fraction digits, zone and its suffix."""

    sep: str
    fraction: int
    zone: timezone
    suffix: str  # "Z", the offset (``+0200`` or ``+02:00``, as the example), or ""


@cache  # per event and time atom: the example's few formats
def _iso_form(value: str) -> _IsoForm:
    m = _ISO.match(value)
    assert m is not None  # an ISO time atom
    _, sep, _, fraction, zone = m.groups()
    tz = _zone(zone)
    suffix = zone or ""
    if zone and zone != "Z":
        offset = datetime(2000, 1, 1, tzinfo=tz).strftime("%z")  # a fixed offset: any date
        suffix = offset if ":" not in zone else f"{offset[:3]}:{offset[3:]}"
    return _IsoForm(sep, len(fraction or ""), tz, suffix)


def render_time(atom: _Atom | None, when: datetime) -> Any:
    """``when`` written as the atom is (unit, offset, fraction digits); ISO 8601 in UTC with
    ``Z`` without an atom."""
    if atom is None:
        return when.isoformat().replace("+00:00", "Z")
    if atom.unit == "s":
        return int(when.timestamp())
    if atom.unit == "ms":
        return int(when.timestamp() * 1000)
    if atom.unit == "slack":
        return f"{when.timestamp():.6f}"
    form = _iso_form(atom.value)
    t = when.astimezone(form.zone)
    if t.year < 1000:  # strftime's %Y pads no year before 1000, isoformat does
        text = t.strftime(f"%Y-%m-%d{form.sep}%H:%M:%S")
        micros = f"{t.microsecond:06d}"
    else:  # isoformat is C: a third of the cost of strftime
        iso = t.isoformat(form.sep, "microseconds")
        text, micros = iso[:19], iso[20:26]
    if form.fraction:
        text += "." + micros.ljust(form.fraction, "0")[: form.fraction]
    return text + form.suffix
