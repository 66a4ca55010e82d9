"""The final state of a run: what the stateful doubles hold and what the observer reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from ..core._model import STATE_MARK, STATE_UNAVAILABLE_MARK, StateRecord
from ..double._downstream import Downstream
from ..double._state import StateUnavailable, double_records, observe
from ..history import Journal
from ._prepare import PreparedRun


async def snapshot(
    journal: Journal,
    doubles: Sequence[Downstream],
    prepared: PreparedRun,
    mark: Callable[[str, str], None],
    earlier: Callable[[str], bool] | None = None,
) -> None:
    """Write the final state to the journal: every stateful double's resources and what the
    observer reads. Called once, by ``Recorder.stop`` for a complete run, after settle; a failure is
    kept as a ``state-unavailable`` mark, and the rest of the run stays as recorded.

    ``earlier`` says whether a text carries an earlier run's tracer token: a record this run
    cannot attribute that does (a late write of that run, or what it left in the target's own
    state) is not this run's state, and is left out; the mark counts it.
    """
    attribute = prepared.correlation.attribute_text
    for double, spec in zip(doubles, prepared.scenario.downstreams, strict=True):
        resources = double.resources()
        if resources is not None:
            records, left_out = _own(double_records(spec.name, resources, attribute), earlier)
            journal.states(records)
            mark(STATE_MARK, f"{spec.name}: {len(records)} resources{left_out}")
    observer = prepared.scenario.observer
    if observer is None:
        return
    try:
        observed = await observe(observer, attribute)
    except StateUnavailable as exc:
        mark(STATE_UNAVAILABLE_MARK, f"observer: {exc}")
        return
    records, left_out = _own(observed, earlier)
    journal.states(records)
    mark(STATE_MARK, f"observer: {len(records)} records from {observer.url}{left_out}")


def _own(
    records: list[StateRecord], earlier: Callable[[str], bool] | None
) -> tuple[list[StateRecord], str]:
    """The records that are this run's, and a note on those left out."""
    if earlier is None:
        return records, ""
    mine = [
        r
        for r in records
        if r.event_ids or r.key is not None or not earlier(f"{r.id}\n{json.dumps(r.body)}")
    ]
    others = len(records) - len(mine)
    return mine, f" ({others} of earlier runs left out)" if others else ""
