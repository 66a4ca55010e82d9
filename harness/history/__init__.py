"""The History of a run and its journal: written during the drive, read by everything after it."""

from ..core._headers import LazyHeaders
from ..core._text_event import payload_text
from ._claim import check_journal_path
from ._deliveries import Deliveries, delivery_column, delivery_numbers, delivery_rows
from ._effects import (
    SEVERAL,
    UNKNOWN,
    Effects,
    at_array,
    effect_column,
    effect_values,
    event_codes,
    event_ids_at,
    one_event_ids,
    time_order,
)
from ._event import decode_payloads, decoded
from ._events import (
    Events,
    event_column,
    event_rows,
    events_by_id,
    headers_held,
    payload_texts,
)
from ._export import Scrubber, export
from ._history import History, Mark, RunInfo
from ._journal import Journal
from ._load import load, load_all, run_ids, run_infos
from ._merge import merge_journals
from ._schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "SEVERAL",
    "UNKNOWN",
    "Deliveries",
    "Effects",
    "Events",
    "History",
    "Journal",
    "LazyHeaders",
    "Mark",
    "RunInfo",
    "Scrubber",
    "at_array",
    "check_journal_path",
    "decode_payloads",
    "decoded",
    "delivery_column",
    "delivery_numbers",
    "delivery_rows",
    "effect_column",
    "effect_values",
    "event_codes",
    "event_column",
    "event_ids_at",
    "event_rows",
    "events_by_id",
    "export",
    "headers_held",
    "load",
    "load_all",
    "merge_journals",
    "one_event_ids",
    "payload_text",
    "payload_texts",
    "run_ids",
    "run_infos",
    "time_order",
]
