"""The bundled demo automations, run as real processes against a recording downstream.

The fragile one must show the failures a harness run is meant to find; the sound one must
not. Both are driven over loopback with signed deliveries, as ``harness demo`` drives them.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from harness.core._signing import Signer
from harness.demo._common import BadEvent, parse_batch

from .conftest import Forked, forked, loaded_by

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
SECRET = "whsec_" + base64.b64encode(b"demo-automations-test-secret-32b").decode()
SIGNER = Signer("standard-webhooks", SECRET)
FORGER = Signer("standard-webhooks", "whsec_" + base64.b64encode(b"not-the-secret").decode())
HOLD = 0.5
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


# --- running an automation as a process ---------------------------------------------------


@dataclass
class Automation:
    """A demo automation running as a process of its own, listening at ``url``."""

    process: Forked
    url: str
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def stop(self) -> int:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        self.process.stdout.close()
        code = self.process.returncode
        assert code is not None
        return code


def _environment(env: Mapping[str, str | None] | None) -> dict[str, str]:
    """This process's environment with ``env`` over it; entries set to None are unset."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO)}
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return full_env


async def launch(
    name: str, *args: str, stderr_path: Path, env: Mapping[str, str | None] | None = None
) -> asyncio.subprocess.Process:
    """Starts ``python -m harness.demo.<name>`` as a fresh interpreter; ``env`` entries set to
    None are unset."""
    with stderr_path.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"harness.demo.{name}",
            *args,
            cwd=REPO,
            env=_environment(env),
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )


async def start_automation(
    name: str, *args: str, stderr_path: Path, env: Mapping[str, str | None] | None = None
) -> Automation:
    """Starts ``python -m harness.demo.<name>`` on a free loopback port, forked from the
    worker's zygote (tests/zygote.py), and waits for its LISTENING line."""
    argv = ["--host", "127.0.0.1", "--port", "0", *args]
    with stderr_path.open("wb") as stderr:
        proc = forked(
            f"harness.demo.{name}", argv, _environment(env), stderr=stderr.fileno(), cwd=REPO
        )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), START_TIMEOUT)
    except TimeoutError:
        line = b""
    automation = Automation(proc, "", stderr_path)
    if not line.startswith(b"LISTENING http://127.0.0.1:"):
        code = await automation.stop()
        raise AssertionError(f"{name} did not start (exit {code}): {automation.stderr()}")
    automation.url = line.split()[1].decode()
    return automation


# --- a recording downstream -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


@dataclass
class Downstream:
    """Records every request; answers with the statuses in ``script`` first, then 200."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    script: list[int] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.headers), body))
        status = self.script.pop(0) if self.script else 200
        return web.json_response({"status": status}, status=status)


@pytest.fixture
async def downstream() -> AsyncIterator[Downstream]:
    recorder = Downstream()
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def _started(name: str, downstream: Downstream, tmp_path: Path) -> Automation:
    args = ["--downstream", downstream.url]
    if name == "sound":
        args += ["--state-dir", str(tmp_path / "state"), "--hold", str(HOLD)]
    return await start_automation(
        name, *args, stderr_path=tmp_path / f"{name}.err", env={"HARNESS_SECRET": SECRET}
    )


@pytest.fixture
async def fragile(downstream: Downstream, tmp_path: Path) -> AsyncIterator[Automation]:
    automation = await _started("fragile", downstream, tmp_path)
    yield automation
    assert await automation.stop() == 0, automation.stderr()


@pytest.fixture
async def sound(downstream: Downstream, tmp_path: Path) -> AsyncIterator[Automation]:
    automation = await _started("sound", downstream, tmp_path)
    yield automation
    assert await automation.stop() == 0, automation.stderr()


@pytest.fixture(params=["fragile", "sound"])
async def automation(
    request: pytest.FixtureRequest, downstream: Downstream, tmp_path: Path
) -> AsyncIterator[Automation]:
    started = await _started(request.param, downstream, tmp_path)
    yield started
    assert await started.stop() == 0, started.stderr()


# --- events, delivery, polling --------------------------------------------------------------


def order_event(order_id: str, sequence: int, *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{order_id}_{sequence}",
        "type": "order.paid",
        "occurred_at": "2026-01-02T03:04:05Z",
        "sequence": sequence,
        "data": {
            "order_id": order_id,
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "amount": 1000 + sequence,
            "currency": "usd",
            "note": f"step {sequence}",
        },
    }


BIG_ID = 820982911946154508  # above 2**53: a double holds 820982911946154496


def invoice_event(invoice_id: str, account_id: int) -> dict[str, Any]:
    return {
        "id": f"evt_{invoice_id}",
        "type": "invoice.paid",
        "occurred_at": "2026-01-02T03:04:05Z",
        "sequence": 1,
        "data": {
            "invoice_id": invoice_id,
            "account_id": account_id,
            "amount": 1999,
            "currency": "usd",
            "email": "ada@example.com",
        },
    }


def contact_event(contact_id: str, sequence: int) -> dict[str, Any]:
    return {
        "id": f"evt_{contact_id}_{sequence}",
        "type": "contact.updated",
        "occurred_at": "2026-01-02T03:04:05Z",
        "sequence": sequence,
        "data": {
            "contact_id": contact_id,
            "name": f"name v{sequence}",
            "email": "grace@example.com",
            "company": "Navy",
        },
    }


async def deliver(
    client: aiohttp.ClientSession,
    automation: Automation,
    event: dict[str, Any] | bytes,
    *,
    signer: Signer = SIGNER,
    path: str = "/hooks/events",
) -> tuple[int, Any]:
    """POSTs one signed delivery; returns the status and the JSON answer."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    msg_id = event["id"] if isinstance(event, dict) else "msg_raw"
    headers = {"Content-Type": "application/json"}
    headers.update(signer.headers(body, msg_id, int(time.time())))
    async with client.post(automation.url + path, data=body, headers=headers) as answer:
        return answer.status, await answer.json()


async def stats(client: aiohttp.ClientSession, automation: Automation) -> dict[str, int]:
    async with client.get(automation.url + "/stats") as answer:
        assert answer.status == 200
        counts: dict[str, int] = await answer.json()
        return counts


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 5.0
) -> None:
    """Polls ``check`` until it holds; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


async def settled(
    client: aiohttp.ClientSession, automation: Automation, **expected: int
) -> dict[str, int]:
    """Waits until nothing is pending and the state counts include ``expected``."""
    latest: dict[str, int] = {}

    async def check() -> bool:
        latest.update(await stats(client, automation))
        wanted = {"pending": 0, **expected}
        return all(latest[state] == n for state, n in wanted.items())

    await eventually(check, f"stats {expected} (last seen {latest})")
    return latest


# --- both automations -----------------------------------------------------------------------


async def test_healthz_answers_200(client: aiohttp.ClientSession, automation: Automation) -> None:
    async with client.get(automation.url + "/healthz") as answer:
        assert answer.status == 200


async def test_invalid_json_is_400_with_a_json_error(
    client: aiohttp.ClientSession, automation: Automation, downstream: Downstream
) -> None:
    status, answer = await deliver(client, automation, b"{not json")
    assert status == 400
    assert "not valid JSON" in answer["error"]
    assert downstream.calls == []


async def test_sound_rejects_a_missing_field_with_a_400_naming_it(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    event = order_event("ord_1", 1)
    del event["data"]["customer"]["email"]
    status, answer = await deliver(client, sound, event)
    assert (status, answer["field"]) == (400, "data.customer.email")
    assert downstream.calls == []


async def test_sound_rejects_a_64_bit_id_sent_as_text_and_carries_a_number_exactly(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    as_text = invoice_event("inv_1", BIG_ID)
    as_text["data"]["account_id"] = str(BIG_ID)
    status, answer = await deliver(client, sound, as_text)
    assert (status, answer["field"]) == (400, "data.account_id")
    assert (await deliver(client, sound, invoice_event("inv_2", BIG_ID)))[0] == 202
    await settled(client, sound, done=1)
    assert [(c.method, c.path) for c in downstream.calls] == [("POST", "/invoices")]
    assert downstream.calls[0].body["account_id"] == BIG_ID


async def test_unknown_type_is_422(
    client: aiohttp.ClientSession, automation: Automation, downstream: Downstream
) -> None:
    event = {**order_event("ord_1", 1), "type": "refund.created"}
    status, answer = await deliver(client, automation, event)
    assert status == 422
    assert "refund.created" in answer["error"]
    assert downstream.calls == []


# --- fragile --------------------------------------------------------------------------------


async def test_fragile_forwards_a_duplicate_twice(
    client: aiohttp.ClientSession, fragile: Automation, downstream: Downstream
) -> None:
    event = order_event("ord_1", 1)
    assert (await deliver(client, fragile, event))[0] == 200
    assert (await deliver(client, fragile, event))[0] == 200
    assert [(c.method, c.path) for c in downstream.calls] == [("POST", "/payouts")] * 2
    assert downstream.calls[0].body == {
        "order_id": "ord_1",
        "amount": 1001,
        "currency": "usd",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "note": "step 1",
    }


async def test_fragile_lets_a_stale_contact_update_overwrite(
    client: aiohttp.ClientSession, fragile: Automation, downstream: Downstream
) -> None:
    for sequence in (3, 2):
        assert (await deliver(client, fragile, contact_event("con_1", sequence)))[0] == 200
    assert [c.path for c in downstream.calls] == ["/contacts/con_1"] * 2
    assert downstream.calls[-1].body["name"] == "name v2"


async def test_fragile_answers_502_when_the_downstream_fails(
    client: aiohttp.ClientSession, fragile: Automation, downstream: Downstream
) -> None:
    downstream.script = [503]
    status, answer = await deliver(client, fragile, order_event("ord_1", 1))
    assert (status, answer["error"]) == (502, "downstream answered 503")
    assert len(downstream.calls) == 1


async def test_fragile_maps_a_missing_field_to_empty_and_rounds_a_64_bit_id(
    client: aiohttp.ClientSession, fragile: Automation, downstream: Downstream
) -> None:
    order = order_event("ord_1", 1)
    del order["data"]["customer"]["email"]
    order["data"]["amount"] = None
    assert (await deliver(client, fragile, order))[0] == 200
    assert (await deliver(client, fragile, invoice_event("inv_1", BIG_ID)))[0] == 200
    payout, invoice = (c.body for c in downstream.calls)
    assert (payout["email"], payout["amount"]) == ("", None)
    # What JavaScript's JSON.stringify prints for the double nearest to BIG_ID.
    assert invoice["account_id"] == 820982911946154500


# --- sound ----------------------------------------------------------------------------------


async def test_sound_pays_a_duplicated_event_once_with_its_idempotency_key(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    event = order_event("ord_1", 1)
    assert (await deliver(client, sound, event))[0] == 202
    assert await deliver(client, sound, event) == (200, {"duplicate": True, "id": event["id"]})
    await settled(client, sound, done=1)
    assert [(c.method, c.path) for c in downstream.calls] == [("POST", "/payouts")]
    assert downstream.calls[0].headers["Idempotency-Key"] == event["id"]


async def test_sound_never_goes_back_to_an_older_contact_state(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    for sequence in (1, 3):
        assert (await deliver(client, sound, contact_event("con_1", sequence)))[0] == 202
    await settled(client, sound, done=2)
    assert (await deliver(client, sound, contact_event("con_1", 2)))[0] == 202
    await settled(client, sound, done=2, superseded=1)
    assert [c.body["name"] for c in downstream.calls] == ["name v1", "name v3"]


async def test_sound_pays_ledger_events_in_sequence_order(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    for sequence in (2, 1):
        assert (await deliver(client, sound, order_event("ord_1", sequence)))[0] == 202
    await settled(client, sound, done=2)
    assert [c.body["note"] for c in downstream.calls] == ["step 1", "step 2"]


async def test_sound_goes_on_past_a_gap_after_the_hold(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    sent = time.monotonic()
    assert (await deliver(client, sound, order_event("ord_1", 2)))[0] == 202
    await eventually(lambda: len(downstream.calls) == 1, "the held payout")
    assert time.monotonic() - sent >= HOLD * 0.9
    assert downstream.calls[0].body["note"] == "step 2"


async def test_sound_pays_a_concurrent_burst_once_each(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    events = [order_event(f"ord_{n % 4}", n // 4 + 1) for n in range(40)]
    # Every event twice, all at once: twins land in the same commit batch.
    answers = await asyncio.gather(*(deliver(client, sound, e) for e in events + events))
    assert sorted(status for status, _ in answers) == [200] * 40 + [202] * 40
    await settled(client, sound, done=40)
    # Order within a burst depends on gaps closing within the hold, so only count here;
    # test_sound_pays_ledger_events_in_sequence_order pins the order down.
    paid = sorted((c.body["order_id"], c.body["note"]) for c in downstream.calls)
    assert paid == sorted((e["data"]["order_id"], e["data"]["note"]) for e in events)


async def test_sound_rejects_a_forged_or_missing_signature(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    assert (await deliver(client, sound, order_event("ord_1", 1), signer=FORGER))[0] == 401
    assert (await deliver(client, sound, order_event("ord_2", 1), signer=Signer()))[0] == 401
    assert await stats(client, sound) == {"pending": 0, "done": 0, "superseded": 0, "failed": 0}
    assert downstream.calls == []


async def test_sound_retries_a_downstream_503_with_the_same_key(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    downstream.script = [503, 503]
    event = order_event("ord_1", 1)
    assert (await deliver(client, sound, event))[0] == 202
    await settled(client, sound, done=1)
    assert [c.headers["Idempotency-Key"] for c in downstream.calls] == [event["id"]] * 3


async def test_sound_fails_a_downstream_400_without_retry(
    client: aiohttp.ClientSession, sound: Automation, downstream: Downstream
) -> None:
    downstream.script = [400]
    assert (await deliver(client, sound, order_event("ord_1", 1)))[0] == 202
    await settled(client, sound, failed=1)
    assert len(downstream.calls) == 1


async def test_sound_resumes_a_pending_event_after_a_restart(
    client: aiohttp.ClientSession, downstream: Downstream, tmp_path: Path
) -> None:
    downstream.script = [503] * 100
    first = await _started("sound", downstream, tmp_path)
    event = order_event("ord_1", 1)
    assert (await deliver(client, first, event))[0] == 202
    await eventually(lambda: len(downstream.calls) >= 1, "the first attempt")
    assert await first.stop() == 0, first.stderr()

    downstream.script = []
    second = await _started("sound", downstream, tmp_path)
    try:
        await settled(client, second, done=1)
        assert downstream.calls[-1].headers["Idempotency-Key"] == event["id"]
        assert await deliver(client, second, event) == (200, {"duplicate": True, "id": event["id"]})
    finally:
        assert await second.stop() == 0, second.stderr()


async def test_sound_refuses_to_start_with_a_whsec_secret_that_is_not_base64(
    downstream: Downstream, tmp_path: Path
) -> None:
    proc = await launch(
        "sound",
        *("--downstream", downstream.url, "--state-dir", str(tmp_path / "state")),
        stderr_path=tmp_path / "sound.err",
        env={"HARNESS_SECRET": "whsec_not*base64!"},
    )
    stdout, _ = await asyncio.wait_for(proc.communicate(), START_TIMEOUT)
    assert proc.returncode == 2
    assert stdout == b""
    err = (tmp_path / "sound.err").read_text()
    assert "not base64 after the 'whsec_' prefix" in err and "hint:" in err


async def test_sound_refuses_to_start_without_the_secret(
    downstream: Downstream, tmp_path: Path
) -> None:
    proc = await launch(
        "sound",
        *("--downstream", downstream.url, "--state-dir", str(tmp_path / "state")),
        stderr_path=tmp_path / "sound.err",
        env={"HARNESS_SECRET": None},
    )
    stdout, _ = await asyncio.wait_for(proc.communicate(), START_TIMEOUT)
    assert proc.returncode == 2
    assert stdout == b""
    assert "'HARNESS_SECRET' is not set" in (tmp_path / "sound.err").read_text()


def test_a_batch_is_parsed_event_by_event_and_a_bad_item_is_named() -> None:
    one = {
        "id": "evt_1",
        "type": "contact.updated",
        "occurred_at": "2026-01-01T00:00:00Z",
        "sequence": 1,
        "data": {"contact_id": "con_1", "name": "Ada", "email": "a@x.io", "company": "AE"},
    }
    two = {**one, "id": "evt_2", "sequence": 2}
    batch = parse_batch(json.dumps([one, two]).encode())
    assert [(event.id, json.loads(raw)) for event, raw in batch] == [("evt_1", one), ("evt_2", two)]
    single = json.dumps(one).encode()
    assert [(e.id, raw) for e, raw in parse_batch(single)] == [("evt_1", single)]
    with pytest.raises(BadEvent) as caught:
        parse_batch(json.dumps([one, {**two, "sequence": 0}]).encode())
    assert caught.value.detail == "batch item [1]: field 'sequence' is 0; expected an integer >= 1"
    assert caught.value.where == "[1]" and caught.value.status == 400
    with pytest.raises(BadEvent, match="empty JSON array"):
        parse_batch(b"[]")


def test_a_stripe_amount_that_is_not_a_whole_number_is_refused_naming_it() -> None:
    """A paid invoice whose amount went missing (the missing-field hazard sets it to null) was
    written on with no amount: drift_is_loud failed the sound demo under `harness init` with a
    Stripe export + `harness run`. It is refused now, naming the field."""
    paid = {
        "id": "evt_1Pgc",
        "object": "event",
        "type": "invoice.paid",
        "created": 1_772_366_400,
        "data": {
            "object": {
                "id": "in_1Pgc",
                "object": "invoice",
                "amount_paid": 2000,
                "status": "paid",
                "currency": "usd",
                "customer": "cus_Q1w2",
            }
        },
    }
    [(event, _)] = parse_batch(json.dumps(paid).encode())
    assert event.call.body["amount"] == 2000
    for value in (None, "2000", 20.5):
        paid["data"]["object"]["amount_paid"] = value  # type: ignore[index]
        with pytest.raises(BadEvent) as caught:
            parse_batch(json.dumps(paid).encode())
        assert caught.value.where == "data.object.amount_paid" and caught.value.status == 400
    del paid["data"]["object"]["amount_paid"]  # type: ignore[attr-defined]
    [(event, _)] = parse_batch(json.dumps(paid).encode())  # a subscription: no amount at all
    assert event.call.body["amount"] is None


def test_the_demos_load_neither_the_scenario_model_nor_the_drift_stage() -> None:
    """The suite and `harness demo` start the demo automations by the hundred: the scenario
    model and the drift stage cost each start ~0.14 CPU-s (0.62 -> 0.48) and serve it nothing."""
    heavy = ("harness.core._scenario", "harness.drive._drift", "harness.engine")
    assert loaded_by("harness.demo.fragile, harness.demo.sound", heavy) == []
