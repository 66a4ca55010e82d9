"""Correlation by tracer values (DESIGN.md, "Seeing effects").

Every run rewrites its events' ids, record keys and free-text values into unique tokens built from a
per-run tag, keeping their format (an email stays an email, ``ord_…`` stays ``ord_…``). An effect
that carries any token is attributed to its event (or record) without knowing how the target maps
fields. The tag is random per run, so a stateful target that remembers a previous run's ids never
mistakes this run's events for old ones. An id or key the payload holds as a JSON number cannot
carry a token: it is renumbered per run instead (``renumbered``: the same bit length but for a short
number, moved among the 31-bit ones, and the low bits a double drops kept, so a 64-bit id stays one
that a float mangles), and ``_correlate`` matches it verbatim. So is every other integer under a
field named like an id (``id``, ``number``, ``*_id``, ``*Id``: an issue's ``number``, an order's
``customer_id``), the same number to the same one within a run: a target that remembers records by
them (a ticket per ``repo#number``) meets this run's as new ones, not as the clean run's. An id
inside a string (an order's ``gid://shopify/Order/…``) takes the value the same id takes
standing alone in the payload (``_inner_ids``).

A synthetic event says whose some of its values are (``Marks``): its record's own emails carry
the record's token (``…k<n>``), one email for a customer's checkouts; the id of its own object,
where the key names another (a checkout's session id), a token of the event's.

A scenario's ``tracer:`` (``TracerSpec``) can turn rewriting off, so replayed payloads stay as
recorded, or limit it to some payload paths; ``_correlate`` then attributes by the correlation
rules and the ids carried verbatim (docs/correlation.md).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from ..core import _paths
from ..core._model import Event
from ..core._scenario import TracerSpec
from ..core._text_event import payload_json
from ._carried import DocNumbers
from ._event_batch import EventBatch, KeyTokens
from ._event_columns import EventColumns
from ._inner_ids import Inner, idless, runs
from ._own_ids import OwnIds
from ._string_rewrites import Rewrites, marked
from ._vary import id_named

# An id led by a prefix, Stripe's test and live ones included (``cs_test_``): a token keeps it.
_ID_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9]*_(?:test_|live_)?)[A-Za-z0-9-]+$")
_IDS_LIKE = re.compile(_ID_LIKE.pattern, re.MULTILINE)  # one a line (``token_prefixes``)


# Every tag this process has handed out: one journal may hold thousands of runs (``harness
# explore``'s search, several per example), where five random letters alone would repeat about
# once in 25 searches of a thousand runs (the birthday bound over 26**5 tags).
_ISSUED: set[str] = set()


def new_tag() -> str:
    """``zq`` and five random lowercase letters: tokens stand out in a body, and the runs of one
    journal (named ``scenario@tag``) do not collide — three letters did, about once in a
    hundred test sessions; and never a tag this process has handed out before."""
    for _ in range(1000):  # the odds of a repeat are tiny until millions are issued
        tag = "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5))
        if tag not in _ISSUED:
            _ISSUED.add(tag)
            return tag
    raise RuntimeError("no tracer tag left unused in this process")


# Any run's tracer token: a tag of ``new_tag``'s shape, then ``e`` or ``k`` and a number.
_ANY_TOKEN = re.compile(r"(zq[a-z]{5})[ek]\d")
_UNKNOWN = 0xFFFF  # a record key token's prefix not known (``Tokens._key_prefixes``)


def carries_other_tag(text: str, tag: str) -> bool:
    """Does ``text`` carry a tracer token of a run other than the one tagged ``tag``?"""
    return any(found != tag for found in _ANY_TOKEN.findall(text))


class Tracer:
    """Holds a run's traced events and attributes text back to them.

    A streamed run's Tracer starts empty and is given each event as it is made (``add``): the
    events it holds are then payload-less (``engine/_feed``), enough to attribute, and held
    as columns (``columns``: ``_event_columns``)."""

    def __init__(self, tag: str, events: Iterable[Event] = (), *, columns: bool = False):
        self.tag = tag
        self._columns = EventColumns(tag) if columns else None
        self._list: list[Event] = []
        self.events: Sequence[Event] = self._list if self._columns is None else self._columns
        self._pattern = re.compile(re.escape(tag) + r"([ek])(\d+)")
        self._key_token = re.compile(re.escape(tag) + r"k(\d+)")
        # Events by seq: ``events`` itself while each event's seq is its position (every
        # source's are), a dict once one is not. A dict of a million events held 40 MiB.
        self._by_seq: dict[int, Event] | None = None
        self._keys: dict[int, str] = {}
        self._renumbered: set[str] = set()
        self.numbers: DocNumbers | None = None  # ``follow_numbers``
        for ev in events:
            self.add(ev)

    def follow_numbers(self) -> DocNumbers:
        """The events' document numbers by value (``_carried``), of the events held (where
        they hold their payloads) and of each one given from now on."""
        if self.numbers is None:
            self.numbers = DocNumbers(self.tag, self._key_at)
            if self._columns is None:  # held as columns: payload-less
                for ev in self._list:
                    self.numbers.add(payload_json(ev), ev.seq, ev.key)
        return self.numbers

    def add(self, ev: Event) -> None:
        """Index one more event (in seq order) for ``attribute``."""
        if self._columns is not None:
            self.extend((ev,))
            return
        if self._by_seq is None and ev.seq != len(self._list):
            self._by_seq = {e.seq: e for e in self._list}
        if self._by_seq is not None:
            self._by_seq[ev.seq] = ev
        self._list.append(ev)
        self._key_of(ev.key)
        if self.numbers is not None:
            self.numbers.add(payload_json(ev), ev.seq, ev.key)

    def extend(self, events: Sequence[Event]) -> None:
        """``add`` each of ``events``; held as columns, at once."""
        if self._columns is None:
            for ev in events:
                self.add(ev)
            return
        keys = self._keys
        numbers = self._columns.extend(events)  # their seqs are their positions, or it raises
        if self.numbers is not None:  # before they are held payload-less
            for ev in events:
                self.numbers.add(payload_json(ev), ev.seq, ev.key)
        for ev, number in zip(events, numbers, strict=True):
            if number < 0 or keys.get(number) != ev.key:  # else indexed at an earlier event
                self._key_of(ev.key)

    def extend_made(self, batch: EventBatch) -> None:
        """``extend`` with a batch's events, payload-less: its tokens' parts taken as they
        are made (``KeyTokens``), where they are and the events are held as columns."""
        if self._columns is None or batch.tokens is None:
            self.extend([batch.event(n) for n in range(len(batch))])
        else:
            self._columns.extend_tokens(batch.start, batch.tokens, batch.types, batch.ats)
            # Each record's key by its token's number (one entry a record, set again).
            self._keys.update(zip(batch.tokens.key_numbers, batch.keys, strict=True))
        if self.numbers is not None:  # from the texts: the events above are payload-less
            for seq, text, key in zip(batch.seqs, batch.texts, batch.keys, strict=True):
                self.numbers.add(text, seq, key)

    def _key_of(self, key: str) -> None:
        """``key`` indexed by its token's number, where it holds one; a renumbered key (a
        number: no token) by the number ``Tokens`` gave its record, the order its first event
        came in — as a token's is, every record before it indexed once."""
        m = self._key_token.search(key)
        if m:
            self._keys[int(m.group(1))] = key
        elif key.isdigit() and key not in self._renumbered:
            self._renumbered.add(key)
            self._keys[len(self._keys)] = key

    def _key_at(self, seq: int) -> str:
        ev = self.event(seq)
        assert ev is not None  # a document number's: of an event held
        return ev.key

    def event(self, seq: int) -> Event | None:
        """The event of seq ``seq`` held, if any."""
        if self._by_seq is not None:
            return self._by_seq.get(seq)
        return self.events[seq] if seq < len(self.events) else None

    def attribute(self, text: str) -> tuple[tuple[str, ...], str | None]:
        """The events and the record a piece of text (an effect's path and body) mentions."""
        event_ids: list[str] = []
        key: str | None = None
        record_key: str | None = None
        for kind, number in self._pattern.findall(text):
            n = int(number)
            if kind == "e":
                ev = self.event(n)
                if ev is not None and ev.id not in event_ids:
                    event_ids.append(ev.id)
                    key = key or ev.key
            elif record_key is None:
                record_key = self._keys.get(n)
        return tuple(event_ids), record_key or key


class Marks(NamedTuple):
    """What of a synthetic event the tracer marks by whose it is (``Tokens.rewrite``): its
    record's own emails (a customer's, on each of its checkouts: ``Variation.record_emails``),
    marked with the record's token so that they stay one email; and where the key names
    another object, the id of the event's own (the checkout session's: ``Variation.own_atom``),
    made a token of the event's, as its id is, so that a write naming the session is still
    the event's."""

    emails: frozenset[str] = frozenset()
    own_id: str | None = None


def trace(
    events: Iterable[Event],
    tag: str,
    spec: TracerSpec | None = None,
    marks: Mapping[str, Marks] | None = None,
) -> Tracer:
    """Rewrite ids, keys, emails and free text of ``events`` into this run's tokens.

    ``spec.rewrite`` False leaves the events as they are; ``spec.paths`` rewrites only the
    values at those payload paths (the event's id and key only where a path holds them).
    None: everything, as by default. ``marks``: a synthetic source's, by event id (``Marks``).
    """
    return Tracer(tag, traced(events, tag, spec, marks))


def traced(
    events: Iterable[Event],
    tag: str,
    spec: TracerSpec | None = None,
    marks: Mapping[str, Marks] | None = None,
) -> Iterator[Event]:
    """``trace``'s events one at a time, as they are rewritten: a streamed run sends each
    before the next is made."""
    spec = (spec or TracerSpec()).resolved_as_synthetic()
    if not spec.rewrite and not spec.ids:
        yield from events
        return
    only = tuple(_paths.parse(p) for p in spec.paths)
    tokens = Tokens(tag, spec.ids, mark=bool(spec.rewrite))
    for ev in events:
        if only:  # the paths the user named, as they are: no marks
            yield _rewrite_paths(ev, only, tokens.rewrite(ev))
        else:
            yield tokens.event(ev, marks.get(ev.id) if marks else None)


class Tokens:
    """The tokens of one run's events, handed out event after event in seq order: an event's
    id token from its seq, a record's key token from the order its first event came in.

    ``ids``: every other id of the payloads this run's own too (``_own_ids``); without
    ``mark``, the event's id and key as well, instead of tokens, and nothing else rewritten
    (a recording's default: its payloads as recorded but for their ids)."""

    def __init__(self, tag: str, ids: bool = False, *, mark: bool = True) -> None:
        self.tag = tag
        self._mask = number_mask(tag)
        self._key_numbers: dict[str, int] = {}
        self._key_tokens: dict[str, str] = {}
        self._owned_keys: dict[str, str] = {}  # unmarked: a record's key as the run's own
        # Each record's key token's prefix, by its number: a code into ``_prefixes``
        # (_UNKNOWN: not of the token's shape). Two bytes a record, where a dict of them held
        # 22 MiB at 200,000 records.
        self._key_prefixes = array("H")
        self._prefixes: list[str] = []
        self._prefix_codes: dict[str, int] = {}
        self._own = OwnIds(tag) if ids or not mark else None
        self._mark = mark
        self._rewrites = Rewrites(tag, self._own, mark)  # each distinct string's, worked out once

    def ids(
        self, event_id: str, key: str, seq: int, numbers: Collection[int] = ()
    ) -> tuple[str, str]:
        """An event's id and key as tokens, or this run's own (``mark`` off); an id or key
        the payload holds as a number, in ``numbers``, renumbered for this run."""
        if not self._mark and self._own is not None:
            new_key = self._owned_keys.get(key)
            if new_key is None:
                new_key = self._owned(key, numbers)
                if not key.isdigit():  # else it depends on the event's numbers
                    self._owned_keys[key] = new_key
            return self._owned(event_id, numbers), new_key
        number = self._key_numbers.setdefault(key, len(self._key_numbers))
        new_id = _token_id(event_id, f"{self.tag}e{seq}", numbers, self._mask)
        new_key = self._key_tokens.get(key)
        if new_key is None:  # one string per record, not per event (a stream keeps them all)
            token = f"{self.tag}k{number}"
            new_key = _token_id(key, token, numbers, self._mask)
            if not key.isdigit():  # else it depends on the event's numbers
                self._key_tokens[key] = new_key
            if number == len(self._key_prefixes):  # its record's first event
                shaped = new_key.endswith(token) and not key.isdigit()
                self._key_prefixes.append(
                    self._prefix_code(new_key[: -len(token)]) if shaped else _UNKNOWN
                )
        return new_id, new_key

    def ids_of(
        self, event_ids: list[str], keys: list[str], seqs: Sequence[int]
    ) -> tuple[list[str], list[str], KeyTokens | None]:
        """``ids`` of each event (its id, key and seq), none of them digits: the new ids, the
        new keys, and what their tokens are made of (None where a key's was made otherwise,
        by ``ids``)."""
        if not self._mark:
            raise ValueError("ids_of makes tokens: a Tokens that marks")
        tag, numbers, known = self.tag, self._key_numbers, self._key_tokens
        id_prefixes = token_prefixes(event_ids)
        new_ids = [f"{prefix}{tag}e{seq}" for prefix, seq in zip(id_prefixes, seqs, strict=True)]
        # A record's first event makes its token: numbered in the order they come.
        if fresh := [key for key in dict.fromkeys(keys) if key not in known]:
            codes = self._key_prefixes
            for key, prefix in zip(fresh, token_prefixes(fresh), strict=True):
                number = numbers.setdefault(key, len(numbers))
                known[key] = prefix + f"{tag}k{number}"
                codes.append(self._prefix_code(prefix))
        key_numbers = list(map(numbers.__getitem__, keys))
        prefix_codes = list(map(self._key_prefixes.__getitem__, key_numbers))
        new_keys = list(map(known.__getitem__, keys))
        if _UNKNOWN in prefix_codes:
            return new_ids, new_keys, None
        key_prefixes = list(map(self._prefixes.__getitem__, prefix_codes))
        return new_ids, new_keys, KeyTokens(id_prefixes, key_prefixes, key_numbers)

    def _prefix_code(self, prefix: str) -> int:
        """``prefix``'s code in ``_prefixes`` (_UNKNOWN once 65,535 are coded)."""
        code = self._prefix_codes.get(prefix)
        if code is None:
            if len(self._prefixes) == _UNKNOWN:
                return _UNKNOWN
            code = self._prefix_codes[prefix] = len(self._prefixes)
            self._prefixes.append(prefix)
        return code

    def record_token(self, key: str) -> str | None:
        """The token of ``key``'s record (``ids`` has met it): what the record's own emails are
        marked with (``Variation.record_emails``); a renumbered key (a number: a Shopify
        customer's id) has one too, which ``Tracer`` maps to it by its number. None where not
        marked."""
        if not self._mark or key not in self._key_numbers:
            return None
        return f"{self.tag}k{self._key_numbers[key]}"

    def _owned(self, value: str, numbers: Collection[int]) -> str:
        assert self._own is not None
        return _held_number(value, numbers, self._mask) or self._own.declared(value)

    def rewrite(self, ev: Event, marks: Marks | None = None) -> _Rewrite:
        """How ``ev``'s payload is rewritten; ``marks``: the strings of it marked by whose
        they are (``Marks``), replaced where they stand whole."""
        # Walking the payload for its numbers costs a third of tracing: only for digit ids.
        numbers = _numbers(ev.payload) if ev.id.isdigit() or ev.key.isdigit() else ()
        new_id, new_key = self.ids(ev.id, ev.key, ev.seq, numbers)
        token = f"{self.tag}e{ev.seq}"
        whole: dict[str, str] = {}
        if marks is not None:
            record = self.record_token(ev.key) if marks.emails else None
            if record is not None:
                whole = {s: marked(s, record) for s in marks.emails}
            if marks.own_id is not None and self._mark:
                whole[marks.own_id] = _token_id(marks.own_id, token)
        return _Rewrite(
            ev.id,
            new_id,
            ev.key,
            new_key,
            token,
            self._rewrites,
            self._own,
            self._mark,
            self._mask,
            whole or None,
        )

    def event(self, ev: Event, marks: Marks | None = None) -> Event:
        """``ev`` with its id, key and payload rewritten (``rewrite``)."""
        rewrite = self.rewrite(ev, marks)
        # Built, not ``replace``d: 2.9 µs an event instead of 6.5.
        payload = rewrite.payload(ev.payload)
        return Event(
            rewrite.new_id, rewrite.new_key, ev.seq, ev.type, ev.occurred_at, payload, ev.headers
        )


def _rewrite_paths(
    ev: Event, only: tuple[tuple[_paths.Step, ...], ...], rewrite: _Rewrite
) -> Event:
    """``ev`` with the strings at ``only`` rewritten; its id and key follow their paths."""
    payload = _json_copy(ev.payload)
    new_id, new_key = ev.id, ev.key
    for steps in only:
        found = _paths.get(payload, steps, None)
        if type(found) is int and found in rewrite.numbers:  # an id or key held as a number
            renumbered = rewrite.numbers[found]
            new_id = str(renumbered) if str(found) == ev.id else new_id
            new_key = str(renumbered) if str(found) == ev.key else new_key
            _paths.put(payload, steps, renumbered)
            continue
        if not isinstance(found, str):  # missing here, or another number: left as it is
            continue
        if found == ev.id:  # before the key: a source without keys uses the id as the key
            token = new_id = rewrite.new_id
        elif found == ev.key:
            token = new_key = rewrite.new_key
        else:
            token = rewrite.forced(found)
        _paths.put(payload, steps, token)
    return replace(ev, id=new_id, key=new_key, payload=payload)


def _json_copy(node: Any) -> Any:
    """A copy of a JSON value to rewrite in place (deepcopy is several times slower)."""
    if isinstance(node, dict):
        return {k: _json_copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_copy(v) for v in node]
    return node


def _numbers(payload: Any) -> set[int]:
    """The integers a payload holds: an id or key written as a JSON number. (A walk without
    the paths ``_paths.leaves`` builds: 3x faster, and it runs per event.)"""
    found: set[int] = set()
    todo = [payload] if isinstance(payload, dict | list) else []  # a bare number is no id's
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, int) and not isinstance(node, bool):
            found.add(node)
    return found


def _token_id(value: str, token: str, numbers: Collection[int] = (), mask: int = 0) -> str:
    """``value`` as a token of its format; an id the payload holds as a number (no token is
    a number) renumbered by ``mask``, for ``_correlate`` to match verbatim."""
    held = _held_number(value, numbers, mask)
    if held is not None:
        return held
    return token_prefix(value) + token


def token_prefix(value: str) -> str:
    """What of an id its token keeps: its prefix (``cs_test_`` of a Checkout Session's),
    the same for every id drawn in its shape (``_vary``); none for a UUID."""
    m = _ID_LIKE.match(value)
    return m.group(1) if m else ""


def token_prefixes(values: list[str]) -> list[str]:
    """``token_prefix`` of each value: found in one search of them all, a line each, where
    each is an id led by a prefix (a batch's ids, drawn in one shape); else one by one."""
    joined = "\n".join(values)
    if joined.count("\n") == len(values) - 1:  # no value holds a line break
        found = _IDS_LIKE.findall(joined)
        if len(found) == len(values):  # one a line: every value's
            return found
    return [token_prefix(value) for value in values]


def _held_number(value: str, numbers: Collection[int], mask: int) -> str | None:
    """An id or key the payload holds as a number (one of ``numbers``), renumbered by
    ``mask``; None for any other."""
    if value.isdigit() and int(value) in numbers:
        return str(renumbered(int(value), mask))
    return None


def number_mask(tag: str) -> int:
    """The bits this run's numbers are renumbered by: from its tag, so each run has its own."""
    return int.from_bytes(hashlib.blake2b(tag.encode(), digest_size=8).digest(), "big")


_SHORT = 16  # bits: a number this short is renumbered into ...
_WIDE = 31  # ... the numbers of this many bits (an int4 still), a block of them the run's own


def renumbered(n: int, mask: int) -> int:
    """``n`` as this run's number: the bits below its top one flipped by ``mask``, except
    those a double drops (above 2**53): one-to-one within a run, and a number a float mangles
    stays one it mangles (the big-number hazards). 0 stays 0; 1 has no bit to flip, and is
    moved into the block as any short number is (a first order's ``number`` 1 was 1 in every run).

    A number of 17 bits or more keeps its bit length. A shorter one has too few values to be
    another in every run — an issue's ``number`` 1347 came out the same in two runs once in
    1,024, and an automation that keeps tickets by number meets dozens of runs' issues in one
    ``harness run`` (over a third of a late run's did) — so it is moved into a block of 2**16 of
    the 31-bit numbers chosen by ``mask`` (one in 16,384 blocks): ``1347`` becomes a 10-digit
    number. A 31-bit number the flip lands in that block takes the place the short one left."""
    bits = n.bit_length()
    if bits == 0:
        return n
    low = max(0, bits - 53)  # what float(n) rounds away
    span = bits - 1 - low
    flipped = n ^ ((mask & ((1 << span) - 1)) << low)
    if _SHORT < bits != _WIDE:
        return flipped
    block = (1 << (_WIDE - 1)) | ((mask >> 40) % (1 << (_WIDE - 1 - _SHORT))) << _SHORT
    if bits <= _SHORT:
        return block | flipped
    moved = flipped - block
    return moved if 0 < moved < 1 << _SHORT else flipped


def renumbering(old_id: str, new_id: str, old_key: str, new_key: str) -> dict[int, int]:
    """The JSON numbers of an event's payload to write anew: its id and key where they were
    renumbered (the key's last: an id that is also the key is the key)."""
    found: dict[int, int] = {}
    for old, new in ((old_id, new_id), (old_key, new_key)):
        if old != new and old.isdigit() and new.isdigit():
            found[int(old)] = int(new)
    return found


class _Rewrite:
    def __init__(
        self,
        old_id: str,
        new_id: str,
        old_key: str,
        new_key: str,
        token: str,
        rewrites: Rewrites,
        own: OwnIds | None = None,
        mark: bool = True,
        mask: int = 0,
        whole: dict[str, str] | None = None,
    ):
        self.exact = {old_id: new_id, old_key: new_key}
        self.whole = whole  # the strings ``Marks`` names, as they are marked
        self.numbers = renumbering(old_id, new_id, old_key, new_key)
        self.rewrites = rewrites
        self.own = own
        self.mark = mark
        self.new_id = new_id
        self.new_key = new_key
        self.token = token
        self.mask = mask
        # What an id inside a string becomes (``_inner_ids``): the event's id and key, then
        # each integer under an id-named field as ``value`` meets it.
        words = {old: new for old, new in self.exact.items() if old and old != new}
        self._found = {str(old): str(new) for old, new in self.numbers.items()} | words
        self._inner = Inner(self._found, tuple(k for k in self._found if not k.isdigit()), own)
        self._missed: set[str] = set()  # digit runs met before an integer they may be
        # strings rewritten without a plan, and how many ids ``_found`` held then
        self._met: list[tuple[str, int]] = []
        self._plans = rewrites.plans
        self._inert = rewrites.inert

    def payload(self, payload: Any) -> Any:
        """``payload`` rewritten, the ids inside its strings as they stand alone in it:
        walked again where a string was met before an integer of the payload it holds."""
        made = self.value(payload)
        if self._missed_one():
            self._missed = set()
            self._met = []
            made = self.value(payload)
        return made

    def _missed_one(self) -> bool:
        """Did a string hold, as a digit run, an integer met after it in the walk?"""
        found = self._found
        if self._missed and not self._missed.isdisjoint(found):
            return True
        if not self._met:
            return False
        keys = list(found)
        for text, n in self._met:  # the strings met once, as they were met
            late = keys[n:]  # the integers met after it
            if late and any(k in text for k in late) and not set(late).isdisjoint(runs(text)):
                return True
        return False

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: self.owned(v)
                if type(v) is int and type(k) is str and id_named(k)
                else self._leaf(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [self._leaf(v) for v in node]
        if isinstance(node, str):
            return self.text(node)
        return node

    def _leaf(self, node: Any) -> Any:
        # Most leaves are plain strings and numbers: a type test costs less than ``value``'s
        # three isinstance calls.
        kind = type(node)
        if kind is str:
            return self.text(node)
        if kind is int and self.numbers:
            return self.numbers.get(node, node)
        if kind in _SCALARS:
            return node
        return self.value(node)

    def owned(self, n: int) -> int:
        """An integer under an id-named field, renumbered for this run (an id or key the
        event holds as a number the same way, ``_token_id``)."""
        if not self.mask or n < 1:
            return n
        made = renumbered(n, self.mask)
        if made != n:
            self._found[str(n)] = str(made)
        return made

    def forced(self, s: str) -> str:
        """``s`` as a token whatever it looks like: the user named its path."""
        found = self.text(s)
        return found if found != s else _token_id(s, self.token)

    def text(self, s: str) -> str:
        if s in self.exact:
            return self.exact[s]
        if self.whole is not None and s in self.whole:
            return self.whole[s]
        if s in self._inert:
            return s
        plan = self._plans.get(s) or self.rewrites.met(s)
        if plan is None:  # met once: rewritten as it stands
            if self.own is not None:
                if idless(s):  # a name, an email: no id to permute, only the event's
                    text = marked(s, self.token) if self.mark else s
                    return self._inner(text) if self._inner.holds(text) else text
                whole = self.own.string(s)
                if whole is not s:
                    return whole
            text = marked(s, self.token) if self.mark else s
            self._met.append((text, len(self._found)))  # looked into again at the end
            return self._inner(text)
        head, tail, words, numbers = plan
        found = self._found
        for run in numbers:
            if run not in found:
                self._missed.add(run)
        if words and not found.keys().isdisjoint(words):  # an id this event renumbers
            return self._inner(marked(s, self.token) if self.mark else s)
        return head if tail is None else head + self.token + tail


_SCALARS = frozenset({int, float, bool, type(None)})
