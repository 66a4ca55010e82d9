"""What a run's rows held as columns share as a sequence of model objects: iterated, compared
and shown as the list of all of them, each made once (``_deliveries``, ``_effects``)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import TypeVar

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
