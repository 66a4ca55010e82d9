"""The payload an events reference stands for, to guess its paths from: a JSON example file,
a file of recorded events (a JSONL file, a provider's export, a HAR, a capture: its first
record) or a payload of the library
(``stripe:checkout.session.completed``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core._errors import InputError, SourceError
from ..core._library import entry
from ..core._scenario import RecordedSource
from ..drive._formats import first as first_record
from ..drive._formats import har_paths, recognised
from ..drive._sources import sample_of
from ._project_text import _LIBRARY_NAME


@dataclass(frozen=True, slots=True)
class Sample:
    """``kind``: example, recorded or library; ``ref`` as given; ``payload`` one event's
    payload; ``paths`` the paths the library entry names (empty for files); ``members`` the
    event fields a recorded line carries beside its payload (``{"id": ..., "payload": ...}``)."""

    kind: str
    ref: str
    payload: Any
    provider: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    members: tuple[str, ...] = ()  # id, key, type: what a recorded line carries beside its payload
    har_path: str | None = None  # a HAR's webhook path, of the several its requests went to
    # A provider's export: its reader takes each event's own object as its record (``key``),
    # set aside for the record the layout names (``lacking`` says where that one is missing).
    exported: bool = False


def is_library_name(ref: str) -> bool:
    """``provider:type`` rather than a file, as ``harness run --events`` tells them apart."""
    return not ref.endswith(".jsonl") and not Path(ref).is_file() and bool(_LIBRARY_NAME.match(ref))


def read_sample(ref: str, where: str, webhook_path: str | None = None) -> Sample:
    """The Sample of ``ref``; a SourceError naming the file (and line) when it is unusable.
    ``webhook_path``: the path the target receives webhooks at, which picks a HAR's deliveries
    among requests to several paths."""
    if is_library_name(ref):
        try:
            found = entry(ref)
        except InputError as exc:
            raise SourceError(str(exc), where=where) from None
        return Sample("library", ref, found.example, found.provider, dict(found.paths))
    path = Path(ref)
    if not path.is_file():
        raise SourceError(
            f"no file {ref!r}" + (" (a folder)" if path.is_dir() else ""),
            where=where,
            hint="give an example payload (.json), recorded events (.jsonl), or a library "
            "payload such as stripe:checkout.session.completed (`harness show` lists them)",
        )
    fmt = recognised(path)
    if fmt is not None:
        har_path = har_pick(path, webhook_path, where) if fmt == "har" else None
        first = first_record(RecordedSource(path, format=fmt, har_path=har_path)).obj
        if "payload" not in first:
            return Sample("recorded", ref, first, har_path=har_path)
        # A provider's export names no record: its reader takes the event's object as one (a
        # checkout session, one a checkout), where the provider's layout names the record its
        # events share (the customer): guessed from the payload as for an example.
        members = tuple(
            name
            for name in ("id", "key", "type")
            if name in first and (fmt == "jsonl" or name != "key")
        )
        exported = "key" in first and "key" not in members
        return Sample(
            "recorded", ref, first["payload"], members=members, har_path=har_path, exported=exported
        )
    return Sample("example", ref, _read_json(path))


def lacking(sample: Sample, path: str) -> int | None:
    """The number of the first record of ``sample``'s recorded file whose payload has no value
    at ``path`` (missing or null), None where each has one: a key guessed from an export's
    first event (a checkout's customer) that a later one lacks (a guest's checkout, a
    customer.created) would be refused by the loader."""
    path_of = Path(sample.ref)
    source = RecordedSource(path_of, format=recognised(path_of), har_path=sample.har_path)
    found = sample_of(source).lacking(path)
    return found[0] if found else None


def har_pick(path: Path, webhook_path: str | None, where: str) -> str | None:
    """The path whose requests in the HAR at ``path`` are the webhook's deliveries, where they
    went to several: ``webhook_path`` (the target's), as ``harness init`` and ``harness run
    --events`` pick them. None where they all went to one (the reader takes them all). A
    SourceError listing the paths where they went to several and the target's is none of
    them (or no target was given)."""
    found = har_paths(path)
    if len(found) <= 1:
        return None
    if webhook_path in found:
        return webhook_path
    listed = ", ".join(f"{p} ({n})" for p, n in found.most_common())
    target = (
        f"the target's path {webhook_path} is none of them"
        if webhook_path is not None
        else "no target was given to pick one"
    )
    raise SourceError(
        f"{path.name}: its requests with a body go to {len(found)} paths — {listed}; {target}",
        where=where,
        hint="give --target the automation's URL at the webhook's path among these (harness "
        "init and harness run --events take the requests to the target's path), or write "
        "`har: {path: /hooks/…}` beside the file in harness.yaml's events",
    )


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read the example payload: {exc}", where=str(path)) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not JSON ({exc.msg} at column {exc.colno})",
            where=f"{path}:{exc.lineno}",
            hint="the example is one JSON object, the body a provider sends; a file of one "
            "event a line is recorded events: name it .jsonl",
        ) from None
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        raise SourceError(
            f"holds a batch of {len(payload)} events (a JSON list); an example is one event",
            where=str(path),
            hint="save one element of the batch as its own file and give that",
        )
    if not isinstance(payload, dict):
        raise SourceError(
            f"expected a JSON object, got {type(payload).__name__}",
            where=str(path),
            hint="save one event's body as the provider sends it",
        )
    return payload
