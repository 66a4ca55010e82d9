"""Attribution: which events, and which record, an effect belongs to (docs/correlation.md).

Three kinds of evidence, used together:

* tracer tokens (``_tracer``) anywhere in the effect's path, query and body;
* the scenario's correlation rules: a value read from the effect (a JSONPath into its body, a
  ``{name}`` parameter of a route's path, a header, a query parameter) equal to a value of an
  event's payload as it was sent;
* event ids and record keys the effect carries as sent, for events the tracer made no tokens of
  (a recording's, sent with ids of the run's own; ``tracer: {rewrite: false}``; ``paths`` that
  do not cover them);
* document numbers the effect carries as sent (an invoice's ``number``, ``_carried``), where
  the run made its events' ids its own.

The events' values are indexed once, when the run is prepared (value -> event); an effect then
costs one dict lookup per value it carries, whatever the number of events. A value several
events of one record share attributes the effect to that record only; one shared by events of
different records attributes nothing (it is counted as ambiguous in the run's settings).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from ..core import _paths
from ..core._errors import InputError
from ..core._form import is_form, parse_form
from ..core._model import Event
from ..core._routes import compile_path, path_params, split_route
from ..core._scenario import CORRELATE_KINDS, TRANSFORMS, CorrelationRule, TracerSpec
from ..core._text_event import read_payload
from ._carried import WORD, DocNumbers, distinctive
from ._tracer import Tracer

Attribution = tuple[tuple[str, ...], str | None]
"""The event ids an effect names, and its record key."""

Attribute = Callable[[str, str, Mapping[str, str], str], Attribution]
"""What a downstream double calls per request: (method, path?query, headers, body)."""

# An index entry: the one event a value names, the record several of its events share, or
# None when events of different records share it (ambiguous: attributes nothing).
_Owner = Event | str | None


def check_rule(rule: CorrelationRule) -> tuple[str, str] | None:
    """What is wrong with ``rule``: (the field, a sentence), or None. The loader says where."""
    if rule.kind not in CORRELATE_KINDS:
        return "effect", f"kind {rule.kind!r} is not one of {', '.join(CORRELATE_KINDS)}"
    paths = {"event": rule.event, **({"effect": rule.effect} if rule.kind == "body" else {})}
    for field, path in paths.items():
        try:
            _paths.parse(path)
        except InputError as exc:
            return field, str(exc)
    unknown = [t for t in rule.transform if t not in TRANSFORMS]
    if unknown:
        return "transform", f"{unknown[0]!r} is not one of {', '.join(TRANSFORMS)}"
    if rule.pattern is not None:
        try:
            groups = re.compile(rule.pattern).groups
        except re.error as exc:
            return "pattern", f"{rule.pattern!r} is not a regular expression ({exc})"
        if groups > 1:
            return "pattern", f"{rule.pattern!r} has {groups} groups; give at most one"
    route = split_route(rule.route) if rule.route is not None else None
    if rule.route is not None:
        if route is None:
            return "route", f"{rule.route!r} is not a method and a path like 'POST /deals/{{id}}'"
        try:
            compile_path(route[1], where="")
        except InputError as exc:
            return "route", str(exc)
    if rule.kind == "path":
        if route is None:
            return "route", "a path rule needs a route naming its parameter, like 'PUT /deals/{id}'"
        params = path_params(route[1])
        if rule.effect not in params:
            has = f"its parameters are {', '.join(params)}" if params else "it has none"
            return "effect", (
                f"{{{rule.effect}}} is not a parameter of the route {rule.route!r} ({has})"
            )
    return None


def describe(rule: CorrelationRule) -> str:
    """``crm POST /deals: body $.session = event $.data.object.id``, for settings and hints."""
    where = " ".join(p for p in (rule.downstream, rule.route) if p)
    effect = {
        "body": f"body {rule.effect}",
        "path": f"path {{{rule.effect}}}",
        "header": f"header {rule.effect}",
        "query": f"query {rule.effect}",
    }.get(rule.kind, f"{rule.kind} {rule.effect}")
    if rule.pattern is not None:
        effect += f" ~ /{rule.pattern}/"
    event = f"event {rule.event}" + (f" ({', '.join(rule.transform)})" if rule.transform else "")
    return f"{where + ': ' if where else ''}{effect} = {event}"


class Correlation:
    """The attribution of one run: tracer tokens, correlation rules, ids carried verbatim.

    ``tracer`` holds the events as they were sent (traced, drifted); ``spec`` says how they
    were traced (None: the default, everything). ``growing``: the tracer is given its events as
    they are made (a streamed run), and they may carry ids the tracer leaves as recorded (a
    recording's clean run, its ids each run's own). Raises InputError for a rule
    ``check_rule`` refuses (``where``: its scenario).
    """

    def __init__(
        self,
        tracer: Tracer,
        rules: Sequence[CorrelationRule] = (),
        spec: TracerSpec | None = None,
        *,
        where: str | None = None,
        growing: bool = False,
    ) -> None:
        self.tracer = tracer
        self.spec = (spec or TracerSpec()).resolved_as_synthetic()
        for i, rule in enumerate(rules):
            problem = check_rule(rule)
            if problem is not None:
                raise InputError(f"correlate[{i}].{problem[0]}: {problem[1]}", where=where)
        indexes: dict[tuple[str, tuple[str, ...]], _Index] = {}  # rules may share an index
        compiled = []
        for rule in rules:
            index = indexes.get((rule.event, rule.transform))
            if index is None:
                index = indexes[rule.event, rule.transform] = _Index(rule, tracer)
            compiled.append(_Rule(rule, index))
        self._rules = tuple(compiled)
        self._verbatim = _Verbatim(tracer)
        # Whether ids may be matched as recorded: known from the events of a run prepared
        # whole; for a streamed run (``growing``), from how it is traced.
        self._matches_verbatim = growing or len(self._verbatim) > 0
        # Document numbers are followed where every id of the events is the run's own (a
        # synthetic source's drawn, a recording's permuted): elsewhere a number may be an
        # earlier run's as well.
        own = (self.spec.rewrite and not self.spec.paths) or self.spec.ids
        self._numbers = tracer.follow_numbers() if own else None

    def for_downstream(self, name: str) -> Attribute:
        """The attribution function of the double of downstream ``name``."""
        rules = tuple(r for r in self._rules if r.rule.downstream in (None, name))
        tracer = self.tracer.attribute if self.spec.rewrite else None
        verbatim = self._verbatim if self._matches_verbatim else None
        numbers = self._numbers
        if not rules and verbatim is None and tracer is not None:
            # The common case stays as cheap as the tracer alone: words are looked at only
            # once an event of the run holds a document number (a streamed run's, made so far).
            def traced(
                method: str, path: str, headers: Mapping[str, str], body: str
            ) -> Attribution:
                text = f"{path}\n{body}"
                if not numbers:
                    return tracer(text)
                found = _Found(*tracer(text))
                self._add_numbers(found, numbers, WORD.findall(text))
                return found.attribution()

            return traced

        def attribute(method: str, path: str, headers: Mapping[str, str], body: str) -> Attribution:
            found = _Found(*tracer(f"{path}\n{body}")) if tracer else _Found((), None)
            if verbatim is not None or numbers:
                words = WORD.findall(f"{path}\n{body}\n{_idempotency_key(headers)}")
                if verbatim is not None:
                    for word in words:
                        found.add(verbatim.get(word))
                if numbers:
                    self._add_numbers(found, numbers, words)
            if rules:
                call = _Call(method, path, headers, body)
                for rule in rules:
                    for value in rule.values(call):
                        found.add(rule.index.owners.get(value, _NOTHING))
            return found.attribution()

        return attribute

    def attribute_text(self, text: str) -> Attribution:
        """Tracer tokens and verbatim ids in ``text``: what a final-state record is attributed
        by (the rules describe requests, and a record is not one)."""
        found = _Found(*self.tracer.attribute(text)) if self.spec.rewrite else _Found((), None)
        numbers = self._numbers
        if self._matches_verbatim or numbers:
            words = WORD.findall(text)
            if self._matches_verbatim:
                for word in words:
                    found.add(self._verbatim.get(word))
            if numbers:
                self._add_numbers(found, numbers, words)
        return found.attribution()

    def _add_numbers(self, found: _Found, numbers: DocNumbers, words: list[str]) -> None:
        """What the document numbers among ``words`` name, added to ``found``."""
        for word in words:
            owner = numbers.get(word)
            if isinstance(owner, int):
                found.add(self.tracer.event(owner))
            else:
                found.add(owner)

    def settings(self) -> dict[str, Any]:
        """How the run attributes, for its RunInfo: ``harness check`` and the hints read it."""
        spec = self.spec
        rewrite = "paths" if spec.paths else "all"
        if not spec.rewrite:
            rewrite = "ids" if spec.ids else "off"  # "ids": as recorded but for their ids
        tracer: dict[str, Any] = {"rewrite": rewrite}
        if spec.rewrite and spec.paths:
            tracer["paths"] = list(spec.paths)
        # Ids and keys matched as recorded: a streamed run's, those of the events made so far
        # (the Recorder describes the run again as it stops, all of them made).
        if self._matches_verbatim and (count := len(self._verbatim)):
            tracer["verbatim"] = count
        if self._numbers:  # a streamed run's, of the events made so far
            tracer["numbers"] = len(self._numbers)
        return {
            "tracer": tracer,
            "correlate": [
                {
                    "rule": describe(r.rule),
                    "kind": r.rule.kind,
                    "effect": r.rule.effect,
                    "event": r.rule.event,
                    **({"downstream": r.rule.downstream} if r.rule.downstream else {}),
                    **({"route": r.rule.route} if r.rule.route else {}),
                    **({"pattern": r.rule.pattern} if r.rule.pattern is not None else {}),
                    **({"transform": list(r.rule.transform)} if r.rule.transform else {}),
                    "values": len(r.index.owners),
                    "ambiguous": r.index.ambiguous,
                }
                for r in self._rules
            ],
        }


_NOTHING: Any = object()


class _Found:
    """Event ids and a record key gathered from several kinds of evidence, in order."""

    __slots__ = ("ids", "key", "record")

    def __init__(self, ids: tuple[str, ...], key: str | None) -> None:
        self.ids = list(ids)
        self.key = key  # the tracer's: its record token, else its first event's key
        self.record: str | None = None

    def add(self, owner: Any) -> None:
        if owner is _NOTHING or owner is None:
            return
        if isinstance(owner, str):
            self.record = self.record or owner
        elif owner.id not in self.ids:
            self.ids.append(owner.id)
            self.record = self.record or owner.key

    def attribution(self) -> Attribution:
        return tuple(self.ids), self.key or self.record


class _Call:
    """One request, its body, query and headers parsed only when a rule asks."""

    __slots__ = ("_args", "_headers", "_json", "body", "headers", "method", "path", "query")

    def __init__(self, method: str, path: str, headers: Mapping[str, str], body: str) -> None:
        self.method = method.upper()
        self.path, _, self.query = path.partition("?")
        self.headers = headers
        self.body = body
        self._json: Any = _NOTHING
        self._args: dict[str, list[str]] | None = None
        self._headers: dict[str, str] | None = None

    def json(self) -> Any:
        """The body as JSON: a form body (``core._form``) as the object its fields make."""
        if self._json is _NOTHING:
            try:
                # A JSON object or list is read as JSON whatever its Content-Type: the common
                # case stays one json.loads.
                if self.body[:1] not in "{[" and is_form(self.header("content-type")):
                    self._json = parse_form(self.body)
                else:
                    self._json = json.loads(self.body) if self.body else None
            except ValueError:  # neither (text, a broken form): no body rule can read it
                self._json = None
        return self._json

    def args(self, name: str) -> list[str]:
        if self._args is None:
            self._args = parse_qs(self.query, keep_blank_values=False)
        return self._args.get(name, [])

    def header(self, lower_name: str) -> str | None:
        if self._headers is None:
            self._headers = {k.lower(): v for k, v in self.headers.items()}
        return self._headers.get(lower_name)


class _Index:
    """One event path (and transform), indexed over the run's events: value -> owner."""

    def __init__(self, rule: CorrelationRule, tracer: Tracer) -> None:
        steps = _paths.parse(rule.event)
        transform = rule.transform
        owners: dict[str, _Owner] = {}
        ambiguous: set[str] = set()
        for ev in tracer.events:
            # Read, not kept decoded: the run holds its payloads as text (``TextEvent``).
            for value in _values(_paths.get(read_payload(ev), steps, None)):
                for step in transform:
                    value = _TRANSFORM[step](value)
                had = owners.get(value, _NOTHING)
                if had is _NOTHING:
                    owners[value] = ev
                elif had is None or had is ev:
                    continue
                elif isinstance(had, str):
                    if had != ev.key:
                        owners[value] = None
                        ambiguous.add(value)
                elif had.id != ev.id:  # the same id twice is one event (a redelivery)
                    if had.key == ev.key:
                        owners[value] = ev.key
                    else:
                        owners[value] = None
                        ambiguous.add(value)
        self.owners = owners
        self.ambiguous = len(ambiguous)


class _Rule:
    """A rule compiled: its route, where it reads the effect, and its event index."""

    __slots__ = ("header", "index", "method", "pattern", "route", "rule", "steps")

    def __init__(self, rule: CorrelationRule, index: _Index) -> None:
        self.rule = rule
        self.index = index
        self.method = "*"
        self.route: re.Pattern[str] | None = None
        if rule.route is not None:
            method, path = split_route(rule.route) or ("*", "*")  # check_rule: it splits
            self.method = method
            self.route = compile_path(path, where=f"correlate route {rule.route!r}")
        self.steps = _paths.parse(rule.effect) if rule.kind == "body" else ()
        self.header = rule.effect.lower()
        self.pattern = None if rule.pattern is None else re.compile(rule.pattern)

    def values(self, call: _Call) -> Iterator[str]:
        """The values this rule reads from ``call``, as they are compared."""
        rule = self.rule
        match: re.Match[str] | None = None
        if self.route is not None:
            if self.method != "*" and self.method != call.method:
                return
            match = self.route.fullmatch(call.path)
            if match is None:
                return
        found: Iterator[str]
        if rule.kind == "body":
            body = call.json()
            found = _values(_paths.get(body, self.steps, None)) if body is not None else iter(())
        elif rule.kind == "path":
            assert match is not None  # check_rule: a path rule has a route with its parameter
            found = iter((match[rule.effect],))
        elif rule.kind == "header":
            header = call.header(self.header)
            found = iter((header.strip(),) if header else ())
        else:
            found = iter(call.args(rule.effect))
        pattern = self.pattern
        if pattern is None:
            yield from found
            return
        for value in found:
            m = pattern.search(value)
            if m is not None:
                yield m[1] if pattern.groups else m[0]


def _values(value: Any) -> Iterator[str]:
    """A JSON value as the texts it is compared by: a scalar's, or each of a list's scalars."""
    if isinstance(value, list):
        for item in value:
            text = _text(item)
            if text:
                yield text
    else:
        text = _text(value)
        if text:
            yield text


def _text(value: Any) -> str | None:
    """One text per value, whatever its JSON type: 42, 42.0 and "42" are the same id."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return None  # null, objects: nothing to compare


_TRANSFORM: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "strip": str.strip,
    "sha256": lambda s: hashlib.sha256(s.encode()).hexdigest(),
}


class _Verbatim:
    """Event ids and record keys the tracer left as recorded that look distinctive enough, by
    value; indexed as the tracer is given its events (a streamed run's, as they are made). An
    event's id wins over a record key of the same text (a source without keys uses the id as
    its key), and the first event of an id over later ones (one event delivered twice)."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self._indexed = 0  # the tracer's events indexed so far
        self._ids: dict[str, Event] = {}
        self._keys: set[str] = set()

    def get(self, value: str) -> _Owner:
        """The event or record ``value`` names, or ``_NOTHING``."""
        self._catch_up()
        found = self._ids.get(value)
        if found is not None:
            return found
        return value if value in self._keys else _NOTHING

    def __len__(self) -> int:
        self._catch_up()
        return len(self._ids.keys() | self._keys)

    def _catch_up(self) -> None:
        events, tag = self._tracer.events, self._tracer.tag
        end = len(events)
        if end == self._indexed:
            return
        ids, keys = self._ids, self._keys
        # A slice, not islice: the tracer's columns make only the events asked for.
        for ev in events[self._indexed : end]:
            if tag not in ev.key and distinctive(ev.key):
                keys.add(ev.key)
            if tag not in ev.id and distinctive(ev.id):
                ids.setdefault(ev.id, ev)
        self._indexed = end


def _idempotency_key(headers: Mapping[str, str]) -> str:
    """The request's Idempotency-Key, whatever its case: where a careful automation passes the
    event's id on (and a real API deduplicates by it), so an id carried there attributes."""
    for name, value in headers.items():
        if name.lower() == "idempotency-key":
            return value
    return ""
