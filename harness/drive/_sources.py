"""Sources: the events of a scenario, recorded (JSONL) or synthetic (an example payload + faker).

Sources are deterministic: the same spec and seed give the same events. ``occurred_at`` is the
event's offset in seconds from the start of the stream — its natural delivery time before any
perturbation.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..core import _paths
from ..core._errors import SourceError
from ..core._model import Event
from ..core._scenario import RecordedSource, Source, SyntheticSource
from ._drift import EXACT_IN_DOUBLE

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def load_events(source: Source, seed: int) -> list[Event]:
    if isinstance(source, SyntheticSource):
        return synthetic(source, seed)
    return recorded(source)


def _prefix(example_value: Any, fallback: str) -> str:
    """The id prefix of an example id (``evt_1`` -> ``evt_``), so generated ids keep its format."""
    text = str(example_value) if example_value is not None else ""
    head, sep, _ = text.partition("_")
    return head + sep if sep and head.isalnum() else fallback


def synthetic(spec: SyntheticSource, seed: int) -> list[Event]:
    """``spec.events`` events over ``spec.records`` records, every record used at least once."""
    from faker import Faker  # heavy import; only when a synthetic source is built

    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    id_steps = _paths.parse(spec.id_path)
    key_steps = _paths.parse(spec.key_path)
    type_steps = _paths.parse(spec.type_path) if spec.type_path else None
    seq_steps = _paths.parse(spec.seq_path) if spec.seq_path else None
    time_steps = _paths.parse(spec.time_path) if spec.time_path else None
    id_prefix = _prefix(_paths.get(spec.example, id_steps, None), "evt_")
    key_prefix = _prefix(_paths.get(spec.example, key_steps, None), "rec_")
    default_type = str(_paths.get(spec.example, type_steps, "event")) if type_steps else "event"
    fixed = {id_steps, key_steps, type_steps, seq_steps, time_steps}

    owners = [i % spec.records for i in range(spec.events)]
    rng.shuffle(owners)
    per_record: dict[int, int] = {}
    step = spec.over / spec.events if spec.events else 0.0
    events: list[Event] = []
    for i, record in enumerate(owners):
        per_record[record] = per_record.get(record, 0) + 1
        payload = copy.deepcopy(spec.example)
        _fill(payload, (), fixed, fake, rng)
        event_id = f"{id_prefix}{i + 1:06d}"
        key = f"{key_prefix}{record + 1:05d}"
        etype = spec.types[i % len(spec.types)] if spec.types else default_type
        at = i * step
        _paths.put(payload, id_steps, event_id)
        _paths.put(payload, key_steps, key)
        if type_steps:
            _paths.put(payload, type_steps, etype)
        if seq_steps:
            _paths.put(payload, seq_steps, per_record[record])
        if time_steps:
            stamp = _EPOCH + timedelta(seconds=at)
            _paths.put(payload, time_steps, stamp.isoformat().replace("+00:00", "Z"))
        events.append(Event(event_id, key, i, etype, at, payload))
    return events


def _fill(node: Any, here: tuple[_paths.Step, ...], fixed: set[Any], fake: Any, rng: Any) -> None:
    """Replace example leaves with realistic values chosen by field name."""
    items: Any = node.items() if isinstance(node, dict) else enumerate(node)
    for name, value in list(items):
        at = (*here, name)
        if at in fixed:
            continue
        if isinstance(value, dict | list):
            _fill(value, at, fixed, fake, rng)
            continue
        new = _fake_value(str(name).lower(), value, fake, rng)
        if new is not None:
            node[name] = new


def _fake_value(name: str, value: Any, fake: Any, rng: random.Random) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and abs(value) > EXACT_IN_DOUBLE:
        # A 64-bit id stays one, and odd: no double holds it, so a float rounds every one.
        return rng.randrange(EXACT_IN_DOUBLE, 2**63) | 1
    if isinstance(value, int | float):
        if any(w in name for w in ("amount", "price", "total", "quantity", "count")):
            return (
                rng.randint(100, 100_000)
                if isinstance(value, int)
                else round(rng.uniform(1, 1000), 2)
            )
        return None
    if "email" in name:
        return fake.email()
    if "company" in name or "organization" in name:
        return fake.company()
    if "name" in name:
        return fake.name()
    if "phone" in name:
        return fake.phone_number()
    if "city" in name:
        return fake.city()
    if "address" in name or "street" in name:
        return fake.street_address()
    if any(w in name for w in ("note", "description", "comment", "message", "text", "title")):
        return fake.sentence(nb_words=5)
    return None


def recorded(spec: RecordedSource) -> list[Event]:
    """Events from a JSONL file. Each line: an event object, or a bare payload.

    An event object has ``payload`` and optionally ``id``, ``key``, ``type``, ``headers``,
    ``occurred_at`` (ISO 8601 or Unix seconds). Without a ``payload`` member the line itself is
    the payload and the scenario's paths say where id, key and type live.
    """
    path = spec.path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SourceError(
            "event file not found", where=str(path), hint="check source.recorded.file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read event file: {exc}", where=str(path)) from None
    id_steps = _paths.parse(spec.id_path) if spec.id_path else None
    key_steps = _paths.parse(spec.key_path) if spec.key_path else None
    type_steps = _paths.parse(spec.type_path) if spec.type_path else None
    rows: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"not JSON ({exc.msg} at column {exc.colno})",
                where=f"{path}:{lineno}",
                hint="each line must be one JSON object (JSON Lines)",
            ) from None
        if not isinstance(obj, dict):
            raise SourceError(
                f"expected a JSON object, got {type(obj).__name__}",
                where=f"{path}:{lineno}",
                hint='each line is an event object like {"payload": {...}, "id": "evt_1"}',
            )
        rows.append((lineno, obj))
    if not rows:
        raise SourceError("event file has no events", where=str(path))
    events = [
        _recorded_event(seq, lineno, obj, path, id_steps, key_steps, type_steps)
        for seq, (lineno, obj) in enumerate(rows)
    ]
    return _space(events, spec.over)


def _recorded_event(
    seq: int,
    lineno: int,
    obj: dict[str, Any],
    path: Path,
    id_steps: tuple[_paths.Step, ...] | None,
    key_steps: tuple[_paths.Step, ...] | None,
    type_steps: tuple[_paths.Step, ...] | None,
) -> Event:
    where = f"{path}:{lineno}"
    wrapped = "payload" in obj
    payload = obj["payload"] if wrapped else obj

    def pick(steps: tuple[_paths.Step, ...] | None, member: str, default: Any) -> Any:
        if steps is not None:
            found = _paths.get(payload, steps, None)
            if found is None:
                raise SourceError(
                    f"no value at {_paths.render(steps)} for the event's {member}",
                    where=where,
                    hint=f"fix the line or the scenario's source.recorded.{member} path",
                )
            return found
        return obj.get(member, default) if wrapped else payload.get(member, default)

    event_id = str(pick(id_steps, "id", f"evt_{seq + 1:06d}"))
    key = str(pick(key_steps, "key", event_id))
    etype = str(pick(type_steps, "type", "event"))
    headers = obj.get("headers", {}) if wrapped else {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise SourceError(
            f"headers must be an object of strings, got {headers!r}", where=f"{where}: headers"
        )
    occurred = _timestamp(obj.get("occurred_at") if wrapped else None, where)
    return Event(
        event_id,
        key,
        seq,
        etype,
        occurred if occurred is not None else float(seq),
        payload,
        headers,
    )


def _timestamp(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise SourceError(
        f"occurred_at {value!r} is neither ISO 8601 nor Unix seconds",
        where=f"{where}: occurred_at",
        hint='write it like "2026-03-01T12:00:00Z" or 1772366400',
    )


def _space(events: list[Event], over: float | None) -> list[Event]:
    """Offsets from the first event: spread evenly over ``over`` s, else by occurred_at order."""
    if over is not None:
        step = over / len(events)
        times = [i * step for i in range(len(events))]
    else:
        first = min(e.occurred_at for e in events)
        times = [e.occurred_at - first for e in events]
    return [
        Event(e.id, e.key, e.seq, e.type, t, e.payload, e.headers)
        for e, t in zip(events, times, strict=True)
    ]
