"""The final state of a run: what the stateful doubles hold and what the observer reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..core._model import STATE_MARK, STATE_UNAVAILABLE_MARK
from ..double._downstream import Downstream
from ..double._state import StateUnavailable, double_records, observe
from ..history import Journal
from ._prepare import PreparedRun


async def snapshot(
    journal: Journal,
    doubles: Sequence[Downstream],
    prepared: PreparedRun,
    mark: Callable[[str, str], None],
) -> None:
    """Write the final state to the journal: every stateful double's resources and what the
    observer reads. Called once, by ``Recorder.stop`` for a complete run, after settle; a failure is
    kept as a ``state-unavailable`` mark, and the rest of the run stays as recorded."""
    attribute = prepared.correlation.attribute_text
    for double, spec in zip(doubles, prepared.scenario.downstreams, strict=True):
        resources = double.resources()
        if resources is not None:
            journal.states(double_records(spec.name, resources, attribute))
            mark(STATE_MARK, f"{spec.name}: {len(resources)} resources")
    observer = prepared.scenario.observer
    if observer is None:
        return
    try:
        records = await observe(observer, attribute)
    except StateUnavailable as exc:
        mark(STATE_UNAVAILABLE_MARK, f"observer: {exc}")
        return
    journal.states(records)
    mark(STATE_MARK, f"observer: {len(records)} records from {observer.url}")
