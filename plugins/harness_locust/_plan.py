"""What a load test delivers: the scenario sized by an event count, and each worker's share.

Every record's events go to one worker. Per-record order is what ``per_key_order`` judges;
split one record's events over two workers and their relative order would be the two
processes' race, not the target's doing. No Locust here: the recorder process imports this
package too.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace
from typing import TYPE_CHECKING

from harness import InputError, SyntheticSource

if TYPE_CHECKING:
    from harness import PreparedRun, Scenario


def owner_of(key: str, count: int) -> int:
    """The worker index (0..count-1) of a record key: stable across processes and runs."""
    return zlib.crc32(key.encode()) % count


def partition(prepared: PreparedRun, index: int, count: int) -> list[int]:
    """The slot numbers of worker ``index`` of ``count``, in schedule order."""
    if not 0 <= index < count:
        raise ValueError(f"worker index {index!r} is outside 0..{count - 1}")
    events = prepared.events
    owners: dict[str, int] = {}
    mine: list[int] = []
    for n, seq in enumerate(prepared.schedule.event):
        key = events[seq].key
        owner = owners.get(key)
        if owner is None:
            owner = owners[key] = owner_of(key, count)
        if owner == index:
            mine.append(n)
    return mine


def with_events(scenario: Scenario, count: int) -> Scenario:
    """``scenario`` with ``count`` synthetic events; records and the span scale alike, so the
    events per record and the natural pace stay the scenario's own."""
    source = scenario.source
    if count < 1:
        raise InputError(f"event count {count!r} is not allowed", hint="give 1 or more events")
    if not isinstance(source, SyntheticSource):
        raise InputError(
            f"scenario {scenario.name!r} replays recorded events; their count is the file's",
            where=scenario.origin,
            hint="leave --events (event_count) out, or record more events",
        )
    ratio = count / source.events
    scaled = replace(
        source,
        events=count,
        records=max(1, min(count, round(source.records * ratio))),
        over=source.over * ratio,
    )
    # The hazard's own counts, said where it was applied to a project, are no longer the run's.
    sized = (
        f"{scaled.events} events of \\1 for {scaled.records} records over {scaled.over:g} s "
        f"(the load test's event count; the hazard has {source.events})."
    )
    adapted = tuple(_AS_IN_THE_HAZARD.sub(sized, note) for note in scenario.adapted)
    return replace(scenario, source=scaled, adapted=adapted)


# The note ``scenario._hazards`` writes of a hazard's events applied to a project's payload.
_AS_IN_THE_HAZARD = re.compile(
    r"^\d+ events of (.+) for \d+ records over \S+ s, as in the hazard\.$"
)


def unretried(scenario: Scenario) -> Scenario:
    """``scenario`` with none of its provider's retries: Locust users send one request per
    planned delivery (a retry would be a duplicate the History does not know of). The run's
    settings then say no retry was sent, and what judges the run's sender (an event the target
    refused: redelivered by the sender later, not given up after retries the run never sent)
    reads what happened."""
    provider = scenario.delivery.provider
    if provider is None or not provider.retries:
        return scenario
    note = (
        f"Run under Locust: none of the {provider.name} retries is sent (one request per planned "
        "delivery); what the target refuses is not redelivered in this run."
    )
    # A hazard applied to a project said the run sends some of them: no longer so.
    kept = tuple(n for n in scenario.adapted if not _SENDS_RETRIES.match(n))
    return replace(
        scenario,
        delivery=replace(scenario.delivery, provider=replace(provider, retries=())),
        adapted=(*kept, note),
    )


# The note ``scenario._hazards.fitting_retries`` writes of the retries a fault hazard's run sends.
_SENDS_RETRIES = re.compile(r"^.+ redelivers what the target refuses: the run sends ")


FINAL_STATE = "final_state_matches_baseline"
NO_CLEAN_RUN = (
    "a load test drives no clean run to compare the final state with: `harness run` judges it"
)


def without_clean_run(scenario: Scenario) -> Scenario:
    """``scenario`` with final_state_matches_baseline left out, and why: a load test drives no
    clean run before its load, so the verdict could only ever be inconclusive — and every
    load test of a scenario that names it (out-of-order, simultaneous-same-record) would exit
    1, a correct automation's too. Left out, it is neither a pass nor a failure, and the
    report says it was not judged, and why."""
    kept = tuple(i for i in scenario.invariants if i.name != FINAL_STATE)
    if len(kept) == len(scenario.invariants) or not kept:
        return scenario
    return replace(
        scenario, invariants=kept, left_out=(*scenario.left_out, (FINAL_STATE, NO_CLEAN_RUN))
    )
