"""The gallery's automations that a downstream's life over a year breaks, each in one normal
scenario (not a year): a token fetched once and never refreshed meets its expiry; a list read
only to its first page meets a store that holds more than a page. The sound demo, which
refreshes its token and never lists, holds on the same scenarios."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from harness.core._model import Verdict
from harness.double._auth import TOKEN_MARK
from harness.double._carry import Carried
from harness.double._resources import Resource
from harness.engine import RunOptions, run_scenarios
from harness.history import load_all
from harness.scenario._load import load_scenario

from .conftest import SECRET, free_port, start_module
from .test_gallery import SCENARIOS, Target, automation, run, said, verdicts

pytestmark = pytest.mark.integration

HOOK = "/hooks/orders"


@contextmanager
def sound_demo(state: Path, env: dict[str, str] | None = None) -> Iterator[Target]:
    """The sound demo on loopback, writing to a double on a free port (``{api}`` in ``env``
    values: that double's base URL)."""
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    extra = {k: v.replace("{api}", api) for k, v in (env or {}).items()}
    service = start_module(
        "sound",
        "harness.demo.sound",
        ["--port", "0", "--downstream", api, "--state-dir", str(state)],
        {"HARNESS_SECRET": SECRET, **extra},
    )
    try:
        yield Target(service.url + HOOK, port)
    finally:
        service.stop()


# --- a token fetched once ---------------------------------------------------------------------

TOKEN = str(SCENARIOS / "token-expires.yaml")


def test_a_token_never_refreshed_loses_the_work_after_its_expiry(tmp_path: Path) -> None:
    with automation("token_once", HOOK) as target:
        done, report = run(target, TOKEN, tmp_path)
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    # Lost for the right reason: the payouts were refused 401, not never tried.
    assert "(refused 401)" in said(lost), said(lost)
    assert "expected POST /payouts" in said(lost) or "POST /payouts" in lost["summary"]
    # The first payouts, before the expiry, were made: not everything is lost.
    assert "of 24 accepted events" in lost["summary"], lost["summary"]
    assert verdicts(report)["no_duplicate_effects"]["status"] == "pass"
    assert done.code == 1


def test_the_sound_demo_refreshes_its_token_and_loses_nothing(tmp_path: Path) -> None:
    env = {"HARNESS_TOKEN_URL": "{api}/oauth/token", "HARNESS_CLIENT_ID": "sound"}
    with sound_demo(tmp_path / "state", env) as target:
        done, report = run(target, TOKEN, tmp_path)
    for name, verdict in verdicts(report).items():
        assert verdict["status"] == "pass", f"{name}: {said(verdict)}"
    assert done.code == 0, done.out + done.err


def test_token_calls_are_marks_never_counted_as_effects(tmp_path: Path) -> None:
    """With a clean run to learn from: the sound demo gets its token in the clean run and uses
    it on in the run, so the two runs make different token calls — which must not read as a
    lost or a duplicate effect. Token calls are ``token`` marks, no token in them."""
    text = Path(TOKEN).read_text()
    text = text.replace("baseline: false\n", "").replace("lifetime: 30m", "lifetime: 720h")
    text = text.replace("expect:\n  order.paid:\n    - POST /payouts\n", "")
    scenario = tmp_path / "token-kept.yaml"
    scenario.write_text(text)
    env = {"HARNESS_TOKEN_URL": "{api}/oauth/token", "HARNESS_CLIENT_ID": "sound"}
    with sound_demo(tmp_path / "state", env) as target:
        done, report = run(target, str(scenario), tmp_path)
    for name, verdict in verdicts(report).items():
        assert verdict["status"] == "pass", f"{name}: {said(verdict)}"
    [judged_run] = load_all(tmp_path / "journal.db")
    clean = judged_run.baseline
    assert clean is not None
    assert clean.info.settings.get("baseline_of") == "token-expires"
    tokens = [[m for m in h.marks if m.name == TOKEN_MARK] for h in (clean, judged_run)]
    assert [len(t) for t in tokens] == [1, 0]
    assert '"grant": "client_credentials"' in tokens[0][0].detail
    assert "access_token" not in tokens[0][0].detail
    assert all("/oauth/token" not in e.path for h in (clean, judged_run) for e in h.effects)
    # No access or refresh token (the double's hat_/hrt_ tokens), nor a bearer header, is kept.
    journal = (tmp_path / "journal.db").read_bytes()
    assert b"hat_" not in journal and b"hrt_" not in journal and b"Bearer " not in journal
    assert done.code == 0


# --- a list read to its first page only ----------------------------------------------------


def earlier_contacts(n: int) -> Carried:
    """A CRM that already holds ``n`` contacts, as a year's earlier months leave it."""
    return Carried(
        {
            "api": [
                Resource("/contacts", f"old_{i}", {"id": f"old_{i}", "contact_id": f"con_{i}"})
                for i in range(n)
            ]
        }
    )


def judged(target: Target, journal: Path, carried: Carried) -> dict[str, Verdict]:
    scenario = load_scenario(SCENARIOS / "contacts-paged.yaml")
    options = RunOptions.create(
        target.url,
        seed=7,
        downstream=f"127.0.0.1:{target.downstream_port}",
        journal=journal,
    )
    [result] = asyncio.run(run_scenarios([scenario], replace(options, carried=carried)))
    return {v.invariant: v for v in result.verdicts}


def text(verdict: Verdict) -> str:
    return "\n".join([verdict.summary, *verdict.evidence.lines])


def test_a_list_never_paged_past_the_first_page_creates_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    carried = earlier_contacts(15)  # 15 + 12 contacts: more than a page of 20
    with automation("first_page", HOOK) as target:
        found = judged(target, tmp_path / "j.db", carried)
    state = found["final_state_matches_baseline"]
    assert state.status.value == "fail", text(state)
    assert "2 records where the baseline has 1" in text(state), text(state)
    lost = found["no_lost_events"]
    assert lost.status.value == "fail", text(lost)
    assert "PATCH /contacts/{id}" in text(lost), text(lost)
    # Created twice: the CRM now holds more than the 15 + 12 contacts there are.
    contacts = [r for r in carried.records("api") if r.collection == "/contacts"]
    assert len(contacts) > 27


def test_the_same_automation_holds_while_the_store_fits_one_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flaw is the hazard met, not the automation alone: on a store within one page the
    same automation passes — the year finds it in the first month past one page."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    with automation("first_page", HOOK) as target:
        found = judged(target, tmp_path / "j.db", earlier_contacts(3))
    for name, verdict in found.items():
        assert verdict.status.value == "pass", f"{name}: {text(verdict)}"


def test_the_sound_demo_holds_on_a_store_past_one_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    with sound_demo(tmp_path / "state") as target:
        found = judged(target, tmp_path / "j.db", earlier_contacts(15))
    for name, verdict in found.items():
        assert verdict.status.value == "pass", f"{name}: {text(verdict)}"
