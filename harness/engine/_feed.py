"""A streamed run's events: made, traced and given their bodies as the deliveries reach them.

``prepare(stream=True)`` plans such a run from its events' times alone (a synthetic source's
times cost nothing to compute), where it can as it is sent (``drive/_plan_stream``), and leaves
the events to a Feed. As the Deliverer pulls slot after slot (planning it then), the Feed makes
the events up to the one the slot sends (source, tracer, body; the source draws them and the
tracer indexes them 256 at a time), hands each to the Recorder (its journal row, its index of
accepted events) and to the run's Tracer (attribution), and lets an event go once its last
slot has been sent: a run holds the events in flight, the schedule, and a payload-less copy of
each event made (what attribution, settling and learning expectations read), never all
payloads and bodies at once.

What streams: a synthetic source without an explicit schedule, traced in full, without drift,
``simultaneous`` or ``replay`` (they place a slot by the whole schedule), correlation rules
(they index every payload) or a batching provider; its event ids and keys are not numbers
(a number the payload also holds stays as recorded, which only the whole set of events
tells). Everything else is prepared whole, as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from itertools import count, islice

from ..core import _paths
from ..core._model import Event
from ..core._scenario import Scenario, SyntheticSource, TracerSpec
from ..core._text_event import payload_json
from ..drive._deliver import Planned
from ..drive._drift import is_drift
from ..drive._perturb import WHOLE_PLAN
from ..drive._plan_stream import PlanStream
from ..drive._schedule import Slot
from ..drive._tracer import Tracer

# Each event made: the event and its payload as JSON text.
Made = Callable[[Event, str], None]

# How far ahead of the slot being sent events are made: the slots due within AHEAD seconds
# (run clock) of it, at most AHEAD_SLOTS of them (a burst's worth, as bench_burst's).
AHEAD = 1.0
AHEAD_SLOTS = 2000
_BATCH = 256  # events traced at once (as many as the source draws at once)


def streamable(scenario: Scenario, tracing: TracerSpec) -> bool:
    """Can ``scenario``'s events be made as they are sent (the module's docstring)?"""
    source = scenario.source
    if type(source) is not SyntheticSource or scenario.schedule is not None:
        return False
    if scenario.correlate or not tracing.rewrite or tracing.paths:
        return False
    provider = scenario.delivery.provider
    if provider is not None and provider.max_batch > 1:
        return False
    if any(is_drift(p) or p.kind in WHOLE_PLAN for p in scenario.perturbations):
        return False
    return not any(
        _numeric(_paths.get(source.example, _paths.parse(path), None))
        for path in (source.id_path, source.key_path)
        if path
    )


def _numeric(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isdigit()
    )


class Feed:
    """The events of one streamed run, in seq order, made once (``sends``)."""

    def __init__(
        self,
        made: Iterator[tuple[Event, str | None]],
        count: int,
        types: frozenset[str],
        tracer: Tracer,
        body: Callable[[str], bytes],
    ):
        # Traced events, by seq, each with its payload's text laid out as its body is (None:
        # laid out by ``body``, ``Provider.body``, from its payload's text).
        self._made = made
        self._body = body
        self.count = count
        self.types = types
        self.tracer = tracer
        self._taken = False

    def sends(self, plan: PlanStream, on_event: Made) -> Iterator[Planned]:
        """Slot after slot of ``plan``, its event and body, making the events it reaches;
        ``on_event`` sees every event once, in seq order, before any send of it. The events of
        the slots due within AHEAD seconds after slot n (at most AHEAD_SLOTS slots) are made
        before slot n is given: while the Deliverer waits for its time, not in a burst. Once
        only."""
        if self._taken:
            raise RuntimeError("a streamed run's events are made once: prepare it again")
        self._taken = True
        slots = iter(plan)
        bodies = self._bodies(on_event)
        queue: deque[Slot] = deque()  # slots n, n+1, ... planned, their events made
        following: Slot | None = None  # the slot after them, planned, its event not made yet
        window: dict[int, tuple[Event, bytes]] = {}
        made = 0  # events made: seqs below it
        for n in count():
            # Made ahead, while the Deliverer waits for slot n: a burst's events are ready.
            while len(queue) < AHEAD_SLOTS:
                if following is None and (following := next(slots, None)) is None:
                    break
                if queue and following.at > queue[0].at + AHEAD:
                    break
                while made <= following.event:
                    ev, body = next(bodies)
                    window[ev.seq] = ev, body
                    made += 1
                queue.append(following)
                following = None
            if not queue:
                break
            slot = queue.popleft()
            seq = slot.event
            ev, body = window[seq]
            if plan.sent(seq):
                del window[seq]
            yield Planned(n, slot, body, ev.id, ev.type, dict(ev.headers))
        for _ in bodies:  # events no slot sends still belong to the run
            pass

    def _bodies(self, on_event: Made) -> Iterator[tuple[Event, bytes]]:
        """Each event made, with its body: traced a batch at a time (held payload-less, as
        columns), then seen by ``on_event`` one by one."""
        while made := list(islice(self._made, _BATCH)):
            self.tracer.extend([ev for ev, _ in made])
            for ev, laid in made:
                text = payload_json(ev)
                on_event(ev, text)
                yield ev, self._body(text) if laid is None else laid.encode()
