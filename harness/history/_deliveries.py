"""A loaded run's deliveries held as the columns its journal's chunks decode to, a Delivery made
only when one is read; and ``delivery_column`` and ``delivery_rows``, fields of any run's
deliveries.

A million Delivery objects are a second of ``load()`` and 110 MB, and judging reads few of them
as objects: what scans them all (accepted events, latencies, unanswered deliveries, answers by
status) reads their columns, and the few it names in evidence are made one by one. Whatever
reads them all as objects (a report's figures) makes each once, and keeps them.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, overload

from ..core._build import builder
from ..core._model import Delivery
from ._made import Made

if TYPE_CHECKING:  # numpy imported where an array is made: not every command makes one
    import numpy as np
    import numpy.typing as npt

FIELDS = tuple(f.name for f in dataclasses.fields(Delivery))
_delivery = builder(Delivery)  # Delivery(...) at a sixth of the cost


class Deliveries(Made[Delivery]):
    """Deliveries as columns: one list per field of Delivery, in its order, all of one length.

    A read-only sequence of Delivery objects, equal to the list of them; ``column(name)`` is
    one field of all of them, as held."""

    __slots__ = ("_columns", "_made")

    def __init__(self, columns: Sequence[Sequence[Any]]) -> None:
        self._columns = dict(zip(FIELDS, columns, strict=True))
        self._made: list[Delivery] | None = None

    def column(self, name: str) -> Sequence[Any]:
        return self._columns[name]

    def __len__(self) -> int:
        return len(self._columns["id"])

    @overload
    def __getitem__(self, index: int) -> Delivery: ...

    @overload
    def __getitem__(self, index: slice) -> list[Delivery]: ...

    def __getitem__(self, index: int | slice) -> Delivery | list[Delivery]:
        if self._made is not None or isinstance(index, slice):
            return self._all()[index]
        return _delivery(*[c[index] for c in self._columns.values()])

    def _all(self) -> list[Delivery]:
        if self._made is None:
            self._made = list(map(_delivery, *self._columns.values()))
        return self._made


def delivery_column(deliveries: Sequence[Delivery], name: str) -> Iterable[Any]:
    """The field ``name`` of each of ``deliveries``, in order: a loaded run's column as it is
    held (a list, or an array of reals), else read from each as it is iterated."""
    if isinstance(deliveries, Deliveries):
        return deliveries.column(name)
    return map(attrgetter(name), deliveries)


def delivery_rows(deliveries: Sequence[Delivery], *names: str) -> Iterator[tuple[Any, ...]]:
    """The fields ``names`` (two or more) of each of ``deliveries``, in order, as a tuple: a
    loaded run's columns zipped, else read from each by one attrgetter; C code either way."""
    if isinstance(deliveries, Deliveries):
        return zip(*map(deliveries.column, names), strict=True)
    fields: Callable[[Delivery], tuple[Any, ...]] = attrgetter(*names)
    return map(fields, deliveries)


def delivery_numbers(deliveries: Sequence[Delivery], name: str) -> npt.NDArray[np.float64]:
    """The numeric field ``name`` (a time, a status) of each of ``deliveries`` as an array of
    reals, None made NaN: a loaded run's array of reals shared as it is held, a list of its
    column or a live run's field converted by numpy's C code."""
    import numpy as np

    found = delivery_column(deliveries, name)
    if isinstance(found, array):
        return np.frombuffer(found, dtype=np.float64)
    return np.array(found if isinstance(found, list) else list(found), dtype=np.float64)
