"""What both demo automations share: options, the event shapes, and serving on loopback.

The two targets differ only in how they handle an event once it is parsed; everything a
harness run relies on to drive them (flags, the ``LISTENING`` line, routes, error bodies,
exit on SIGTERM) is defined here once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp import web

from ..core._errors import InputError
from ..core._js_numbers import through_double
from ..core._model import JSON, Model

SHUTDOWN_TIMEOUT = 2.0
"""Seconds in-flight requests get to finish after SIGTERM; a harness run waits on this."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Options:
    """The flags both automations take."""

    host: str
    port: int
    downstream: str
    secret_env: str
    timeout: float


def argument_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the common flags; an automation adds its own before parsing."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks one")
    parser.add_argument(
        "--downstream", required=True, help="base URL of the API to write to, e.g. http://..."
    )
    parser.add_argument(
        "--secret-env",
        default="HARNESS_SECRET",
        help="name of the environment variable holding the signing secret",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for one downstream call"
    )
    return parser


def common_options(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> Options:
    """Checks the common flags; a bad value ends the process with usage and exit code 2."""
    if not 0 <= ns.port <= 65535:
        parser.error(f"--port {ns.port!r} is out of range; use 0..65535 (0 picks a free port)")
    parts = urlsplit(ns.downstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        parser.error(
            f"--downstream {ns.downstream!r} is not an http(s) URL; "
            "give a base URL such as http://127.0.0.1:9100"
        )
    if not ns.timeout > 0:
        parser.error(f"--timeout {ns.timeout!r} must be a positive number of seconds")
    return Options(
        host=ns.host,
        port=ns.port,
        downstream=ns.downstream.rstrip("/"),
        secret_env=ns.secret_env,
        timeout=ns.timeout,
    )


class BadEvent(InputError):
    """A delivery whose body is not an event the automation understands.

    ``status`` is the HTTP answer: 400 for malformed bodies, 422 for an unknown event type.
    """

    def __init__(self, message: str, *, status: int = 400, where: str | None = None):
        super().__init__(message, where=where)
        self.status = status
        self.detail = message

    def response(self) -> web.Response:
        return json_error(self.status, self.detail, field=self.where)


@dataclass(frozen=True, slots=True)
class DownstreamCall:
    """The request an event causes at the downstream."""

    method: str
    path: str
    body: dict[str, JSON]


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One parsed delivery body. ``sequence`` counts per record (order or contact), from 1."""

    id: str
    type: str
    model: Model
    key: str
    sequence: int
    call: DownstreamCall


def _member(obj: dict[str, Any], name: str, path: str) -> Any:
    if name not in obj:
        raise BadEvent(f"missing field {path!r}", where=path)
    return obj[name]


def _str(obj: dict[str, Any], name: str, prefix: str = "") -> str:
    path = prefix + name
    value = _member(obj, name, path)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"field {path!r} is {value!r}; expected a non-empty string", where=path)
    return value


def _int(obj: dict[str, Any], name: str, prefix: str = "", *, minimum: int = 0) -> int:
    path = prefix + name
    value = _member(obj, name, path)
    # bool is an int in Python but never a valid amount or sequence in JSON.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadEvent(f"field {path!r} is {value!r}; expected an integer >= {minimum}", where=path)
    return value


def _obj(obj: dict[str, Any], name: str, prefix: str = "") -> dict[str, Any]:
    path = prefix + name
    value = _member(obj, name, path)
    if not isinstance(value, dict):
        raise BadEvent(f"field {path!r} is {value!r}; expected a JSON object", where=path)
    return value


class _Fields:
    """Reads the fields of an event's data: strictly (a wrong field is a 400 naming it), or
    leniently, as a typical no-code flow maps fields: a missing one becomes "" (text) or
    null (a number), a value of the wrong type goes on as it came, and every number goes
    through a JavaScript double (a 64-bit id arrives rounded)."""

    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient

    def text(self, obj: dict[str, Any], name: str, prefix: str) -> JSON:
        if not self.lenient:
            return _str(obj, name, prefix)
        return self._loose(obj.get(name), "")

    def number(self, obj: dict[str, Any], name: str, prefix: str) -> JSON:
        if not self.lenient:
            return _int(obj, name, prefix)
        return self._loose(obj.get(name), None)

    def mapping(self, obj: dict[str, Any], name: str, prefix: str) -> dict[str, Any]:
        if not self.lenient:
            return _obj(obj, name, prefix)
        found = obj.get(name)
        return found if isinstance(found, dict) else {}

    @staticmethod
    def _loose(value: JSON, empty: JSON) -> JSON:
        if value is None:
            return empty
        if isinstance(value, int | float) and not isinstance(value, bool):
            return through_double(value)
        return value


def _ledger_call(data: dict[str, Any], read: _Fields) -> tuple[str, DownstreamCall]:
    order_id = _str(data, "order_id", "data.")
    customer = read.mapping(data, "customer", "data.")
    body: dict[str, JSON] = {
        "order_id": order_id,
        "amount": read.number(data, "amount", "data."),
        "currency": read.text(data, "currency", "data."),
        "email": read.text(customer, "email", "data.customer."),
        "name": read.text(customer, "name", "data.customer."),
        "note": read.text(data, "note", "data."),
    }
    return order_id, DownstreamCall("POST", "/payouts", body)


def _invoice_call(data: dict[str, Any], read: _Fields) -> tuple[str, DownstreamCall]:
    invoice_id = _str(data, "invoice_id", "data.")
    body: dict[str, JSON] = {
        "invoice_id": invoice_id,
        # A 64-bit id (above 2**53): it must reach the downstream digit for digit.
        "account_id": read.number(data, "account_id", "data."),
        "amount": read.number(data, "amount", "data."),
        "currency": read.text(data, "currency", "data."),
        "email": read.text(data, "email", "data."),
    }
    return invoice_id, DownstreamCall("POST", "/invoices", body)


def _register_call(data: dict[str, Any], read: _Fields) -> tuple[str, DownstreamCall]:
    contact_id = _str(data, "contact_id", "data.")
    body: dict[str, JSON] = {
        "name": read.text(data, "name", "data."),
        "email": read.text(data, "email", "data."),
        "company": read.text(data, "company", "data."),
    }
    # quote() keeps an id with '/' or '..' from addressing another resource.
    return contact_id, DownstreamCall("PUT", f"/contacts/{quote(contact_id, safe='')}", body)


def parse_event(body: bytes, *, lenient: bool = False) -> HookEvent:
    """Parses a delivery body into a HookEvent, or raises BadEvent saying which field is wrong.

    ``lenient`` reads the data fields as a no-code flow does (see ``_Fields``); the envelope
    (id, type, sequence) and the record's id are checked either way.
    """
    return _parse_doc(_json(body), lenient)


def parse_batch(body: bytes) -> list[tuple[HookEvent, bytes]]:
    """A HubSpot-style batch — a JSON array of events — as (event, its own body) pairs; a body
    that is one event as a batch of one. Raises BadEvent naming the item that is wrong."""
    doc = _json(body)
    if not isinstance(doc, list):
        return [(_parse_doc(doc, False), body)]
    if not doc:
        raise BadEvent("body is an empty JSON array; a batch holds at least one event")
    parsed = []
    for i, item in enumerate(doc):
        try:
            parsed.append((_parse_doc(item, False), json.dumps(item).encode()))
        except BadEvent as exc:
            raise BadEvent(
                f"batch item [{i}]: {exc.detail}", status=exc.status, where=f"[{i}]"
            ) from None
    return parsed


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvent(f"body is not valid JSON: {exc}") from None


def _parse_doc(doc: Any, lenient: bool) -> HookEvent:
    if not isinstance(doc, dict):
        raise BadEvent(f"body is {type(doc).__name__}; expected a JSON object (an event)")
    event_id = _str(doc, "id")
    event_type = _str(doc, "type")
    if doc.get("object") == "event":
        return _stripe_event(doc, event_id, event_type, lenient)
    _str(doc, "occurred_at")
    sequence = _int(doc, "sequence", minimum=1)
    read = _Fields(lenient)
    if event_type.startswith("order."):
        model, (key, call) = Model.LEDGER, _ledger_call(_obj(doc, "data"), read)
    elif event_type.startswith("invoice."):
        model, (key, call) = Model.LEDGER, _invoice_call(_obj(doc, "data"), read)
    elif event_type.startswith("contact."):
        model, (key, call) = Model.REGISTER, _register_call(_obj(doc, "data"), read)
    else:
        raise BadEvent(
            f"unknown event type {event_type!r}; this automation handles 'order.*', "
            "'invoice.*' and 'contact.*' events",
            status=422,
            where="type",
        )
    return HookEvent(event_id, event_type, model, key, sequence, call)


def _stripe_event(doc: dict[str, Any], event_id: str, event_type: str, lenient: bool) -> HookEvent:
    """A Stripe event (``{"object": "event", "created", "data": {"object": {...}}}``), as
    replayed from a Stripe export: successive states of the object it is about (a register
    keyed by its id, ordered by ``created``), written to ``PUT /<object type>s/<id>``.

    Stripe writes every field of an object, null where it has none (a payment without a
    customer): read strictly, a missing field is a malformed event (400 naming it), and an
    amount is an integer; ``lenient`` passes a missing one on as null."""
    created = _int(doc, "created", minimum=1)
    found = _obj(_obj(doc, "data"), "object", "data.")
    object_id = _str(found, "id", "data.object.")
    kind = _str(found, "object", "data.object.")

    def field(name: str) -> JSON:
        return found.get(name) if lenient else _member(found, name, f"data.object.{name}")

    body: dict[str, JSON] = {
        "status": field("status"),
        "amount": _stripe_amount(found, lenient),
        "currency": field("currency"),
        "customer": field("customer"),
        "event": event_id,
    }
    path = f"/{quote(kind, safe='')}s/{quote(object_id, safe='')}"
    call = DownstreamCall("PUT", path, body)
    return HookEvent(event_id, event_type, Model.REGISTER, object_id, created, call)


def _stripe_amount(found: dict[str, Any], lenient: bool) -> JSON:
    """An invoice's ``amount_paid`` or a payment's ``amount`` (an integer of minor units, never
    null in Stripe's objects); None for an object that has neither (a subscription)."""
    for name in ("amount_paid", "amount"):
        if name in found:
            return found[name] if lenient else _int(found, name, "data.object.")
    return None


def json_error(status: int, message: str, *, field: str | None = None) -> web.Response:
    body: dict[str, JSON] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


CLIENT = web.AppKey("client", aiohttp.ClientSession)
"""The app's one HTTP client to the downstream, open while the app runs."""


def base_app(on_event: Handler, opts: Options) -> web.Application:
    """An app answering GET /healthz and POST on /hooks and any path under it.

    ``app[CLIENT]`` is an HTTP client whose every call times out after ``opts.timeout``.
    """
    app = web.Application()
    app.router.add_get("/healthz", _healthz)
    app.router.add_post(r"/hooks{tail:(/.*)?}", on_event)

    async def client_ctx(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=opts.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as client:
            app[CLIENT] = client
            yield

    app.cleanup_ctx.append(client_ctx)
    return app


async def _serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        bound_port = runner.addresses[0][1]
        # The parent process waits for exactly this line to know where to deliver.
        print(f"LISTENING http://{host}:{bound_port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(app: web.Application, opts: Options, prog: str) -> int:
    """Serves until SIGTERM/SIGINT; returns the exit code (0 clean, 3 could not listen)."""
    try:
        asyncio.run(_serve(app, opts.host, opts.port))
    except OSError as exc:
        print(
            f"{prog}: cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}; "
            "pass --port 0 to pick a free port",
            file=sys.stderr,
        )
        return 3
    return 0
