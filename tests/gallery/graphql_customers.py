"""Stripe ``checkout.session.completed`` -> the store's customers, through a GraphQL Admin API.

Every call is ``POST /graphql`` with an operation in the body, as Shopify's Admin API, Linear's
or GitHub's take them: what the call does is the operation's name, not the method nor the
path. The sync dedups on the event id once the write went through, and answers 500 when the
API failed, so that Stripe retries. By default it writes the customer with ``customerSet``,
Shopify's upsert by an identifier (the email): sent twice, it leaves one customer. With
``MUTATION=create`` it does what older apps do: looks the customer up (a ``query``, a read),
then ``customerCreate`` — and a Stripe retry of an event whose write went through but whose
answer did not (the API slow past Stripe's timeout, a 502 after the commit) looks up again
and creates the customer again.

With ``MUTATION=tag`` it only tags the customer (``tagsAdd`` on the Stripe customer's gid): a
write naming its record, not its event, harmless to repeat (a tag added twice is one tag).

Must get: a retry storm's repeated ``customerSet`` not failed (an upsert: harmless to repeat;
the request does not say so, so inconclusive naming the operation until declared); the
repeated ``customerCreate`` a duplicate once declared, its look-ups never counted as writes;
the repeated ``tagsAdd`` never "a resource made twice" for the 201 the double answers a POST.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    SHOP_URL=http://127.0.0.1:9100 python -m tests.gallery.graphql_customers --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

SHOP: web.AppKey[aiohttp.ClientSession] = web.AppKey("shop", aiohttp.ClientSession)
SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)
MUTATION = os.environ.get("MUTATION", "set")

FIND = """query FindCustomer($q: String!) {
  customers(first: 1, query: $q) { nodes { id } }
}"""
SET = """mutation SetCustomer($email: String!, $input: CustomerSetInput!) {
  customerSet(identifier: {email: $email}, input: $input) { customer { id } userErrors { message } }
}"""
CREATE_ONE = """mutation CreateCustomer($input: CustomerInput!) {
  customerCreate(input: $input) { customer { id } userErrors { message } }
}"""
UPDATE_ONE = """mutation UpdateCustomer($input: CustomerInput!) {
  customerUpdate(input: $input) { customer { id } userErrors { message } }
}"""
TAG = """mutation TagPaid($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { message } }
}"""


class GraphQLError(Exception):
    pass


async def graphql(shop: aiohttp.ClientSession, query: str, variables: dict[str, Any]) -> Any:
    """The operation's ``data``, as a GraphQL client gives it: an HTTP error or a body with
    ``errors`` raises."""
    async with shop.post("/graphql", json={"query": query, "variables": variables}) as answer:
        answer.raise_for_status()
        result = await answer.json()
    if result.get("errors"):
        raise GraphQLError(result["errors"])
    return result.get("data") or {}


async def write_customer(
    shop: aiohttp.ClientSession, email: str, fields: dict[str, Any], customer: str
) -> None:
    if MUTATION == "set":
        await graphql(shop, SET, {"email": email, "input": {"email": email, **fields}})
        return
    if MUTATION == "tag":
        gid = f"gid://shopify/Customer/{customer}"
        await graphql(shop, TAG, {"id": gid, "tags": ["stripe-paid"]})
        return
    found = await graphql(shop, FIND, {"q": f"email:{email}"})
    nodes = (found.get("customers") or {}).get("nodes") or []
    if nodes:
        await graphql(shop, UPDATE_ONE, {"input": {"id": nodes[0]["id"], **fields}})
    else:
        await graphql(shop, CREATE_ONE, {"input": {"email": email, **fields}})


def build_app(shop_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[SEEN] = set()
    app.cleanup_ctx.append(_serve.client_session(SHOP, shop_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed" or event["id"] in app[SEEN]:
            return web.json_response({"received": True})
        session = event["data"]["object"]
        details = session.get("customer_details") or {}
        if not details.get("email"):
            return web.json_response({"received": True})
        fields = {"firstName": details.get("name"), "note": f"checkout {session.get('id')}"}
        try:
            await write_customer(
                request.app[SHOP], details["email"], fields, str(session.get("customer"))
            )
        except (aiohttp.ClientError, TimeoutError, GraphQLError):
            return web.Response(status=500)  # Stripe retries
        app[SEEN].add(event["id"])
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.graphql_customers", "SHOP_URL", build_app)


if __name__ == "__main__":
    main()
