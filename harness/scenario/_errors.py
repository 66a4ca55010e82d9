"""How a scenario file's problems are told: pydantic's errors as ``file:line`` messages.

Each message reads ``field.path: <value> is not allowed — <what is allowed>``. What is allowed
comes, in order of preference, from the error a validator raised (``invalid``), the field's
description, the ``expected`` text of the document model, or pydantic's own message.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

from ._lines import Loc, Problem, YamlText, at

# The error types of ``invalid`` and ``invalid_mapping``, which ``_problem`` tells apart.
_VALUE = "harness"
_MAPPING = "harness_mapping"


class Doc(BaseModel):
    """One mapping of a scenario file: unknown keys and loosely typed values are errors.

    Its messages quote ``expected`` and each field's description, so every field needs one.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    expected: ClassVar[str] = "a mapping"


def invalid(requirement: str) -> PydanticCustomError:
    """A value error; ``requirement`` says what is allowed ("must be ...")."""
    return PydanticCustomError(_VALUE, requirement)


def invalid_mapping(message: str) -> PydanticCustomError:
    """An error about a whole mapping, whose value is too big to show."""
    return PydanticCustomError(_MAPPING, message)


def hint(word: object, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or nothing."""
    close = difflib.get_close_matches(str(word), choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


_D = TypeVar("_D", bound=Doc)


def validate(doc: type[_D], text: YamlText) -> _D:
    """``text`` validated as ``doc``. Raises ScenarioError listing every problem by line."""
    try:
        return doc.model_validate(text.data)
    except ValidationError as exc:
        text.fail([_problem(doc, e) for e in exc.errors()])


def _problem(root: type[Doc], error: ErrorDetails) -> Problem:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], loc[-1]
        target, _ = _resolve(root, parent)
        allowed = (
            list(_keys(target)) if isinstance(target, type) and issubclass(target, Doc) else []
        )
        return Problem(
            loc,
            f"{at(parent)}unknown field {key!r} — allowed: {', '.join(allowed)}"
            f"{hint(key, allowed)}",
        )
    if kind == "missing":
        return Problem(
            loc,
            f"{at(loc[:-1])}missing required field {loc[-1]!r} — {_requirement(root, loc, error)}",
        )
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad key of a mapping
        loc = loc[:-1]
        return Problem(
            loc, f"{at(loc[:-1])}key {_show(error['input'])} is not allowed — {error['msg']}"
        )
    if kind == _MAPPING:
        return Problem(loc, f"{at(loc)}{error['msg']}")
    requirement = error["msg"] if kind == _VALUE else _requirement(root, loc, error)
    return Problem(loc, f"{at(loc)}{_show(error['input'])} is not allowed — {requirement}")


def _requirement(root: type[Doc], loc: Loc, error: ErrorDetails) -> str:
    target, info = _resolve(root, loc)
    if info is not None and info.description:
        text = f"must be {info.description}"
    elif isinstance(target, type) and issubclass(target, Doc):
        text = f"must be {target.expected}"
    else:
        text = error["msg"].replace("Input should be", "must be", 1)
    if error["type"] == "string_type" and isinstance(error["input"], int | float):
        text += f" (quote it: '{error['input']}')"
    if typing.get_origin(target) is Literal and isinstance(error["input"], str):
        text += hint(error["input"], [str(a) for a in typing.get_args(target)])
    return text


def _keys(doc: type[Doc]) -> dict[str, FieldInfo]:
    """A document's fields by the key that names them in the file (an alias like ``for``)."""
    return {info.alias or name: info for name, info in doc.model_fields.items()}


def _resolve(root: type[Doc], loc: Loc) -> tuple[Any, FieldInfo | None]:
    """The type at ``loc`` of a document, and the field it belongs to (None for list items)."""
    target: Any = root
    info: FieldInfo | None = None
    for part in loc:
        target = _strip(target)
        origin = typing.get_origin(target)
        if isinstance(target, type) and issubclass(target, Doc) and part in _keys(target):
            info = _keys(target)[str(part)]
            target = info.annotation
        elif origin is list and isinstance(part, int):
            (target,) = typing.get_args(target)
            info = None
        elif origin is dict:
            target = typing.get_args(target)[1]
            info = None
        else:
            return None, None
    return _strip(target), info


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
            annotation = args[0] if args[1] is type(None) else args[1]
        else:
            return annotation


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
