"""The model's frozen objects built at a fraction of their ``__init__``'s cost: what
``history.load()`` makes a million of from a journal's rows, and a schedule a Slot per delivery.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (its own
``__setattr__`` refuses): for the ten fields of a Delivery that is most of the time it takes to
make one, and most of ``load()``'s. ``builder(cls)`` returns a function taking the same
fields, all of them, in order, that fills a twin class with the very same slots by plain
attribute stores, then gives the object its real class. What comes out is an instance of
``cls`` like any other (equal, hashed, printed, replaced and frozen as ``cls(...)`` would be);
no ``__post_init__`` or default runs, so a class with either cannot be built this way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def builder(cls: type[T], made: type[T] | None = None) -> Callable[..., T]:
    """``make(*every_field_in_order)`` -> an instance of the frozen slotted dataclass ``cls``,
    or of ``made``, a subclass of it that adds no slot (``core._text_effect``)."""
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    if (
        getattr(cls, "__slots__", None) != names
        or hasattr(cls, "__post_init__")
        or any(n.startswith("_") for n in names)
    ):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    if made is not None and not (issubclass(made, cls) and made.__dict__.get("__slots__") == ()):
        raise TypeError(f"{made.__name__} is not a subclass of {cls.__name__} adding no slot")
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": names})
    # Fields are parameters; the function's own names start with _ where no field's can.
    stores = "".join(f"    _x.{n} = {n}\n" for n in names)
    source = (
        f"def make({', '.join(names)}):\n    _x = _new(_twin)\n{stores}"
        "    _x.__class__ = _cls\n    return _x\n"
    )
    scope: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": made or cls}
    exec(source, scope)  # as dataclasses writes __init__: one plain function per class
    make: Callable[..., T] = scope["make"]
    return make
