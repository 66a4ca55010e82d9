"""A Scenario, as plain frozen dataclasses: what the YAML loader and Python users both build.

source + perturbations + downstreams + delivery (signing, timeout) + model + invariants + settle.
Validation of user input happens at the boundary (``harness.scenario``); these types trust
their fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ._calendar import CalendarSpec
from ._model import JSON, Model
from ._providers import Provider


@dataclass(frozen=True, slots=True)
class InvariantSpec:
    """An invariant named in a scenario, with its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SyntheticSource:
    """N events over K records made from an example payload, values filled by faker (seeded).

    Paths are JSONPath-like (``$.data.order_id``): where the event id, the record key, the
    type and the per-record sequence number live in the payload.
    """

    example: JSON
    events: int
    records: int
    over: float  # seconds the stream spans at its natural pace
    id_path: str | None = "$.id"  # None: the provider carries the id in a header (GitHub)
    key_path: str = "$.key"
    type_path: str | None = "$.type"
    seq_path: str | None = None  # where to write the record's 1-based sequence number
    time_path: str | None = None  # where to write occurred_at (ISO 8601)
    types: tuple[str, ...] = ()  # event types to cycle through, written at type_path
    # Each event's occurred_at (scenario seconds, ascending; one per event) instead of evenly
    # over ``over``, and the instant of second 0 (an aware datetime, its zone the one times are
    # written in at time_path): a year's month (``harness.year``). Empty / None: as before.
    times: tuple[float, ...] = ()
    epoch: datetime | None = None
    # (path, value) written in each of a record's events after its first (a library entry's
    # ``later``: a GitHub issue is opened once, then edited). Empty: every event as the example.
    later: tuple[tuple[str, JSON], ...] = ()
    # Paths whose value every event keeps as the example has it: the account, workspace or
    # subscription that sends them all (``same:``; a library entry's own).
    same: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedSource:
    """Events recorded from production: a file in one of ``drive._formats.FORMATS`` (JSONL,
    a capture, a HAR, a provider's export), ``format`` None: detected from the file."""

    path: Path
    id_path: str | None = None  # default: the line's "id", else its position
    key_path: str | None = None  # default: the line's "key", else the event id
    type_path: str | None = None
    over: float | None = None  # spread evenly over this many seconds; else by occurred_at
    # Lines sharing an event id: "merge" — one event, delivered once per line at the line's
    # time (a provider's redeliveries); "separate" — each line an event of its own.
    redeliveries: str = "merge"
    format: str | None = None
    har_url: str | None = None  # a HAR's deliveries: the requests to this URL, or this path
    har_path: str | None = None


@dataclass(frozen=True, slots=True)
class SchemaSource(SyntheticSource):
    """A synthetic source whose payloads a JSON Schema makes (``drive._schema_events``): valid
    instances drawn with hypothesis-jsonschema, seeded — boundary values and absent optional
    fields included — then given their ids, record keys, types, sequence numbers and times at
    the source's paths, as a SyntheticSource gives them.

    ``schema`` is self-contained (its local ``$ref``s inlined when it came from an OpenAPI
    document); ``example`` is its skeleton, every declared property present, which the paths
    and drift perturbations are checked against. ``origin`` names the schema in messages
    (``orders.openapi.yaml#/webhooks/order.paid``).
    """

    schema: JSON = None
    origin: str = "<python>"


Source = SyntheticSource | RecordedSource


@dataclass(frozen=True, slots=True)
class Perturbation:
    """One seeded transform of the delivery schedule. ``kind`` names it; ``params`` tune it.

    duplicate: rate (0..1), copies (>=2 deliveries in all), spread (s; 0 = at the same instant)
    burst: within (s), count (events; default all) — deliver them all within that time
    simultaneous: records (how many records), events (per record) — sent at one instant
    reorder: window (events), rate (0..1) — shuffle deliveries inside windows
    replay: times (extra passes), gap (s after the end of the previous pass)
    rename_field / drop_field / null_field / retype_field / add_field: field drift on the
    payloads, not the schedule (``_drift``): path, to, value, rate, from (s), types
    tamper: mode (forged | unsigned | stale | replayed), rate (0..1), age (s, real time: how
    old the signed timestamp is), after (s: a replayed copy follows its original this late)
    — delivery-side faults an attacker would send, never retried by the provider
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Route:
    """A stub answer of the downstream double.

    ``path`` may hold ``{name}`` segments (one segment each) or end in ``*`` (any rest).
    """

    method: str
    path: str
    status: int = 200
    body: JSON = None  # None: echo the request body (plus a generated "id" for a 201)
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering


@dataclass(frozen=True, slots=True)
class DownstreamSpec:
    """One downstream the target calls, replaced by the double during the run."""

    name: str = "downstream"
    routes: tuple[Route, ...] = ()
    # An in-memory REST API (``_resources``) answers what no route matches, instead of stubs.
    stateful: bool = False
    # Where its double listens; None: the run's downstream port, plus its position.
    port: int | None = None
    # The real API's OpenAPI document: each effect is checked against it (``double._contract``).
    contract: ContractSpec | None = None
    # A real API's base URL: what no route matches is forwarded there (a pass-through double).
    forward_to: str | None = None
    # How the API authenticates its callers; the double enforces it (None: it does not).
    auth: AuthSpec | None = None
    # The stateful store's list endpoints answer at most this many records a page, with a
    # cursor to the next page (None: every record in one answer).
    page_size: int | None = None
    # Changes of the API's answers on dates, as a new API version makes them.
    shape_changes: tuple[ShapeChange, ...] = ()
    # Routes ('PATCH /contacts/{id}') whose writes merge the fields they send into the
    # resource, as HubSpot's PATCH does: an identical repeat of one changes nothing more.
    merges: tuple[str, ...] = ()
    # Routes whose writes add to the resource each time, as Notion's
    # PATCH /v1/blocks/{id}/children does: a repeat is a duplicate, however identical.
    appends: tuple[str, ...] = ()
    # Routes ('POST /v1/charges', '* /*' for all) whose API deduplicates a write repeated with
    # the same Idempotency-Key, as Stripe's does, and routes whose API ignores the key, as
    # Slack's chat.postMessage does: there the double applies each repeat and
    # no_duplicate_effects counts it. A route in neither: the double honours the key and the
    # verdict says it assumed so. Both match: ignored.
    key_honoured: tuple[str, ...] = ()
    key_ignored: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """How the API a downstream stands for authenticates its callers (``double``).

    oauth: ``POST token_path`` (client-credentials or refresh-token grant) issues access tokens
    valid ``lifetime`` scenario seconds; every other call needs ``Authorization: Bearer TOKEN``
    with a live token, else 401. api-key: every call needs the key from the environment
    variable ``key_env`` in ``header``; from ``rotate_at`` scenario seconds only the key in
    ``next_key_env`` is accepted (a key rotated on a date).
    """

    kind: str  # "oauth" | "api-key"
    token_path: str = "/oauth/token"
    lifetime: float = 3600.0
    header: str = "Authorization"
    key_env: str = "HARNESS_API_KEY"
    next_key_env: str | None = None
    rotate_at: float | None = None


@dataclass(frozen=True, slots=True)
class ShapeChange:
    """From ``at`` scenario seconds the double's JSON answers to ``route`` (``"GET /deals/*"``;
    None: every route) have their fields renamed as ``rename`` says (old → new): an API
    version that changes a response shape on a date."""

    at: float
    rename: Mapping[str, str]
    route: str | None = None


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """The OpenAPI document of the API a downstream stands for: the double checks each request
    against it (path, method, required query parameters, JSON body and its formats), answers an
    invalid one 4xx with the schema error and a valid one with a body its response schema
    allows. ``origin`` names the document in messages and in the run's history."""

    document: JSON
    origin: str = "<python>"


FAULT_MODES = (
    "status",
    "throttle",
    "timeout",
    "reset",
    "slow",
    "commit-then-fail",
    "fail-first-n",
    "rate-limit",
)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A window in which a downstream misbehaves, in scenario (real-world) seconds.

    status: answer ``status`` (503) · throttle: 429 with Retry-After ``retry_after`` s ·
    timeout: hold the call ``hold`` s, past the caller's timeout, then 504 · reset: drop the
    connection unanswered · slow: answer after ``latency`` ± ``jitter`` s · commit-then-fail:
    the write takes effect, then the caller gets ``status`` (or, with ``then: timeout``, no
    answer within ``hold`` s) — the ambiguous ack behind double charges · fail-first-n: the
    first ``count`` calls in the window fail with ``status``, later ones succeed ·
    rate-limit: calls beyond ``rate`` per real second get 429 with Retry-After (a rate limit
    that tightens on a date).
    ``route`` (``"POST /payouts"``) limits the fault to matching calls; None: every call.
    """

    downstream: str
    mode: str
    at: float
    duration: float
    status: int = 503
    retry_after: float = 1.0
    hold: float = 30.0
    latency: float = 1.0
    jitter: float = 0.0
    count: int = 1
    then: str = "status"  # commit-then-fail: "status" or "timeout"
    route: str | None = None
    rate: float = 0.0  # rate-limit: calls allowed per real second


@dataclass(frozen=True, slots=True)
class ObserverSpec:
    """Where the run reads the downstream's final state when no double can stand in for it.

    An HTTP GET of ``url`` at the end of the run (after settle); ``records`` is the JSONPath of
    the list of records in the answer (``$``: the answer is the list), ``key`` the JSONPath of
    each record's key within it.
    """

    url: str
    records: str = "$"
    key: str = "$.id"


@dataclass(frozen=True, slots=True)
class DeliverySpec:
    """How events reach the target: signing, per-delivery timeout, content type."""

    signing: str = "standard-webhooks"  # none | hmac | standard-webhooks
    secret_env: str = "HARNESS_SECRET"  # secrets come only from the environment
    signature_header: str = "X-Signature"  # for hmac
    timeout: float = 10.0
    headers: Mapping[str, str] = field(default_factory=dict)
    # The sender whose ack timeout and retries drive delivery (scenario seconds); None: one
    # attempt per planned delivery, as before providers retried.
    provider: Provider | None = None
    # The signing secret rotated on a date, the provider's way (both secrets sign during the
    # overlap, then only the new one); None: one secret throughout.
    rotation: SecretRotation | None = None
    # Seconds the sender's clock runs ahead (+) or behind (-) in what it signs and stamps
    # (signature timestamps, timestamp headers); real time, never scaled; the network's timing
    # is unchanged.
    clock_skew: float = 0.0

    @property
    def scheme(self) -> str:
        """How deliveries are signed: the provider's own way (the YAML loader refuses a
        conflicting ``signing``), else ``signing``."""
        return self.provider.scheme if self.provider is not None else self.signing

    @property
    def signs_oddly(self) -> bool:
        """Does the sender sign with a rotated secret or on a skewed clock (the hazards
        ``accepts_genuine`` is the verdict of)? Unsigned deliveries carry neither."""
        return self.scheme != "none" and (self.rotation is not None or bool(self.clock_skew))


@dataclass(frozen=True, slots=True)
class SecretRotation:
    """A signing-secret rotation as Stripe and Svix roll a secret: from ``at`` scenario seconds
    after the start of the run (scaled by the time scale, as fault windows are) each delivery
    is signed with the old secret and the new one (in ``next_secret_env``), two signatures in
    the header, for ``overlap`` scenario seconds; after it, with the new secret only. Each
    attempt is signed at its send time (a retry after ``at`` carries the new secret).

    Only schemes whose header carries several signatures (``core._signing.MULTI_SIGNATURE``:
    stripe, standard-webhooks) can overlap; for the others give ``overlap=0`` (the secret
    switches at ``at``) — preparing a run refuses anything else. ``_signing.default_overlap``
    gives the scheme's default (what a YAML ``rotation:`` without ``overlap`` gets)."""

    next_secret_env: str
    at: float
    overlap: float = 86400.0


@dataclass(frozen=True, slots=True)
class Settle:
    """After the last delivery, wait for ``quiet`` s without an effect, at most ``deadline`` s.

    In the clean run, between two events of an automation seen working after it answers, wait
    for ``event_quiet`` real seconds without an effect, at most ``event_deadline`` (0: send the
    next event once the previous is answered) — ``engine._pace``."""

    quiet: float = 1.0
    deadline: float = 30.0
    event_quiet: float = 0.05
    event_deadline: float = 0.5


CORRELATE_KINDS = ("body", "path", "header", "query")
TRANSFORMS = ("lower", "upper", "strip", "sha256")


@dataclass(frozen=True, slots=True)
class CorrelationRule:
    """An effect whose value at ``effect`` equals an event's value at ``event`` is that event's.

    ``kind`` says where ``effect`` looks in the request: ``body`` (a JSONPath into its JSON
    body), ``path`` (a ``{name}`` parameter of ``route``'s path), ``header`` (a header name,
    any case) or ``query`` (a query parameter). ``event`` is a JSONPath into the event's
    payload as it was sent (after tracer rewriting and drift). ``pattern``, a regular
    expression, picks the compared part of the effect's value (its first group, else the whole
    match); ``transform`` turns the event's value into the effect's (``lower``, ``upper``,
    ``strip``, ``sha256`` hex, applied in order). ``downstream`` and ``route`` (``"POST
    /deals"``) limit the rule to those requests; None: every downstream, every request.
    A value that several events of one record share attributes the effect to the record only.
    """

    kind: str
    effect: str
    event: str
    downstream: str | None = None
    route: str | None = None
    pattern: str | None = None
    transform: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TracerSpec:
    """How a run rewrites its events into tracer tokens (``drive._tracer``).

    ``rewrite`` False sends the events as recorded; ``paths`` (when given) rewrites only the
    values at those payload paths. Effects are then attributed by the correlation rules and by
    the event ids and record keys they carry verbatim. ``rewrite`` None (not said): a synthetic
    source is rewritten, a recorded one sent as recorded but for its ids (``resolved``).
    """

    rewrite: bool | None = None
    paths: tuple[str, ...] = ()
    # Every id of the events this run's own, of its shape (``drive._own_ids``): the event's id
    # and key too where nothing else is rewritten. A recording's default, so that a target
    # remembering ids does not take each replay after the first for repeats.
    ids: bool = False

    def resolved(self, source: Source, *, compares_states: bool = False) -> TracerSpec:
        """This setting for ``source``, ``rewrite`` decided: a recorded source keeps its
        payloads as recorded but for its ids, each run's own, unless told otherwise
        (``rewrite: false`` sends it exactly as recorded) — or unless the run's final state is
        compared with its clean run's (``compares_states``): traced then, as the tokens in
        names and notes tie more of its state to its events; a rewritten recording's other ids
        are its own too."""
        recorded = isinstance(source, RecordedSource) and not self.paths
        if self.rewrite is None:
            rewrite = not recorded or compares_states
            return TracerSpec(rewrite=rewrite, paths=self.paths, ids=recorded)
        if self.rewrite and recorded:
            return TracerSpec(True, self.paths, ids=True)
        return self

    def resolved_as_synthetic(self) -> TracerSpec:
        """This setting with ``rewrite`` decided as for events of no recording (rewritten)."""
        return self if self.rewrite is not None else TracerSpec(True, self.paths, self.ids)


@dataclass(frozen=True, slots=True)
class ExpectedRequest:
    """One request each event of a type must cause, at least ``count`` times.

    ``path`` may hold ``{name}`` segments (one segment each) or end in ``*``, as a Route's;
    ``downstream`` None matches any downstream.
    """

    method: str
    path: str
    downstream: str | None = None
    count: int = 1


@dataclass(frozen=True, slots=True)
class ExpectSpec:
    """The expected effects of one event type, declared instead of learned from the clean run.

    ``requests`` empty: the automation ignores this type on purpose (``none`` in YAML).
    """

    type: str
    requests: tuple[ExpectedRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One delivery of an explicit schedule (``schedule:``): the source's event number ``event``
    (0-based: its position in the source) sent at ``at`` scenario seconds, genuine or tampered
    (``tamper``: forged | unsigned | stale | replayed; "" = genuine). Deliveries at one instant
    are sent concurrently; the list's order is the send order of those at one instant."""

    event: int
    at: float = 0.0
    tamper: str = ""


@dataclass(frozen=True, slots=True)
class ResetSpec:
    """How the target forgets what earlier runs taught it, between explore's examples: an HTTP
    POST of ``post`` (a URL) or a ``command`` run to completion (argv). The downstream double's
    own state needs no reset: every run starts a fresh one."""

    post: str | None = None
    command: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RestartSpec:
    """How the target is restarted as a deploy restarts it (``restart:``), at a scenario's
    ``restarts``: an HTTP POST of ``post`` (a URL) or a ``command`` run to completion (argv),
    like ``gunicorn``'s ``kill -HUP``, ``systemctl restart``, a container replaced."""

    post: str | None = None
    command: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    source: Source
    model: Model = Model.LEDGER
    description: str = ""
    perturbations: tuple[Perturbation, ...] = ()
    invariants: tuple[InvariantSpec, ...] = ()
    downstreams: tuple[DownstreamSpec, ...] = (DownstreamSpec(),)
    delivery: DeliverySpec = DeliverySpec()
    settle: Settle = Settle()
    faults: tuple[FaultSpec, ...] = ()
    observer: ObserverSpec | None = None
    # Run seconds per scenario second when the run gives none (--time-scale); None: 1.0.
    time_scale: float | None = None
    marks: tuple[str, ...] = ()  # pytest marks for the scenario's test items
    redact: tuple[str, ...] = ()  # payload paths (PII) whose values never appear in a report
    origin: str = "<python>"  # the file it came from, for messages
    correlate: tuple[CorrelationRule, ...] = ()  # beside tracer tokens (``drive._correlate``)
    tracer: TracerSpec = TracerSpec()  # resolved against the source when the run is prepared
    # Declared expected effects per event type; types left out are learned from the clean run.
    expect: tuple[ExpectSpec, ...] = ()
    # False: never drive a clean (baseline) run first, for a target that cannot take two runs.
    baseline: bool = True
    # How a built-in hazard was applied to a project (its events, provider, downstreams, the
    # fields its drift chose), in sentences for the console and the report.
    adapted: tuple[str, ...] = ()
    # Exactly these deliveries instead of the perturbations' plan (``drive._explicit``); None:
    # the plan. What ``harness explore`` writes for a shrunk failure, to replay it exactly.
    schedule: tuple[PlannedDelivery, ...] | None = None
    # How explore resets the target between examples; None: it is checked for state instead.
    reset: ResetSpec | None = None
    # Scenario seconds at which the run (never its clean run) restarts the target, as a deploy
    # does, while the sending goes on (``engine._restarts``); ``restart`` says how (the
    # project's ``restart:`` where the scenario gives none).
    restarts: tuple[float, ...] = ()
    restart: RestartSpec | None = None
    # A year as a scenario (``calendar:``): ``harness.year`` plans and drives its months.
    calendar: CalendarSpec | None = None
    # The invariants it would judge that its project leaves out (``leave_out:``), with the
    # project's reason each: not judged, and said so in every report.
    left_out: tuple[tuple[str, str], ...] = ()
    # A built-in hazard over project events whose model nobody gave (no ``model:``, no library
    # payload knew them): those events (``events[0] (contact.json)``); ``model`` is then the
    # hazard's assumption, not what they mean. A verdict that turns on it (an update skipped
    # as older than its record's state) says so. "": the model is the events' own.
    model_assumed: str = ""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A scenario that does not apply where it was asked to run — a hazard applied to a
    project it has nothing to act on (no 64-bit id to retype, another provider's retry storm)
    — and why. Neither passed nor failed: it does not fail the run.

    ``not_tried``: the hazard does apply — the automation will meet it in production — but the
    run could not try it for want of the user's setting (a second signing secret); ``reason``
    then begins with what to set, its first clause (before `` — ``). Never counted as held: a
    report beside one is not Ready."""

    name: str
    reason: str
    origin: str = "<python>"
    not_tried: bool = False

    @property
    def said(self) -> str:
        """``secret-rotation not tried: set …`` or ``provider-retry-storm skipped: …``."""
        return f"{self.name} {'not tried' if self.not_tried else 'skipped'}: {self.reason}"


# A run's settings key: the hazards its invocation did not try, ``[[name, reason], ...]``.
NOT_TRIED = "not_tried"


def not_tried_in(settings: Iterable[Mapping[str, Any]]) -> tuple[Skipped, ...]:
    """The hazards not tried that runs' settings name, once each (``harness check``)."""
    found: dict[str, Skipped] = {}
    for one in settings:
        for item in one.get(NOT_TRIED) or ():
            if isinstance(item, list | tuple) and len(item) == 2:
                name, reason = str(item[0]), str(item[1])
                found.setdefault(name, Skipped(name, reason, not_tried=True))
    return tuple(found.values())
