"""Route path patterns, shared by the double's stub routes and its fault windows."""

from __future__ import annotations

import re

from ._errors import ScenarioError

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
