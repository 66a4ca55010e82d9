"""Stripe signature verification, as ``stripe.Webhook.construct_event`` does it (the SDK is not
a dependency of this project): ``Stripe-Signature: t=<unix>,v1=<hex>``, HMAC-SHA256 over
``{t}.{raw body}`` with the ``whsec_...`` secret as-is, 300 s of tolerance."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

TOLERANCE = 300


class SignatureError(Exception):
    pass


def construct_event(body: bytes, header: str | None, secret: str) -> dict[str, Any]:
    """The parsed event, or SignatureError when the header does not prove it came from Stripe."""
    if not header:
        raise SignatureError("no Stripe-Signature header")
    pairs = [part.partition("=") for part in header.split(",")]
    stamps = [v for k, _, v in pairs if k.strip() == "t"]
    signatures = [v for k, _, v in pairs if k.strip() == "v1"]
    if not stamps or not signatures:
        raise SignatureError("Stripe-Signature lacks t= or v1=")
    try:
        stamp = int(stamps[0])
    except ValueError:
        raise SignatureError("Stripe-Signature t= is not a number") from None
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("no v1 signature matches")
    if abs(time.time() - stamp) > TOLERANCE:
        raise SignatureError("timestamp outside the tolerance")
    event: dict[str, Any] = json.loads(body)
    return event


async def read_event(request: web.Request, secret: str) -> dict[str, Any] | None:
    """The event ``request`` carries, or None where its signature does not prove it came from
    Stripe or its body is no JSON (to be answered 400)."""
    body = await request.read()
    try:
        return construct_event(body, request.headers.get("Stripe-Signature"), secret)
    except (SignatureError, json.JSONDecodeError):
        return None


def checkout_hook(
    secret: str, accept: Callable[[web.Application, dict[str, Any]], None]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A Stripe webhook handler: 400 where the signature does not prove the event, else
    ``accept(app, event)`` for a ``checkout.session.completed`` and 200 ``{"received": true}``
    for any event."""

    async def webhook(request: web.Request) -> web.Response:
        event = await read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") == "checkout.session.completed":
            accept(request.app, event)
        return web.json_response({"received": True})

    return webhook


def invoice_hook(
    secret: str, handle: Callable[[web.Application, dict[str, Any]], Awaitable[None]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A Stripe webhook handler: 400 where the signature does not prove the event, else
    ``handle(app, event)`` for an ``invoice.paid`` not handled before (a redelivery adds
    nothing) and 200 ``{"received": true}`` for any event."""
    handled: set[str] = set()

    async def webhook(request: web.Request) -> web.Response:
        event = await read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") == "invoice.paid" and event["id"] not in handled:
            handled.add(event["id"])
            await handle(request.app, event)
        return web.json_response({"received": True})

    return webhook


def order_of(event: dict[str, Any]) -> dict[str, Any]:
    """The CRM order of a ``checkout.session.completed``: its session, email and amount."""
    session = event["data"]["object"]
    details = session.get("customer_details") or {}
    return {
        "checkout": session["id"],
        "email": details.get("email"),
        "amount": session.get("amount_total"),
        "currency": session.get("currency"),
    }


def subscription_state(event: dict[str, Any]) -> dict[str, Any]:
    """The CRM subscription of a ``customer.subscription.*`` event: its whole state."""
    sub = event["data"]["object"]
    items = sub.get("items", {}).get("data", [])
    return {
        "customer": sub.get("customer"),
        "status": sub.get("status"),
        "cancel_at_period_end": sub.get("cancel_at_period_end"),
        "current_period_end": sub.get("current_period_end"),
        "price": items[0]["price"]["id"] if items else None,
        "stripe_event": event["id"],
    }


def claiming_hook(
    secret: str,
    api: web.AppKey[aiohttp.ClientSession],
    path: str,
    body_of: Callable[[dict[str, Any]], dict[str, Any]],
    claim: Callable[[web.Application, str], bool],
    release: Callable[[web.Application, str], None],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A Stripe webhook handler that claims each checkout's event id before its one call
    (``POST path`` of ``body_of(event)`` to the API under ``api``): a copy whose claim is taken
    answered 200 as a duplicate; a failed call releases the claim and answers 500, so that
    Stripe's retry does it."""

    async def webhook(request: web.Request) -> web.Response:
        event = await read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"ignored": True})
        if not claim(request.app, event["id"]):
            return web.json_response({"duplicate": True})
        try:
            async with request.app[api].post(path, json=body_of(event)) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            release(request.app, event["id"])
            return web.Response(status=500)
        return web.json_response({"done": True})

    return webhook
