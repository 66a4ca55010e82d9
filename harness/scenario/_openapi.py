"""OpenAPI documents and JSON Schemas a scenario names: sources generated from a webhook's or a
schema's payload (``source: {openapi: ...}``, ``source: {schema: ...}``), and downstream
contracts (``downstreams[].contract``).

A document is read as JSON (``.json``) or YAML, its dates kept as text. Its problems are told
at its own lines (``crm.openapi.yaml:14: $ref '#/components/schemas/Contakt' leads nowhere``);
the lines are looked up only when there is a problem to tell, so a large document costs one
parse. Problems of the scenario's own fields (an unknown webhook, a path the schema lacks) are
``SourceProblem``s at the scenario's lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..core import _paths
from ..core._errors import ScenarioError
from ..core._model import JSON
from ..core._scenario import ContractSpec, SchemaSource
from ..double._contract import Contract, ContractProblem
from ..drive._refs import Pointer, RefProblem, check_refs, follow, inline, pointer_text
from ..drive._schema_events import SchemaProblem, draw_instances, skeleton, subschema
from ._lines import Loc, dotted
from ._schema import OpenAPISourceDoc, SchemaSourceDoc

_MAX_BYTES = 64 * 1024 * 1024  # Stripe's published document is about 7 MB of JSON


class SourceProblem(Exception):
    """A problem with a field of the scenario file, at ``loc``."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


@dataclass(frozen=True, slots=True)
class Document:
    """A document as read, and its text for finding the line of a problem."""

    path: Path
    data: Any
    text: str

    def fail(self, at: Pointer, message: str, hint: str | None = None) -> ScenarioError:
        return ScenarioError(message, where=f"{self.path}:{self.line(at)}", hint=hint)

    def line(self, at: Pointer) -> int:
        """The line of the value at ``at`` (or of its nearest ancestor there), from 1."""
        try:
            node = yaml.compose(self.text, Loader=_Loader)
        except yaml.YAMLError:
            return 1
        line = 1
        for part in at:
            if isinstance(node, yaml.MappingNode):
                found = [(k, v) for k, v in node.value if k.value == str(part)]
                if not found:
                    break
                key, node = found[0]
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML without its dates: ``2026-01-01`` stays text, as JSON would hold it."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_document(base: Path, name: str, loc: Loc) -> Document:
    """The document ``name`` (relative to ``base``) that the scenario's field at ``loc`` names."""
    path = (base / name).absolute()
    if not path.is_file():
        raise SourceProblem(
            loc,
            f"{dotted(loc)}: {name!r} is not allowed — there is no file {str(path)!r} (paths are "
            "relative to the scenario file)",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ScenarioError(f"cannot read the document ({exc})", where=str(path)) from None
    if len(text) > _MAX_BYTES:
        raise ScenarioError(
            f"the document holds {len(text):,} characters; at most {_MAX_BYTES:,} are read",
            where=str(path),
        )
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ScenarioError(
            f"not valid YAML: {exc.problem or exc.context}", where=f"{path}:{line}"
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML ({exc})", where=str(path)) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"the document holds a {type(data).__name__}, not a mapping",
            where=f"{path}:1",
            hint="name an OpenAPI document or a JSON Schema",
        )
    return Document(path, data, text)


def openapi_source(doc: OpenAPISourceDoc, base: Path) -> SchemaSource:
    """The source of ``source.openapi``: events of the webhook's request body schema."""
    loc: Loc = ("source", "openapi")
    return schema_events(base, (doc.file, (*loc, "file")), doc.webhook, loc, _counts(doc))


def schema_source(doc: SchemaSourceDoc, base: Path) -> SchemaSource:
    """The source of ``source.schema``: events of a JSON Schema file."""
    loc: Loc = ("source", "schema")
    return schema_events(base, (doc.file, (*loc, "file")), None, loc, _counts(doc))


def _counts(doc: OpenAPISourceDoc | SchemaSourceDoc) -> SchemaSource:
    """The source's counts, pace and paths, its schema still to be read."""
    return SchemaSource(
        example={},
        events=doc.events,
        records=doc.records,
        over=doc.over,
        id_path=doc.id,
        key_path=doc.key,
        type_path=doc.type,
        seq_path=doc.sequence,
        time_path=doc.time,
        types=tuple(doc.types),
    )


def schema_events(
    base: Path, named: tuple[str, Loc], webhook: str | None, loc: Loc, shape: SchemaSource
) -> SchemaSource:
    """``shape`` (counts, pace, paths) with the schema of ``webhook`` in the OpenAPI document
    named (relative to ``base``; ``named``: the name and where the file names it), or of that
    JSON Schema when no webhook is named; ``webhook`` and the paths are fields under ``loc``."""
    file, file_loc = named
    document = read_document(base, file, file_loc)
    if webhook is None:
        return _source(shape, document, (), document.data, file, loc)
    _require_openapi(document)
    webhooks = document.data.get("webhooks")
    if not isinstance(webhooks, dict) or webhook not in webhooks:
        known = ", ".join(map(str, webhooks)) if isinstance(webhooks, dict) and webhooks else ""
        has = f"its webhooks are: {known}" if known else "it has no webhooks section (OpenAPI 3.1)"
        raise SourceProblem(
            (*loc, "webhook"),
            f"{dotted((*loc, 'webhook'))}: {webhook!r} is not allowed — no such webhook in "
            f"{file}; {has}",
        )
    at, schema = _webhook_schema(document, webhook)
    return _source(shape, document, at, schema, f"{file}{pointer_text(at)}", loc)


def _require_openapi(document: Document) -> None:
    version = document.data.get("openapi")
    if not str(version or "").startswith("3."):
        at: Pointer = ("openapi",) if "openapi" in document.data else ()
        raise document.fail(
            at,
            f"not an OpenAPI 3 document (openapi: {version!r})",
            hint="name an OpenAPI 3.1 document (`openapi: 3.1.0`), or a JSON Schema with "
            "source.schema",
        )


def _webhook_schema(document: Document, name: str) -> tuple[Pointer, JSON]:
    """Where the webhook's JSON request body schema is, and the schema."""
    item: Any = document.data["webhooks"][name]
    at: Pointer = ("webhooks", name)
    operation = item.get("post") if isinstance(item, dict) else None
    if not isinstance(operation, dict):
        raise document.fail(at, f"webhook {name!r} has no post operation — a webhook is a POST")
    body: Any = operation.get("requestBody")
    at = (*at, "post", "requestBody")
    body = _follow(document, body, at)
    content: dict[str, Any] = (body.get("content") if isinstance(body, dict) else None) or {}
    kinds = [k for k in content if "json" in str(k).lower()]
    if not kinds or not isinstance(content[kinds[0]], dict) or "schema" not in content[kinds[0]]:
        raise document.fail(
            at,
            f"webhook {name!r} has no JSON request body schema — give it requestBody: content: "
            "application/json: schema",
        )
    return (*at, "content", kinds[0], "schema"), content[kinds[0]]["schema"]


def _follow(document: Document, value: Any, at: Pointer) -> Any:
    try:
        return follow(document.data, value, at)[1]
    except RefProblem as exc:
        raise document.fail(exc.at, exc.message) from None


def _source(
    shape: SchemaSource, document: Document, at: Pointer, schema: JSON, origin: str, loc: Loc
) -> SchemaSource:
    try:
        check_refs(document.data)
        whole = inline(document.data, schema, at)
    except RefProblem as exc:
        raise document.fail(exc.at, exc.message) from None
    drawn = skeleton(whole)
    example = drawn if isinstance(drawn, dict) else {"value": drawn}
    for name, path in (("id", shape.id_path), ("key", shape.key_path), ("type", shape.type_path)):
        if path is not None:
            _require_property(whole, example, path, (*loc, name), origin)
    try:
        draw_instances(whole, 1, 0)  # refused schemas and missing packages, before the run
    except SchemaProblem as exc:
        raise document.fail(at, f"cannot generate events from {origin}: {exc}") from None
    return replace(shape, example=example, schema=whole, origin=origin)


def _require_property(schema: JSON, example: JSON, path: str, loc: Loc, origin: str) -> None:
    if subschema(schema, _paths.parse(path)) is not None:
        return
    fields = ", ".join(p for p, _ in _leaf_paths(example)) or "none"
    raise SourceProblem(
        loc,
        f"{dotted(loc)}: {path!r} is not allowed — the schema of {origin} has no such "
        f"property; it has: {fields}",
    )


def _leaf_paths(example: JSON) -> list[tuple[str, JSON]]:
    return [(_paths.render(steps), value) for steps, value in _paths.leaves(example)]


def contract(base: Path, name: str, loc: Loc) -> ContractSpec:
    """The downstream's contract: the OpenAPI document ``name``, checked as the double will
    compile it (OpenAPI 3, paths, every ``$ref`` resolving)."""
    document = read_document(base, name, loc)
    spec = ContractSpec(document.data, name)
    try:
        Contract(spec)
    except ContractProblem as exc:
        raise document.fail(exc.at, exc.message) from None
    return spec
