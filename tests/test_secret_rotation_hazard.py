"""The built-in ``secret-rotation`` hazard: sixty deliveries over three scenario days, signed
with the old secret, then both for a day, then the new one alone (in the secret's variable with
``_NEXT``), run as a user runs it (``harness run secret-rotation`` in a project, or with its
flags). A hand-rolled check that unpacks one signature answers 500 to every delivery of the
overlap; the sound demo given the next secret takes them all; without the next secret the
hazard is not tried, with the fix, and without signing skipped — never passed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.cli._processes import free_port, start_module
from harness.core._scenario import Skipped
from harness.scenario._hazards import resolve_hazards
from harness.scenario._project import with_flags

from .conftest import Completed, harness
from .test_gallery import QUICK, automation, init_project, said

# The tests' own secrets; a Standard Webhooks secret is base64 after its whsec_ prefix.
ROTATION = {
    "HARNESS_SECRET": "whsec_cm90YXRpb24waGF6YXJkMG9sZDBub3QwcmVhbA==",
    "HARNESS_SECRET_NEXT": "whsec_cm90YXRpb24waGF6YXJkMG5ldzBub3QwcmVhbA==",
}
STRIPE = {
    "STRIPE_WEBHOOK_SECRET": "whsec_rotation0hazard0old0not0real",
    "STRIPE_WEBHOOK_SECRET_NEXT": "whsec_rotation0hazard0new0not0real",
}
# The overlap on the run's clock: a day in, for a day, at the hazard's time scale of 0.00001.
OVERLAP = (0.864, 1.728)


@pytest.mark.integration
@pytest.mark.parametrize("signatures", ["one", "all"])
def test_a_signature_header_unpacked_as_one_entry_answers_500_through_the_overlap(
    tmp_path: Path, signatures: str
) -> None:
    """tests/gallery/split_signature in a Standard Webhooks project whose secret is in
    HARNESS_SECRET, both secrets configured: ``header.split(",")`` raises on ``v1,<old>
    v1,<new>`` and every delivery of the overlap is answered 500. Reading each entry, every
    delivery is taken."""
    env = {**ROTATION, "SIGNATURES": signatures}
    with automation("split_signature", "/webhooks/contacts", env) as target:
        init_project(
            "standard-webhooks", "standard-webhooks:contact.updated", target.url,
            f"newsletter={target.downstream_port}", tmp_path, "--secret-env", "HARNESS_SECRET",
        )  # fmt: skip
        run_hazard(tmp_path, *QUICK, env=ROTATION)
    found = verdicts(tmp_path)
    genuine = found["accepts_genuine"]
    if signatures == "all":
        for name in ("no_lost_events", "accepts_genuine", "no_server_errors"):
            assert found[name]["status"] == "pass", said(found[name])
        assert re.search(r"old secret: \d+, both: \d+, the new one: \d+", genuine["summary"])
        return
    errors = found["no_server_errors"]
    assert errors["status"] == "fail", said(errors)
    count = re.search(r"(\d+) of 60 deliveries \(\d+%\) got a server error", errors["summary"])
    # The twenty deliveries due in the overlap (a late sender may move one across its edges).
    assert count is not None and 17 <= int(count[1]) <= 23, said(errors)
    sent = [float(s) for s in re.findall(r"sent at (\d+\.\d+) s, answered 500", said(errors))]
    low, high = OVERLAP
    assert sent and all(low - 0.01 <= s < high + 0.01 for s in sent), said(errors)
    # No delivery signed with both secrets was taken or refused: the overlap was not seen, and
    # accepts_genuine no longer passes it ("none of the 60 genuine deliveries was refused").
    assert genuine["status"] == "inconclusive", said(genuine)
    assert re.search(
        r"but none of the \d+ deliveries signed with both secrets was answered 2xx or refused "
        r"\(\d+ answered 500\)",
        genuine["summary"],
    ), said(genuine)


@contextmanager
def sound(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """The sound demo automation (its secret in STRIPE_WEBHOOK_SECRET, the next one read from
    STRIPE_WEBHOOK_SECRET_NEXT when ``env`` has it): its hook URL and its double's port."""
    port = free_port()
    service = start_module(
        "sound",
        "harness.demo.sound",
        ["--port", "0", "--downstream", f"http://127.0.0.1:{port}",
         "--secret-env", "STRIPE_WEBHOOK_SECRET", "--state-dir", str(tmp_path / "state")],
        env,
    )  # fmt: skip
    try:
        yield service.url + "/hooks/orders", port
    finally:
        service.stop()


def run_hazard(cwd: Path, *more: str, env: dict[str, str]) -> Completed:
    """``harness run secret-rotation`` in ``cwd`` with ``more`` flags, its report in
    report.json there."""
    report = cwd / "report.json"
    done = harness(
        "run", "secret-rotation", "--seed", "7", "--report", str(report), *more, cwd=cwd, env=env
    )
    assert report.exists(), f"exit {done.code}\n{done.out}\n{done.err}"
    return done


def verdicts(cwd: Path) -> dict[str, dict[str, Any]]:
    """The one run's verdicts by invariant, from the report ``run_hazard`` wrote in ``cwd``."""
    [run] = json.loads((cwd / "report.json").read_text())["runs"]
    return {v["invariant"]: v for v in run["verdicts"]}


def stripe_run(tmp_path: Path, hook: str, port: int) -> dict[str, dict[str, Any]]:
    """``harness run secret-rotation`` signed as Stripe with the secret in
    STRIPE_WEBHOOK_SECRET: the verdicts by invariant."""
    done = run_hazard(
        tmp_path, "--provider", "stripe", "--secret-env", "STRIPE_WEBHOOK_SECRET",
        "--target", hook, "--downstream", f"127.0.0.1:{port}", *QUICK, env=STRIPE,
    )  # fmt: skip
    assert "rolled to the one in STRIPE_WEBHOOK_SECRET_NEXT at 24 h" in done.out, done.out
    return verdicts(tmp_path)


@pytest.mark.integration
@pytest.mark.parametrize("given", ["both", "old-only"])
def test_the_sound_demo_given_the_next_secret_beside_its_own_takes_every_delivery(
    tmp_path: Path, given: str
) -> None:
    """``python -m harness.demo.sound --secret-env STRIPE_WEBHOOK_SECRET`` reads the next
    secret from STRIPE_WEBHOOK_SECRET_NEXT, where the hazard takes it: each delivery verified.
    Not given it, the deliveries signed with the new secret alone are refused."""
    env = STRIPE if given == "both" else {"STRIPE_WEBHOOK_SECRET": STRIPE["STRIPE_WEBHOOK_SECRET"]}
    with sound(tmp_path, env) as (hook, port):
        found = stripe_run(tmp_path, hook, port)
    genuine = found["accepts_genuine"]
    if given == "both":
        for verdict in found.values():
            assert verdict["status"] == "pass", said(verdict)
        return
    assert genuine["status"] == "fail", said(genuine)
    assert "signed with the new secret" in said(genuine), said(genuine)


def test_a_project_without_the_next_secret_does_not_try_the_hazard_and_says_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No STRIPE_WEBHOOK_SECRET_NEXT: not tried, saying which variable to set — nothing sent,
    nothing passed (tests/test_rotation_standard.py: nor Ready)."""
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET_NEXT", raising=False)
    (tmp_path / "harness.yaml").write_text(
        "target: http://127.0.0.1:9/hooks/orders\nprovider: stripe\n"
        "secret_env: STRIPE_WEBHOOK_SECRET\n"
    )
    secret = {"STRIPE_WEBHOOK_SECRET": STRIPE["STRIPE_WEBHOOK_SECRET"]}
    done = harness("run", "secret-rotation", cwd=tmp_path, env=secret)
    assert done.code == 0, done.out + done.err
    assert (
        "secret-rotation ○ not tried: set $STRIPE_WEBHOOK_SECRET_NEXT to a second secret "
        "(docs/providers.md#secret-rotation)" in done.out
    ), done.out
    assert "export STRIPE_WEBHOOK_SECRET_NEXT=<a new secret>" in done.out, done.out
    assert "0 held, 1 hazard not tried" in done.out, done.out


def test_unsigned_deliveries_skip_the_hazard(tmp_path: Path) -> None:
    """``--provider none``: nothing is signed, so there is no secret to rotate."""
    done = harness(
        "run", "secret-rotation", "--provider", "none", "--target", "http://127.0.0.1:9/hook",
        cwd=tmp_path, env=ROTATION,
    )  # fmt: skip
    assert done.code == 0, done.out + done.err
    assert "skipped: the deliveries are unsigned (provider none)" in done.out, done.out
    assert "name the provider that signs your webhooks" in done.out, done.out


def test_a_one_signature_provider_switches_to_the_next_secret_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GitHub's header carries one signature: the rotation is a switch a day in (overlap 0),
    the next secret in GITHUB_WEBHOOK_SECRET_NEXT, and the note says why."""
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET_NEXT", "next")
    flags = with_flags(None, provider="github", secret_env="GITHUB_WEBHOOK_SECRET")
    [scenario] = resolve_hazards(["secret-rotation"], flags).scenarios
    assert not isinstance(scenario, Skipped)
    rotation = scenario.delivery.rotation
    assert rotation is not None
    assert (rotation.next_secret_env, rotation.at, rotation.overlap) == (
        "GITHUB_WEBHOOK_SECRET_NEXT",
        86400.0,
        0.0,
    )
    assert any("github carries one signature" in note for note in scenario.adapted)


@pytest.mark.parametrize("provider", ["stripe", "none"])
def test_init_names_the_variable_the_hazard_in_standard_needs(
    tmp_path: Path, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed project's harness.yaml says, under its hazards (standard), the next secret's
    variable secret-rotation needs, as init's next step does; the test file names the hazard
    not tried. An unsigned one has nothing to rotate and is told nothing of it."""
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET_NEXT", raising=False)
    example = tmp_path / "order.json"
    example.write_text(json.dumps({"id": "evt_1", "data": {"order_id": "ord_1", "amount": 1}}))
    done = harness(
        "init", "--provider", provider, "--events", str(example),
        "--target", "http://127.0.0.1:9/hooks/orders", "--yes", cwd=tmp_path,
    )  # fmt: skip
    assert done.code == 0, done.out + done.err
    text = (tmp_path / "harness.yaml").read_text()
    offered = "# STRIPE_WEBHOOK_SECRET_NEXT=<a second secret> and give the automation the same"
    assert (offered in text) == (provider == "stripe"), text
    assert ("secret-rotation" in text) == (provider == "stripe"), text
    step = "and STRIPE_WEBHOOK_SECRET_NEXT to a second one it accepts too"
    assert (step in done.out) == (provider == "stripe"), done.out
    tests = (tmp_path / "tests" / "test_harness_hazards.py").read_text()
    untried = "    # secret-rotation not tried: set $STRIPE_WEBHOOK_SECRET_NEXT to a second secret"
    assert (untried in tests) == (provider == "stripe"), tests
