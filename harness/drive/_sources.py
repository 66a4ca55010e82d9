"""Sources: the events of a scenario, recorded (JSONL) or synthetic (an example payload varied
per event, ``_vary``).

Sources are deterministic: the same spec and seed give the same events. ``occurred_at`` is the
event's offset in seconds from the start of the stream — its natural delivery time before any
perturbation. A recorded file may deliver an event more than once (lines with one id): its
Stream holds those redeliveries beside the events, for the schedule (``_perturb.plan``).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from itertools import islice, pairwise
from typing import Any, NamedTuple

from ..core import _paths
from ..core._errors import SourceError
from ..core._model import Event
from ..core._scenario import RecordedSource, SchemaSource, Source, SyntheticSource
from . import _recorded
from ._fakes import FakeText
from ._formats import RecordPayloads, _shared
from ._instants import Instants
from ._owners import Owners
from ._run_ids import RunAlphabets
from ._sample import Sample
from ._schema_events import generated
from ._tracer import Marks
from ._vary import Steps, Variation, random_uuid, render_time


def _prefix(example_value: Any, fallback: str) -> str:
    """The id prefix of an example id (``evt_1`` -> ``evt_``), so generated ids keep its format."""
    text = str(example_value) if example_value is not None else ""
    head, sep, _ = text.partition("_")
    return head + sep if sep and head.isalnum() else fallback


_SHAPED = 6  # an example id or key this long is copied in shape; a shorter one is a label
# Events whose per-event values are drawn at once (``Shape.draws``): the first event waits for
# this many events' draws (about 2 ms).
_BATCH = 256


def synthetic(spec: SyntheticSource, seed: int, tag: str = "") -> list[Event]:
    """``spec.events`` events over ``spec.records`` records, every record used at least once.

    Each event varies the example's ids, timestamps, amounts and free text (``_vary``); the
    record key and the record's values are drawn once per record, as its first event is made
    (``_owners`` says which record an event is about). An example id or key shorter than a real one
    (``evt_1``) is numbered instead: ``evt_000001``, ``ord_00001``.
    """
    return list(synthetic_events(spec, seed, tag))


def synthetic_events(spec: SyntheticSource, seed: int, tag: str = "") -> Iterator[Event]:
    """``synthetic``'s events one at a time, in seq order, the spec checked first: a run
    traces each as it is made and never holds them all untraced (a third of its memory).
    ``tag``: the run's, whose string ids they carry (``_run_ids``)."""
    return Shape(checked(spec)).events(seed, tag)


def marked_synthetic(
    spec: SyntheticSource, seed: int, tag: str = ""
) -> tuple[tuple[Event, ...], dict[str, Marks]]:
    """``synthetic``'s events, and by event id what of each the tracer marks by whose it is
    (``Shape.marks``): for a run that picks some of them before tracing (``schedule:``)."""
    shape = Shape(checked(spec))
    events: list[Event] = []
    marks: dict[str, Marks] = {}
    for drawn in shape.draws(seed, tag):
        events.append(shape.event(drawn))
        found = shape.marks(drawn)
        if found is not None:
            marks[events[-1].id] = found
    return tuple(events), marks


def checked(spec: SyntheticSource) -> SyntheticSource:
    """``spec``, its paths resolved in its example and its times one per event; else
    SourceError."""
    _check_paths(spec, Sample.example(spec.example), "synthetic source")
    if spec.times and len(spec.times) != spec.events:
        raise SourceError(
            f"{len(spec.times)} times given for {spec.events} events",
            where="synthetic source",
            hint="give one time per event, or none",
        )
    return spec


class Drawn(NamedTuple):
    """What one synthetic event drew: its seq and time, id and key (as the payload holds them),
    type, its number within its record, the new value of each atom (by atom text), and the
    time written at the time path."""

    seq: int
    at: float
    event_id: Any
    key: Any
    type: str
    nth: int
    values: dict[str, Any]
    stamp: Any


@dataclass(frozen=True, slots=True)
class Draws:
    """A batch of events' draws (``Shape.batches``): each of ``Drawn``'s fields a column, one
    item an event, and ``values`` each atom's column by atom text; ``row(j)``, the Drawn of its
    ``j``-th event."""

    seq: Sequence[int]
    at: list[float]
    event_id: list[Any]
    key: list[Any]
    type: list[str]
    nth: list[int]
    values: dict[str, list[Any]]
    stamp: list[Any]

    def __len__(self) -> int:
        return len(self.seq)

    def row(self, j: int) -> Drawn:
        values = {text: column[j] for text, column in self.values.items()}
        return Drawn(
            self.seq[j],
            self.at[j],
            self.event_id[j],
            self.key[j],
            self.type[j],
            self.nth[j],
            values,
            self.stamp[j],
        )

    def picked(self, events: list[int]) -> Draws:
        """The batch of the events at ``events`` (indexes into this one), in that order."""
        if len(events) == len(self.seq):
            return self
        return Draws(
            [self.seq[j] for j in events],
            [self.at[j] for j in events],
            [self.event_id[j] for j in events],
            [self.key[j] for j in events],
            [self.type[j] for j in events],
            [self.nth[j] for j in events],
            {text: [column[j] for j in events] for text, column in self.values.items()},
            [self.stamp[j] for j in events],
        )


def _same(spec: SyntheticSource) -> set[Steps]:
    """The places of the values ``same:`` keeps: each path, and every other place the example
    has that value (Slack's team id is in ``team_id``, ``event.team`` and each
    authorization), so that one account's events are one account's everywhere."""
    kept = {_paths.parse(path) for path in spec.same}
    values = {str(_paths.get(spec.example, steps, None)) for steps in kept}
    found = {
        steps
        for steps, value in _paths.leaves(spec.example)
        if not isinstance(value, dict | list) and str(value) in values
    }
    return kept | found


class Shape:
    """A synthetic source read once: its paths, its example's atoms (``Variation``), how its
    ids and keys are made; ``draws`` each event's values, ``event`` builds its payload."""

    def __init__(self, spec: SyntheticSource) -> None:
        self.spec = spec
        self.id_steps = _paths.parse(spec.id_path) if spec.id_path else None
        self.key_steps = _paths.parse(spec.key_path)
        self.type_steps = _paths.parse(spec.type_path) if spec.type_path else None
        self.seq_steps = _paths.parse(spec.seq_path) if spec.seq_path else None
        self.time_steps = _paths.parse(spec.time_path) if spec.time_path else None
        self.later = [(_paths.parse(path), value) for path, value in spec.later]
        keep = {s for s in (self.type_steps, self.seq_steps) if s is not None}
        keep.update(steps for steps, _ in self.later)
        keep.update(_same(spec))
        self.plan = Variation(
            spec.example,
            id_steps=self.id_steps,
            key_steps=self.key_steps,
            time_steps=self.time_steps,
            keep=keep,
        )
        plan = self.plan
        self.record_emails = plan.record_emails()
        self.own_id = plan.own_atom.text if plan.own_atom is not None else None
        self.marked = bool(self.record_emails) or self.own_id is not None  # ``marks`` gives any
        self.id_atom = plan.id_atom if plan.id_atom and len(plan.id_atom.text) >= _SHAPED else None
        self.key_atom = (
            plan.key_atom if plan.key_atom and len(plan.key_atom.text) >= _SHAPED else None
        )
        example = spec.example
        id_example = _paths.get(example, self.id_steps, None) if self.id_steps else None
        self.id_prefix = _prefix(id_example, "evt_")
        self.key_prefix = _prefix(_paths.get(example, self.key_steps, None), "rec_")
        self.default_type = (
            str(_paths.get(example, self.type_steps, "event")) if self.type_steps else "event"
        )
        # The paths ``event`` writes after the atoms, in its order, each with the field of
        # Drawn it writes there.
        self.puts: list[tuple[Steps, str]] = [
            (steps, name)
            for steps, name in (
                (self.id_steps, "event_id"),
                (self.key_steps, "key"),
                (self.type_steps, "type"),
                (self.seq_steps, "nth"),
                (self.time_steps, "stamp"),
            )
            if steps or (steps is not None and name in ("event_id", "key"))
        ]

    def draws(self, seed: int, tag: str = "") -> Iterator[Drawn]:
        """Each event's draws, in seq order (``synthetic``'s docstring says what varies); the
        string ids those of the run tagged ``tag`` (``_run_ids``), or the seed's without one."""
        for batch in self.batches(seed, tag):
            for j in range(len(batch)):
                yield batch.row(j)

    def batches(self, seed: int, tag: str = "") -> Iterator[Draws]:
        """``draws``' events, a batch at a time, as columns (``Draws``)."""
        spec, plan = self.spec, self.plan
        run = RunAlphabets(tag) if tag else None
        id_atom, key_atom = self.id_atom, self.key_atom
        rng = random.Random(seed)
        fake = FakeText(seed)
        owners = Owners(spec.events, spec.records, rng)
        least, extra = divmod(spec.events, spec.records)  # ``owners.count``: least + (r < extra)
        id_text = plan.id_atom.text if plan.id_atom is not None else None
        key_text = plan.key_atom.text if plan.key_atom is not None else None
        record_texts = [a.text for a in plan.per_record]
        # A record's key and values, drawn as its first event is made, let go after its last:
        # the first event does not wait for every record's draws, and only the records in
        # flight stay.
        live: dict[int, tuple[Any, dict[str, Any]]] = {}
        per_record = array("q", bytes(8 * spec.records))  # events made so far, by record
        keys = _Unique(key_atom is not None and plan.shapes(key_atom) < _UNCHECKED)
        ids = _Unique(id_atom is not None and plan.shapes(id_atom) < _UNCHECKED)
        owned = _Owned(plan, rng, run)
        times = synthetic_times(spec)
        types = spec.types

        def first_draws(record: int) -> tuple[Any, dict[str, Any]]:
            """A record's key and values, drawn at its first event."""
            key: Any = f"{self.key_prefix}{record + 1:05d}"
            if key_atom is not None:
                key = keys.drawn(lambda: plan.new_id(key_atom, rng))
            return key, owned(plan.record_values(rng, fake, run))

        for start in range(0, spec.events, _BATCH):
            # A batch's per-event draws at once (``Variation.columns``); a record's, as its
            # first event is reached.
            at_batch = list(islice(times, _BATCH))
            count = len(at_batch)
            instants = Instants(at_batch, spec.epoch)
            event_ids: list[Any] = []
            drawn_ids = False  # the batch's ids drawn at once
            if id_atom is not None and ids.taken is None:
                event_ids, drawn_ids = plan.new_ids(id_atom, rng, count), True
            columns = plan.columns(rng, fake, instants, run)
            records = owners.many(start, start + count)
            # A record's first draws as its first event is reached, each event's id after its
            # record's: in one pass of the batch's records where the ids are drawn already.
            if drawn_ids or (id_atom is None and self.id_steps is not None):
                if not drawn_ids:
                    event_ids = [
                        f"{self.id_prefix}{i + 1:06d}" for i in range(start, start + count)
                    ]
                for record in dict.fromkeys(records):  # in the order they are first reached
                    if record not in live:
                        live[record] = first_draws(record)
            else:
                for record in records:
                    if record not in live:
                        live[record] = first_draws(record)
                    if id_atom is not None:
                        event_ids.append(ids.drawn(lambda: plan.new_id(id_atom, rng)))
                    else:
                        event_ids.append(random_uuid(rng))
            drawn = [live[record] for record in records]  # each event's record's key and values
            batch_keys = [key for key, _ in drawn]
            nths: list[int] = []  # each event's number within its record
            for record in records:
                nth = per_record[record] = per_record[record] + 1
                nths.append(nth)
                if nth == least + (record < extra):  # its last event: let go
                    del live[record]
            seqs = range(start, start + count)
            values = {text: [v[text] for _, v in drawn] for text in record_texts}
            values.update(columns)
            if plan.counts:
                values.update(plan.counted_columns(seqs, records))
            if id_text is not None:
                values[id_text] = event_ids
            if key_text is not None:
                values[key_text] = batch_keys
            yield Draws(
                seqs,
                at_batch,
                event_ids,
                batch_keys,
                [types[i % len(types)] for i in seqs] if types else [self.default_type] * count,
                nths,
                values,
                self._stamps(instants, values),
            )

    def _stamps(self, instants: Instants, values: dict[str, list[Any]]) -> list[Any]:
        """The time written at the source's time path, per event (None: it has none): as the
        example writes it (Unix seconds or milliseconds stay numbers); an ISO time of a
        calendar's month (``epoch``) in local time with its offset, DST included. The time atom
        is the event's anchor: ``values`` has its column already."""
        atom = self.plan.time_atom
        if not self.time_steps:
            return [None] * len(instants)
        if self.spec.epoch is not None and (atom is None or atom.unit == "iso"):
            return [when.isoformat() for when in instants.whens]
        if atom is None:
            return [render_time(None, when) for when in instants.whens]
        return values[atom.text]

    def events(self, seed: int, tag: str = "") -> Iterator[Event]:
        """Each event, in seq order, its payload an object (``draws``)."""
        for drawn in self.draws(seed, tag):
            yield self.event(drawn)

    def marks(self, drawn: Drawn) -> Marks | None:
        """What of ``drawn``'s payload the tracer marks by whose it is (``_tracer.Marks``):
        its record's emails' values, its own object's id's; None where there is neither."""
        if not self.marked:
            return None
        values = drawn.values
        emails = frozenset(v for t in self.record_emails if type(v := values[t]) is str)
        own = values[self.own_id] if self.own_id is not None else None
        return Marks(emails, own if type(own) is str else None)

    def event(self, drawn: Drawn) -> Event:
        """The event of ``drawn``: the example with its atoms and paths written."""
        payload = self.plan.apply(drawn.values)
        for steps, name in self.puts:
            _paths.put(payload, steps, getattr(drawn, name))
        if drawn.nth > 1:  # a record's later events: an issue edited, not opened again
            for steps, value in self.later:
                _paths.put(payload, steps, value)
        return Event(str(drawn.event_id), str(drawn.key), drawn.seq, drawn.type, drawn.at, payload)


def synthetic_times(spec: SyntheticSource) -> Iterator[float]:
    """The times (scenario seconds) of ``spec``'s events, by seq, as its events carry them:
    what a run's schedule is planned from before any payload is made."""
    if spec.times:
        yield from spec.times
        return
    step = spec.over / spec.events if spec.events else 0.0
    for i in range(spec.events):
        yield i * step


def synthetic_types(spec: SyntheticSource) -> frozenset[str]:
    """The event types ``spec``'s events carry, without making them."""
    if spec.types:
        return frozenset(spec.types[: spec.events])
    steps = _paths.parse(spec.type_path) if spec.type_path else None
    return frozenset({str(_paths.get(spec.example, steps, "event")) if steps else "event"})


# Ids and keys of a shape with this many values or more are not checked for repeats: a million
# of them repeat one with odds below 1e-16 (a UUID's are never checked), and the set of every
# one made held 104 MiB for a million ids of Stripe's shape (``pi_`` and 24 characters).
_UNCHECKED = 2**96


class _Unique:
    """Values drawn until one is new (``checked``), else taken as drawn."""

    def __init__(self, checked: bool) -> None:
        self.taken: set[Any] | None = set() if checked else None

    def drawn(self, draw: Callable[[], Any]) -> Any:
        if self.taken is None:
            return draw()
        for _ in range(_DRAWS):
            made = draw()
            if made not in self.taken:
                self.taken.add(made)
                return made
        raise SourceError(
            f"cannot make {len(self.taken) + 1:,} different ids of the example's shape",
            where="synthetic source",
            hint="use a longer id or key in the example, or fewer events or records",
        )


_DRAWS = 50


# A record's own ids of a shape with this many values or more are not kept apart: a million
# records repeat one with odds below 1e-7, and only the ids of smaller shapes (numbers, short
# codes) are held, one set per id of the record's objects.
_OWNED_UNCHECKED = 2**64


class _Owned:
    """Keeps the ids a record's own objects hold (``Variation.record_ids``) apart between
    records: two issues of one repository never share a ``number``, as two records never share
    a key. An id of the example's shape has few values (a 4-digit issue number: 1,000), and
    drawn at random 40 records shared one about once in two runs — an automation that upserts
    by it (GitHub's own API addresses an issue by its number) then merged two issues into one,
    and the verdicts judged the harness's doing. Where the shape has fewer values than there
    are records, a repeat is taken as drawn."""

    def __init__(
        self, plan: Variation, rng: random.Random, run: RunAlphabets | None = None
    ) -> None:
        self._plan, self._rng, self._run = plan, rng, run
        self._atoms = [a for a in plan.record_ids() if plan.shapes(a) < _OWNED_UNCHECKED]
        self._taken: dict[str, set[Any]] = {a.text: set() for a in self._atoms}

    def __call__(self, values: dict[str, Any]) -> dict[str, Any]:
        for atom in self._atoms:
            taken = self._taken[atom.text]
            made = values[atom.text]
            for _ in range(_DRAWS):
                if made not in taken:
                    break
                made = self._plan.new_id(atom, self._rng, self._run)
            values[atom.text] = made
            taken.add(made)
        return values


_DIFFERING_KEPT = 20  # redeliveries with another payload named in the run's settings


@dataclass(frozen=True, slots=True)
class Redelivery:
    """A later line of a recorded file with the id of an earlier one: the same event, delivered
    again at ``at`` (its own offset, as the line would have been sent on its own)."""

    event: int  # the event's seq
    at: float
    line: int


@dataclass(frozen=True, slots=True)
class Stream:
    """A source's events, and the deliveries of them its recording holds beyond the first.

    ``differing``: (event id, first line, later line, paths) for each redelivery whose payload
    differs from its event's first line — the first line's payload is the one sent every time.
    ``newest_first``: how many lines of the recorded file were taken in reverse, oldest first,
    the file being newest first (``_newest_first``); 0 for a file read in its order.
    """

    events: tuple[Event, ...]
    redeliveries: tuple[Redelivery, ...] = ()
    differing: tuple[tuple[str, int, int, tuple[str, ...]], ...] = ()
    newest_first: int = 0

    def settings(self, source: Source) -> dict[str, Any]:
        """What a run keeps of its recorded file's order and redeliveries, for the report
        (nothing for a file in time order without redeliveries)."""
        if not isinstance(source, RecordedSource):
            return {}
        found: dict[str, Any] = {}
        if self.newest_first:
            found["newest_first"] = {"file": source.path.name, "lines": self.newest_first}
        if not (self.redeliveries or self.differing):
            return found
        return {
            **found,
            "redeliveries": {
                "file": source.path.name,
                "events": len({r.event for r in self.redeliveries}),
                "deliveries": len(self.redeliveries),
                "differing": [
                    {"event": eid, "lines": [first, line], "paths": list(paths)}
                    for eid, first, line, paths in self.differing[:_DIFFERING_KEPT]
                ],
                "differing_count": len(self.differing),
            },
        }


def load_stream(source: Source, seed: int, tag: str = "") -> Stream:
    """The source's events; a synthetic source's string ids those of the run tagged ``tag``."""
    if isinstance(source, SchemaSource):
        _check_paths(source, Sample.example(source.example), source.origin)
        return Stream(tuple(generated(source, seed)))
    if isinstance(source, SyntheticSource):
        return Stream(tuple(synthetic(source, seed, tag)))
    return recorded(source)


def sample_of(source: Source) -> Sample:
    """What the source's paths are checked against: the example, or every line of the file
    (read again on each check, never held whole)."""
    if isinstance(source, SyntheticSource):
        return Sample.example(source.example)
    return Sample(source.path.name, RecordPayloads(source))


# The source's paths by the name of their field in a scenario file, and their attribute.
_PATH_FIELDS = {
    "id": "id_path",
    "key": "key_path",
    "type": "type_path",
    "sequence": "seq_path",
    "time": "time_path",
}
_SYNTHETIC_DEFAULTS = {f.name: f.default for f in fields(SyntheticSource)}


def source_paths(source: Source) -> dict[str, str]:
    """The paths a source reads its events by, by the name of their field in the scenario
    file (``key``: ``$.data.order_id``): each must resolve in the source's sample."""
    found = {name: getattr(source, attribute, None) for name, attribute in _PATH_FIELDS.items()}
    return {name: path for name, path in found.items() if path is not None}


def given_paths(source: SyntheticSource) -> dict[str, str | None]:
    """A synthetic source's paths that are not their defaults, by the name of their field in
    the scenario file (None: a path it reads nothing at)."""
    found = {name: getattr(source, attribute) for name, attribute in _PATH_FIELDS.items()}
    return {
        name: path
        for name, path in found.items()
        if path != _SYNTHETIC_DEFAULTS[_PATH_FIELDS[name]]
    }


def _check_paths(spec: Source, sample: Sample, where: str) -> None:
    """The source's paths resolve in its sample (a scenario file is checked when loaded, with
    its lines; this is for sources built in Python). A synthetic path left at its default may
    be written where the example has nothing, as it always could."""
    synthetic = isinstance(spec, SyntheticSource)
    given = given_paths(spec) if isinstance(spec, SyntheticSource) else {}
    for name, json_path in source_paths(spec).items():
        if synthetic and name not in given:
            continue
        problem = sample.unresolved(json_path)
        if problem is not None:
            fix = "example" if synthetic else "lines"
            raise SourceError(
                f"{name} path {json_path!r}: {problem}",
                where=where,
                hint=f"fix the {fix} or the source's {name} path",
            )


def recorded(spec: RecordedSource) -> Stream:
    """Events from a JSONL file. Each line: an event object, or a bare payload.

    An event object has ``payload`` and optionally ``id``, ``key``, ``type``, ``headers``,
    ``occurred_at`` (ISO 8601 or Unix seconds). Without a ``payload`` member the line itself is
    the payload and the scenario's paths say where id, key and type live. Every line is checked
    as ``_recorded`` says.

    Lines that share an event id are one event delivered again (``redeliveries: merge``, the
    default): the first line is the event, each later one a Redelivery at its own offset — the
    schedule is the one the lines would get each on its own. ``separate`` makes each line an
    event of its own.
    """
    # Made once within ``shared_reads`` (the run's and its clean run's prepares).
    return _shared.made(spec.path, ("stream", spec), lambda: _recorded_stream(spec))


def _recorded_stream(spec: RecordedSource) -> Stream:
    _check_paths(spec, sample_of(spec), str(spec.path))
    rows = list(_recorded.lines(spec))
    flipped = len(rows) if _newest_first(rows) else 0
    if flipped:  # the seq of a line is its place in the file: a record's latest its newest
        rows = [replace(r, event=replace(r.event, seq=n)) for n, r in enumerate(reversed(rows))]
    lines = _space(rows, spec.over)
    if spec.redeliveries == "separate":
        return Stream(tuple(lines), newest_first=flipped)
    return replace(_merged(lines, [row.number for row in rows]), newest_first=flipped)


def _newest_first(rows: Sequence[_recorded.Line]) -> bool:
    """Are the lines wholly newest first — each line's time at or before the one above it,
    the first's after the last's (``stripe events list`` written a line each, ``jq -c
    '.data[]'``)? Replayed in file order, each record's latest event by seq would be its
    oldest: final states and the register's latest would read time backwards. A file in no
    one order keeps its lines' order (a log of arrivals out of order is what it recorded)."""
    times = [r.at for r in rows if r.at is not None]
    if len(times) < 2 or len(times) < len(rows):
        return False
    return times[0] > times[-1] and all(a >= b for a, b in pairwise(times))


def _merged(lines: list[Event], numbers: list[int]) -> Stream:
    """One event per id, numbered in order of first appearance; later lines redeliver it."""
    first: dict[str, tuple[Event, int]] = {}
    events: list[Event] = []
    redeliveries: list[Redelivery] = []
    differing: list[tuple[str, int, int, tuple[str, ...]]] = []
    for line, number in zip(lines, numbers, strict=True):
        seen = first.get(line.id)
        if seen is None:
            # A line's seq is its place in the file: the event's, until a line redelivers one.
            event = line if line.seq == len(events) else replace(line, seq=len(events))
            first[line.id] = (event, number)
            events.append(event)
            continue
        event, first_number = seen
        redeliveries.append(Redelivery(event.seq, line.occurred_at, number))
        changed = _differences(event.payload, line.payload)
        if changed:
            differing.append((event.id, first_number, number, changed))
    return Stream(tuple(events), tuple(redeliveries), tuple(differing))


def _differences(a: Any, b: Any, here: tuple[_paths.Step, ...] = ()) -> tuple[str, ...]:
    """The paths at which two payloads differ (a few; the first few say enough)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found: list[str] = []
        for name in dict.fromkeys([*a, *b]):
            if name not in a or name not in b:
                found.append(_paths.render((*here, name)))
            else:
                found.extend(_differences(a[name], b[name], (*here, name)))
        return tuple(found[:_DIFFERENCES_KEPT])
    if a == b and type(a) is type(b):
        return ()
    return (_paths.render(here),)


_DIFFERENCES_KEPT = 5


def _space(rows: list[_recorded.Line], over: float | None) -> list[Event]:
    """Offsets from the earliest line: spread evenly over ``over`` s in file order, else by
    occurred_at (1 s apart in file order when no line has one)."""
    if over is not None:
        step = over / len(rows)
        times = [i * step for i in range(len(rows))]
    else:
        stamps = [r.at if r.at is not None else float(r.event.seq) for r in rows]
        first = min(stamps)
        times = [t - first for t in stamps]
    # Built, not ``replace``d: a third of the time, once an event.
    return [
        Event(e.id, e.key, e.seq, e.type, t, e.payload, e.headers)
        for e, t in zip((r.event for r in rows), times, strict=True)
    ]
