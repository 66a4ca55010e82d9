"""A provider's export read whole is parsed once per ``harness run``: the key ``--events``
guesses, the project's model, the hazard's span, the source's paths, the events of the run
and of its clean run all read the same records (``drive/_formats/_shared``). Each read the
file anew: ten parses of a Stripe list response for ``harness run duplicate-storm --events
export.json``, most of the CPU before a 100,000-event export's first delivery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.history import load_all

from . import recorded_samples as samples
from .conftest import Automation, harness

pytestmark = pytest.mark.integration


def test_a_stripe_export_is_parsed_once_per_run_command(
    sound: Automation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = samples.stripe_list(tmp_path)
    whole = export.read_text()
    parses: list[int] = []
    loads = json.loads

    def counted(text: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(text, str) and text.strip() == whole.strip():  # the document, whole
            parses.append(len(text))
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counted)
    done = harness(
        "run",
        "duplicate-storm",
        "--events",
        str(export),
        "--no-project",
        "--target",
        sound.hook,
        "--downstream",
        f"127.0.0.1:{sound.downstream_port}",
        "--journal",
        str(tmp_path / "j.db"),
    )
    assert done.code in (0, 1) and "6 held" in done.out, done.out + done.err  # judged
    assert len(parses) == 1, f"the export was parsed {len(parses)} times"
    assert "duplicate-storm-baseline against" in done.err  # its clean run read it too
    [run] = load_all(tmp_path / "j.db")
    assert sorted(ev.payload["created"] for ev in run.events) == sorted(
        e["created"] for e in json.loads(whole)["data"]
    )


def test_outside_a_command_a_document_is_read_each_time(tmp_path: Path) -> None:
    """A library caller's reads are its own: nothing kept between them (as before)."""
    from harness.core._scenario import RecordedSource
    from harness.drive._formats import _shared, records

    spec = RecordedSource(samples.stripe_list(tmp_path))
    first = [r.obj for r in records(spec)]
    again = [r.obj for r in records(spec)]
    assert first == again and first[0] is not again[0]
    with _shared.shared_reads():
        kept = [r.obj for r in records(spec)]
        assert next(r.obj for r in records(spec)) is kept[0]
        _shared.let_go()
        assert next(r.obj for r in records(spec)) is not kept[0]
    assert _shared._kept is None  # nothing held once the scope is done


def test_the_last_prepare_lets_the_export_go_before_tracing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's prepare keeps what it read for its clean run's; the clean run's reads none of
    it again and lets it go as soon as it has its events (held through the tracing and the
    bodies, it raised the first delivery's peak above main's), before any run sends."""
    from harness.core._scenario import DeliverySpec, RecordedSource, Scenario
    from harness.drive import _recorded
    from harness.drive._formats import _shared
    from harness.engine._options import RunOptions
    from harness.engine._prepare import prepare

    source = RecordedSource(samples.stripe_list(tmp_path))
    scenario = Scenario("s", source, delivery=DeliverySpec(signing="none"))
    options = RunOptions.create("http://127.0.0.1:9/h", seed=3, journal=tmp_path / "j.db")
    reads = 0
    real = _shared.made

    def counted(path: Path, what: tuple[object, ...], make: Any) -> Any:
        def making() -> Any:
            nonlocal reads
            reads += 1
            return make()

        return real(path, what, making)

    passes = 0
    lines = _recorded.lines

    def passed(spec: RecordedSource) -> Any:
        nonlocal passes
        passes += 1
        return lines(spec)

    monkeypatch.setattr(_shared, "made", counted)
    monkeypatch.setattr(_recorded, "lines", passed)
    with _shared.shared_reads():
        run = prepare(scenario, options, keep_reads=True)
        assert _shared._kept  # kept for the clean run
        assert passes == 1
        made = reads
        clean = prepare(scenario, options)
        assert (reads, passes) == (made, 1)  # nothing read, made or checked again
        assert not _shared._kept  # let go
    assert [e.id for e in clean.events] != [e.id for e in run.events]  # ids of its own
    assert [e.payload["created"] for e in clean.events] == [
        e.payload["created"] for e in run.events
    ]
