"""A downstream's answers changing shape on dates (``DownstreamSpec.shape_changes``).

From a change's ``at`` (scenario seconds, on the run's clock ``at`` times the time scale) the JSON
answers of the double to its ``route`` (every route when None) have the members named in
``rename`` renamed, at any depth (inside a list answer's records, inside a page's ``data``):
an API version that renames ``amount`` to ``amount_cents`` on a date. Changes accumulate:
a later change applies on top of an earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..core._model import JSON
from ..core._scenario import ShapeChange
from ._routes import RouteMatcher, compile_route, route_matches


class Shapes:
    """The shape changes of one double, asked answer by answer."""

    def __init__(self, changes: Sequence[ShapeChange], scale: float, where: str) -> None:
        self._changes: list[tuple[float, RouteMatcher | None, Mapping[str, str]]] = [
            (
                c.at * scale,
                None
                if c.route is None
                else compile_route(c.route, where=f"{where}: shape_changes[{i}].route"),
                c.rename,
            )
            for i, c in enumerate(changes)
        ]
        self._changes.sort(key=lambda c: c[0])

    def apply(self, method: str, path: str, at: float, body: JSON) -> JSON:
        """``body`` as the API answers it at ``at``: renamed by every change begun by then."""
        for start, route, rename in self._changes:
            if start > at:
                break
            if route is None or route_matches(route, method, path):
                body = _renamed(body, rename)
        return body


def _renamed(value: JSON, rename: Mapping[str, str]) -> JSON:
    if isinstance(value, dict):
        return {rename.get(k, k): _renamed(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, rename) for v in value]
    return value
