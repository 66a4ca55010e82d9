// Shopify orders/create -> the warehouse's bulk import, batched by a setInterval, from node:http.
//
// What it does: verifies `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body), answers
// 200 at once (Shopify gives five seconds), skips an `X-Shopify-Webhook-Id` it has queued before,
// and pushes the order onto `pending`. Every 250 ms `flush()` — an async function handed to
// `setInterval` — takes the whole array (`pending.splice(0)`), maps each order to a warehouse
// line and sends them in one `POST /orders/bulk`. Its author guarded the call: a bulk post the
// warehouse refuses (5xx, 429, no answer) puts the batch back at the front, for the next tick.
//
// Its flaw: the mapping is not guarded. A line reads `order.customer.email.toLowerCase()` and
// the shipping address's `zip` — every order its author saw had both. An order without them
// (a field renamed or dropped upstream, a pickup order with no shipping address) throws a
// TypeError inside `batch.map(...)`, after the splice: the flush's promise rejects, the
// `unhandledRejection` handler logs one line, and every order of that tick — the well-formed
// ones queued beside it — is gone. Shopify heard 200 for each.
//
// Must get: renamed-field and missing-field, no_lost_events fails on the well-formed orders
// lost beside a malformed one, not only on the malformed ones; drift_is_loud fails on the
// malformed orders dropped silently; with the API up and every field there, nothing is lost.
// The reading must not claim the target stopped working: the next tick's orders go through.
//
//   SHOPIFY_WEBHOOK_SECRET=shpss_... DOWNSTREAM_URL=http://127.0.0.1:9100 \
//     node tests/gallery/node/shopify_orders_interval_batch.js --port 8000
'use strict';

const crypto = require('node:crypto');
const { serve } = require('./_serve');

const SECRET = process.env.SHOPIFY_WEBHOOK_SECRET;
const WAREHOUSE = process.env.DOWNSTREAM_URL;
const EVERY_MS = 250;
const queued = new Set(); // the webhook ids pushed onto `pending`
let pending = [];

function verified(raw, header) {
  const expected = crypto.createHmac('sha256', SECRET).update(raw).digest();
  const given = Buffer.from(header ?? '', 'base64');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function lineOf(order) {
  return {
    order: order.admin_graphql_api_id,
    name: order.name,
    email: order.customer.email.toLowerCase(),
    zip: order.shipping_address.zip,
    total: order.total_price,
    currency: order.currency,
  };
}

async function flush() {
  if (pending.length === 0) return;
  const batch = pending.splice(0);
  const lines = batch.map(lineOf); // the flaw: one bad order rejects the whole tick
  let res = null;
  try {
    res = await fetch(`${WAREHOUSE}/orders/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orders: lines }),
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    res = null;
  }
  if (res === null || !res.ok) pending = batch.concat(pending); // the next tick sends it again
}

serve('/webhooks/orders', (req, raw, res) => {
  if (!verified(raw, req.headers['x-shopify-hmac-sha256'])) {
    res.writeHead(401).end();
    return;
  }
  const id = req.headers['x-shopify-webhook-id'];
  if (req.headers['x-shopify-topic'] === 'orders/create' && !queued.has(id)) {
    queued.add(id);
    pending.push(JSON.parse(raw));
  }
  res.writeHead(200).end();
});

setInterval(flush, EVERY_MS);
process.on('unhandledRejection', (error) => console.error('unhandled rejection:', error.message));
