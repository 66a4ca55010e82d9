"""Bad input that no event shows is told before any recording is read.

A secret the signing needs, a journal or report path, a flag against the scenario: a user with
a 60 MB export waited for it to be parsed (seconds) to hear that HARNESS_SECRET was not set.
Each recording here ends in a malformed line: a command that read it would say so, not the
secret's error, and a command that still reads it before the checks fails these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

TARGET = ["--target", "http://127.0.0.1:1/hooks"]
SECRET_UNSET = "the environment variable HARNESS_SECRET is not set"


def _invoice_paid(n: int) -> dict[str, object]:
    """A Stripe invoice.paid event of the payload library's shape: a project reads every one
    of them to learn what the events mean (``recorded_model``)."""
    return {
        "id": f"evt_{n:08d}",
        "object": "event",
        "created": 1_772_366_400 + n,
        "type": "invoice.paid",
        "data": {
            "object": {
                "id": f"in_{n:08d}",
                "object": "invoice",
                "amount_paid": 2000 + n,
                "currency": "usd",
                "customer": f"cus_{n % 50:05d}",
                "status": "paid",
            }
        },
    }


def _recording(folder: Path, lines: int = 3000) -> Path:
    """A JSONL recording of ``lines`` events whose last line is not JSON."""
    path = folder / "orders.jsonl"
    good = (json.dumps({"id": f"evt_{n:08d}", "payload": _invoice_paid(n)}) for n in range(lines))
    path.write_text("\n".join(good) + '\n{"id": "evt_last", "payload": \n')
    return path


def _scenario(folder: Path, recording: Path) -> Path:
    path = folder / "replay.scenario.yaml"
    path.write_text(f"source:\n  recorded:\n    file: {recording.name}\n")
    return path


def _project(folder: Path, recording: Path, extra: str = "") -> Path:
    path = folder / "harness.yaml"
    path.write_text(
        f"target: http://127.0.0.1:1/hooks\nevents:\n  - recorded: {recording.name}\n" + extra
    )
    return path


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert exit_.value.code == 2, text
    assert "Traceback" not in text
    assert "orders.jsonl:3001" not in text, "the recording was read before the secret was checked"
    return text


def test_the_recording_is_malformed_where_it_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tests below mean something: with the secret set, the last line is what is told."""
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "QUJD" * 8)
    monkeypatch.chdir(tmp_path)
    scenario = _scenario(tmp_path, _recording(tmp_path))
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(scenario), *TARGET, "--journal", str(tmp_path / "j.db")])
    text = capsys.readouterr().err
    assert exit_.value.code == 2 and "orders.jsonl:3001" in text, text


@pytest.mark.parametrize(
    "command",
    [
        ["run", "duplicate-storm", "--no-project", "--events", "{rec}", *TARGET],
        ["run", "{scenario}", "--no-project", *TARGET],
        ["run", "duplicate-storm"],  # the project's events
        ["run"],  # the project's hazards
        ["run", "year", "--events", "{rec}", "--no-project", *TARGET],
        ["run", "year"],
        ["explore", "duplicate-storm", "--no-database"],
        ["explore", "{scenario}", "--no-project", *TARGET, "--no-database"],
        ["locust", "duplicate-storm", "--", "--headless"],
        ["locust", "{scenario}", "--no-project", *TARGET],
    ],
    ids=lambda c: " ".join(c[:2]) + (" --events" if "--events" in c else ""),
)
def test_a_secret_not_set_is_told_before_the_recording_is_read(
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HARNESS_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    recording = _recording(tmp_path)
    scenario = _scenario(tmp_path, recording)
    _project(tmp_path, recording)
    places = {"{rec}": str(recording), "{scenario}": str(scenario)}
    text = _refused([places.get(a, a) for a in command], capsys)
    assert SECRET_UNSET in text, text


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--journal", "{tmp}"], "is a directory"),
        (["--report", "{tmp}/r.pdf"], "r.pdf"),
        (["--downstream", "127.0.0.1:99999"], "99999"),
        (["--months", "2"], "--months is for a year"),
        (["--time-scale", "0.1", "year"], "--time-scale does not pace a year"),
    ],
    ids=["journal-dir", "report-pdf", "port", "year-flag", "year-scaled"],
)
def test_flags_are_told_before_the_recording_is_read(
    extra: list[str],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "QUJD" * 8)
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, _recording(tmp_path))
    text = _refused(["run", *[a.replace("{tmp}", str(tmp_path)) for a in extra]], capsys)
    assert fragment in text, text


def test_a_bad_target_is_told_before_the_recording_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "QUJD" * 8)
    monkeypatch.chdir(tmp_path)
    recording = _recording(tmp_path)
    text = _refused(
        ["run", "--events", str(recording), "--target", "http://127.0.0.1:0/hooks"], capsys
    )
    assert "--target" in text and "port" in text, text


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--target", "localhost:8000"], "lacks its scheme: http://localhost:8000"),
        (["--provider", "strpe"], "did you mean 'stripe'"),
        (["--downstream", "crm=99999"], "'crm=99999' is not NAME or NAME=PORT"),
        (["--secret-env", "whsec_abc"], "is not an environment variable name"),
    ],
    ids=["target", "provider", "downstream", "secret-env"],
)
def test_init_tells_its_flags_before_reading_the_events(
    flags: list[str],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    export = tmp_path / "export.json"  # a Stripe export cut short: no JSON where it ends
    listed = {"object": "list", "data": [_invoice_paid(n) for n in range(2000)]}
    export.write_text(json.dumps(listed, indent=2)[:-20])
    with pytest.raises(SystemExit) as exit_:
        main(["init", "--yes", "--events", str(export), *flags])
    text = capsys.readouterr().err
    assert exit_.value.code == 2 and fragment in text, text
    assert "export.json" not in text, "the export was read before the flags were checked"
    assert not (tmp_path / "harness.yaml").exists()
