"""Form-encoded request bodies (``application/x-www-form-urlencoded``) read as JSON objects.

Stripe's API (and Twilio's, Mailgun's, OAuth token endpoints) takes form bodies; Stripe's
client libraries write nested fields in bracket notation, as stripe-python's ``_api_encode``
does: an object's member as ``name[member]=…`` (``metadata[order_id]=ord_1``), a list's items
as ``name[0]=…``, ``name[1]=…`` (``items[0][price]=p``), and ``name[]=…`` appends an item
(``expand[]=a&expand[]=b``, as older clients and hand-written calls send). A body reads as
the object a JSON body of the same fields gives, but every value is text: a form has no
numbers, booleans or null (``amount=2000`` reads ``{"amount": "2000"}``, ``true`` stays
``"true"``). Names under one parent that are all list indexes make a list, in index order.

A body whose names contradict one another (``a=1&a[b]=2``: a field both a value and an
object; a name with an unclosed bracket) is no form an API reads: FormError says which name.
A repeated plain name keeps its last value, as Rack-style parsers do.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from ._model import JSON

FORM_TYPE = "application/x-www-form-urlencoded"

# ``name`` then any number of ``[part]`` (a part may be empty: ``[]`` appends).
_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A form body whose names do not make one object; the message says which name."""


def is_form(content_type: str | None) -> bool:
    """Whether a Content-Type header names a form body (parameters such as charset aside)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == FORM_TYPE


def parse_form(text: str) -> dict[str, JSON]:
    """The object a form body writes, its values text. Raises FormError."""
    # A node under construction: a dict by name; a list's items are gathered by index first.
    root: dict[str, object] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        found = _NAME.fullmatch(name)
        if found is None:
            raise FormError(f"the field name {name!r} is not a name with [bracketed] parts")
        steps = [found[1], *_PART.findall(found[2])]
        _put(root, steps, value, name)
    built = _built(root)
    assert isinstance(built, dict)  # the root holds names, never list indexes only
    return built


class _Items:
    """A list's items while the body is read: by index (``[0]``), then appended (``[]``)."""

    __slots__ = ("appended", "indexed")

    def __init__(self) -> None:
        self.indexed: dict[int, object] = {}
        self.appended: list[object] = []


def _put(node: dict[str, object], steps: list[str], value: str, name: str) -> None:
    head, rest = steps[0], steps[1:]
    if not rest:
        if isinstance(node.get(head), dict | _Items):
            raise _clash(name)
        node[head] = value
        return
    following = rest[0]
    listed = following == "" or following.isdigit()
    child = node.get(head)
    if child is None:
        child = node[head] = _Items() if listed else {}
    if isinstance(child, str):
        raise _clash(name)
    if isinstance(child, _Items) and not listed:
        # Names under one parent that are not all indexes: an object after all (``a[0]`` and
        # ``a[x]``), its members named by their text.
        if child.appended:
            raise _clash(name)
        child = node[head] = {str(i): v for i, v in child.indexed.items()}
    if isinstance(child, dict):
        if following == "":
            raise _clash(name)
        _put(child, rest, value, name)
        return
    assert isinstance(child, _Items)
    if following == "":
        if len(rest) == 1:
            child.appended.append(value)
            return
        holder: dict[str, object] = {}
        _put(holder, ["item", *rest[1:]], value, name)
        child.appended.append(holder["item"])
        return
    index = int(following)
    if len(rest) == 1:
        if isinstance(child.indexed.get(index), dict | _Items):
            raise _clash(name)
        child.indexed[index] = value
        return
    inner = child.indexed.get(index)
    if inner is None:
        inner = child.indexed[index] = {}
    if not isinstance(inner, dict):
        raise _clash(name)
    _put(inner, rest[1:], value, name)


def _built(node: object) -> JSON:
    if isinstance(node, str):
        return node
    if isinstance(node, _Items):
        items = [node.indexed[i] for i in sorted(node.indexed)] + node.appended
        return [_built(item) for item in items]
    assert isinstance(node, dict)
    return {name: _built(child) for name, child in node.items()}


def _clash(name: str) -> FormError:
    return FormError(
        f"the field {name!r} is given both as a value and as an object or list of fields, "
        "or as both a list and an object"
    )
