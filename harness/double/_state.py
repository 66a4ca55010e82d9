"""The final state of a run's downstreams: from stateful doubles, or read by an observer.

Taken at the end of the run, after settle and before the doubles stop. Each record is
attributed to its events and record by the run's tracer values, as an effect is. An observer
is an HTTP GET of a state endpoint the scenario names (for a downstream the double cannot
replace); what can go wrong with it is a ``StateUnavailable`` that says what and how to fix it,
so the run is kept and the final-state check says why it cannot judge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..core import _paths
from ..core._model import OBSERVER, StateRecord
from ..core._scenario import ObserverSpec
from ..drive._target import checked_url, require_allowed
from ._downstream import Attribution
from ._resources import Resource

Attribute = Callable[[str], Attribution]  # the tracer's, as the doubles take it

OBSERVER_TIMEOUT = 10.0  # seconds for the whole GET: a state endpoint answers at once
_MAX_ANSWER = 64 * 1024 * 1024
_SHOWN = 80  # characters of a bad answer quoted in a message


class StateUnavailable(Exception):
    """The observer could not give the final state; ``message`` says why and what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message}\n  hint: {hint}")
        self.message = message
        self.hint = hint


def check_observer(spec: ObserverSpec, allow_hosts: Sequence[str], where: str) -> None:
    """Refuse an observer outside loopback and the run's allow-list, as a target would be."""
    require_allowed(
        checked_url(spec.url, f"{where}: observer.url", "observer URL"),
        allow_hosts,
        what="observer",
        why="the harness only talks to other hosts you name",
        where=f"{where}: observer.url",
    )


def double_records(
    name: str, resources: Sequence[Resource], attribute: Attribute
) -> list[StateRecord]:
    """The resources of the stateful double ``name`` as StateRecords."""
    return [_record(name, r.collection, r.id, r.body, attribute) for r in resources]


async def observe(spec: ObserverSpec, attribute: Attribute) -> list[StateRecord]:
    """GET the observer's URL and read its records. Raises StateUnavailable."""
    answer = await _get(spec.url)
    try:
        records = _paths.get(answer, _paths.parse(spec.records))
    except KeyError:
        raise StateUnavailable(
            f"the records path {spec.records!r} finds nothing in the answer of {spec.url} "
            f"({_shape(answer)})",
            "set observer.records to the JSONPath of the list of records, e.g. $.contacts, "
            "or $ when the answer is the list",
        ) from None
    if not isinstance(records, list):
        raise StateUnavailable(
            f"the records path {spec.records!r} finds {_shape(records)} in the answer of "
            f"{spec.url}, not a list of records",
            "point observer.records at the list itself, e.g. $.contacts",
        )
    key_steps = _paths.parse(spec.key)
    collection = urlsplit(spec.url).path or "/"
    out = []
    for i, item in enumerate(records):
        try:
            key = _paths.get(item, key_steps)
        except KeyError:
            raise StateUnavailable(
                f"record {i} of {spec.records!r} has no value at the key path {spec.key!r} "
                f"({_shape(item)})",
                "set observer.key to the JSONPath of each record's id, e.g. $.id",
            ) from None
        out.append(_record(OBSERVER, collection, str(key), item, attribute))
    return out


async def _get(url: str) -> Any:
    timeout = aiohttp.ClientTimeout(total=OBSERVER_TIMEOUT)
    fix_url = "check observer.url, and that the service serving it runs until the run ends"
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.get(url, allow_redirects=False) as answer,
        ):
            status = answer.status
            raw = await answer.content.read(_MAX_ANSWER)
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or str(exc.os_error)
        raise StateUnavailable(
            f"cannot connect to the observer at {url}: {reason}", fix_url
        ) from None
    except TimeoutError:
        raise StateUnavailable(
            f"the observer at {url} did not answer within {OBSERVER_TIMEOUT:g} s", fix_url
        ) from None
    except aiohttp.ClientError as exc:
        raise StateUnavailable(
            f"the GET of the observer at {url} failed: {exc!r}", fix_url
        ) from None
    text = raw.decode("utf-8", errors="replace")
    if not 200 <= status < 300:
        raise StateUnavailable(
            f"the observer at {url} answered {status} ({text[:_SHOWN]!r})",
            "the state endpoint must answer 200 with JSON; " + fix_url,
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise StateUnavailable(
            f"the observer at {url} answered {status} with something that is not JSON "
            f"({exc}; it begins {text[:_SHOWN]!r})",
            "the state endpoint must answer JSON holding the list of records",
        ) from None


def _record(source: str, collection: str, rid: str, body: Any, attribute: Attribute) -> StateRecord:
    event_ids, key = attribute(f"{collection}/{rid}\n{json.dumps(body)}")
    return StateRecord(source, collection, rid, body, event_ids, key)


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:8])) or "none"
        return f"an object with keys {keys}"
    return f"a {type(value).__name__}" if value is not None else "null"
