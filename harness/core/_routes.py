"""Route paths: ``/v1/contacts/{id}`` and ``/v1/*`` templates, and ``METHOD /path`` routes.

The grammar every stage shares: the double's stub routes and fault windows, the scenario
loader, drift_is_loud's alert route and the correlation rules, which read a path parameter
(``{session}``) out of a request's path.
"""

from __future__ import annotations

import re

from ._errors import ScenarioError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_PARAM_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PATH_HINT = "write it like '/v1/contacts', '/v1/contacts/{id}' or '/v1/*' ('*' only at the end)"


def compile_path(path: str, *, where: str) -> re.Pattern[str]:
    """``{name}`` matches one segment; a trailing ``*`` matches any rest, ``/*`` none too.

    The first ``{name}`` of each name is a named group of the pattern (``match["name"]``)."""
    if path == "*":
        return re.compile(r".*", re.DOTALL)
    if not path.startswith("/"):
        raise ScenarioError(
            f"route path {path!r} does not start with '/'", where=where, hint=_PATH_HINT
        )
    prefix, any_rest = (path[:-1], True) if path.endswith("*") else (path, False)
    parts = []
    named: set[str] = set()
    for segment in prefix.split("/"):
        param = _PARAM_SEGMENT.fullmatch(segment)
        if param:
            # A name repeated in one template (legal, if odd) cannot name two groups.
            name = param[1]
            parts.append("[^/]+" if name in named else f"(?P<{name}>[^/]+)")
            named.add(name)
        elif any(c in segment for c in "*{}"):
            raise ScenarioError(
                f"route path {path!r} has a segment {segment!r} that is neither literal, "
                "a whole '{name}' nor a trailing '*'",
                where=where,
                hint=_PATH_HINT,
            )
        else:
            parts.append(re.escape(segment))
    regex = "/".join(parts)
    if any_rest:
        # "/v1/contacts/*" covers the collection itself as well as everything under it.
        regex = regex[:-1] + "(?:/.*)?" if prefix.endswith("/") else regex + ".*"
    return re.compile(regex, re.DOTALL)


def path_params(path: str) -> tuple[str, ...]:
    """The ``{name}`` parameters of a route path, in order: ``/a/{x}/b/{y}`` -> (x, y)."""
    return tuple(m[1] for s in path.split("/") if (m := _PARAM_SEGMENT.fullmatch(s)))


def split_route(route: str) -> tuple[str, str] | None:
    """``"post /payouts"`` -> ("POST", "/payouts"); None unless it is a method (or ``*``), one
    space and a path starting with '/'."""
    method, _, path = route.partition(" ")
    method = method.upper()
    if method not in (*METHODS, "*") or not path.startswith("/"):
        return None
    return method, path
