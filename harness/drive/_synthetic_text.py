"""A synthetic source's events made and traced in one pass, each payload written as JSON text.

Made as objects, every payload is built from the example (``_sources.Shape.event``), walked
leaf by leaf by the tracer (``_tracer.Tokens``) and encoded by ``json.dumps``: three passes over
each leaf, most of them the example's constants, the same in every event. Here the example is
compiled once into the JSON text of its constants with holes for what differs from event to
event — the varied atoms, the paths the source writes (id, key, type, sequence, time) and the
token the tracer adds to constant free text and emails — and each event fills the holes. Its
text is ``json.dumps`` of the traced payload the other way makes, character for character
(tests/test_synthetic_text.py): the same events, bodies and journal rows, a few times faster.
The event's payload is decoded from its text only if something reads it (``TextEvent``).

The holes are filled a batch of events at a time (``TextTemplate.texts``), the source's batch
of draws (``_sources.Shape.batches``: each atom's values a column): each hole's strings for 256
events in one pass, then one join per event — where an event at a time paid a call and
a dispatch per hole (a Stripe event's 13 holes: 26 of the 71 µs an event cost). A hole whose
strings in the batch JSON writes as they are (printable ASCII, no quote nor backslash: ids,
tokens, most emails) takes them bare, the quotes in the text around it, not quoted one by one.
An event for which the batch's way is not exact (a string of it holding its id or key inside,
an integer under an id-named field) is written by ``text``, alone.

Where the run's provider lays out its bodies otherwise (compact, or Stripe's two-space indent:
``core._providers.Layout``), the example is compiled in that layout too and the same holes are
filled into both texts (``laid_synthetic``): the body is the second text, never parsed and written
again as ``Provider.body`` does (a few µs an event against 40 to 100).

The default tracing only (every value rewritten, ``ids`` off): the other settings, an example
with keys that are not strings (built in Python), a source's ``later`` value that is not a
string or a number, and an event whose id or key equals one of the example's strings, go the
way of objects.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from json.encoder import encode_basestring as _utf8_quoted
from json.encoder import encode_basestring_ascii as _quoted
from operator import eq
from os.path import commonprefix
from typing import Any

from ..core import _paths
from ..core._model import Event
from ..core._providers import LAYOUTS, PYTHON, Layout
from ..core._scenario import SyntheticSource, TracerSpec
from ..core._text_event import text_event
from ._event_batch import EventBatch, KeyTokens
from ._inner_ids import Inner, inner_words
from ._sources import Drawn, Draws, Shape, checked
from ._string_rewrites import marked
from ._template import Spans, Whole
from ._tracer import Tokens, number_mask, renumbered, renumbering, token_prefix, traced
from ._vary import ID_KINDS, id_named

# An event's payload as json.dumps writes it (its TextEvent's text) and laid out as its
# sender lays out its bodies (``Provider.body``'s bytes, decoded): the same text in PYTHON's.
Written = tuple[str, str]
# An event's ``_tracer.Marks`` as its text is written: the token its record's emails carry, and
# its own object's id made a token (None: not marked).
EventMarks = tuple[str | None, str | None]
_UNMARKED: EventMarks = (None, None)
# A batch's texts, and laid out (None where ``TextTemplate.text`` wrote none): two columns.
Columns = tuple[list[str | None], list[str | None]]
# A batch's events' ids and keys, before and after the tracer: four columns.
IdColumns = tuple[list[str], list[str], list[str], list[str]]
# Every event's headers: none of its own (one empty dict shared, as a streamed run's copies do).
_NO_HEADERS: Mapping[str, str] = {}
_OBJECTS = 256  # events made as objects handed on at once (as many as a batch of draws)

# The holes of a compiled payload, each a tuple whose first item says what fills it.
_TOKEN = 0  # the event's token (after constant free text, inside a constant email)
_WHOLE = 1  # (_WHOLE, atom, as_text): a leaf replaced whole by an atom's value
_SPANS = 2  # (_SPANS, Spans): a string leaf with atoms inside it
_PUT = 3  # (_PUT, field of Drawn): a path the source writes (id, key, type, sequence, time)
_OWNED = 4  # (_OWNED, n): a constant integer under an id-named field, renumbered per run
_LATER = 5  # (_LATER, first, later): a source's ``later`` path: ``later`` after a record's first

# How a hole's string is looked into for ids inside it (``TextTemplate._scanned``).
_PLAIN, _AT_ONCE, _ALONE, _NUMBERED = range(4)
# What may stand beside a number inside a string for the number to be a word of its own that
# nothing around it can join (``_numbered``): not a letter, digit, ``_``, nor ``.:+-``.
_JOINS = frozenset("_.:+-")


class Unwritten(Exception):
    """An example this module does not write as text (a source built in Python with keys that
    are not strings): its events go the way of objects."""


class _Put:
    """Where a path the source writes sits in the compiled example."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Later:
    """Where a ``later`` path of the source sits: the example's value in a record's first
    event, ``later`` in the others (an issue opened, then edited)."""

    def __init__(self, first: Any, later: Any) -> None:
        if not all(isinstance(v, str | int | float | bool) for v in (first, later)):
            raise Unwritten(f"a later value that is not a scalar: {first!r}, {later!r}")
        self.first = first
        self.later = later


class _Writer:
    """The text between a compiled example's holes, as one layout writes it (``Layout``)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.quoted = _quoted if layout.ascii else _utf8_quoted
        self.literal: list[str] = []  # the text between holes
        self.pending = ""

    def hole(self) -> None:
        self.literal.append(self.pending)
        self.pending = ""

    def pieces(self) -> list[str | None]:
        """The text between holes, None in each hole's place: what ``_filled_in`` fills."""
        made: list[str | None] = [None] * (2 * len(self.literal) + 1)
        made[0::2] = [*self.literal, self.pending]
        return made

    def item(self, n: int, depth: int, name: str | None) -> None:
        """Before the ``n``-th item of an object (its key ``name``) or array at ``depth``."""
        layout = self.layout
        self.pending += (layout.items if n else "") + self.newline(depth + 1)
        if name is not None:
            self.pending += self.quoted(name) + layout.keys

    def newline(self, depth: int) -> str:
        """What stands before an item or a closing bracket at ``depth``: nothing on one line."""
        indent = self.layout.indent
        return "" if indent is None else "\n" + " " * (indent * depth)


class TextTemplate:
    """The example of a synthetic source compiled into JSON text with holes (module docstring):
    ``text(filled(drawn), ids, token)`` is the traced payload of one event as ``json.dumps``
    writes it, and as ``layout`` lays it out (``Provider.body``'s bytes, decoded)."""

    def __init__(self, shape: Shape, layout: Layout = LAYOUTS[PYTHON]) -> None:
        skeleton = copy.deepcopy(shape.spec.example)
        for steps, name in shape.puts:
            _paths.put(skeleton, steps, _Put(name))
        for steps, value in shape.later:
            _paths.put(skeleton, steps, _Later(_paths.get(skeleton, steps, None), value))
        self._fills = shape.plan.fills
        # The text between holes as json.dumps writes it, then in ``layout`` where it differs.
        self._writers = [_Writer(LAYOUTS[PYTHON])]
        if layout != LAYOUTS[PYTHON]:
            self._writers.append(_Writer(layout))
        self._holes: list[tuple[Any, ...]] = []
        # How a hole's string is looked into for ids (``_inner_ids``): _PLAIN, a time's or an
        # amount's (their digit runs all stand beside a '.', ':', '-' or '+' and a digit);
        # _AT_ONCE, the other atoms' (a name, an email, an id: those of an event looked into
        # as one text first, as they seldom hold one); _NUMBERED, a string whose atoms are
        # numbers standing alone in text that holds no id (a gid: ``gid://shopify/Order/1``),
        # filled as its parts; _ALONE, the others (a URL with other atoms).
        self._scanned: list[int] = []
        self._kinds = {text: atom.kind for text, atom in shape.plan.atoms.items()}
        self._words: dict[int, frozenset[str]] = {}  # a _NUMBERED hole's text's own words
        # The holes under an id-named field, where an integer is renumbered per run (``_tracer``)
        self._owned: list[int] = []
        self.constants: set[str] = set()  # the example's strings written as they are
        # What ``_inner_ids`` may rewrite inside them (their digit runs and id-like words)
        self._inside: set[str] = set()
        self._numbers: set[int] = set()  # the example's integers
        self._node(skeleton, ())
        self._pieces = self._writers[0].pieces()
        self._laid = self._writers[-1].pieces() if len(self._writers) > 1 else None
        # The pieces with quotes around the holes a batch writes bare (``_written``), by them.
        self._quoted_pieces: dict[
            tuple[int, ...], tuple[list[str | None], list[str | None] | None]
        ] = {}
        # Written a batch at a time (``texts``) but for a constant integer renumbered in
        # every event and a string written number by number: those are written one at a time.
        self._batched = not self._words and not any(h[0] == _OWNED for h in self._holes)
        # The holes whose strings ``texts`` looks into for the event's id or key.
        self._looked = [s in (_AT_ONCE, _ALONE) for s in self._scanned]
        # Each _SPANS hole's text as a %-format of its atoms' values, and its atoms.
        self._spans = {n: _spans_format(h[1]) for n, h in enumerate(self._holes) if h[0] == _SPANS}
        # The holes whose strings are never marked (no space, no '@'): an id's, an amount's.
        # (Not a time's: an ISO time may be written with a space, and marked as free text.)
        self._unmarked = {
            n
            for n, h in enumerate(self._holes)
            if h[0] == _WHOLE and self._kinds[h[1]] in (*ID_KINDS, "amount")
        }
        # The holes of a record's own emails, marked with the record's token, and of the
        # event's own object's id, the event's token (``_tracer.Marks``).
        self._record_holes = frozenset(
            n for n, h in enumerate(self._holes) if h[0] == _WHOLE and h[1] in shape.record_emails
        )
        self._own_holes = frozenset(
            n for n, h in enumerate(self._holes) if h[0] == _WHOLE and h[1] == shape.own_id
        )

    # --- compiling ------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        for writer in self._writers:
            writer.pending += text

    def _hole(self, hole: tuple[Any, ...], owned: bool = False) -> None:
        for writer in self._writers:
            writer.hole()
        if owned:
            self._owned.append(len(self._holes))
        self._holes.append(hole)
        words = _numbered(hole[1], self._kinds) if hole[0] == _SPANS else None
        if words is not None:
            self._scanned.append(_NUMBERED)
            self._words[len(self._holes) - 1] = words
        elif hole[0] != _WHOLE:
            self._scanned.append(_ALONE)
        else:
            plain = self._kinds[hole[1]] in ("time", "amount")
            self._scanned.append(_PLAIN if plain else _AT_ONCE)

    def _node(self, node: Any, here: tuple[_paths.Step, ...]) -> None:
        """``node`` written as ``json.dumps`` writes it, in each writer's layout."""
        fill = self._fills.get(here)
        owned = bool(here) and isinstance(here[-1], str) and id_named(here[-1])
        if isinstance(node, _Put):
            self._hole((_PUT, node.name), owned)
        elif isinstance(node, _Later):
            self._hole((_LATER, node.first, node.later), owned)
        elif fill is not None:
            self._fill(fill, owned)
        elif isinstance(node, dict | list) and not node:
            self._text("{}" if isinstance(node, dict) else "[]")
        elif isinstance(node, dict):
            self._text("{")
            for n, (name, inner) in enumerate(node.items()):
                if not isinstance(name, str):  # json.dumps's own rules: the object way
                    raise Unwritten(f"a key that is not a string: {name!r}")
                for writer in self._writers:
                    writer.item(n, len(here), name)
                self._node(inner, (*here, name))
            self._closed("}", len(here))
        elif isinstance(node, list):
            self._text("[")
            for n, inner in enumerate(node):
                for writer in self._writers:
                    writer.item(n, len(here), None)
                self._node(inner, (*here, n))
            self._closed("]", len(here))
        elif isinstance(node, str):
            self._constant(node)
        elif type(node) is int and owned:
            self._numbers.add(node)
            self._hole((_OWNED, node), owned)
        else:
            if type(node) is int:
                self._numbers.add(node)
            self._text(json.dumps(node))

    def _closed(self, bracket: str, depth: int) -> None:
        for writer in self._writers:
            writer.pending += writer.newline(depth) + bracket

    def _fill(self, fill: Whole | Spans, owned: bool) -> None:
        if isinstance(fill, Whole):
            self._hole((_WHOLE, fill.atom, fill.as_text), owned)
        else:
            self._hole((_SPANS, fill))

    def _constant(self, text: str) -> None:
        """A string of the example as the tracer leaves or marks it: the token, where it goes,
        is a hole; what is around it is text (JSON escapes each character on its own)."""
        self.constants.add(text)
        self._inside.update(inner_words(text)[0])
        mark = "\ue000"  # a character the text lacks stands for the token
        while mark in text:
            mark = chr(ord(mark) + 1)
        before, found, after = marked(text, mark).partition(mark)
        for writer in self._writers:
            writer.pending += writer.quoted(before)[:-1]
        if found:
            self._hole((_TOKEN,))
            for writer in self._writers:
                writer.pending += writer.quoted(after)[1:]
        else:
            self._text('"')

    # --- filling --------------------------------------------------------------------------

    def filled(self, drawn: Drawn) -> list[Any]:
        """What fills each hole of ``drawn``'s payload, before the tracer (None: the token)."""
        values = drawn.values
        found: list[Any] = []
        for n, (hole, scanned) in enumerate(zip(self._holes, self._scanned, strict=True)):
            kind = hole[0]
            if kind == _TOKEN:
                found.append(None)
            elif kind == _WHOLE:
                value = values[hole[1]]
                found.append(str(value) if hole[2] else value)
            elif kind == _SPANS:
                parts = _parts(hole[1], values)
                if scanned == _NUMBERED:  # its text's words first, then its parts
                    found.append((self._words[n], *parts))
                else:
                    found.append("".join(parts))
            elif kind == _OWNED:
                found.append(hole[1])
            elif kind == _LATER:
                found.append(hole[2] if drawn.nth > 1 else hole[1])
            else:
                found.append(getattr(drawn, hole[1]))
        return found

    def plain(self, event_ids: list[str], keys: list[str]) -> bool:
        """Is none of these ids and keys a number, nor one of the example's strings (``holds``
        none of them)?"""
        constants = self.constants
        if not (constants.isdisjoint(event_ids) and constants.isdisjoint(keys)):
            return False
        return not any(map(str.isdigit, event_ids)) and not any(map(str.isdigit, keys))

    def holds(self, value: str) -> bool:
        """Is ``value`` one of the example's constants, a string or a JSON number? (The tracer
        rewrites every occurrence of an event's id and key, constants included.)"""
        return value in self.constants or (value.isdigit() and int(value) in self._numbers)

    def numbers(self, filled: list[Any]) -> set[int]:
        """The integers of a payload (the tracer's ``_numbers``): the example's, and those
        its holes are filled with."""
        return self._numbers | {v for v in filled if type(v) is int}

    def text(
        self,
        filled: list[Any],
        ids: tuple[str, str, str, str],
        token: str,
        mask: int,
        marks: EventMarks = _UNMARKED,
    ) -> Written | None:
        """The payload's JSON text, its holes ``filled`` as the tracer rewrites them: ``ids``
        the event's id and key, then their tokens; ``mask`` the run's, that renumbers the
        integers under id-named fields, there and inside strings (``_inner_ids``); ``marks``
        the record's token its own emails carry and the event's own object's id, if any. None
        where one of the example's constants may hold an id inside it: that event goes the way
        of objects."""
        old_id, old_key, new_id, new_key = ids
        numbers = renumbering(old_id, new_id, old_key, new_key)
        found: dict[str, str] = {}
        owned: list[tuple[int, str]] = []
        for n in self._owned:
            value = filled[n]
            if type(value) is int and value > 0:
                moved = renumbered(value, mask)
                owned.append((n, str(moved)))
                if moved != value:
                    found[str(value)] = owned[-1][1]
        for old, new in numbers.items():  # each one renumbered: another number
            found[str(old)] = str(new)
        if old_id and old_id != new_id:
            found[old_id] = new_id
        if old_key and old_key != new_key:
            found[old_key] = new_key
        if not self._inside.isdisjoint(found):
            return None
        inside = Inner(found, tuple(w for w in (old_id, old_key) if w in found and not w.isdigit()))
        written: list[str] = []
        at_once: list[int] = []  # the holes to look into at once after, and their strings
        texts: list[str] = []
        record, own = marks
        by_record = self._record_holes if record is not None else frozenset()
        by_own = self._own_holes if own is not None else frozenset()
        for n, (value, scanned) in enumerate(zip(filled, self._scanned, strict=True)):
            if value is None:
                written.append(token)
            elif type(value) is str:
                if value == old_key:  # the key first: an id that is also the key is the key
                    value = new_key
                elif value == old_id:
                    value = new_id
                elif n in by_own:
                    value = own or value
                elif n in by_record:
                    value = marked(value, record or token)
                elif scanned == _AT_ONCE:
                    value = marked(value, token)
                    at_once.append(len(written))
                    texts.append(value)
                elif scanned == _ALONE:
                    value = inside(marked(value, token))
                else:
                    value = marked(value, token)
                written.append(_quoted(value))
            elif type(value) is int:
                written.append(_scalar(numbers.get(value, value) if numbers else value))
            elif type(value) is tuple:  # _NUMBERED: its text's words, text, a number, text...
                written.append(_quoted(_renumbered(value, found, ids, inside)))
            else:
                written.append(_scalar(value))
        # One text of them all: where it holds no id, none of them does.
        if texts and inside.holds("\0".join(texts)):
            for n, value in zip(at_once, texts, strict=True):
                written[n] = _quoted(inside(value))
        for n, made in owned:
            written[n] = made
        text = _filled_in(self._pieces[:], written)
        return text, text if self._laid is None else _filled_in(self._laid[:], _utf8(written))

    def texts(
        self,
        drawn: Draws,
        ids: IdColumns,
        tokens: list[str],
        mask: int,
        marks: list[EventMarks],
    ) -> Columns:
        """``text(filled(d), i, t, mask, m)`` for each event ``d`` of a batch, with its ids
        ``i`` (in ``ids``' columns; none of them digits), token ``t`` and marks ``m``, as two
        columns (the texts, then the texts laid out: the same list where the layout is
        json.dumps's): each hole's values written for the whole batch at once. An event for
        which that would not be exact — a string of it holding its id or key inside, an
        integer of it under an id-named field, a constant that may hold its id — is written by
        ``text``, one at a time (None in both: ``text`` said None)."""
        made: Columns = [None] * len(drawn), [None] * len(drawn)
        alone: set[int] = set()  # the events written by ``text``
        bare: list[int] = []  # the holes whose strings are written without their quotes
        written = (
            self._columns(drawn, ids, tokens, marks, alone, bare)
            if self._batched and drawn
            else None
        )
        if written is None:
            alone.update(range(len(drawn)))
        else:
            made = self._written(written, tuple(bare))  # type: ignore[assignment]
        texts, laid = made
        if alone and laid is texts:  # written one at a time: laid out apart
            laid = laid[:]
        for n in alone:
            its = (ids[0][n], ids[1][n], ids[2][n], ids[3][n])
            one = self.text(self.filled(drawn.row(n)), its, tokens[n], mask, marks[n])
            texts[n], laid[n] = one if one is not None else (None, None)
        return texts, laid

    def _written(
        self, columns: list[list[str]], bare: tuple[int, ...]
    ) -> tuple[list[str], list[str]]:
        """Each event's text from each hole's text for each event (json.dumps's), and laid out:
        a string's non-ASCII characters as they are where the layout writes them so. The
        holes ``bare`` hold strings without their quotes: the pieces around them have them."""
        quoted = self._quoted_pieces.get(bare)
        if quoted is None:
            quoted = self._quoted_pieces[bare] = (
                _quoted_around(self._pieces, bare),
                None if self._laid is None else _quoted_around(self._laid, bare),
            )
        pieces = quoted[0][:]
        texts = [_filled_in(pieces, row) for row in zip(*columns, strict=True)]
        if quoted[1] is None:
            return texts, texts
        pieces = quoted[1][:]
        laid = [_filled_in(pieces, row) for row in zip(*map(_utf8, columns), strict=True)]
        return texts, laid

    def _columns(
        self,
        drawn: Draws,
        ids: IdColumns,
        tokens: list[str],
        marks: list[EventMarks],
        alone: set[int],
        bare: list[int],
    ) -> list[list[str]] | None:
        """Each hole's text for each event of a batch (``texts``); the events it is not exact
        for added to ``alone``; the holes whose strings need no escape added to ``bare``,
        their strings given as they are (the quotes go in the pieces around them); None where a
        hole holds strings in some events and other values in others (the batch is written
        one event at a time)."""
        old_ids, old_keys, new_ids, new_keys = ids
        values = drawn.values
        owned = set(self._owned)
        drawn_ids = {*old_ids, *old_keys}  # the batch's events' own
        written: list[list[str]] = []
        looked: list[list[str]] = []  # the strings ``text`` would look into for ids
        for h, hole in enumerate(self._holes):
            kind = hole[0]
            if kind == _TOKEN:
                written.append(tokens)
                continue
            column: list[Any]
            if kind == _WHOLE:
                column = values[hole[1]]
            elif kind == _SPANS:
                form, atoms = self._spans[h]
                rows = zip(*[map(str, values[a]) for a in atoms], strict=True)
                column = [form % row for row in rows]
            elif kind == _LATER:
                column = [hole[2] if nth > 1 else hole[1] for nth in drawn.nth]
            else:
                column = getattr(drawn, hole[1])
            if h in owned:  # an integer there is renumbered per run: ``text`` does it
                alone.update(n for n, v in enumerate(column) if type(v) is int and v > 0)
            types = set(map(type, column))
            if kind == _WHOLE and hole[2] and types != {str}:  # written as text: its strings
                column, types = list(map(str, column)), {str}
            if str not in types:  # numbers, booleans, nulls: as ``json.dumps`` writes them
                write = int.__repr__ if types == {int} else _scalar
                written.append(list(map(write, column)))
                continue
            if len(types) > 1:  # strings among other values (a ``later`` number): alone
                return None
            by = tokens
            if h in self._record_holes:  # a record's own email: its record's token
                by = [r or t for (r, _), t in zip(marks, tokens, strict=True)]
            elif h in self._own_holes:  # the event's own object's id: its token
                by = [o or "" for _, o in marks]
            if drawn_ids.isdisjoint(column):  # no event's own id or key: none to swap
                strings = self._kept(h, column, by)
            elif column == old_keys:  # each event's key (the key first: an id that is also it)
                strings = new_keys
            elif column == old_ids and not any(map(eq, old_ids, old_keys)):  # each one's id
                strings = new_ids
            elif h in self._own_holes:
                swapped = zip(column, old_keys, old_ids, new_keys, new_ids, by, strict=True)
                strings = [
                    nk if v == ok else ni if v == oi else o or v for v, ok, oi, nk, ni, o in swapped
                ]
            elif h in self._unmarked:
                swapped = zip(column, old_keys, old_ids, new_keys, new_ids, by, strict=True)
                strings = [
                    nk if v == ok else ni if v == oi else v for v, ok, oi, nk, ni, _ in swapped
                ]
            else:  # ``marked`` leaves a string without a space or an '@' as it is: no call
                swapped = zip(column, old_keys, old_ids, new_keys, new_ids, by, strict=True)
                strings = [
                    k if v == ok else i if v == oi else marked(v, t) if " " in v or "@" in v else v
                    for v, ok, oi, k, i, t in swapped
                ]
            if self._looked[h]:
                looked.append(strings)
            if _plain_text(strings):
                bare.append(h)
                written.append(strings)
            else:
                written.append(list(map(_quoted, strings)))
        # An event holding its id or key inside a string ``text`` looks into: ``Inner``
        # rewrites it there (a replaced id looked into as well: never a wrong text, at worst
        # an event written one at a time).
        if looked and _may_hold(looked, old_ids, old_keys):
            joined = map("\0".join, zip(*looked, strict=True))
            pairs = enumerate(zip(joined, old_ids, old_keys, strict=True))
            alone.update(n for n, (j, i, k) in pairs if (i and i in j) or (k and k in j))
        # An event whose id or key is a word inside a constant: ``text`` says (None).
        inside = self._inside
        if not inside.isdisjoint(drawn_ids):
            olds = enumerate(zip(old_ids, old_keys, strict=True))
            alone.update(n for n, (i, k) in olds if i in inside or k in inside)
        return written

    def _kept(self, h: int, column: list[str], by: list[str]) -> list[str]:
        """Hole ``h``'s strings, none an event's id or key, as ``text`` writes them: the event's
        own object's id its token (``by``), free text and emails marked with ``by``."""
        if h in self._own_holes:
            return [o or v for v, o in zip(column, by, strict=True)]
        if h in self._unmarked:
            return column
        pairs = zip(column, by, strict=True)
        return [marked(v, t) if " " in v or "@" in v else v for v, t in pairs]


def _may_hold(looked: list[list[str]], old_ids: list[str], old_keys: list[str]) -> bool:
    """May a string of ``looked`` hold an event's id or key? Not where none holds what the
    batch's ids, and its keys, all begin with (an id's drawn prefix, ``evt_1``)."""
    every = "\0".join(["\0".join(strings) for strings in looked])
    return any(not head or head in every for head in map(commonprefix, (old_ids, old_keys)))


def _plain_text(strings: list[str]) -> bool:
    """Does JSON write each of ``strings`` as it is, between quotes, in every layout (printable
    ASCII, no quote nor backslash)? The column's bytes with those characters deleted: none
    left (40-50 ns a string, where quoting each cost 130-230)."""
    joined = "".join(strings)
    return joined.isascii() and not joined.encode().translate(None, _PLAIN_BYTES)


# What JSON writes as it is in a string, in every layout: printable ASCII but '"' and '\\'.
_PLAIN_BYTES = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def _quoted_around(pieces: list[str | None], holes: tuple[int, ...]) -> list[str | None]:
    """``pieces`` (``_Writer.pieces``) with a quote before and after each hole of ``holes``."""
    made = pieces[:]
    for h in holes:
        made[2 * h] += '"'  # type: ignore[operator]
        made[2 * h + 2] = '"' + made[2 * h + 2]  # type: ignore[operator]
    return made


def _filled_in(pieces: list[str | None], values: Sequence[str]) -> str:
    """The text of ``pieces`` (``_Writer.pieces``) with ``values`` in its holes, in turn: one
    join of the pieces (a ``%`` format of the same text scanned its 1.3 kB for each event:
    2.1 µs a Stripe payload, the join 0.5). ``pieces`` is filled in place."""
    pieces[1::2] = values
    return "".join(pieces)  # type: ignore[arg-type]


def _utf8(column: list[str]) -> list[str]:
    """Hole texts as ``json.dumps`` writes them with ``ensure_ascii=False``: the same but for a
    string with a \\u escape, decoded and quoted again."""
    if "\\u" not in "".join(column):
        return column
    return [_utf8_quoted(json.loads(cell)) if "\\u" in cell else cell for cell in column]


def _renumbered(
    value: tuple[Any, ...], found: dict[str, str], ids: tuple[str, str, str, str], inside: Inner
) -> str:
    """A _NUMBERED hole's string (``filled``'s: its text's words, then its text and numbers
    in turn) as ``inside`` rewrites it, number by number where its text's words are not ids
    to rewrite."""
    old_id, old_key, new_id, new_key = ids
    parts = value[1:]
    joined = "".join(parts)
    if joined == old_key:  # the key first: an id that is also the key is the key
        return new_key
    if joined == old_id:
        return new_id
    if not found.keys().isdisjoint(value[0]):
        return inside(joined)
    if found.keys().isdisjoint(parts[1::2]):
        return joined
    return "".join([found.get(v, v) if n % 2 else v for n, v in enumerate(parts)])


def _parts(spans: Spans, values: Mapping[str, Any]) -> list[str]:
    """A string's text and atoms' values in turn: text, value, text, ..., text."""
    parts: list[str] = []
    last = 0
    for start, end, atom in spans.spans:
        parts.append(spans.text[last:start])
        parts.append(str(values[atom]))
        last = end
    parts.append(spans.text[last:])
    return parts


def _spans_format(spans: Spans) -> tuple[str, tuple[str, ...]]:
    """``spans``' text with ``%s`` for each atom (the rest's '%' doubled), and its atoms: the
    string ``_parts`` joins is ``form % tuple(str(value) for each atom)``."""
    parts: list[str] = []
    last = 0
    for start, end, _ in spans.spans:
        parts.append(spans.text[last:start].replace("%", "%%"))
        last = end
    parts.append(spans.text[last:].replace("%", "%%"))
    return "%s".join(parts), tuple(atom for _, _, atom in spans.spans)


def _numbered(spans: Spans, kinds: Mapping[str, str]) -> frozenset[str] | None:
    """The words an ``Inner`` may rewrite in ``spans``' text around its atoms, where its atoms
    are numbers (drawn as digits only) that stand alone, joining nothing beside them, in a
    string never marked (no space, no ``@``); else None. In every event, an ``Inner`` then
    rewrites those words and each number whole, nothing else: where the words are none of
    the ids to rewrite, the string is rewritten number by number, without a regex."""
    text = spans.text
    if " " in text or "@" in text:
        return None
    rest = list(text)
    for start, end, atom in spans.spans:
        if kinds[atom] not in ("int", "big", "digits", "counted"):
            return None
        for beside in (text[start - 1 : start], text[end : end + 1]):
            if beside.isalnum() or beside in _JOINS:
                return None
        rest[start:end] = "\ue000" * (end - start)  # no digit, no letter: what stood there
    return inner_words("".join(rest))[0]


def _scalar(value: Any) -> str:
    """A number (or anything not a string) as ``json.dumps`` writes it."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value)


def _template(shape: Shape, tracing: TracerSpec | None, layout: Layout) -> TextTemplate | None:
    """``shape``'s example compiled, where its events are written as text; else None."""
    resolved = (tracing or TracerSpec()).resolved_as_synthetic()
    if not resolved.rewrite or resolved.paths or resolved.ids:
        return None
    try:
        return TextTemplate(shape, layout)
    except Unwritten:
        return None


def traced_synthetic(
    spec: SyntheticSource, seed: int, tag: str, tracing: TracerSpec | None = None
) -> Iterator[Event]:
    """``traced(synthetic_events(spec, seed, tag), tag, tracing)``'s events, the same ones, their
    payloads made as JSON text where the tracing is the default (module docstring)."""
    for event, _ in laid_synthetic(spec, seed, tag, tracing):
        yield event


def laid_synthetic(
    spec: SyntheticSource,
    seed: int,
    tag: str,
    tracing: TracerSpec | None = None,
    layout: Layout = LAYOUTS[PYTHON],
) -> Iterator[tuple[Event, str | None]]:
    """``traced_synthetic``'s events, each with its payload's text laid out in ``layout`` where
    it was written as text (``Provider.body``'s, decoded: never parsed again); None where it
    was made as objects."""
    for made in laid_batches(spec, seed, tag, tracing, layout):
        if isinstance(made, EventBatch):
            yield from zip(made.events(), made.laid, strict=True)
        else:
            yield from made


def laid_batches(
    spec: SyntheticSource,
    seed: int,
    tag: str,
    tracing: TracerSpec | None = None,
    layout: Layout = LAYOUTS[PYTHON],
) -> Iterator[EventBatch | list[tuple[Event, str | None]]]:
    """``laid_synthetic``'s events a batch at a time: a batch whose events were each written
    as text as its columns (an EventBatch, no Event made), else each event with its text
    laid out, or None (made as objects)."""
    shape = Shape(checked(spec))
    template = _template(shape, tracing, layout)
    if template is None:
        objects = traced_objects(shape, seed, tag, tracing)
        while some := [(ev, None) for ev in islice(objects, _OBJECTS)]:
            yield some  # type: ignore[misc]
        return
    tokens = Tokens(tag)
    mask = number_mask(tag)
    # Each event's marks (``_tracer.Marks``): its record's token, once ``tokens.ids`` met its
    # key; its own object's id, the token after the prefix every id of that shape has.
    by_record = bool(shape.record_emails)
    own = token_prefix(shape.own_id) if shape.own_id is not None else None
    for batch in shape.batches(seed, tag):
        made: list[tuple[Event, str | None] | None] = [None] * len(batch)
        event_ids, keys = list(map(str, batch.event_id)), list(map(str, batch.key))
        texts: list[int] = []  # the events of the batch written as text, their ids, tokens
        rows: list[tuple[str, str, str, str]] = []  # each one's (``ids`` as columns)
        ids: IdColumns = ([], [], [], [])
        holes: list[str] = []
        marks: list[EventMarks] = []  # each event's (``_tracer.Marks``)
        made_as: KeyTokens | None = None  # the batch's tokens' parts, made as columns
        if template.plain(event_ids, keys):  # each written as text: their ids as columns
            texts = list(range(len(batch)))
            new_ids, new_keys, made_as = tokens.ids_of(event_ids, keys, batch.seq)
            ids = event_ids, keys, new_ids, new_keys
            holes = [f"{tag}e{seq}" for seq in batch.seq]
            none: list[str | None] = [None] * len(batch)
            records = [tokens.record_token(k) for k in keys] if by_record else none
            owns: list[str | None] = none if own is None else [own + token for token in holes]
            marks = list(zip(records, owns, strict=True))
        else:  # event by event: some go the way of objects, or are renumbered
            for n, (seq, event_id, key) in enumerate(zip(batch.seq, event_ids, keys, strict=True)):
                if template.holds(event_id) or template.holds(key):
                    # as the tracer rewrites it
                    drawn = batch.row(n)
                    made[n] = tokens.event(shape.event(drawn), shape.marks(drawn)), None
                    continue
                token = f"{tag}e{seq}"
                # An id or key the payload also holds as a number is renumbered (``_tracer``).
                if event_id.isdigit() or key.isdigit():
                    drawn = batch.row(n)
                    filled = template.filled(drawn)
                    new = tokens.ids(event_id, key, seq, template.numbers(filled))
                    marked_as = (
                        tokens.record_token(key) if by_record else None,
                        None if own is None else own + token,
                    )
                    text = template.text(filled, (event_id, key, *new), token, mask, marked_as)
                    if text is None:  # a constant may hold an id the tracer rewrites inside it
                        made[n] = tokens.event(shape.event(drawn), shape.marks(drawn)), None
                    else:
                        made[n] = _made(batch, n, new, text)
                    continue
                new_id, new_key = tokens.ids(event_id, key, seq)
                texts.append(n)
                rows.append((event_id, key, new_id, new_key))
                holes.append(token)
                marks.append(
                    (
                        tokens.record_token(key) if by_record else None,
                        None if own is None else own + token,
                    )
                )
        if rows:
            old_ids, old_keys, new_ids, new_keys = map(list, zip(*rows, strict=True))
            ids = old_ids, old_keys, new_ids, new_keys
        written, laid = template.texts(batch.picked(texts), ids, holes, mask, marks)
        if len(texts) == len(batch) and None not in written:  # each written as text
            yield _text_batch(batch, ids, written, laid, made_as)  # type: ignore[arg-type]
            continue
        for n, i, its, its_laid in zip(texts, zip(*ids, strict=True), written, laid, strict=True):
            if its is None or its_laid is None:  # a constant may hold an id the tracer
                drawn = batch.row(n)  # rewrites inside it
                made[n] = tokens.event(shape.event(drawn), shape.marks(drawn)), None
            else:
                made[n] = _made(batch, n, i[2:], (its, its_laid))
        assert None not in made
        yield made  # type: ignore[misc]


def traced_objects(
    shape: Shape, seed: int, tag: str, tracing: TracerSpec | None
) -> Iterator[Event]:
    """``shape``'s events made as objects and traced (``traced``), each with its marks
    (``_tracer.Marks``) where every string is rewritten."""
    resolved = (tracing or TracerSpec()).resolved_as_synthetic()
    if not shape.marked or not resolved.rewrite or resolved.paths:
        yield from traced(shape.events(seed, tag), tag, tracing)
        return
    tokens = Tokens(tag, resolved.ids)
    for drawn in shape.draws(seed, tag):
        yield tokens.event(shape.event(drawn), shape.marks(drawn))


def _text_batch(
    batch: Draws, ids: IdColumns, text: list[str], laid: list[str], tokens: KeyTokens | None
) -> EventBatch:
    """The events of ``batch`` as columns, ``ids`` their ids and keys before and after, made
    of ``tokens``, their payloads ``text``, laid out ``laid``."""
    _, _, new_ids, new_keys = ids
    start = batch.seq[0]
    return EventBatch(start, new_ids, new_keys, batch.type, batch.at, text, laid, None, tokens)


def _made(batch: Draws, n: int, ids: tuple[str, ...], text: Written) -> tuple[Event, str]:
    """The ``n``-th event of ``batch``, its id and key the tracer's, its payload ``text``;
    its text laid out."""
    seq, kind, at = batch.seq[n], batch.type[n], batch.at[n]
    return text_event(ids[0], ids[1], seq, kind, at, text[0], _NO_HEADERS), text[1]
