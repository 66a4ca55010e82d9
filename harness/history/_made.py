"""What a run's rows held as columns share as a sequence of model objects: iterated, compared
and shown as the list of all of them, each made once (``_deliveries``, ``_effects``,
``_events``); ``Kept``: one read by its place made once too, the same object when read again."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class Made(Sequence[T]):
    """A read-only sequence of objects made from columns; ``_all()`` makes every one, once."""

    __slots__ = ()

    @abstractmethod
    def _all(self) -> list[T]: ...

    def __iter__(self) -> Iterator[T]:
        return iter(self._all())

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Made):
            other = other._all()
        return self._all() == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._all()!r})"


class Kept(Made[T]):
    """A Made whose objects read one by one are kept (``_some``, by place): read again, the
    same object, and the same in ``_all()`` (invariants compare some by identity)."""

    __slots__ = ()
    _made: list[T] | None
    _some: dict[int, T]

    @abstractmethod
    def _make(self, index: int) -> T:
        """The object at ``index`` (0 <= index < len), made."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if self._made is not None or isinstance(index, slice):
            return self._all()[index]
        found = self._some.get(index)
        if found is None:
            n = len(self)
            if not -n <= index < n:
                raise IndexError(f"{type(self).__name__} index out of range")
            index %= n
            found = self._some.get(index)
            if found is None:
                found = self._some[index] = self._make(index)
        return found

    def _kept(self, made: list[T]) -> list[T]:
        """``made`` (every object, in order) with those read one by one in their places."""
        for i, found in self._some.items():
            made[i] = found
        return made
