"""A gallery of flawed automations, written the way real ones are written and fail.

Each module is a small aiohttp webhook receiver that knows nothing of the harness (none imports
``harness``): it reads its downstream's base URL from a flag or an environment variable, as a
deployed service reads its CRM's URL, and is started as a real process on loopback by
``tests/test_gallery.py`` (and ``tests/test_gallery_*.py``), which drives it through the
``harness`` command and reads the JSON report. Each one's docstring says its flaw and the
verdict it must get.

* ``seen_first``: marks a Stripe event seen before its two CRM calls; a retry after a CRM
  failure is skipped as a duplicate, so the deal is never created (partial loss).
* ``background_queue``: acks at once and works through an in-process queue, a few hundred ms
  per event (n8n's "respond immediately"); correct, only late.
* ``derived_ids``: writes only a Checkout Session id and a running balance, never the event id;
  and pays twice on a redelivery, which only a correlation rule lets the harness see.
* ``activity_log``: patches the order (a merge patch) and appends an activity line to a timeline
  whose number it derived, with no dedup: a redelivery appends the line again, and nothing in
  the line names its event.
* ``dies_midrun``: the process exits after N events, between requests.
* ``float_ids``: passes 64-bit ids through ``int(float(x))``.
* ``ignores_types``: acts on ``order.paid`` only and answers 200 to the rest, on purpose.
* ``partial_write``: writes a HubSpot batch event by event, stops at the first error, answers 200.
* ``dedup_store``: deduplicates against a processed-events table it reads page by page on every
  delivery and never prunes: acks grow with the events seen, past the ack timeout within a year
  (``tests/test_year_trends.py`` drives it as month runs).
* ``one_secret``: verifies Stripe signatures against the one secret it read at start; after a
  signing-secret rotation's overlap it refuses every delivery.
* ``bulk_writer``: buffers orders and writes them in one bulk call a quarter second; a refused
  batch is dropped.
* ``booked_balance``: books each Stripe invoice (retried until the ledger takes it) after writing
  its customer's running balance once; a balance write refused in an outage is dropped.
* ``audited_bulk``: as ``bulk_writer``, but a refused batch is posted again half a second later
  whatever its ``Retry-After``, and each bulk call's audit line is posted again at once while
  refused, 30 times, naming no event.
* ``restarts_midrun``: a supervisor holds the socket and restarts a worker that dies after ten
  orders with its in-memory queue, in the clean run too.
* ``payout_by_order``: pays each order ``POST /payouts {"order", "amount"}``, nothing of the
  event in it, answering 503 when the payments API fails; correct — with ``--drop-every 2`` it
  acknowledges every second order unpaid.
* ``blocking_enrich``: an in-process ASGI app whose async handler makes a blocking call.
* ``shopify_dedup``: handles each Shopify webhook id once and remembers every id for the life
  of its process; correct — a harness that sends its clean run's numeric ids again sees a run
  "lost".
* ``issue_tickets``: a GitHub issues sync keeping one ticket per ``repo#number`` for the life of
  its process; correct — a harness that gave a run's issues an earlier run's numbers would see
  it update the old tickets instead of creating its own.
* ``scheduled_sync``: stores each order and pays out 4 s after a window's first one (n8n's
  Wait node, a scheduled sync); correct, only seconds late — unseen by a short settle quiet.
* ``stale_guard``: keeps each contact's last applied ``timestamp`` and answers 200 to an older
  update without writing it; correct: under reordering it skips stale updates on purpose.
* ``arrival_wins``: writes every contact update as it arrives; a reordered stale one overwrites
  a newer one.
* ``retry_no_key``: retries ``POST /payouts`` on a 5xx or a timeout with no idempotency key: a
  payout booked and then failed is booked again (with ``PAYOUT_IDEMPOTENCY_KEY``, keyed).
* ``fetch_upsert``: Attio sends ids only; it looks the customer up, fetches the record, then
  creates or updates the customer, nothing holding the look-up and the creation together:
  changes of one record arriving at once each create one (with ``SKIP_BUSY=1`` it also drops a
  change of a record it is syncing).
* ``slack_tickets``: a Slack bot opening a helpdesk ticket per message and replying in its
  thread; with ``SLACK_IGNORE_RETRIES`` it answers Slack's retries 200 unread ("we already got
  the first one"), dropping the events whose first attempt failed; with ``SLACK_ACK_FIRST`` it
  acks at once and works in the background, where a helpdesk error loses the reply.
* ``count_batcher``: upserts Stripe checkouts' customers into a CRM ten to a call, and only
  ten (Node-RED's ``join`` by count with no timeout): the last partial batch waits forever, in
  the clean run too.
* ``two_process_dedup``: skips an event id already in its ``seen`` set, served by two forked
  workers (``gunicorn -w 2``): each has its own set, and a copy landing on the other worker is
  ordered again (``WORKERS=1``: correct).
* ``resurrected_subscription``: mirrors Stripe subscriptions by ``PUT`` (an upsert) and
  ``DELETE``; an update delivered after its subscription's deletion brings it back.
* ``float_balance``: adds each paid invoice to the customer's balance as a float of dollars
  and writes it whole: invoices in another order leave a balance a rounding away from the clean
  run's, nothing lost (``CENTS=1``: integer cents, correct).
* ``delete_recreate``: "upserts" a contact by finding it by email, deleting it and creating it
  again (the API has no ``PUT``): a customer's updates at once each create one.
* ``sqlite_orders``: Flask on SQLite as Flask's tutorial opens it, the write lock held across a
  Stripe call: in a burst an insert gives up ("database is locked") after its CRM order was
  made, and answers 500 (``JOURNAL=wal``: the burst waits instead).
* ``signature_nonce``: refuses a ``Stripe-Signature`` it has seen as a replay and keys nothing by
  the event id: copies within one second are refused 400, later ones ordered again
  (``DEDUP=event``: correct).
* ``hubspot_window``: checks HubSpot's v3 signature but compares the timestamp's milliseconds
  with the clock in seconds: no delivery is ever too old (``CLOCK=ms``: correct).
* ``batch_gather``: posts a HubSpot batch's events at once with ``asyncio.gather`` and answers
  500 when one fails: HubSpot resends the whole batch, the others posted again
  (``SKIP_WRITTEN=1``: each event once).
* ``lru_dedup``: deduplicates Stripe checkouts by the last ``KEEP`` (100) event ids, an
  ``OrderedDict`` LRU: a copy that comes after a hundred other checkouts is ordered again.
* ``verify_later``: answers 200 on receipt and checks the signature in its worker: forgeries
  acted on by nothing, but a genuine delivery the check fails (a secret rolled at Stripe and
  not here) acknowledged and lost.
* ``strict_contacts``: validates Standard Webhooks contact updates with ``extra="forbid"``
  pydantic models and answers 200 to one that fails (``ON_INVALID=refuse``: FastAPI's 422).
* ``dst_orders``: keeps each Shopify order's newest update by ``updated_at`` with its offset
  cut: in the hour the clocks go back, the newer update reads older and is skipped.
* ``contact_once``: one CRM contact per customer email read with ``.get()``: a renamed email
  reads None, and every drifted checkout after the first is "a returning customer", dropped
  (``REQUIRE_EMAIL=1``: refused 422).
* ``cart_orders``: ``Idempotency-Key: order-<client_reference_id>``, None for every checkout
  without a cart: the API refuses each after the first 400, logged and acknowledged, in the
  clean run too (``KEY=event``: correct).
* ``slack_triage``: a Slack bot opening its ticket before it answers, keeping no event id:
  each retry of a late ack opens another (``ACK_FIRST=1``: correct).
* ``unsigned_orders``: checks Shopify's HMAC only when the header is sent: unsigned orders
  are shipped (``REQUIRE_SIGNATURE=1``: correct).
* ``updates_once``: ``orders/updated`` deduplicated by the order id, as its ``orders/create``
  was: every update after an order's first dropped, in the clean run too (``DEDUP=webhook``).
* ``repo_lock``: serialises a repository's GitHub deliveries with a lock taken and released by
  hand: the first error inside it (a tracker 503) keeps it, and every later delivery of the
  repository hangs until GitHub gives up (``LOCK=with``: released whatever happens).
* ``coalesced_changes``: gathers a HubSpot batch's changes per contact with ``setdefault``: the
  first listed change of a property is written, the newer ones dropped (``COALESCE=newest``).
* ``early_updates``: creates a Stripe subscription by ``PUT``, updates it by ``PATCH``, and
  acknowledges an update answered 404 ("not in the CRM yet"): a plan change delivered before
  its ``created`` is lost (``ON_MISSING=retry``: 503, so that Stripe retries).
* ``record_throttle``: writes a contact at most once a second and drops what comes within the
  second, the newest too (``THROTTLE=trailing``: the newest held and written after it).
* ``shed_load``: a GitHub receiver answering 429 with Retry-After when its queue is full —
  GitHub retries nothing, so each is an issue with no ticket (``WHEN_FULL=wait``).
* ``contact_template``: fills a module-level template of the CRM's contact fields in place
  (``contact = CONTACT_TEMPLATE``, no copy): a Standard Webhooks update that lacks a field is
  written with the previous contact's value (``TEMPLATE=copy``: a copy, a lacking update 422).
* ``attio_changes``: logs Attio changes, deduplicated by the body's ``webhook_id`` — the
  webhook's id, the same in every delivery: every change after the first dropped
  (``DEDUP=idempotency-key``: the header Attio keeps across retries).
* ``shared_executor``: runs each Stripe checkout's blocking sync on a pool of four threads and
  waits there on look-ups submitted to the same pool: four at once deadlock it for good
  (``LOOKUPS=own-pool``).
* ``split_signature``: unpacks ``webhook-signature`` as one ``v1,<sig>`` entry: every delivery
  of a rotation's overlap (two signatures) answered 500 (``SIGNATURES=all``: each entry read).
* ``cached_lookup``: ``functools.lru_cache`` on an ``async`` contact look-up caches the
  coroutine: a customer's later checkouts raise and are answered 500 (``CACHE=results``).
* ``node/shopify_orders_interval_batch.js``: batches Shopify orders in a ``setInterval`` flush;
  one order without a field throws in the mapping and the whole tick's orders are lost.
* ``checkpoint_sync``: one "newest timestamp handled" checkpoint for a whole Standard Webhooks
  stream: a reordered older update of another contact is skipped, answered 200
  (``CHECKPOINT=contact``).
* ``cursor_sync``: syncs an inbox table to the CRM past a cursor of SQLite's
  ``CURRENT_TIMESTAMP`` (to the second): rows stored after a sync of their second are never
  sent (``CURSOR=id``).
* ``pruned_locks``: a lock per Shopify customer, removed once ``not lock.locked()``: asyncio
  frees it before its waiter takes it, two orders read one balance (``LOCKS=kept``).
* ``split_payout``: two Stripe transfers (``POST /v1/transfers``, form-encoded as
  stripe-python sends them) per checkout, both under the event's id as Idempotency-Key: the
  second is refused 400, every delivery answered 500 (``KEYS=per-transfer``).
* ``node/hubspot_split_batches.json``: a Node-RED flow splitting a HubSpot batch into one PUT
  per change, the first call back answering HubSpot: changes refused 429 are acknowledged
  (``/hooks/hubspot/joined``: a join, 502 where any failed).

Scenario files live in ``scenarios/`` as ``<name>.yaml`` (not ``.scenario.yaml``: the pytest
plugin would collect those as scenario items of this test session).
"""
