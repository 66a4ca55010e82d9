"""Plain words for a reader who never saw the code: what was done to the system, and names.

"200 order.paid events for 50 records; all squeezed into 3 s (a burst)"; "api down (503) for
4 min from 00:10". Built from the run's settings (the declared perturbations) and from the
history (what was actually delivered), never from the scenario file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..core._model import Fault
from ..drive._drift import DRIFT_KINDS, drift_sentence
from ..drive._perturb import TAMPER_DEFAULTS
from ..history import History, delivery_column, delivery_numbers, event_column
from ..invariants._facts import nones, plural
from ..invariants._stopped import stop_of, stopped_line
from ..invariants._timing import compression, time_scale
from ..invariants.target_available import NoAnswer, no_answer
from ._settling import late_sentence, settle_sentence

TITLES = {
    "no_lost_events": "Nothing lost",
    "no_duplicate_effects": "No duplicate effects",
    "per_key_order": "Record order kept",
    "ack_within": "Fast acknowledgement",
    "recovers_after_outage": "Recovers after an outage",
    "no_server_errors": "No server errors",
    "backs_off": "Backs off a refusing API",
    "final_state_matches_baseline": "Same final state as a clean run",
    "drift_is_loud": "Drifted fields caught",
    "big_numbers_intact": "64-bit ids intact",
    "amounts_intact": "Amounts to the cent",
    "rejects_forged": "Tampered deliveries refused",
    "accepts_genuine": "Genuine deliveries accepted",
    "effects_match_contract": "Requests the API accepts",
    "target_available": "Target kept answering",
}
# What a failure of each invariant is called in a sentence: "duplicate effects in ...".
FAILURES = {
    "no_lost_events": "lost events",
    "no_duplicate_effects": "duplicate effects",
    "per_key_order": "out-of-order effects",
    "ack_within": "slow acknowledgements",
    "recovers_after_outage": "work lost in an outage",
    "no_server_errors": "server errors",
    "backs_off": "calls hammering a refusing API",
    "final_state_matches_baseline": "a final state unlike a clean run's",
    "drift_is_loud": "silently corrupted drifted events",
    "big_numbers_intact": "rounded 64-bit ids",
    "amounts_intact": "amounts changed through a double",
    "rejects_forged": "tampered deliveries accepted",
    "accepts_genuine": "genuine deliveries refused",
    "effects_match_contract": "requests the real API would refuse",
    "target_available": "a target that stopped answering",
}
_TIMES = {1: "once", 2: "twice", 3: "three times"}


def title(invariant: str) -> str:
    return TITLES.get(invariant, invariant.replace("_", " ").capitalize())


def failure(invariant: str, model: str = "") -> str:
    if invariant == "per_key_order" and model == "register":
        return "stale overwrites"
    return FAILURES.get(invariant, f"{invariant.replace('_', ' ')} failures")


def times(n: int) -> str:
    return _TIMES.get(n, f"{n:,} times")


def percent(rate: float) -> str:
    return f"{rate * 100:.0f}%" if rate * 100 >= 1 or rate == 0 else f"{rate * 100:.1g}%"


def duration(seconds: float) -> str:
    """``250 ms``, ``3.0 s``, ``4 min``, ``1 h 5 min``, ``3 days``."""
    s = abs(seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms" if s >= 0.01 else f"{s * 1000:.1f} ms"
    if s < 60:
        return f"{s:.1f} s" if s < 10 and round(s, 1) != round(s) else f"{s:.0f} s"
    if s < 3600:
        minutes, rest = divmod(round(s), 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    if s < 86400 * 2:
        hours, rest = divmod(round(s / 60), 60)
        return f"{hours} h" + (f" {rest} min" if rest else "")
    return f"{s / 86400:.0f} days"


def clock(seconds: float) -> str:
    """A point on the run's timeline as ``mm:ss`` (``h:mm:ss`` past an hour)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def perturbation(kind: str, params: Mapping[str, Any]) -> str:
    """One declared perturbation as a sentence fragment."""
    if kind in DRIFT_KINDS:
        return drift_sentence(kind, params)
    if kind == "duplicate":
        copies = int(params.get("copies", 2))
        spread = float(params.get("spread", 0))
        apart = f" up to {duration(spread)} apart" if spread else " at the same instant"
        rate = float(params.get("rate", 0.3))
        return f"{percent(rate)} of events delivered {times(copies)}{apart}"
    if kind == "burst":
        count = params.get("count")
        which = f"the first {int(count):,} events" if count else "all events"
        return f"{which} squeezed into {duration(float(params['within']))} (a burst)"
    if kind == "simultaneous":
        per, records = int(params.get("events", 2)), int(params.get("records", 1))
        return (
            f"up to {per} updates of one record sent at the same instant, "
            f"for {records:,} record{'s' if records != 1 else ''}"
        )
    if kind == "reorder":
        rate = float(params.get("rate", 1.0))
        share = "" if rate >= 1 else f" ({percent(rate)} of windows)"
        return f"deliveries shuffled within windows of {int(params.get('window', 5))}{share}"
    if kind == "replay":
        n = int(params.get("times", 1))
        gap = duration(float(params.get("gap", 1.0)))
        again = "once more" if n == 1 else f"{n} more times"
        return f"the whole stream replayed {again}, {gap} after each pass ended"
    if kind == "tamper":
        return _tamper(params)
    detail = ", ".join(f"{k} {v}" for k, v in params.items())
    return f"{kind.replace('_', ' ')}" + (f" ({detail})" if detail else "")


def _tamper(params: Mapping[str, Any]) -> str:
    params = {**TAMPER_DEFAULTS, **params}
    mode, rate = str(params.get("mode")), percent(float(params["rate"]))
    age = duration(float(params["age"]))
    if mode == "replayed":
        after = duration(float(params["after"]))
        return f"{rate} of deliveries replayed {after} later as captured, signed {age} before"
    what = {
        "forged": "with a forged signature",
        "unsigned": "without a signature",
        "stale": f"signed {age} before (stale)",
    }.get(mode, mode)
    return f"{rate} of deliveries sent {what}"


def _provider(settings: Mapping[str, Any]) -> str:
    """``Delivered as slack does: ack timeout 0.5 s, up to 3 retries.``"""
    name = settings.get("provider")
    if not name:
        return ""
    retries = settings.get("retries") or []
    ack = settings.get("ack_timeout")
    wait = f"ack timeout {duration(float(ack))}, " if ack else ""
    again = (
        f"up to {len(retries)} retr{'y' if len(retries) == 1 else 'ies'}"
        if retries
        else "no retries"
    )
    return f"Delivered as {name} does: {wait}{again} of an unacknowledged delivery."


def _fault_words(mode: str, p: Mapping[str, Any]) -> str:
    """What a downstream does in a fault window (the modes of ``FaultSpec``)."""
    status = int(p.get("status", 503))
    code = f"({status})"
    if mode == "status":
        return f"down {code}" if status >= 500 else f"answering {status}"
    if mode == "throttle":
        return f"rate-limiting (429, Retry-After {duration(float(p.get('retry_after', 1)))})"
    if mode == "timeout":
        return f"not answering (calls held {duration(float(p.get('hold', 30)))})"
    if mode == "reset":
        return "dropping connections"
    if mode == "slow":
        jitter = float(p.get("jitter", 0))
        spread = f" ± {duration(jitter)}" if jitter else ""
        return f"answering slowly ({duration(float(p.get('latency', 1)))}{spread} per call)"
    if mode == "commit-then-fail":
        if p.get("then") == "timeout":
            return "applying writes, then not answering"
        return f"applying writes, then failing the answer {code}"
    if mode == "rate-limit":
        return f"rate-limiting to {float(p.get('rate', 0)):g} calls/s (429 beyond)"
    if mode == "fail-first-n":
        count = int(p.get("count", 1))
        return f"failing the first {count} call{'s' if count != 1 else ''} {code}"
    detail = ", ".join(f"{k} {v}" for k, v in p.items())
    return mode.replace("_", " ").replace("-", " ") + (f" ({detail})" if detail else "")


def fault(f: Fault, scale: float = 1.0) -> str:
    """``payments down (503) for 4 min from 00:10``; under a time scale, in scenario time with
    the wall time after it: ``... from 00:10 of scenario time (4.8 s from 0.2 s of wall time)``.

    ``f`` is on the run's (wall) clock, as the journal keeps it.
    """
    words = _fault_words(f.mode, f.params)
    route = f" on {f.params['route']}" if f.params.get("route") else ""
    start, end = f.start / scale, f.end / scale
    text = f"{f.downstream} {words}{route} for {duration(end - start)} from {_when(start, end)}"
    if scale == 1:
        return text
    wall = f"{duration(f.end - f.start)} from {_when(f.start, f.end)} of wall time"
    return f"{text} of scenario time ({wall})"


def _when(start: float, end: float) -> str:
    # mm:ss reads well on a run of minutes; a run of seconds needs the tenths.
    return clock(start) if end >= 60 else f"{start:.1f} s"


def _attribution(settings: Mapping[str, Any]) -> str:
    """How effects were tied to events, when not by tracer values alone (docs/correlation.md)."""
    tracer = settings.get("tracer")
    tracer = tracer if isinstance(tracer, Mapping) else {}
    rewrite = tracer.get("rewrite", "all")
    rules = [str(r.get("rule")) for r in settings.get("correlate") or () if isinstance(r, Mapping)]
    means = ["tracer values"] if rewrite in ("all", "paths") else []
    rule_s = "rules" if len(rules) > 1 else "rule"
    means += [f"correlate: {rule_s} ({'; '.join(rules)})"] if rules else []
    if rewrite == "all":
        return f"Effects were attributed by {' and by '.join(means)}." if rules else ""
    means.append("event ids and record keys carried as sent")
    by = ", by ".join(means[:-1]) + (" and by " if len(means) > 1 else "") + means[-1]
    if rewrite == "off":
        sent = "The events were sent as recorded (tracer rewriting off)"
    elif rewrite == "ids":
        sent = "The events were sent as recorded but for their ids, each this run's own"
    else:
        sent = f"Only the values at {', '.join(map(str, tracer.get('paths', ())))} were traced"
    return f"{sent}: effects were attributed by {by}."


def _timing(history: History) -> str:
    """Scenario time and wall time of the whole run."""
    if "time_scale" not in history.info.settings or history.ended_at is None:
        return ""
    scale, wall = time_scale(history), history.ended_at
    if scale == 1:
        return f"The run took {duration(wall)}, in real time (time scale 1)."
    return (
        f"Time was compressed (time scale {scale:g}): {duration(wall / scale)} of scenario time "
        f"ran in {duration(wall)} of wall time; the delivery timeout, the target's own work and "
        f"the settling were not compressed. {_capital(compression(history))}."
    )


def what_was_done(history: History) -> tuple[str, ...]:
    """The run in sentences: source, declared perturbations, faults, what was observed."""
    settings = history.info.settings
    sentences = [*settings.get("adapted", ()), _source(history)]
    sentences.extend(_clocks(settings.get("clocks")))
    declared = [
        perturbation(kind, params or {})
        for item in settings.get("perturbations", ())
        for kind, params in item.items()
    ]
    if declared:
        sentences.append("Perturbed: " + "; ".join(declared) + ".")
    sentences.extend(_replayed(settings.get("recorded")))
    sentences.extend(newest_first(settings))
    sentences.extend(_redelivered(settings.get("redeliveries")))
    delivered_as = _provider(settings)
    if delivered_as:
        sentences.append(delivered_as)
    sentences.extend(_capital(fault(f, time_scale(history))) + "." for f in history.faults)
    repeated = _repeats(history)
    if repeated:
        sentences.append(repeated)
    trouble = _trouble(history)
    if trouble:
        sentences.append(trouble)
    attributed = _attribution(settings)
    if attributed:
        sentences.append(attributed)
    sentences.extend(s for s in (settle_sentence(history, duration), late_sentence(history)) if s)
    stop = stop_of(history)
    if stop is not None:
        sentences.append(_capital(stopped_line(stop)) + ".")
    timing = _timing(history)
    if timing:
        sentences.append(timing)
    return tuple(sentences)


def _source(history: History) -> str:
    events = history.events
    types = sorted(filter(None, set(event_column(events, "type"))))
    kind = " and ".join(types[:3]) + " " if 0 < len(types) <= 3 else ""
    records = len(set(event_column(events, "key")))
    text = f"{len(events):,} {kind}events for {records:,} record{'s' if records != 1 else ''}"
    ds = history.deliveries
    if not ds:
        return text + "; nothing was delivered."
    sent = delivery_numbers(ds, "sent_at")
    first = float(sent.min())
    span = float(sent.max()) - first
    pace = f" ({len(ds) / span:,.0f} a second)" if span > 0 else ""
    delivered = f"{len(ds):,} deliver{'ies' if len(ds) != 1 else 'y'}"
    return f"{text}: {delivered} sent over {duration(span)}{pace}."


def _clocks(clocks: Any) -> list[str]:
    """A distributed load test's workers' clocks, as its master measured them when they
    joined and, a run judged at its end, again then (``harness_locust._clock``): every sent
    and answered time is on the run's clock to within the largest uncertainty, the join's
    widened by how far a clock moved, which the judge allows for."""
    if not isinstance(clocks, Mapping):
        return []
    workers = [w for w in clocks.get("workers") or () if isinstance(w, Mapping)]
    offsets = join_words([f"{float(w.get('offset', 0.0)):+.3f} s" for w in workers])
    bound = float(clocks.get("uncertainty", 0.0))
    # Two digits of a fraction of a millisecond; a clock that moved, as any duration (not
    # .2g's "1.8e+02 ms").
    within = f"{bound * 1000:.2g} ms" if bound < 0.01 else duration(bound)
    again = ""
    if any("end" in w for w in workers):
        ends = [w.get("end") for w in workers]
        again = join_words(
            [
                f"{float(e.get('offset', 0.0)):+.3f} s" if isinstance(e, Mapping) else "not read"
                for e in ends
            ]
        )
        again = (
            f", and {again} when the test ended (the bound is the join's, widened by how far "
            "a clock moved meanwhile"
            + (": a worker not read again keeps its join's" if None in ends else "")
            + ")"
        )
    return [
        f"Delivered by {plural(len(workers), 'Locust worker')}, each timing its deliveries on "
        f"its own clock; the workers' clocks, measured against the master's as they joined, "
        f"were {offsets} from it{again}, so their times were put on the run's clock, known to "
        f"within {within}: a send timed against a write within that of it is not judged "
        "on it."
    ]


def _replayed(recorded: Any) -> list[str]:
    """How a recorded file was replayed (``drive._replay``): as recorded, or traced."""
    if not isinstance(recorded, Mapping):
        return []
    ids = [str(i) for i in recorded.get("ids") or ()]
    more = int(recorded.get("events", len(ids))) - len(ids)
    named = join_words(ids + ([f"{more:,} more"] if more > 0 else []))
    where = f"{recorded.get('file')} ({recorded.get('format')} format)"
    if recorded.get("replay") == "as recorded":
        return [f"Replayed {where} as recorded: the events' own ids and values ({named})."]
    originals = recorded.get("original_ids") or {}
    pairs = [f"{new} was {old}" for new, old in list(originals.items())[:3]]
    shown = f" ({join_words(pairs)})" if pairs else ""
    if recorded.get("replay") == "own ids":
        return [
            f"Replayed {where} as recorded but for its ids, each this run's own of the "
            f"recorded ids' shape{shown}, so that a target remembering ids meets each replay's "
            "events as new; the evidence names each event's recorded id beside its own."
        ]
    return [
        f"Replayed {where} with ids and values rewritten into tracer tokens{shown}; the "
        "evidence names each event's recorded id beside its token."
    ]


_EVENT_REF = re.compile(r"\bevent (\S+) \(")


def with_recorded_ids(lines: Sequence[str], settings: Mapping[str, Any]) -> tuple[str, ...]:
    """Evidence lines naming each traced event's recorded id beside its tracer token:
    ``event evt_zq…e3 (recorded as evt_1Pgc…, record …``; as they are when nothing was
    rewritten (a faithful replay names the recorded ids already)."""
    recorded = settings.get("recorded")
    originals = recorded.get("original_ids") if isinstance(recorded, Mapping) else None
    if not originals:
        return tuple(lines)

    def named(m: re.Match[str]) -> str:
        old = originals.get(m.group(1))
        return m.group(0) if old is None else f"{m.group(0)}recorded as {old}, "

    return tuple(_EVENT_REF.sub(named, line) for line in lines)


def newest_first(settings: Mapping[str, Any]) -> list[str]:
    """That a recorded file written newest first was replayed oldest first
    (``_sources.Stream.settings``): the run's report and its console say so."""
    found = settings.get("newest_first")
    if not isinstance(found, Mapping):
        return []
    return [
        f"The recorded file {found.get('file')} lists its {found.get('lines', 0):,} lines "
        "newest first (each line's time at or before the one above it, as `stripe events "
        "list` prints them): replayed and numbered oldest first, so each record's latest "
        "event is its newest."
    ]


def _redelivered(recorded: Any) -> list[str]:
    """What a recorded file's repeated event ids became (``_sources.Stream.settings``)."""
    if not isinstance(recorded, Mapping):
        return []
    events, deliveries = recorded.get("events", 0), recorded.get("deliveries", 0)
    out = [
        f"The recorded file {recorded.get('file')} delivered {events:,} "
        f"event{'s' if events != 1 else ''} more than once ({deliveries:,} "
        f"redeliver{'ies' if deliveries != 1 else 'y'}), sent again at their recorded times."
    ]
    differing = list(recorded.get("differing") or ())
    for d in differing[:_DIFFERING_SHOWN]:
        first, line = d["lines"]
        out.append(
            f"Line {line} redelivers {d['event']} (line {first}) with another payload, at "
            f"{join_words(list(d['paths']))}; line {first}'s payload was sent every time."
        )
    more = int(recorded.get("differing_count", len(differing))) - _DIFFERING_SHOWN
    if more > 0:
        out.append(f"{more:,} more redeliveries carry another payload than their first line.")
    return out


_DIFFERING_SHOWN = 3


def _repeats(history: History) -> str:
    per_event = Counter(delivery_column(history.deliveries, "event_id"))
    spread = Counter(n for n in per_event.values() if n > 1)
    if not spread:
        return ""
    parts = ", ".join(f"{times(n)}: {count:,}" for n, count in sorted(spread.items()))
    return (
        f"{spread.total():,} of {len(history.events):,} events were delivered more than once "
        f"({parts})."
    )


def _trouble(history: History) -> str:
    # An answer by its status; no answer by why none came (could not connect, reset, timed out):
    # the statuses counted, only the deliveries without one made.
    ds = history.deliveries
    statuses = list(delivery_column(ds, "status"))
    kinds: Counter[str] = Counter()
    for status, n in Counter(statuses).items():
        if status is not None:
            kinds[_answer_kind(status)] += n
    kinds.update(str(no_answer(ds[i]) or "no answer") for i in nones(statuses))
    ok = kinds.pop("ok", 0)
    if not kinds:
        return f"The target answered every delivery with 2xx ({ok:,})."
    order = ["rejected (4xx)", "failed (5xx)", *(k.value for k in NoAnswer), "no answer"]
    parts = [f"{kinds[k]:,} {k}" for k in order if kinds[k]]
    return "Deliveries the target did not accept: " + ", ".join(parts) + "."


def _answer_kind(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    return "rejected (4xx)" if 400 <= status < 500 else "failed (5xx)"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
