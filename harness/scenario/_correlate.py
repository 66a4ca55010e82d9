"""A scenario's ``correlate:`` rules and ``tracer:`` settings, built and checked against its
source: every event path must exist in the example payload (or in a recorded event), so a typo
is an error at its line instead of a rule that silently attributes nothing."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from ..core import _paths
from ..core._errors import SourceError
from ..core._scenario import (
    CorrelationRule,
    RecordedSource,
    Source,
    SyntheticSource,
    TracerSpec,
)
from ..drive._correlate import check_rule
from ..drive._formats import records
from ..drive._jsonl import payload_of
from ._lines import Loc, dotted
from ._schema import CorrelateDoc, TracerDoc

# Recorded events read to check paths: enough to meet every event type of a real export.
_SAMPLED_LINES = 1000
_LISTED_PATHS = 12


class CorrelationProblem(Exception):
    """A problem with a rule or the tracer settings, at ``loc`` of the document."""

    def __init__(self, loc: Loc, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


def correlation(
    rules: Sequence[CorrelateDoc], tracer: TracerDoc, source: Source, downstreams: Sequence[str]
) -> tuple[tuple[CorrelationRule, ...], TracerSpec]:
    """The rules and tracer settings of a scenario. Raises CorrelationProblem."""
    samples = _samples(source) if rules or tracer.paths else []
    built = tuple(_rule(i, doc, samples, downstreams) for i, doc in enumerate(rules))
    for i, path in enumerate(tracer.paths or ()):
        _exists(("tracer", "paths", i), path, samples)
    # Left out: None, which replays a recorded source as recorded (TracerSpec.resolved).
    given = "rewrite" in tracer.model_fields_set or tracer.paths is not None
    rewrite = tracer.rewrite if given else None
    return built, TracerSpec(rewrite=rewrite, paths=tuple(tracer.paths or ()))


def _rule(
    i: int, doc: CorrelateDoc, samples: list[Any], downstreams: Sequence[str]
) -> CorrelationRule:
    kind = doc.effect.kind
    rule = CorrelationRule(
        kind=kind,
        effect=str(getattr(doc.effect, kind)),
        event=doc.event,
        downstream=doc.downstream,
        route=doc.route,
        pattern=doc.pattern,
        transform=doc.transform,
    )
    if doc.downstream is not None and doc.downstream not in downstreams:
        loc: Loc = ("correlate", i, "downstream")
        raise CorrelationProblem(
            loc,
            f"{dotted(loc)}: {doc.downstream!r} is not allowed — must name one of the "
            f"scenario's downstreams: {', '.join(downstreams)}",
        )
    problem = check_rule(rule)
    if problem is not None:
        field, text = problem
        loc = ("correlate", i, field) + ((kind,) if field == "effect" else ())
        raise CorrelationProblem(loc, f"{dotted(loc)}: {text}")
    _exists(("correlate", i, "event"), doc.event, samples)
    return rule


def _samples(source: Source) -> list[Any]:
    """Payloads the event paths must resolve in: the example, or the first recorded events."""
    if isinstance(source, SyntheticSource):
        return [source.example]
    assert isinstance(source, RecordedSource)
    found: list[Any] = []
    try:
        for record in records(source):
            if len(found) >= _SAMPLED_LINES:
                break
            found.append(payload_of(record.obj))
    except SourceError:
        pass  # the source's own loader reports a bad record, with where it is
    return found


def _exists(loc: Loc, path: str, samples: list[Any]) -> None:
    """``path`` holds a value to compare (a scalar, or a list of them) in some sample."""
    if not samples:
        return
    steps = _paths.parse(path)
    where = "the example payload" if len(samples) == 1 else "any of the recorded events"
    for sample in samples:
        try:
            value = _paths.get(sample, steps)
        except KeyError:
            continue
        if isinstance(value, dict):
            inner = ", ".join(_paths.render((*steps, k)) for k in list(value)[:_LISTED_PATHS])
            raise CorrelationProblem(
                loc,
                f"{dotted(loc)}: {path!r} is not allowed — it holds an object in {where}; "
                f"name one of its fields: {inner}",
            )
        return  # a scalar, a list, or null here (other events may hold a value)
    existing = sorted({_paths.render(p) for s in samples[:50] for p, _ in _paths.leaves(s)})
    close = difflib.get_close_matches(path, existing, n=3, cutoff=0.6)
    shown = close + [p for p in existing if p not in close][: _LISTED_PATHS - len(close)]
    more = len(existing) - len(shown)
    mean = f" (did you mean {close[0]!r}?)" if close else ""
    raise CorrelationProblem(
        loc,
        f"{dotted(loc)}: {path!r} is not allowed — no value there in {where}{mean}; paths that "
        f"exist: {', '.join(shown)}{f' and {more} more' if more > 0 else ''}",
    )
