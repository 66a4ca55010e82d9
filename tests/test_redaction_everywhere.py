"""The seeded-secret test: one run of an automation that spills credentials into every call,
then every output grepped for the seeds — the console, every report format (with the signing
secret's variable set and unset), the pytest plugin's output and its JUnit, and the redacted
export of the journal (all of its bytes). The journal itself is raw, and holds them all."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli._processes import Service, free_port

from .conftest import INNER_PYTEST_ENV, Completed, in_process, start_module

pytestmark = pytest.mark.integration  # one worker takes the module (conftest.py)

SIGNING = "seeded-signing-secret-5f3c9a71"  # generic hmac: any string signs
API_KEY = "seedApiKey7Q2xW9kd"  # ?api_key= of every call
TOKEN = "seedBearer4Lm8RzTq"  # Authorization: Bearer
CARD = "4242424242424242"  # a number under card_number in the event, under reference in calls
HOOK_TOKEN = "seedHookToken3Vn6Pw"  # in the target's own URL (?token=), as some receivers want
# The next signing secret of a rotation, in a variable not named like a secret's.
NEXT = "seeded-next-secret-8d1e4b26"
NEXT_ENV = "LEAKY_ROLLOVER"
SEEDS = (SIGNING, API_KEY, TOKEN, CARD, HOOK_TOKEN, NEXT)

SCENARIO = """
name: leaky-payments
description: Payments, each delivered twice at once, to an automation that leaks credentials.
model: ledger
source:
  synthetic:
    example:
      id: evt_1
      type: order.paid
      occurred_at: "2026-01-01T00:00:00Z"
      sequence: 1
      data:
        order_id: ord_1
        amount: 1999
        card_number: 4242424242424242
    events: 6
    records: 3
    over: 0.2s
    id: $.id
    key: $.data.order_id
    type: $.type
    sequence: $.sequence
    time: $.occurred_at
perturbations:
  - duplicate: {rate: 1, copies: 2, spread: 0}
invariants:
  - no_lost_events
  - no_duplicate_effects
  - per_key_order
downstreams:
  - name: api
    routes:
      - {method: POST, path: /payments, status: 201}
delivery:
  signing: hmac
  secret_env: HARNESS_SECRET
  timeout: 5s
  # Generic HMAC carries one signature: the secret switches a tenth of a second in.
  rotation: {next_secret_env: LEAKY_ROLLOVER, at: 0.1s, overlap: 0}
settle: {quiet: 0.5s, deadline: 10s}
"""

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
junit_logging = all
"""

# A Python test of the same scenario that prints what the automation sent (captured output)
# and asserts on a verdict that fails (the assert message shows the verdict's repr).
PYTHON_TEST = """
from pathlib import Path


def test_payments_once(harness_run):
    result = harness_run(Path("leaky.scenario.yaml"))
    effect = result.history.effects[0]
    print("the automation called", effect.path, dict(effect.headers), effect.body)
    assert result.verdict("no_duplicate_effects").passed
"""


@dataclass
class Done:
    code: int
    out: str
    err: str


def _env(secret: str | None) -> dict[str, str]:
    """This process's environment with the signing secrets' variables set (the first to
    ``secret``), or unset (None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_SECRET", NEXT_ENV)}
    env["COLUMNS"] = "200"
    if secret is not None:
        env |= {"HARNESS_SECRET": secret, NEXT_ENV: NEXT}
    return env


def _run(args: list[str], cwd: Path, secret: str | None = SIGNING) -> Done:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=180, cwd=cwd,
        env=_env(secret) | INNER_PYTEST_ENV,
    )  # fmt: skip
    return Done(proc.returncode, proc.stdout, proc.stderr)


def harness(*args: str, cwd: Path, secret: str | None = SIGNING) -> Completed:
    """The command in this process (conftest.in_process): everything it prints goes through
    the standard streams captured there, as a child's would through its pipes."""
    return in_process(list(args), cwd, _env(secret))


@dataclass
class Leaky:
    service: Service
    downstream_port: int

    @property
    def hook(self) -> str:
        return f"{self.service.url}/hooks/orders?token={HOOK_TOKEN}"


@pytest.fixture(scope="module")
def leaky() -> Iterator[Leaky]:
    port = free_port()
    service = start_module(
        "leaky",
        "tests.leaky_automation",
        ["--port", "0", "--downstream", f"http://127.0.0.1:{port}"],
        {
            "LEAKY_API_KEY": API_KEY,
            "LEAKY_TOKEN": TOKEN,
            "HARNESS_SECRET": SIGNING,
            NEXT_ENV: NEXT,
        },
    )
    yield Leaky(service, port)
    service.stop()


@dataclass
class Outputs:
    folder: Path
    journal: Path
    texts: dict[str, str]  # what was shown, by where it was shown


@pytest.fixture(scope="module")
def outputs(leaky: Leaky, tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """One run through the CLI and one through pytest, and everything either lets a user see."""
    folder = tmp_path_factory.mktemp("leaky")
    (folder / "leaky.scenario.yaml").write_text(SCENARIO)
    (folder / "pytest.ini").write_text(INI)
    (folder / "test_leaky.py").write_text(PYTHON_TEST)
    journal = folder / "journal.db"
    texts: dict[str, str] = {}
    run = harness(
        "run", "leaky.scenario.yaml", "--target", leaky.hook, "--seed", "5",
        "--downstream", f"127.0.0.1:{leaky.downstream_port}", "--journal", str(journal),
        "--report", "run.html", cwd=folder,
    )  # fmt: skip
    assert run.code == 1, run.err  # the duplicates pay twice
    texts |= {"run stdout": run.out, "run stderr": run.err}
    for name, secret in (("set", SIGNING), ("unset", None)):
        for fmt in ("html", "md", "json", "xml"):
            done = harness("report", str(journal), "-o", f"{name}.{fmt}", cwd=folder, secret=secret)
            assert done.code == 1, done.err
            texts[f"report .{fmt}, variable {name}"] = (folder / f"{name}.{fmt}").read_text()
            texts[f"report .{fmt} stderr, variable {name}"] = done.err
        check = harness("check", str(journal), cwd=folder, secret=secret)
        texts |= {f"check stdout, variable {name}": check.out, f"check stderr {name}": check.err}
    export = harness(
        "export", str(journal), "-o", "export.db", "--redacted", cwd=folder, secret=None
    )
    assert export.code == 0, export.err
    texts["export stderr"] = export.err
    texts["export.db (bytes)"] = (folder / "export.db").read_bytes().decode("latin-1")
    plugin = _run(
        [
            "-m", "pytest", "-p", "no:cacheprovider", "-c", "pytest.ini", "--rootdir", ".",
            "leaky.scenario.yaml", "test_leaky.py", "--harness-target", leaky.hook,
            "--harness-seed", "5",
            "--harness-downstream", f"127.0.0.1:{leaky.downstream_port}",
            "--harness-journal", "pytest.db", "--junitxml", "junit.xml",
            "--harness-report", "pytest.html", "-rA", "-v",
        ],
        folder,
    )  # fmt: skip
    assert plugin.code == 1, plugin.out + plugin.err
    texts |= {"pytest stdout": plugin.out, "pytest stderr": plugin.err}
    texts["pytest --junitxml"] = (folder / "junit.xml").read_text()
    texts["pytest --harness-report"] = (folder / "pytest.html").read_text()
    return Outputs(folder, journal, texts)


def test_the_journal_is_raw_and_holds_every_seed(outputs: Outputs) -> None:
    """Documented (docs/security.md): the journal keeps what was sent and received, raw."""
    raw = outputs.journal.read_bytes()
    assert [s for s in SEEDS if s.encode() not in raw] == []
    # The secret is there because the automation echoed it; the run's settings keep only its
    # keyed fingerprint.
    with contextlib.closing(sqlite3.connect(outputs.journal)) as db:
        infos = [info for (info,) in db.execute("SELECT info FROM runs")]
    assert not [info for info in infos if SIGNING in info or NEXT in info]
    baseline, run = sorted(
        (json.loads(i)["settings"] for i in infos), key=lambda s: "rotation" in s
    )
    assert set(run["secret_fingerprint"]) == set(baseline["secret_fingerprint"]) == {"salt", "hmac"}
    # The run rotated its secret: the next one is kept as a fingerprint too; its clean run
    # (the baseline) signed with the first secret only.
    assert set(run["next_secret_fingerprint"]) == {"salt", "hmac"}
    assert run["rotation"]["next_secret_env"] == NEXT_ENV and "rotation" not in baseline


def test_no_output_shows_a_seed(outputs: Outputs) -> None:
    leaks = [
        f"{seed} x{text.count(seed)} in {where}" for where, text in outputs.texts.items()
        for seed in SEEDS if seed in text
    ]  # fmt: skip
    assert leaks == []


def test_what_was_redacted_is_still_shown_as_redacted(outputs: Outputs) -> None:
    """Not an empty output: the places the seeds were are there, with labels instead."""
    texts = outputs.texts
    assert "api_key=[redacted]" in texts["run stdout"]
    assert "[redacted secret]" in texts["report .md, variable unset"]
    # The next secret, recognised by its fingerprint alone (its variable unset).
    assert '"debug_next": "[redacted sec' in texts["report .md, variable unset"]
    # The card number, a number under a neutral key in the calls, is a label there (JSON still).
    assert '"reference": "[redacted ' in texts["report .md, variable unset"]
    assert "api_key=[redacted]" in texts["pytest stdout"]
    # The Python test's captured output and its failed assert, in the terminal and in JUnit.
    assert "the automation called /payments?api_key=[redacted]" in texts["pytest stdout"]
    assert "<no_duplicate_effects FAIL [silent]" in texts["pytest stdout"]
    assert "the automation called /payments?api_key=[redacted]" in texts["pytest --junitxml"]
    assert "no_duplicate_effects" in texts["pytest --junitxml"]


def test_the_redacted_export_is_judged_as_the_journal(outputs: Outputs) -> None:
    folder = outputs.folder
    raw = harness("report", str(outputs.journal), "-o", "raw-verdicts.json", cwd=folder)
    shared = harness("report", "export.db", "-o", "shared-verdicts.json", cwd=folder, secret=None)
    assert raw.code == shared.code == 1

    def statuses(name: str) -> list[tuple[str, str]]:
        (run,) = json.loads((folder / name).read_text())["runs"]
        return [(v["invariant"], v["status"]) for v in run["verdicts"]]

    assert statuses("shared-verdicts.json") == statuses("raw-verdicts.json")


def test_export_refuses_without_redacted_and_over_an_existing_file(outputs: Outputs) -> None:
    folder = outputs.folder
    raw = harness("export", str(outputs.journal), "-o", "copy.db", cwd=folder)
    assert raw.code == 2 and "--redacted" in raw.err and "cp " in raw.err
    assert not (folder / "copy.db").exists()
    again = harness("export", str(outputs.journal), "-o", "export.db", "--redacted", cwd=folder)
    assert again.code == 2 and "exists already" in again.err
