"""Routes: path patterns and ``METHOD /path`` routes, shared by the double's stub routes, its
fault windows, the scenario loader and drift_is_loud's alert route."""

from __future__ import annotations

import re

from ..core._errors import ScenarioError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_PARAM_SEGMENT = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_PATH_HINT = "write it like '/v1/contacts', '/v1/contacts/{id}' or '/v1/*' ('*' only at the end)"


def compile_path(path: str, *, where: str) -> re.Pattern[str]:
    """``{name}`` matches one segment; a trailing ``*`` matches any rest, ``/*`` none too."""
    if path == "*":
        return re.compile(r".*", re.DOTALL)
    if not path.startswith("/"):
        raise ScenarioError(
            f"route path {path!r} does not start with '/'", where=where, hint=_PATH_HINT
        )
    prefix, any_rest = (path[:-1], True) if path.endswith("*") else (path, False)
    parts = []
    for segment in prefix.split("/"):
        if _PARAM_SEGMENT.fullmatch(segment):
            parts.append("[^/]+")
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


RouteMatcher = tuple[str, re.Pattern[str]]  # (method in upper case or "*", path pattern)


def split_route(route: str) -> tuple[str, str] | None:
    """``"post /payouts"`` -> ("POST", "/payouts"); None unless it is a method (or ``*``), one
    space and a path starting with '/'."""
    method, _, path = route.partition(" ")
    method = method.upper()
    if method not in (*METHODS, "*") or not path.startswith("/"):
        return None
    return method, path


def compile_route(route: str, *, where: str) -> RouteMatcher:
    """A route like ``POST /payouts`` or ``* /contacts/*`` ready to match requests; raises
    ScenarioError (at ``where``) for a path ``compile_path`` refuses."""
    method, _, path = route.partition(" ")
    return method.upper(), compile_path(path, where=where)


def route_matches(route: RouteMatcher, method: str, path: str) -> bool:
    """Does a request (``path`` may carry a query string) go where ``route`` names?"""
    want, pattern = route
    return want in ("*", method.upper()) and pattern.fullmatch(path.split("?", 1)[0]) is not None
