"""The values of a scenario file: durations, names, JSONPaths, HTTP parts, invariants.

Each is an ``Annotated`` type whose validator says what is allowed when a value is not.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, PlainValidator

from ..core import _paths
from ..core._errors import InputError, ScenarioError
from ..core._scenario import InvariantSpec
from ..core._secret_env import ENV_NAME as SECRET_ENV_NAME
from ..core._secret_env import shape
from ..double._routes import METHODS, compile_path, split_route
from ..drive._recorded import HEADER_NAME as _HEADER_NAME
from ..drive._recorded import MAX_HEADER_CHARS as MAX_HEADER_VALUE
from ..invariants import INVARIANTS
from ._errors import hint, invalid, invalid_mapping

INVARIANT_NAMES = tuple(INVARIANTS)  # in the registry's order

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)")
# Decimal, rounded to a float once: "700ms" is 0.7 s, not 700 * 0.001 = 0.7000000000000001 s
# (which the journal kept and a reproduce line printed).
_UNIT_SECONDS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
DURATION_FORMS = 'seconds as a number, or a string like "500ms", "3s", "4m", "2h"'


def parse_duration(value: object) -> float | None:
    """Seconds in ``value``: a number, or a string "500ms" / "3s" / "4m" / "2h"; else None."""
    seconds: float
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value.strip())):
        seconds = float(Decimal(m[1]) * _UNIT_SECONDS[m[2]])
    else:
        return None
    return seconds if math.isfinite(seconds) else None


def _duration(value: object) -> float:
    seconds = parse_duration(value)
    if seconds is None or seconds < 0:
        raise invalid(f"must be a duration: {DURATION_FORMS}")
    return seconds


_MAX_SKEW = 7 * 86400.0
SIGNED_DURATION_FORMS = (
    'seconds as a number, or a string like "90s", "-2m", "1h" ("-": behind), at most 7 days '
    "either way"
)


def _signed_duration(value: object) -> float:
    """A duration that may be negative (``-2m``): a clock behind."""
    behind = isinstance(value, str) and value.strip().startswith("-")
    seconds = parse_duration(value.strip()[1:] if behind and isinstance(value, str) else value)
    if seconds is None or (behind and seconds < 0) or abs(seconds) > _MAX_SKEW:
        raise invalid(f"must be {SIGNED_DURATION_FORMS}")
    return -seconds if behind else seconds


def _positive_duration(value: object) -> float:
    seconds = _duration(value)
    if seconds == 0:
        raise invalid(f"must be a duration greater than 0: {DURATION_FORMS}")
    return seconds


def _json_path(value: str) -> str:
    try:
        steps = _paths.parse(value)
    except InputError:
        steps = ()
    if not steps or not value.startswith("$."):
        raise invalid(
            "must be a JSONPath like '$.data.order_id': '$.' then names, [0] or ['name'] steps"
        )
    return value


def _records_path(value: str) -> str:
    return value if value == "$" else _json_path(value)


def _observer_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("must be an http:// URL with a host, like http://127.0.0.1:8000/state")
    return value


def _forward_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("must be an http:// URL with a host, like http://127.0.0.1:12111")
    if parts.query or parts.fragment:
        raise invalid("must be a base URL without ?query or #fragment: each call's path is added")
    return value


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise invalid("must be a name of letters, digits, '.', '_' and '-' (no spaces)")
    return value


def _env_name(value: str) -> str:
    """The name of a variable holding a secret: upper case (``core._secret_env``), and a value
    that is none, maybe the secret pasted in by mistake, is told by its shape alone."""
    if not SECRET_ENV_NAME.fullmatch(value):
        raise invalid_mapping(
            f"{shape(value)} is not an environment variable name — give the NAME of the "
            "variable that holds the secret, in upper case like HARNESS_SECRET, and export "
            "the secret in it; never the secret itself"
        )
    return value


def _header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value):
        raise invalid("must be an HTTP header name, like X-Signature (no spaces or ':')")
    return value


def _method(value: str) -> str:
    if value.upper() not in METHODS:
        raise invalid(f"must be an HTTP method, one of: {', '.join(METHODS)}")
    return value.upper()


def _route_path(value: str) -> str:
    if not value.startswith("/"):
        raise invalid("must be a URL path starting with '/', like /contacts/{id} or /api/*")
    try:
        compile_path(value, where="")
    except ScenarioError as exc:
        raise invalid(str(exc).splitlines()[0]) from None
    return value


def _header_value(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise invalid("must be one line: no carriage return, line feed or NUL in a header value")
    if len(value) > MAX_HEADER_VALUE:
        raise invalid(f"must be at most {MAX_HEADER_VALUE:,} characters")
    return value


def _fault_route(value: str) -> str:
    route = split_route(value)
    if route is None:
        raise invalid("must be a method and a path, like 'POST /payouts' or '* /contacts/*'")
    return " ".join(route)


MERGE_METHODS = ("PATCH", "POST", "PUT")


def _merge_route(value: str) -> str:
    return _repeat_route(
        value,
        "merge into the resource",
        "PATCH /crm/v3/objects/contacts/{id}",
        "PATCH /contacts/{id}",
    )


def _append_route(value: str) -> str:
    example = "PATCH /v1/blocks/{id}/children"
    return _repeat_route(value, "add to the resource each time", example, example)


# The name of a GraphQL field (the spec's Name), which a POST route may add: a mutation's.
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def _repeat_route(value: str, what: str, example: str, short: str) -> str:
    """A ``merges:`` or ``appends:`` route: ``what`` its writes do, an ``example`` of one (and
    a ``short`` one, for the path's form); a ``POST`` route may name a GraphQL mutation's field
    after its path (``POST /graphql customerSet``)."""
    parts = value.split()
    field = parts[2] if len(parts) == 3 else ""
    route = split_route(" ".join(parts[:2])) if len(parts) in (2, 3) else None
    if route is None or route[0] not in MERGE_METHODS:
        raise invalid(
            f"must be a PATCH, POST or PUT and a path whose writes {what}, like '{example}' "
            "(a GraphQL mutation's field after a POST's path: 'POST /graphql customerSet')"
        )
    if field and (route[0] != "POST" or not _GRAPHQL_NAME.fullmatch(field)):
        raise invalid(
            f"{field!r} after the path must be the name of a GraphQL mutation's field, after a "
            "POST: like 'POST /graphql customerSet'"
        )
    try:
        compile_path(route[1], where="")
    except ScenarioError:
        raise invalid(
            "must be a method and a path whose segments are literal, a whole '{name}', or a "
            f"trailing '*', like '{short}'"
        ) from None
    return " ".join((*route, field) if field else route)


KEY_METHODS = ("POST", "PUT", "PATCH", "DELETE", "*")


def _key_route(value: str) -> str:
    """An ``idempotency_key:`` route: a write's method (or ``*``) and a path."""
    route = split_route(value.strip())
    if route is None or route[0] not in KEY_METHODS:
        raise invalid(
            "must be POST, PUT, PATCH, DELETE or '*' and a path, like 'POST /v1/charges' or "
            "'POST /slack/*' ('* /*': every write of the downstream)"
        )
    try:
        compile_path(route[1], where="")
    except ScenarioError:
        raise invalid(
            "must be a method and a path whose segments are literal, a whole '{name}', or a "
            "trailing '*', like 'POST /v1/refunds/{id}'"
        ) from None
    return " ".join(route)


def _expected_request(value: str) -> str:
    route = split_route(value)
    if route is None or route[0] == "*":
        raise invalid(
            "must be an HTTP method and a path, like 'POST /deals' or 'PUT /contacts/{id}'"
        )
    try:
        compile_path(route[1], where="")
    except ScenarioError:
        raise invalid(
            "must be a method and a path whose segments are literal, a whole '{name}', or a "
            "trailing '*', like 'PUT /contacts/{id}'"
        ) from None
    return " ".join(route)


def _invariant(item: object) -> InvariantSpec:
    """``name`` or ``{name: {param: value}}`` as an InvariantSpec."""
    params: object = {}
    if isinstance(item, dict) and len(item) == 1:
        ((name, params),) = item.items()
        params = {} if params is None else params
    elif isinstance(item, str):
        name = item
    else:
        raise invalid(
            "must be an invariant name, or one name mapped to its parameters, "
            "like 'ack_within: {seconds: 2}'"
        )
    if name not in INVARIANT_NAMES:
        raise invalid(
            f"must name an invariant, one of: {', '.join(INVARIANT_NAMES)}"
            f"{hint(name, INVARIANT_NAMES)}"
        )
    if not isinstance(params, dict):
        raise invalid(f"must map {name!r} to a mapping of its parameters, like {{seconds: 2}}")
    return InvariantSpec(name, params)


def _calendar_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid("must be a calendar date like '2028-03-26' (quoted)") from None
    if len(value) != 10:
        raise invalid("must be a calendar date like '2028-03-26' (quoted), without a time")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise invalid(
            "must be an IANA time zone like Europe/Berlin, America/New_York or UTC"
        ) from None
    return value


Duration = Annotated[float, BeforeValidator(_duration)]
PositiveDuration = Annotated[float, BeforeValidator(_positive_duration)]
SignedDuration = Annotated[float, BeforeValidator(_signed_duration)]
JsonPath = Annotated[str, AfterValidator(_json_path)]
Name = Annotated[str, AfterValidator(_name)]
EnvName = Annotated[str, AfterValidator(_env_name)]
HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]
Method = Annotated[str, AfterValidator(_method)]
RoutePath = Annotated[str, AfterValidator(_route_path)]
FaultRoute = Annotated[str, AfterValidator(_fault_route)]
ExpectedRoute = Annotated[str, AfterValidator(_expected_request)]
MergeRoute = Annotated[str, AfterValidator(_merge_route)]
AppendRoute = Annotated[str, AfterValidator(_append_route)]
KeyRoute = Annotated[str, AfterValidator(_key_route)]
RecordsPath = Annotated[str, AfterValidator(_records_path)]
ObserverUrl = Annotated[str, AfterValidator(_observer_url)]
ForwardUrl = Annotated[str, AfterValidator(_forward_url)]
Invariant = Annotated[InvariantSpec, PlainValidator(_invariant)]
CalendarDate = Annotated[str, AfterValidator(_calendar_date)]  # ISO, as a string: YAML's dates
TimeZone = Annotated[str, AfterValidator(_time_zone)]
