"""Events from a JSON Schema (``SchemaSource``): valid payloads drawn with Schemathesis.

Hypothesis (through Schemathesis's generator) draws the payloads, seeded, in its generate
phase only: its first draws are the simplest instances (optional fields absent, numbers at
their bounds, empty strings where allowed), later ones wider, so a stream holds boundary
values and absent optional fields beside ordinary ones. The same schema and seed give the same
payloads with the same Hypothesis and Schemathesis versions. The source's id, key, type,
sequence and time are then written at its paths, as a synthetic source writes them: unique
ids, ``records`` record keys, each of the type the schema allows.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from ..core import _paths
from ..core._errors import SourceError
from ..core._model import JSON, Event
from ..core._scenario import SchemaSource
from ._vary import random_uuid

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class SchemaProblem(Exception):
    """The schema cannot make events: hypothesis-jsonschema refuses it, or it allows nothing."""


def draw_instances(schema: JSON, count: int, seed: int) -> list[JSON]:
    """Up to ``count`` different valid instances of ``schema``, the same for the same seed (fewer
    when the schema allows fewer). SchemaProblem when it allows none or cannot be generated.

    Schemathesis draws them (its own JSON Schema generator, kept in step with Hypothesis), as
    the JSON body of one operation of a document made for the purpose.
    """
    _schemathesis()  # an extra; it brings Hypothesis
    from hypothesis import currently_in_test_context

    try:
        if currently_in_test_context():
            # Inside a user's or ``harness explore``'s own Hypothesis test a nested @given
            # fails a health check; the test context is the thread's, so draw in another.
            with ThreadPoolExecutor(1) as pool:
                found = pool.submit(_drawn, schema, count, seed).result()
        else:
            found = _drawn(schema, count, seed)
    except SchemaProblem:
        raise
    except Exception as exc:  # schemathesis's and hypothesis's refusals of the schema
        raise SchemaProblem(_first_line(exc)) from None
    if not found:
        raise SchemaProblem("the schema allows no value (its constraints contradict)")
    return found


def _drawn(schema: JSON, count: int, seed: int) -> list[JSON]:
    # Heavy imports, only when a schema is drawn from.
    import schemathesis
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as fixed_seed

    document = {
        "openapi": "3.1.0",
        "info": {"title": "harness", "version": "1"},
        "paths": {
            "/event": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": schema}},
                    },
                    "responses": {"200": {"description": "accepted"}},
                }
            }
        },
    }
    found: list[JSON] = []
    seen: set[str] = set()
    strategy = schemathesis.openapi.from_dict(document)["/event"]["POST"].as_strategy()

    @fixed_seed(seed)
    @settings(
        database=None,
        max_examples=count,
        phases=(Phase.generate,),
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(strategy)
    def collect(case: Any) -> None:
        key = repr(case.body)
        if key not in seen and len(found) < count:
            seen.add(key)
            found.append(case.body)

    collect()
    return found


def _schemathesis() -> Any:
    try:
        import schemathesis
    except ImportError:
        raise SchemaProblem(
            "events from a schema need Schemathesis, which is not installed — "
            "pip install 'automation-harness[openapi]'"
        ) from None
    return schemathesis


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def subschema(schema: JSON, steps: tuple[_paths.Step, ...]) -> JSON:
    """The schema of the value at ``steps`` of an instance, or None when ``schema`` declares no
    such property (through ``properties``, ``items``, ``prefixItems`` and ``allOf``/``anyOf``/
    ``oneOf`` members)."""
    if not steps:
        return schema
    for member in _members(schema):
        step, rest = steps[0], steps[1:]
        inner: JSON = None
        if isinstance(step, str):
            inner = (member.get("properties") or {}).get(step)
        else:
            prefix = member.get("prefixItems") or []
            inner = prefix[step] if step < len(prefix) else member.get("items")
        if isinstance(inner, dict):
            found = subschema(inner, rest)
            if found is not None:
                return found
    return None


def _members(schema: JSON) -> Iterator[dict[str, Any]]:
    """``schema`` and the members of its ``allOf``, ``anyOf`` and ``oneOf``, depth first."""
    if not isinstance(schema, dict):
        return
    yield schema
    for word in ("allOf", "anyOf", "oneOf"):
        for member in schema.get(word) or ():
            yield from _members(member)


def skeleton(schema: JSON) -> JSON:
    """An instance with every declared property present (a value of its type, not checked
    against its constraints): what a source's paths and drift perturbations are checked against,
    so that they may name any field the schema has, optional or not."""
    members = list(_members(schema))
    for member in members:
        for word in ("const", "default"):
            if word in member and not isinstance(member[word], dict | list):
                return member[word]
        if member.get("enum"):
            return member["enum"][0]
    kinds = [t for m in members for t in _types(m)]
    if "object" in kinds or any("properties" in m for m in members):
        out: dict[str, JSON] = {}
        for member in members:
            for name, inner in (member.get("properties") or {}).items():
                out.setdefault(name, skeleton(inner))
        return out
    if "array" in kinds or any("items" in m or "prefixItems" in m for m in members):
        for member in members:
            items = member.get("prefixItems") or ([member["items"]] if "items" in member else [])
            if items:
                return [skeleton(item) for item in items if isinstance(item, dict)]
        return []
    return _PLACEHOLDERS.get(kinds[0] if kinds else "string", "text")


_PLACEHOLDERS: dict[str, JSON] = {
    "string": "text",
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "null": None,
}


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def generated(spec: SchemaSource, seed: int) -> list[Event]:
    """``spec.events`` events over ``spec.records`` records, every record used at least once,
    their payloads drawn from ``spec.schema`` (cycled when it allows fewer different ones)."""
    try:
        payloads = draw_instances(spec.schema, spec.events, seed)
    except SchemaProblem as exc:
        raise SourceError(
            f"cannot generate events from {spec.origin}: {exc}", where=spec.origin
        ) from None
    rng = random.Random(seed)
    id_steps = _paths.parse(spec.id_path) if spec.id_path else None
    key_steps = _paths.parse(spec.key_path)
    type_steps = _paths.parse(spec.type_path) if spec.type_path else None
    keys = [
        _made(spec.schema, key_steps, f"rec_{r + 1:05d}", r + 1, rng) for r in range(spec.records)
    ]
    owners = [i % spec.records for i in range(spec.events)]
    rng.shuffle(owners)
    per_record: dict[int, int] = {}
    step = spec.over / spec.events if spec.events else 0.0
    events: list[Event] = []
    for i, record in enumerate(owners):
        payload = copy.deepcopy(payloads[i % len(payloads)])
        if not isinstance(payload, dict):
            payload = {"value": payload}  # paths need an object; a schema of a scalar is odd
        per_record[record] = per_record.get(record, 0) + 1
        at = i * step
        event_id: Any = random_uuid(rng)
        if id_steps is not None:
            event_id = _made(spec.schema, id_steps, f"evt_{i + 1:06d}", i + 1, rng)
            _paths.put(payload, id_steps, event_id)
        _paths.put(payload, key_steps, keys[record])
        etype = _type(spec, payload, type_steps, i)
        if spec.seq_path:
            _paths.put(payload, _paths.parse(spec.seq_path), per_record[record])
        if spec.time_path:
            stamp = (_EPOCH + timedelta(seconds=at)).isoformat().replace("+00:00", "Z")
            _paths.put(payload, _paths.parse(spec.time_path), stamp)
        events.append(Event(str(event_id), str(keys[record]), i, etype, at, payload))
    return events


def _type(
    spec: SchemaSource, payload: dict[str, Any], steps: tuple[_paths.Step, ...] | None, i: int
) -> str:
    """The event's type: the source's types in turn (written at the type path), else what the
    schema put there (a const or an enum member), else ``event``."""
    if spec.types:
        etype = spec.types[i % len(spec.types)]
        if steps:
            _paths.put(payload, steps, etype)
        return etype
    found = _paths.get(payload, steps, None) if steps else None
    return str(found) if found is not None else "event"


def _made(
    schema: JSON, steps: tuple[_paths.Step, ...], text: str, number: int, rng: random.Random
) -> Any:
    """A unique id or key of the kind the schema declares there: a number for an integer or
    number field (from its minimum on), a UUID for ``format: uuid``, else ``text``."""
    found = subschema(schema, steps)
    members = list(_members(found))
    kinds = {t for m in members for t in _types(m)}
    if kinds and kinds <= {"integer", "number", "null"}:
        low = max((m["minimum"] for m in members if isinstance(m.get("minimum"), int)), default=0)
        return low + number
    if any(m.get("format") == "uuid" for m in members):
        return random_uuid(rng)
    return text
