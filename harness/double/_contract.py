"""A downstream's contract: the real API's OpenAPI document, compiled once, checking each request.

The double asks ``Contract.check`` about every request it answers outside a fault window: is
there such a path, does it take that method, are the required query parameters there, is the
JSON body what the operation's request schema says (types, required fields, formats)? An
invalid request gets the 4xx the real API would give, naming the schema error; a valid one the
operation's first 2xx answer, with a body drawn once from its response schema (Schemathesis,
seeded) when it has one. A form body (``application/x-www-form-urlencoded``) is checked as
the real API would read it: refused where the operation takes only JSON; where its content
types list a form, only for being there (every form value is text, so a schema's types would
refuse what the API accepts).

Validators are built once per operation when the contract is made (``jsonschema``, the JSON
Schema 2020-12 dialect of OpenAPI 3.1, ``$ref``s resolved inside the document through a
``referencing`` registry); a check is a dictionary look-up, a regular expression and one
validation. Problems are worded from the schema (field names, expected types, formats), never
from the request's values, which may be personal data.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ..core._form import is_form
from ..core._model import JSON
from ..core._scenario import ContractSpec
from ..drive._refs import Pointer, RefProblem, check_refs, follow, inline
from ..drive._schema_events import SchemaProblem, draw_instances

_log = logging.getLogger("harness.downstream")

CONTRACT_MARK = "contract"
"""The Mark a double with a contract leaves when it starts (detail: JSON ``{"downstream",
"document"}``): the run's effects on that downstream were checked."""
CONTRACT_VIOLATION_MARK = "contract-violation"
"""The Mark of a request its downstream's contract refused (detail: JSON ``{"effect",
"downstream", "operation", "problems"}``)."""

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BASE_URI = "urn:harness:contract"
_PROBLEMS_KEPT = 3


class ContractProblem(Exception):
    """The document is not a usable OpenAPI document: ``at`` is where in it."""

    def __init__(self, at: Pointer, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


@dataclass(frozen=True, slots=True)
class Checked:
    """What the contract says of one request: ``problems`` (empty: valid), the status to
    answer, and the body (None: the double's usual answer for a valid request without a
    response schema; an error object for an invalid one)."""

    operation: str
    problems: tuple[str, ...]
    status: int | None = None
    body: JSON = None


@dataclass(slots=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    pointer: Pointer
    required_query: tuple[str, ...]
    body_required: bool
    body: Any  # a jsonschema validator, or None when the operation declares no JSON body
    status: int  # its first 2xx answer
    response_at: Pointer | None  # where that answer's JSON schema is, if it has one
    response: JSON = None
    drawn: bool = False
    takes_form: bool = False  # its request content types include a form


class Contract:
    """The document's operations by path template and method, validators built."""

    def __init__(self, spec: ContractSpec, seed: int = 0) -> None:
        document = spec.document
        if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
            found = document.get("openapi") if isinstance(document, dict) else None
            raise ContractProblem(
                ("openapi",) if found is not None else (),
                f"not an OpenAPI 3 document (openapi: {found!r}) — a contract is the API's "
                "OpenAPI 3.0 or 3.1 document, with `openapi: 3.1.0` and `paths:`",
            )
        paths = document.get("paths")
        if not isinstance(paths, dict) or not paths:
            raise ContractProblem(
                ("paths",) if "paths" in document else (),
                "the document has no paths — a contract names the API's operations under paths",
            )
        try:
            check_refs(document)
        except RefProblem as exc:
            raise ContractProblem(exc.at, exc.message) from None
        self.origin = spec.origin
        self._document = document
        self._seed = seed
        self._prefixes = _server_prefixes(document)
        self._registry = _registry(document)
        self._operations = sorted(
            (op for template, item in paths.items() for op in self._compile(template, item)),
            key=lambda op: (op.template.count("{"), op.template),  # literal paths match first
        )

    def _compile(self, template: str, item: Any) -> list[_Operation]:
        if not isinstance(item, dict):
            raise ContractProblem(("paths", template), f"path {template!r} is not a mapping")
        shared = item.get("parameters") or []
        out = []
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            at: Pointer = ("paths", template, method)
            parameters = [*shared, *(operation.get("parameters") or [])]
            required = tuple(
                str(p.get("name"))
                for p in (self._resolved(p) for p in parameters)
                if p.get("in") == "query" and p.get("required")
            )
            body_required, body = self._body(operation, at)
            status, response_at = self._success(operation, at)
            content = self._resolved(operation.get("requestBody")).get("content") or {}
            out.append(
                _Operation(
                    method.upper(),
                    template,
                    _template_pattern(template),
                    at,
                    required,
                    body_required,
                    body,
                    status,
                    response_at,
                    takes_form=any(is_form(str(kind)) for kind in content),
                )
            )
        return out

    def _resolved(self, value: Any) -> dict[str, Any]:
        """``value``, or what its ``$ref`` names (parameters, request bodies, responses)."""
        _, found = follow(self._document, value, ())
        return found if isinstance(found, dict) else {}

    def _body(self, operation: dict[str, Any], at: Pointer) -> tuple[bool, Any]:
        request = operation.get("requestBody")
        if request is None:
            return False, None
        resolved = self._resolved(request)
        content = resolved.get("content") or {}
        kind = _json_kind(content)
        if kind is None or not isinstance(content[kind], dict) or "schema" not in content[kind]:
            return bool(resolved.get("required")), None
        where, _ = follow(self._document, request, (*at, "requestBody"))
        return bool(resolved.get("required")), self._validator((*where, "content", kind, "schema"))

    def _success(self, operation: dict[str, Any], at: Pointer) -> tuple[int, Pointer | None]:
        """The operation's first 2xx status and where its JSON schema is (200: none given)."""
        responses = operation.get("responses") or {}
        for code in sorted(str(c) for c in responses):
            if code.isdigit() and code.startswith("2"):
                raw = responses.get(code, responses.get(int(code)))
                resolved = self._resolved(raw)
                content = resolved.get("content") or {}
                kind = _json_kind(content)
                if kind is None or "schema" not in (content.get(kind) or {}):
                    return int(code), None
                where, _ = follow(self._document, raw, (*at, "responses", code))
                return int(code), (*where, "content", kind, "schema")
        return 200, None

    def _validator(self, at: Pointer) -> Any:
        from jsonschema import Draft202012Validator

        ref = _BASE_URI + "#/" + "/".join(_escape(p) for p in at)
        return Draft202012Validator(
            {"$ref": ref}, registry=self._registry, format_checker=_format_checker()
        )

    def check(self, method: str, target: str, body: str, *, form: bool = False) -> Checked:
        """What the contract says of ``method`` ``target`` (path and query) with ``body``
        (``form``: form-encoded, by its Content-Type)."""
        split = urlsplit(target)
        path = split.path
        candidates = [path[len(p) :] for p in self._prefixes if path.startswith(p)] or [path]
        found = [op for op in self._operations if any(op.pattern.fullmatch(c) for c in candidates)]
        if not found:
            known = ", ".join(sorted({op.template for op in self._operations})[:10])
            return _refused(f"{method} {path}", 404, f"no path {path} in the API (it has {known})")
        operation = next((op for op in found if op.method == method), None)
        if operation is None:
            allowed = ", ".join(op.method for op in found)
            return _refused(
                f"{method} {found[0].template}",
                405,
                f"{found[0].template} takes no {method} (it takes {allowed})",
            )
        name = f"{method} {operation.template}"
        query = parse_qs(split.query, keep_blank_values=True)
        missing = [q for q in operation.required_query if q not in query]
        problems = [f"required query parameter {q!r} is missing" for q in missing]
        problems.extend(_body_problems(operation, body, form))
        if problems:
            return _refused(name, 400 if missing else 422, *problems[:_PROBLEMS_KEPT])
        return Checked(name, (), operation.status, self._response(operation))

    def _response(self, operation: _Operation) -> JSON:
        """The operation's answer body, drawn from its response schema on first use."""
        if not operation.drawn:
            operation.drawn = True
            if operation.response_at is not None:
                operation.response = self._draw(operation.response_at)
        return operation.response

    def _draw(self, at: Pointer) -> JSON:
        node: Any = self._document
        for part in at:
            node = node[part]
        try:
            return draw_instances(inline(self._document, node, at), 1, self._seed)[0]
        except (RefProblem, SchemaProblem) as exc:
            _log.warning("no answer body drawn from %s for %s: %s", self.origin, at, exc)
            return None


def _refused(operation: str, status: int, *problems: str) -> Checked:
    return Checked(operation, problems, status, {"error": "; ".join(problems)})


def _body_problems(operation: _Operation, body: str, form: bool) -> list[str]:
    if not body.strip():
        return ["the request has no body; the operation requires one"] * operation.body_required
    if form and operation.takes_form:
        return []
    if operation.body is None:
        return []
    if form:
        return ["the request body is a form; the operation takes a JSON body"]
    try:
        value = json.loads(body)
    except ValueError:
        return ["the request body is not JSON; the operation takes a JSON body"]
    errors = sorted(operation.body.iter_errors(value), key=lambda e: list(e.absolute_path))
    return [_described(e) for e in errors]


def _described(error: Any) -> str:
    """A schema error in words taken from the schema, never from the request's values."""
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    kind, wanted = error.validator, error.validator_value
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [n for n in wanted if n not in present]
        return f"{where}: required field {', '.join(map(repr, missing))} is missing"
    if kind == "type":
        return (
            f"{where}: must be of type {wanted if isinstance(wanted, str) else ' or '.join(wanted)}"
        )
    if kind == "format":
        return f"{where}: must be a valid {wanted}"
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties") or {})
        extra = [n for n in error.instance if n not in known]
        return f"{where}: field {', '.join(map(repr, extra))} is not allowed"
    shown = json.dumps(wanted)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{where}: fails {kind} {shown}"


def _escape(part: str | int) -> str:
    return quote(str(part).replace("~", "~0").replace("/", "~1"), safe="")


def _json_kind(content: dict[str, Any]) -> str | None:
    """The JSON media type among an operation's content types (application/json, +json)."""
    for kind in content:
        base = kind.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return str(kind)
    return None


def _template_pattern(template: str) -> re.Pattern[str]:
    """``/contacts/{id}`` -> a pattern matching ``/contacts/42`` (one segment a parameter)."""
    regex = re.sub(r"\\\{[^/{}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(regex)


def _server_prefixes(document: dict[str, Any]) -> list[str]:
    """The path parts of the document's server URLs (``/v1``), longest first: the target may
    call the double with them."""
    found = {
        urlsplit(str(s.get("url", ""))).path.rstrip("/")
        for s in document.get("servers") or []
        if isinstance(s, dict)
    }
    return sorted((p for p in found if p.startswith("/")), key=len, reverse=True)


def _registry(document: dict[str, Any]) -> Any:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resource(_BASE_URI, DRAFT202012.create_resource(document))


def _format_checker() -> Any:
    """jsonschema's format checks, with ``date-time`` checked even where the optional package
    it uses is not installed (RFC 3339: a date, ``T``, a time and an offset)."""
    from jsonschema import Draft202012Validator, FormatChecker

    checker: FormatChecker = Draft202012Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        checker = FormatChecker(list(checker.checkers))
        checker.checks("date-time", raises=ValueError)(_date_time)
    return checker


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        return False
    parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return parsed.tzinfo is not None
