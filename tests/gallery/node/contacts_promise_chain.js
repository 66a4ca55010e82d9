// Standard Webhooks contact.updated -> the CRM's contact, one promise chain per contact, from
// node:http. A CORRECT automation: the harness must not fail it.
//
// What it does: verifies `webhook-signature` (`v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.
// {raw body}`, the key the base64 after `whsec_`), refuses a `webhook-timestamp` more than 5
// minutes off (a replay) and a payload without the contact's id, email or time (400, said in
// the log). Then it answers 202 at once and writes in the background, each contact's writes
// chained on one promise so that two never overlap. An update no newer than the contact's
// newest one taken is skipped (a copy, or one that arrived late); one overtaken while it waits
// is skipped too (the newer one behind it writes the newer state). A write the CRM refuses
// (5xx, 429, no answer in 5 s) is tried again, after its Retry-After where it gives one, else
// 100 ms doubling to 2 s, 30 times at most: PUT of the whole contact is idempotent, so a write
// tried again that had landed changes nothing.
//
// Must get: every verdict of the standard suite passes, or is inconclusive saying what it could
// not see; none fails (a false failure is as bad as a false pass).
//
//   WEBHOOK_SECRET=whsec_... DOWNSTREAM_URL=http://127.0.0.1:9100 \
//     node tests/gallery/node/contacts_promise_chain.js --port 8000
'use strict';

const crypto = require('node:crypto');
const { serve } = require('./_serve');

const KEY = Buffer.from((process.env.WEBHOOK_SECRET ?? '').replace(/^whsec_/, ''), 'base64');
const CRM = process.env.DOWNSTREAM_URL;
const TOLERANCE = 300;
const chains = new Map(); // contact id -> the promise of its last write
const newest = new Map(); // contact id -> the time of its newest update taken

function verified(req, raw) {
  const id = req.headers['webhook-id'];
  const stamp = req.headers['webhook-timestamp'];
  const header = req.headers['webhook-signature'];
  if (!id || !stamp || !header) return false;
  if (Math.abs(Date.now() / 1000 - Number(stamp)) > TOLERANCE) return false;
  const signed = Buffer.concat([Buffer.from(`${id}.${stamp}.`), raw]);
  const expected = crypto.createHmac('sha256', KEY).update(signed).digest();
  return header.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length
      && crypto.timingSafeEqual(given, expected);
  });
}

function contactOf(event) {
  const data = event?.data;
  const at = Date.parse(event?.timestamp);
  if (typeof data?.id !== 'string' || typeof data.email !== 'string' || Number.isNaN(at)) {
    return null;
  }
  return { id: data.id, at, body: { email: data.email, name: data.name, company: data.company, plan: data.plan } };
}

const TRIES = 30;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function put(contact) {
  try {
    const res = await fetch(`${CRM}/contacts/${encodeURIComponent(contact.id)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(contact.body),
      signal: AbortSignal.timeout(5000),
    });
    if (res.ok || (res.status < 500 && res.status !== 429)) return { status: res.status };
    const wait = Number(res.headers.get('retry-after')); // seconds, when the API says
    return { status: null, wait: Number.isFinite(wait) ? wait * 1000 : 0 };
  } catch {
    return { status: null, wait: 0 }; // no answer: tried again
  }
}

async function write(contact) {
  for (let attempt = 1, delay = 100; attempt <= TRIES; attempt++, delay = Math.min(delay * 2, 2000)) {
    if (newest.get(contact.id) > contact.at) return; // overtaken: the newer one writes
    const { status, wait } = await put(contact);
    if (status !== null) {
      if (status >= 400) console.error(`contact ${contact.id}: the CRM refused it (${status})`);
      return;
    }
    await sleep(Math.max(delay, wait));
  }
  console.error(`contact ${contact.id}: not written after ${TRIES} tries`);
}

function take(contact) {
  if ((newest.get(contact.id) ?? -Infinity) >= contact.at) return; // a copy, or late: skipped
  newest.set(contact.id, contact.at);
  const job = (chains.get(contact.id) ?? Promise.resolve()).then(() => write(contact));
  chains.set(contact.id, job);
}

function handle(req, raw) {
  if (!verified(req, raw)) return 401;
  let contact = null;
  try {
    contact = contactOf(JSON.parse(raw));
  } catch {
    contact = null;
  }
  if (contact === null) {
    console.error(`delivery ${req.headers['webhook-id']}: no contact id, email or timestamp`);
    return 400;
  }
  take(contact);
  return 202;
}

serve('/webhooks/contacts', (req, raw, res) => {
  res.writeHead(handle(req, raw)).end();
});
