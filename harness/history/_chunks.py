"""Format 7's chunks: a batch of a run's events, deliveries or effects in one row, each column
of the batch one value (``_schema.CHUNKED`` says how each kind is held), and the reading of a
run's rows as columns, a batch at a time, from a journal of any format this harness reads.

A million deliveries read as rows cost sqlite3 a Python object per value and a tuple per row,
7 s of a ``harness check``; as chunks, a column of up to 4,096 values is one or two values of
SQLite, made into Python values by C code (``array.tolist``, ``json.loads``, ``map``), and a
value that repeats from row to row (a record key, a path, an outcome) is read and shared once
a chunk.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, groupby, islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from ._schema import CHUNKED, COLUMNS, INT_NULL, ROWS_FORMATS, chunk_columns, quoted

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_BIG_ENDIAN = sys.byteorder == "big"  # chunks hold numbers little-endian, on any machine
_NAN = float("nan")
_BY_RUN = itemgetter(0)
_STR: frozenset[type] = frozenset({str})
_STR_OR_NULL: frozenset[type] = frozenset({str, type(None)})
_CODE = next(c for c in "IL" if array(c).itemsize == 4)  # a row's place: an unsigned 32-bit int
ROWS_PER_READ = 4096  # a format 5 or 6 run's rows are read this many at a time
CHUNK_ROWS = 4096  # the most rows one chunk holds: a batch written at once, unless larger
# What reading a journal another program changed raises, past what SQLite's checks refuse:
# rows format 5 cannot check, chunks holding what no chunk of the harness holds.
DAMAGED = (ValueError, KeyError, TypeError, IndexError, RecursionError)
# The most characters one value of a chunk holds: a quarter of SQLite's limit of a billion bytes
# (SQLITE_MAX_LENGTH), for text up to 4 bytes a character in UTF-8.
VALUE_BUDGET = 250_000_000

# A column's values: a list, or the array of a chunk's column of reals.
Column = Sequence[Any]


class Codes:
    """A text column's values made into numbers: each value's place in ``names`` (a new value
    added at its end), the column an array of them. Each distinct value of a chunk is looked
    up once, and its number taken at each row's place by numpy: no object per row.
    ``places``: each of ``names``' place, when known already (shared, never changed here)."""

    def __init__(self, names: list[Any], places: Mapping[Any, int] | None = None) -> None:
        self.names = names
        self._places = dict(zip(names, itertools.count())) if places is None else places
        self._added: dict[Any, int] = {}  # the values met that ``names`` did not hold

    def of(self, values: Iterable[Any]) -> npt.NDArray[np.int64]:
        import numpy as np

        held = values if isinstance(values, list) else list(values)
        found = list(map(self._places.get, held, itertools.repeat(-1, len(held))))
        if -1 in found:  # a value met for the first time
            added = self._added
            for i in [i for i, place in enumerate(found) if place == -1]:
                found[i] = added.setdefault(held[i], len(self.names))
                if found[i] == len(self.names):
                    self.names.append(held[i])
        return np.array(found, dtype=np.int64)


class Shared:
    """A text column's values made into the equal strings ``held`` holds (``places``: where
    each is), a value it does not hold kept as it is: one object for an id a run's events hold
    and its deliveries name, found by C code."""

    def __init__(self, held: Sequence[str], places: Mapping[str, int]) -> None:
        self.held, self.places = held, places

    def of(self, values: list[str]) -> list[str]:
        found = list(map(self.places.get, values))
        if None in found:
            held = self.held
            return [value if i is None else held[i] for i, value in zip(found, values, strict=True)]
        return list(map(self.held.__getitem__, cast("list[int]", found)))


# What each distinct value of a text column is made into: what a function makes of it, or, for a
# dict, the equal string the dict holds (the value itself, added, when it holds none): one
# object for a value met again in any chunk, found by C code with no call into Python; Codes:
# its number, the column an array; Shared: the equal string it holds; None: the value as it is.
Convert = Callable[[Any], Any] | dict[str, str] | Codes | Shared | None


def _converted(convert: Convert, values: Iterable[Any]) -> Any:
    """``values`` made into what ``convert`` says, as a list (an array for Codes)."""
    if convert is None:
        return list(values)
    if isinstance(convert, Codes):
        return convert.of(values)
    if isinstance(convert, Shared):
        return convert.of(values if type(values) is list else list(values))
    if isinstance(convert, dict):
        values = values if type(values) is list else list(values)  # read twice
        return list(map(convert.setdefault, values, values))
    return list(map(convert, values))


class Refused(sqlite3.IntegrityError):
    """A value a chunk cannot hold (``encode``): the column, and what was found there. Refused
    as SQLite refuses a row that fails its table's checks."""


def encode(table: str, rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The chunk of ``rows`` (each as ``_schema.COLUMNS`` orders a row, its run first; all of
    one run) as the values of one row of ``table`` in format 7."""
    columns = list(zip(*rows, strict=True))
    chunk: list[Any] = [columns[0][0], len(rows)]
    for (name, kind), values in zip(CHUNKED[table].items(), columns[1:], strict=True):
        try:
            chunk.extend(_ENCODE[kind](f"{table}.{name}", values))
        except (TypeError, OverflowError) as exc:  # array() of what is no number
            raise Refused(f"{table}.{name} holds what is no number ({exc})") from None
    return tuple(chunk)


def write(
    db: sqlite3.Connection, table: str, rows: Iterable[tuple[Any, ...]], size: int | None = None
) -> None:
    """Insert ``rows`` (in order, each with its run first) into ``table`` as chunks of at most
    ``size`` rows (CHUNK_ROWS), one run per chunk."""
    size = size or CHUNK_ROWS
    insert = f"INSERT INTO {table} VALUES ({', '.join('?' * (len(chunk_columns(table)) + 2))})"
    for _, of_run in groupby(rows, _BY_RUN):
        while batch := list(islice(of_run, size)):
            for chunk in _within_budget(table, batch):
                db.execute(insert, chunk)


def _within_budget(table: str, rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The chunks of ``rows``, halved until each value of each is at most VALUE_BUDGET long:
    SQLite refuses a value over a billion bytes, and a chunk of large payloads or bodies (a
    4,096 GitHub pushes of up to 25 MB each) can make one. A single row's value over it is
    refused as format 6 refused it (``sqlite3.DataError``)."""
    chunk = encode(table, rows)
    if len(rows) > 1 and any(len(v) > VALUE_BUDGET for v in chunk if isinstance(v, str | bytes)):
        half = len(rows) // 2
        yield from _within_budget(table, rows[:half])
        yield from _within_budget(table, rows[half:])
    else:
        yield chunk


def column_batches(
    db: sqlite3.Connection,
    table: str,
    run: int,
    version: int,
    convert: Mapping[str, Convert] | None = None,
) -> Iterator[list[Column]]:
    """Run ``run``'s rows of ``table`` in the order they were written, as batches of columns
    (in ``_schema.COLUMNS`` order, without the run), from a journal of format ``version``;
    ``convert``: what the values of a text column (by name) are made into, each distinct value
    of a chunk once (a string shared, an outcome's member). ValueError when a chunk holds what
    its format does not."""
    names, convert = list(COLUMNS[table]), convert or {}
    if version in ROWS_FORMATS:
        cursor = db.execute(
            f"SELECT {', '.join(map(quoted, names))} FROM {table} WHERE run = ? ORDER BY rowid",
            (run,),
        )
        while rows := cursor.fetchmany(ROWS_PER_READ):
            yield [
                _converted(convert.get(n), c)
                for n, c in zip(names, zip(*rows, strict=True), strict=True)
            ]
        return
    stored = chunk_columns(table)
    for chunk in db.execute(
        f'SELECT "rows", {", ".join(map(quoted, stored))} FROM {table} WHERE run = ? '
        "ORDER BY rowid",
        (run,),
    ):
        yield _decode(table, chunk[0], chunk[1:], convert)


def rows(db: sqlite3.Connection, table: str, version: int) -> Iterator[tuple[Any, ...]]:
    """Every row of ``table``, each run's in the order written, runs in order, as
    ``_schema.COLUMNS`` orders a row (its run first), from a journal of format ``version``."""
    for (run,) in db.execute("SELECT run FROM runs ORDER BY run").fetchall():
        for columns in column_batches(db, table, run, version):
            yield from ((run, *row) for row in zip(*columns, strict=True))


def _decode(
    table: str, count: int, stored: Sequence[Any], convert: Mapping[str, Convert]
) -> list[Column]:
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"a chunk of {table} holds {count!r} rows")
    values = iter(stored)
    return [
        _DECODE[kind](f"{table}.{name}", count, values, convert.get(name))
        for name, kind in CHUNKED[table].items()
    ]


# Encoding: a kind's values -> the values of its column(s) in the chunk's row.


def _reals(name: str, values: Sequence[Any]) -> tuple[bytes]:
    return (_packed(array("d", values)),)


def _reals_or_null(name: str, values: Sequence[Any]) -> tuple[bytes]:
    return (_packed(array("d", [_NAN if v is None else v for v in values])),)


def _ints(name: str, values: Sequence[Any]) -> tuple[bytes]:
    return (_packed(_int_array(name, values)),)


def _ints_or_null(name: str, values: Sequence[Any]) -> tuple[bytes]:
    if INT_NULL in values:
        raise Refused(f"{name} holds {INT_NULL}, which a chunk holds as null")
    return (_packed(_int_array(name, [INT_NULL if v is None else v for v in values])),)


def _int_array(name: str, values: Sequence[Any]) -> array[int]:
    """The values as int64; an integral float (a status of 200.0) as its integer, as SQLite
    kept it in an INTEGER column."""
    try:
        return array("q", values)
    except TypeError:
        if not all(isinstance(v, int) or (isinstance(v, float) and v.is_integer()) for v in values):
            raise
        return array("q", map(int, values))


def _texts(name: str, values: Sequence[Any]) -> tuple[str, bytes]:
    _check_texts(name, values, nullable=False)
    return _coded(values)


def _texts_or_null(name: str, values: Sequence[Any]) -> tuple[str, bytes]:
    _check_texts(name, values, nullable=True)
    return _coded(values)


def _check_texts(name: str, values: Sequence[Any], *, nullable: bool) -> None:
    """Refused unless each value is text (a str, or a StrEnum's member), or null when
    ``nullable``; told by the few types met, not value by value."""
    for kind in set(map(type, values)):
        if not (issubclass(kind, str) or (nullable and kind is type(None))):
            found = next(v for v in values if type(v) is kind)
            expected = "text or null" if nullable else "text"
            raise Refused(f"{name} holds {found!r}, where {expected} is expected")


def _coded(values: Sequence[str | None]) -> tuple[str, bytes]:
    """The distinct values, in the order first met, and each value's place among them."""
    places: dict[str | None, int] = {}
    codes = array(_CODE, [places.setdefault(v, len(places)) for v in values])
    return json.dumps(list(places)), _packed(codes)


def _json(name: str, values: Sequence[Any]) -> tuple[str, bytes]:
    """The JSON texts as one JSON array (SQLite checks it, and so each of them), and where
    each ends in it: each is cut out again without being parsed."""
    _check_texts(name, values, nullable=False)
    ends = array("q", accumulate(len(v) + 1 for v in values))
    return "[" + ",".join(values) + "]", _packed(ends)


def _packed(numbers: array[Any]) -> bytes:
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers.tobytes()


# Decoding: the value(s) of a kind's column(s) -> its values; ValueError on what no chunk of
# this harness holds (another program's rows).


def _numbers(code: str, name: str, count: int, blob: Any) -> array[Any]:
    numbers = array(code)
    if not isinstance(blob, bytes) or len(blob) != numbers.itemsize * count:
        raise ValueError(f"{name} holds no {count} numbers")
    numbers.frombytes(blob)
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers


def _decode_reals(name: str, count: int, values: Iterator[Any], _: Convert) -> Column:
    # As the array: a float made when read, not a million kept (32 bytes each, 8 here).
    return _numbers("d", name, count, next(values))


def _decode_reals_or_null(name: str, count: int, values: Iterator[Any], _: Convert) -> Column:
    return [None if v != v else v for v in _numbers("d", name, count, next(values))]


def _decode_ints(name: str, count: int, values: Iterator[Any], _: Convert) -> Column:
    return _one_each(_numbers("q", name, count, next(values)).tolist())


def _decode_ints_or_null(name: str, count: int, values: Iterator[Any], _: Convert) -> Column:
    return _one_each(_numbers("q", name, count, next(values)).tolist(), INT_NULL)


def _one_each(numbers: list[int], null: int | None = None) -> Sequence[int | None]:
    """``numbers`` with one object for each value (a status repeated from row to row: 32 bytes
    a row else, a million statuses 32 MB), and ``null`` made None."""
    one: dict[int, int | None] = {n: n for n in set(numbers)}
    if null in one:
        one[null] = None
    elif len(one) == len(numbers) or all(_SMALL_INT <= n <= _BIG_SMALL_INT for n in one):
        # All differ (seq): nothing to share. All small (an attempt, a 200, a flag): CPython
        # made each value one object already.
        return numbers
    return [one[n] for n in numbers]


def _decode_texts(name: str, count: int, values: Iterator[Any], convert: Convert) -> Column:
    return _decoded(name, count, values, convert, _STR, "text")


def _decode_texts_or_null(name: str, count: int, values: Iterator[Any], convert: Convert) -> Column:
    return _decoded(name, count, values, convert, _STR_OR_NULL, "text and null")


def _decoded(
    name: str,
    count: int,
    values: Iterator[Any],
    convert: Convert,
    types: frozenset[type],
    held: str,
) -> Column:
    """Each row's value of a text column: its distinct values (each converted once) taken
    at each row's place. A column whose values all differ (ids, bodies) holds its places in
    order, 0, 1, 2...: its distinct values are then its values, taken as they are."""
    text, places = next(values), next(values)
    distinct = json.loads(text) if isinstance(text, str) else None
    if not isinstance(distinct, list) or not 0 < len(distinct) <= count:
        raise ValueError(f"{name} holds no list of its distinct values")
    if not set(map(type, distinct)) <= types:
        raise ValueError(f"{name} holds other values than {held}")
    if isinstance(convert, Codes):
        return cast("Column", _numbered(name, count, convert.of(distinct), places))
    if convert is not None:
        distinct = _converted(convert, distinct)
    if len(distinct) == count and places == _IN_ORDER[: 4 * count]:
        return distinct
    if len(distinct) == 1 and places == _FIRST[: 4 * count]:  # one value (a method, a status)
        return distinct * count
    if not isinstance(places, bytes) or len(places) != 4 * count:
        raise ValueError(f"{name} holds no {count} numbers")
    import numpy as np  # here: a journal written is never read back as columns

    try:
        # Taken by numpy at each place (little-endian on any machine): half the time of a
        # comprehension over the places, the same objects.
        kept = np.fromiter(distinct, dtype=object, count=len(distinct))
        taken: list[Any] = kept[np.frombuffer(places, dtype="<u4")].tolist()
    except IndexError:
        raise ValueError(f"{name} names a value it does not hold") from None
    return taken


def _numbered(
    name: str, count: int, numbers: npt.NDArray[np.int64], places: Any
) -> npt.NDArray[np.int64]:
    """A chunk's column of numbers (``Codes``): its distinct values' ``numbers`` taken at
    each row's place."""
    import numpy as np

    if not isinstance(places, bytes) or len(places) != 4 * count:
        raise ValueError(f"{name} holds no {count} numbers")
    try:
        taken: npt.NDArray[np.int64] = numbers[np.frombuffer(places, dtype="<u4")]
    except IndexError:
        raise ValueError(f"{name} names a value it does not hold") from None
    return taken


def _decode_json(name: str, count: int, values: Iterator[Any], _: Convert) -> Column:
    """The JSON texts cut out of their array where each ends. Only the array's bounds are
    checked here: a value cut out wrong (the ends of another program's chunk) is no JSON, and
    is refused as a damaged journal when it is decoded (``TextEvent``, ``LazyHeaders``); a
    check of each end cost a chunk of effects a third of its reading."""
    text = next(values)
    ends = _numbers("q", name, count, next(values)).tolist()
    if not (
        isinstance(text, str)
        and text[:1] == "["
        and text[-1:] == "]"
        and 0 < ends[0]
        and ends[-1] == len(text) - 1
    ):
        raise ValueError(f"{name} holds no {count} JSON values where it says they end")
    if len(text) == 3 * count + 1 and text == _EMPTY_OBJECTS[: 3 * count] + "]":
        if ends == list(range(3, 3 * count + 1, 3)):  # a run's events' headers, mostly
            return [_EMPTY_OBJECT] * count
    return [text[start + 1 : end] for start, end in zip([0, *ends], ends, strict=False)]


_ENCODE = {
    "real": _reals,
    "real?": _reals_or_null,
    "int": _ints,
    "int?": _ints_or_null,
    "text": _texts,
    "text?": _texts_or_null,
    "json": _json,
}
_DECODE = {
    "real": _decode_reals,
    "real?": _decode_reals_or_null,
    "int": _decode_ints,
    "int?": _decode_ints_or_null,
    "text": _decode_texts,
    "text?": _decode_texts_or_null,
    "json": _decode_json,
}
# The places of a text column's values when all differ, as a chunk of up to 65,536 rows holds them;
# and when all are one value.
_IN_ORDER = _packed(array(_CODE, range(65_536)))
_FIRST = bytes(len(_IN_ORDER))
# A JSON column whose values are all ``{}`` (no headers), cut out as one object.
_EMPTY_OBJECT = "{}"
_EMPTY_OBJECTS = "[" + "{}," * 65_536
# The ints CPython keeps one object of each (``_one_each``).
_SMALL_INT, _BIG_SMALL_INT = -5, 256
