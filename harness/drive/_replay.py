"""What a run keeps of how a recorded source was replayed, for the report: the file and its
format, whether the events went out as recorded but for their ids (each run's own:
``_own_ids``), exactly as recorded, or rewritten into tracer tokens, and each changed event id's
original (``original_ids``: sent id -> recorded id), so that evidence can name the id the
provider gave the event beside the one the run sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core._model import Event
from ..core._scenario import RecordedSource, Source, TracerSpec
from ._formats import detect

ORIGINALS_KEPT = 10_000  # ids mapped back in the run's settings; a larger file names none
_SHOWN = 3


def replay_settings(
    source: Source, tracing: TracerSpec, recorded: Sequence[Event], sent: Sequence[Event]
) -> dict[str, Any]:
    """``{"recorded": {...}}`` for a recorded source (``recorded``: its events as read,
    ``sent``: as traced, by seq); nothing for a synthetic one."""
    changed = {s.id: r.id for r, s in zip(recorded, sent, strict=True) if s.id != r.id}
    return with_originals(replay_base(source, tracing, recorded), changed)


def replay_base(source: Source, tracing: TracerSpec, recorded: Sequence[Event]) -> dict[str, Any]:
    """``replay_settings`` but for the ids the tracer changed (``with_originals``): what a
    run whose events are traced as they are sent knows before it starts."""
    if not isinstance(source, RecordedSource):
        return {}
    out: dict[str, Any] = {
        "file": source.path.name,
        "format": source.format or detect(source.path),
        "replay": (
            "tracer tokens" if tracing.rewrite else "own ids" if tracing.ids else "as recorded"
        ),
        "ids": [e.id for e in recorded[:_SHOWN]],
        "events": len(recorded),
    }
    return {"recorded": out}


def with_originals(base: dict[str, Any], changed: Mapping[str, str]) -> dict[str, Any]:
    """``replay_base``'s settings with the ids the tracer changed (sent id -> recorded id),
    where there are some and no more than ORIGINALS_KEPT."""
    if not base or not changed or len(changed) > ORIGINALS_KEPT:
        return base
    return {"recorded": {**base["recorded"], "original_ids": dict(changed)}}
