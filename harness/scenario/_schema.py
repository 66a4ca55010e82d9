"""The shape of scenario and suite files, as pydantic models (``extra="forbid"``, strict types).

A model per mapping of the file, its fields named as the file's keys. Each field's description
says what it allows; the error messages quote it (``_scenario_errors``). Defaults are read from
the ``core._scenario`` dataclasses the documents are built into, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from datetime import date as _date
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..core import _paths
from ..core._calendar import LIFE_EVENT_KINDS, CalendarSpec, LifeEvent
from ..core._errors import InputError
from ..core._providers import PROVIDERS
from ..core._scenario import (
    CORRELATE_KINDS,
    TRANSFORMS,
    AuthSpec,
    DeliverySpec,
    DownstreamSpec,
    ExpectedRequest,
    FaultSpec,
    InvariantSpec,
    RecordedSource,
    ResetSpec,
    RestartSpec,
    Route,
    Scenario,
    Settle,
    SyntheticSource,
    TracerSpec,
)
from ..double._routes import METHODS
from ..drive._perturb import TAMPER_DEFAULTS
from ..invariants import DEFAULT_INVARIANTS
from ._errors import Doc, hint, invalid, invalid_mapping
from ._limits import MAX_COPIES, MAX_REPLAYS
from ._values import (
    DURATION_FORMS,
    SIGNED_DURATION_FORMS,
    AppendRoute,
    CalendarDate,
    Duration,
    EnvName,
    ExpectedRoute,
    FaultRoute,
    ForwardUrl,
    HeaderName,
    HeaderValue,
    Invariant,
    JsonPath,
    KeyRoute,
    MergeRoute,
    Method,
    Name,
    ObserverUrl,
    PositiveDuration,
    RecordsPath,
    RoutePath,
    SignedDuration,
    TimeZone,
    parse_duration,
)

_DURATION_TEXT = f"a duration: {DURATION_FORMS}"
_POSITIVE_DURATION_TEXT = f"a duration greater than 0: {DURATION_FORMS}"
_RATE_TEXT = "a number between 0 and 1"
_PATH_TEXT = "a JSONPath like '$.data.order_id'"
_HEADERS_TEXT = "a mapping of HTTP header names to string values"
_NAME_TEXT = "a name of letters, digits, '.', '_' and '-'"
PROVIDER_NAMES = tuple(PROVIDERS)


def _default(cls: type[Any], name: str) -> Any:
    """The default of a Scenario dataclass field, so the YAML defaults cannot drift from it."""
    (found,) = (f.default for f in dataclasses.fields(cls) if f.name == name)
    return found


# --- source ---------------------------------------------------------------------------------


def _records_at_most_events(records: int, info: ValidationInfo) -> int:
    events = info.data.get("events")
    if isinstance(events, int) and records > events:
        raise invalid(f"must be at most events ({events}): every record needs an event")
    return records


class SyntheticDoc(Doc):
    expected = "a mapping with example (or example_file, or library), events, records and over"

    example: dict[str, Any] | None = Field(None, description="a mapping: one example payload")
    example_file: str | None = Field(
        None, description="a path to a JSON file of one example payload, relative to the scenario"
    )
    library: str | None = Field(
        None,
        description="the name of a payload of the library, provider:type "
        "(stripe:checkout.session.completed; docs/payloads.md lists them)",
    )
    events: int = Field(gt=0, description="an integer greater than 0: how many events to make")
    records: int = Field(
        gt=0, description="an integer greater than 0, at most events: how many records"
    )
    over: Duration = Field(description=_DURATION_TEXT)
    id: JsonPath | None = Field(_default(SyntheticSource, "id_path"), description=_PATH_TEXT)
    key: JsonPath = Field(_default(SyntheticSource, "key_path"), description=_PATH_TEXT)
    type: JsonPath | None = Field(_default(SyntheticSource, "type_path"), description=_PATH_TEXT)
    sequence: JsonPath | None = Field(_default(SyntheticSource, "seq_path"), description=_PATH_TEXT)
    time: JsonPath | None = Field(_default(SyntheticSource, "time_path"), description=_PATH_TEXT)
    types: list[str] = Field(
        default_factory=list, description="a list of event types to cycle through"
    )
    same: list[JsonPath] | None = Field(
        None,
        description="a list of JSONPaths whose value every event keeps as the example has it: "
        "the account, workspace or subscription that sends them all",
    )

    _at_most_events = field_validator("records")(_records_at_most_events)

    @model_validator(mode="after")
    def _one_example(self) -> Self:
        given = [n for n in ("example", "example_file", "library") if getattr(self, n) is not None]
        if len(given) != 1:
            has = f"both {' and '.join(given)}" if given else "none of them"
            raise invalid_mapping(
                f"has {has} — give exactly one of example, example_file and library: "
                "example (an inline mapping), example_file (a JSON file) or library (a payload "
                "of the library, like stripe:checkout.session.completed)"
            )
        return self


RecordedFormat = Literal["jsonl", "json", "capture", "har", "stripe", "github", "svix", "hookdeck"]
FORMAT_TEXT = "the recorded file's format (docs/recording.md); detected from the file when left out"


class HarDoc(Doc):
    expected = "a mapping with path or url: the webhook's requests in the HAR file"

    path: str | None = Field(None, description="the webhook's path, like /hooks/stripe")
    url: str | None = Field(None, description="the webhook's URL (without its query)")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.path is None) == (self.url is None):
            raise invalid_mapping("give exactly one of path and url")
        return self


class RecordedDoc(Doc):
    expected = "a mapping with file, and optionally format, har, id, key, type, over, redeliveries"

    file: str = Field(
        description="a path to a file (or a folder, for GitHub examples) of recorded "
        "deliveries, relative to the scenario"
    )
    format: RecordedFormat | None = Field(None, description=FORMAT_TEXT)
    har: HarDoc | None = Field(None, description=HarDoc.expected)
    id: JsonPath | None = Field(None, description=_PATH_TEXT)
    key: JsonPath | None = Field(None, description=_PATH_TEXT)
    type: JsonPath | None = Field(None, description=_PATH_TEXT)
    over: Duration | None = Field(None, description=_DURATION_TEXT)
    redeliveries: Literal["merge", "separate"] = Field(
        _default(RecordedSource, "redeliveries"),
        description="merge (lines with one event id are one event, delivered once per line) "
        "or separate (each line an event of its own)",
    )


class _GeneratedDoc(Doc):
    """What a source generated from a schema takes beside its file (``_openapi``)."""

    file: str = Field(description="a path to the document, relative to the scenario")
    events: int = Field(gt=0, description="an integer greater than 0: how many events to make")
    records: int = Field(
        gt=0, description="an integer greater than 0, at most events: how many records"
    )
    over: Duration = Field(description=_DURATION_TEXT)
    id: JsonPath | None = Field(None, description=_PATH_TEXT + " of a property of the schema")
    key: JsonPath = Field(description=_PATH_TEXT + " of a property of the schema")
    type: JsonPath | None = Field(None, description=_PATH_TEXT + " of a property of the schema")
    sequence: JsonPath | None = Field(None, description=_PATH_TEXT)
    time: JsonPath | None = Field(None, description=_PATH_TEXT)
    types: list[str] = Field(
        default_factory=list, description="a list of event types to cycle through"
    )

    _at_most_events = field_validator("records")(_records_at_most_events)


class OpenAPISourceDoc(_GeneratedDoc):
    expected = "a mapping with file, webhook, events, records, over and key"

    webhook: str = Field(
        min_length=1, description="the name of a webhook of the document's webhooks section"
    )


class SchemaSourceDoc(_GeneratedDoc):
    expected = "a mapping with file (a JSON Schema), events, records, over and key"


_SOURCE_KINDS = ("synthetic", "recorded", "openapi", "schema")


class SourceDoc(Doc):
    expected = "a mapping with exactly one of: " + ", ".join(_SOURCE_KINDS)

    synthetic: SyntheticDoc | None = Field(None, description=SyntheticDoc.expected)
    recorded: RecordedDoc | None = Field(None, description=RecordedDoc.expected)
    openapi: OpenAPISourceDoc | None = Field(None, description=OpenAPISourceDoc.expected)
    schema_: SchemaSourceDoc | None = Field(
        None, alias="schema", description=SchemaSourceDoc.expected
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [k for k in _SOURCE_KINDS if getattr(self, k.replace("schema", "schema_"))]
        if len(given) != 1:
            has = " and ".join(given) if given else "none"
            raise invalid_mapping(
                f"has {has} of {', '.join(_SOURCE_KINDS)} — give exactly one of them"
            )
        return self


# --- perturbations --------------------------------------------------------------------------


class DuplicateDoc(Doc):
    expected = "a mapping with rate, and optionally copies and spread"

    rate: float = Field(ge=0, le=1, description=_RATE_TEXT)
    copies: int = Field(
        2, ge=2, le=MAX_COPIES, description=f"an integer from 2 to {MAX_COPIES}: deliveries in all"
    )
    spread: Duration = Field(0.0, description=_DURATION_TEXT)


class BurstDoc(Doc):
    expected = "a mapping with within, and optionally count"

    within: PositiveDuration = Field(description=_POSITIVE_DURATION_TEXT)
    count: int | None = Field(None, gt=0, description="an integer greater than 0: how many events")


class SimultaneousDoc(Doc):
    expected = "a mapping with records and events"

    records: int = Field(gt=0, description="an integer greater than 0: how many records")
    events: int = Field(ge=2, description="an integer of 2 or more: events per record")


class ReorderDoc(Doc):
    expected = "a mapping with window, and optionally rate"

    window: int = Field(ge=2, description="an integer of 2 or more: events per shuffled window")
    rate: float = Field(1.0, ge=0, le=1, description=_RATE_TEXT)


class ReplayDoc(Doc):
    expected = "a mapping with optionally times and gap"

    times: int = Field(
        1, ge=1, le=MAX_REPLAYS, description=f"an integer from 1 to {MAX_REPLAYS}: extra passes"
    )
    gap: Duration = Field(1.0, description=_DURATION_TEXT)


class _DriftDoc(Doc):
    """What every drift perturbation takes: which field, and which events."""

    path: JsonPath = Field(description=_PATH_TEXT + " of a field of the example payload")
    rate: float = Field(1.0, ge=0, le=1, description=_RATE_TEXT + ": the share of events")
    from_: Duration = Field(
        0.0, alias="from", description=_DURATION_TEXT + ": events at or after it drift"
    )
    types: list[str] = Field(
        default_factory=list, description="a list of event types; leave it out for all"
    )


class RenameFieldDoc(_DriftDoc):
    expected = "a mapping with path and to, and optionally rate, from, types"

    to: Name = Field(description="the field's new name (in the same object), like customerId")


class DropFieldDoc(_DriftDoc):
    expected = "a mapping with path, and optionally rate, from, types"


class NullFieldDoc(_DriftDoc):
    expected = "a mapping with path, and optionally rate, from, types"


class RetypeFieldDoc(_DriftDoc):
    expected = "a mapping with path and to, and optionally rate, from, types"

    to: Literal["string", "number", "double"] = Field(
        description="one of: string (a number sent as text), number (a numeric string sent "
        "as a number), double (a number rounded through an IEEE-754 double, as JavaScript does)"
    )


class AddFieldDoc(_DriftDoc):
    expected = "a mapping with path and value, and optionally rate, from, types"

    value: Any = Field(description="any JSON value: what the new field holds")


class TamperDoc(Doc):
    expected = "a mapping with mode, and optionally rate, age and after"

    mode: Literal["forged", "unsigned", "stale", "replayed"] = Field(
        description="one of: forged, unsigned, stale, replayed"
    )
    rate: float = Field(TAMPER_DEFAULTS["rate"], ge=0, le=1, description=_RATE_TEXT)
    age: PositiveDuration = Field(
        TAMPER_DEFAULTS["age"], description=_POSITIVE_DURATION_TEXT + " (real time, never scaled)"
    )
    after: Duration = Field(TAMPER_DEFAULTS["after"], description=_DURATION_TEXT)


class PerturbationDoc(Doc):
    expected = (
        "a mapping of one perturbation kind to its parameters: "
        "duplicate, burst, simultaneous, reorder, replay, tamper, "
        "rename_field, drop_field, null_field, retype_field or add_field"
    )

    duplicate: DuplicateDoc | None = Field(None, description=DuplicateDoc.expected)
    burst: BurstDoc | None = Field(None, description=BurstDoc.expected)
    simultaneous: SimultaneousDoc | None = Field(None, description=SimultaneousDoc.expected)
    reorder: ReorderDoc | None = Field(None, description=ReorderDoc.expected)
    replay: ReplayDoc | None = Field(None, description=ReplayDoc.expected)
    rename_field: RenameFieldDoc | None = Field(None, description=RenameFieldDoc.expected)
    drop_field: DropFieldDoc | None = Field(None, description=DropFieldDoc.expected)
    null_field: NullFieldDoc | None = Field(None, description=NullFieldDoc.expected)
    retype_field: RetypeFieldDoc | None = Field(None, description=RetypeFieldDoc.expected)
    add_field: AddFieldDoc | None = Field(None, description=AddFieldDoc.expected)
    tamper: TamperDoc | None = Field(None, description=TamperDoc.expected)

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data  # pydantic says it is not a mapping
        if len(data) != 1:
            kinds = ", ".join(map(str, data)) or "none"
            raise invalid_mapping(
                f"has {len(data)} keys ({kinds}) — each list item is one perturbation: "
                f"a single key, one of: {', '.join(cls.model_fields)}"
            )
        ((kind, params),) = data.items()
        # `- replay:` with nothing after it means "all defaults".
        return {kind: {} if params is None else params}


# --- downstreams, delivery, settle ----------------------------------------------------------


class RouteDoc(Doc):
    expected = "a mapping with method and path, and optionally status, body, headers, delay"

    method: Method = Field(description=f"an HTTP method, one of: {', '.join(METHODS)}")
    path: RoutePath = Field(description="a URL path starting with '/'")
    status: int = Field(
        _default(Route, "status"), ge=100, le=599, description="an HTTP status from 100 to 599"
    )
    body: Any = Field(None, description="any JSON value; leave it out to echo the request")
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, description=_HEADERS_TEXT)
    delay: Duration = Field(_default(Route, "delay"), description=_DURATION_TEXT)


class ContractDoc(Doc):
    expected = "a mapping with file: the real API's OpenAPI document"

    file: str = Field(
        description="a path to the API's OpenAPI 3 document (YAML or JSON), relative to the "
        "scenario"
    )


class AuthDoc(Doc):
    expected = (
        "a mapping with kind (oauth or api-key); for oauth optionally token_path and lifetime, "
        "for api-key optionally header, key_env, next_key_env and rotate_at"
    )

    kind: Literal["oauth", "api-key"] = Field(description="one of: oauth, api-key")
    token_path: RoutePath = Field(
        _default(AuthSpec, "token_path"),
        description="oauth: the URL path of the token endpoint, like /oauth/token",
    )
    lifetime: PositiveDuration = Field(
        _default(AuthSpec, "lifetime"),
        description=_POSITIVE_DURATION_TEXT + ": how long an access token lives (scenario time)",
    )
    header: HeaderName = Field(
        _default(AuthSpec, "header"),
        description="api-key: the HTTP header that carries the key, like X-Api-Key",
    )
    key_env: EnvName = Field(
        _default(AuthSpec, "key_env"),
        description="api-key: the environment variable that holds the key",
    )
    next_key_env: EnvName | None = Field(
        None, description="api-key: the environment variable of the key after rotate_at"
    )
    rotate_at: Duration | None = Field(
        None, description=_DURATION_TEXT + ": api-key: when only next_key_env's key is accepted"
    )

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        given = self.model_fields_set
        other: tuple[str, ...] = ("header", "key_env", "next_key_env", "rotate_at")
        if self.kind == "api-key":
            other = ("token_path", "lifetime")
        wrong = [n for n in other if n in given]
        if wrong:
            raise invalid_mapping(
                f"has {', '.join(wrong)}, which {self.kind} does not use — oauth takes "
                "token_path and lifetime, api-key takes header, key_env, next_key_env and "
                "rotate_at"
            )
        if (self.next_key_env is None) != (self.rotate_at is None):
            raise invalid_mapping(
                "gives only one of next_key_env and rotate_at — a rotation needs both: the "
                "variable of the new key, and when it replaces the old one"
            )
        if "{" in self.token_path or self.token_path.endswith("*"):
            raise invalid_mapping(
                f"has token_path {self.token_path!r} — give one literal path like /oauth/token"
            )
        return self


class ShapeChangeDoc(Doc):
    expected = "a mapping with at and rename, and optionally route"

    at: Duration = Field(description=_DURATION_TEXT + " after the start of the run")
    rename: dict[Annotated[str, StringConstraints(min_length=1)], Name] = Field(
        min_length=1,
        description="a mapping of field names to their new names, like {amount: amount_cents}",
    )
    route: FaultRoute | None = Field(
        None, description="a method and a path like 'GET /deals/*' (default: every answer)"
    )


# What a whole downstream's ``idempotency_key: honoured`` or ``ignored`` declares: every write.
EVERY_WRITE = "* /*"
KEY_RULES = ("honoured", "ignored")


class IdempotencyKeyDoc(Doc):
    expected = (
        "honoured or ignored (every write of the downstream), or a mapping with honoured and "
        "ignored route lists, like {honoured: ['POST /crm/*'], ignored: ['POST /slack/*']}"
    )

    honoured: list[KeyRoute] = Field(
        default_factory=list,
        description="a list of routes like 'POST /v1/charges' whose API answers a write "
        "repeated with the same Idempotency-Key with its first answer and does nothing more "
        "(Stripe, Adyen, Square)",
    )
    ignored: list[KeyRoute] = Field(
        default_factory=list,
        description="a list of routes like 'POST /slack/chat.postMessage' whose API ignores an "
        "Idempotency-Key (Slack, SendGrid, Mailgun, HubSpot, most CRMs): a repeat is a second "
        "effect, key or not",
    )


def _key_rule(value: object) -> object:
    """``honoured`` / ``ignored`` -> that rule for every write of the downstream."""
    if isinstance(value, str):
        if value not in KEY_RULES:
            raise invalid(
                f"must be honoured or ignored{hint(value, KEY_RULES)}, or a mapping with "
                "honoured and ignored route lists, like {ignored: ['POST /slack/*']}"
            )
        return {value: [EVERY_WRITE]}
    return value


IdempotencyKey = Annotated[
    IdempotencyKeyDoc | None,
    BeforeValidator(
        _key_rule, json_schema_input_type=Literal["honoured", "ignored"] | IdempotencyKeyDoc | None
    ),
]


class DownstreamDoc(Doc):
    expected = "a mapping with name and routes"

    name: Name = Field(_default(DownstreamSpec, "name"), description="a name like crm")
    routes: list[RouteDoc] = Field(default_factory=list, description="a list of routes")
    stateful: bool = Field(
        _default(DownstreamSpec, "stateful"),
        description="true or false: keep resources in memory like a REST API (POST creates, "
        "PUT/PATCH update, GET reads back, DELETE removes)",
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="a port from 1 to 65535 where this downstream's double listens (default: "
        "the --downstream port, plus the downstream's position)",
    )
    contract: ContractDoc | None = Field(None, description=ContractDoc.expected)
    forward_to: ForwardUrl | None = Field(
        None,
        description="the base URL of a real API (loopback, or a host given with --allow-host) "
        "to forward the calls no route answers to, like https://api.stripe.com",
    )
    auth: AuthDoc | None = Field(None, description=AuthDoc.expected)
    page_size: int | None = Field(
        None,
        ge=1,
        description="an integer greater than 0: a stateful downstream's lists answer pages of "
        "at most this many records, with a cursor to the next page",
    )
    shape_changes: list[ShapeChangeDoc] = Field(
        default_factory=list, description="a list of dated renames of the answers' fields"
    )
    merges: list[MergeRoute] = Field(
        default_factory=list,
        description="a list of routes like 'PATCH /contacts/{id}' whose writes merge the fields "
        "they send into the resource (HubSpot's PATCH): an identical repeat changes nothing "
        "more, so no_duplicate_effects counts it harmless",
    )
    appends: list[AppendRoute] = Field(
        default_factory=list,
        description="a list of routes like 'PATCH /v1/blocks/{id}/children' whose writes add "
        "to the resource each time (Notion's block children): a repeat is a duplicate effect, "
        "however identical",
    )
    idempotency_key: IdempotencyKey = Field(
        None,
        description="honoured or ignored, or a mapping with honoured and ignored route lists: "
        "whether the API this downstream stands for deduplicates a write repeated with the "
        "same Idempotency-Key (Stripe) or makes it again (Slack, mail APIs, most CRMs); "
        "undeclared, the double honours the key and no_duplicate_effects says it assumed so",
    )


class ObserverDoc(Doc):
    expected = "a mapping with url, records and key"

    url: ObserverUrl = Field(
        description="an http:// URL on loopback to GET the state from, like "
        "http://127.0.0.1:8000/state"
    )
    records: RecordsPath = Field(
        description="a JSONPath to the list of records in the answer, like '$.contacts' "
        "('$' when the answer is the list)"
    )
    key: JsonPath = Field(description="a JSONPath to each record's key, like '$.id'")


class RotationDoc(Doc):
    expected = "a mapping with next_secret_env and at, and optionally overlap"

    next_secret_env: EnvName = Field(
        description="the name of the environment variable that holds the next secret, like "
        "HARNESS_SECRET_NEXT"
    )
    at: Duration = Field(
        description=_DURATION_TEXT + " after the start of the run: when the rotation begins"
    )
    overlap: Duration | None = Field(
        None,
        description=_DURATION_TEXT + ": how long both secrets sign (default: 24h for "
        "stripe and standard-webhooks, 0 for the schemes that carry one signature)",
    )


class DeliveryDoc(Doc):
    expected = (
        "a mapping with signing, secret_env, signature_header, timeout, headers, rotation, "
        "clock_skew"
    )

    signing: Literal[
        "standard-webhooks",
        "stripe",
        "github",
        "shopify",
        "slack",
        "hubspot",
        "attio",
        "hmac",
        "none",
    ] = Field(
        _default(DeliverySpec, "signing"),
        description="one of: standard-webhooks, stripe, github, shopify, slack, hubspot, attio, "
        "hmac, none",
    )
    secret_env: EnvName = Field(
        _default(DeliverySpec, "secret_env"), description="an environment variable name"
    )
    signature_header: HeaderName = Field(
        _default(DeliverySpec, "signature_header"), description="an HTTP header name"
    )
    timeout: PositiveDuration = Field(
        _default(DeliverySpec, "timeout"), description=_POSITIVE_DURATION_TEXT
    )
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, description=_HEADERS_TEXT)
    rotation: RotationDoc | None = Field(None, description=RotationDoc.expected)
    clock_skew: SignedDuration = Field(
        _default(DeliverySpec, "clock_skew"),
        description=SIGNED_DURATION_FORMS + ": how far the sender's clock runs ahead (or "
        "behind, with '-') in the timestamps it signs and stamps",
    )


_RETRIES_TEXT = (
    "an integer of 0 or more (the first delays of the provider's schedule), or a list of "
    f"durations (the delays between attempts), each {DURATION_FORMS}"
)


def _retries(value: object) -> int | tuple[float, ...]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, list):
        delays = [parse_duration(v) for v in value]
        if all(d is not None and d >= 0 for d in delays):
            return tuple(d for d in delays if d is not None)
    raise invalid(f"must be {_RETRIES_TEXT}")


class ProviderDoc(Doc):
    expected = "a provider name, or a mapping with name, and optionally retries and timeout"

    name: Literal[PROVIDER_NAMES] = Field(  # type: ignore[valid-type]
        description="one of: " + ", ".join(PROVIDER_NAMES)
    )
    retries: Annotated[int | tuple[float, ...], PlainValidator(_retries)] | None = Field(
        None, description=_RETRIES_TEXT
    )
    timeout: PositiveDuration | None = Field(
        None, description=_POSITIVE_DURATION_TEXT + ": the sender's ack timeout"
    )
    batch_window: Duration | None = Field(
        None, description=_DURATION_TEXT + ": events this close together share a batch"
    )

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data


class SettleDoc(Doc):
    expected = (
        "a mapping with quiet and deadline, and optionally event_quiet and event_deadline (the "
        "clean run's wait between two events)"
    )

    quiet: Duration = Field(_default(Settle, "quiet"), description=_DURATION_TEXT)
    deadline: PositiveDuration = Field(
        _default(Settle, "deadline"), description=_POSITIVE_DURATION_TEXT
    )
    event_quiet: PositiveDuration = Field(
        _default(Settle, "event_quiet"),
        description=_POSITIVE_DURATION_TEXT + " of real time, like 100ms",
    )
    event_deadline: Duration = Field(
        _default(Settle, "event_deadline"),
        description=_DURATION_TEXT + " of real time, like 500ms; 0 to send the next event of the "
        "clean run once the previous is answered",
    )

    @field_validator("deadline")
    @classmethod
    def _after_quiet(cls, deadline: float, info: ValidationInfo) -> float:
        quiet = info.data.get("quiet")
        if isinstance(quiet, float) and deadline < quiet:
            raise invalid(f"must be a duration of at least quiet ({quiet:g} s)")
        return deadline

    @field_validator("event_deadline")
    @classmethod
    def _after_event_quiet(cls, deadline: float, info: ValidationInfo) -> float:
        quiet = info.data.get("event_quiet")
        if deadline and isinstance(quiet, float) and deadline < quiet:
            raise invalid(f"must be 0 or a duration of at least event_quiet ({quiet:g} s)")
        return deadline


class FaultDoc(Doc):
    expected = "a mapping with downstream, at, for and mode"

    downstream: Name = Field(description="the name of one of the scenario's downstreams")
    at: Duration = Field(description=_DURATION_TEXT + " after the start of the run")
    for_: PositiveDuration = Field(alias="for", description=_POSITIVE_DURATION_TEXT)
    mode: Literal[
        "status",
        "throttle",
        "timeout",
        "reset",
        "slow",
        "commit-then-fail",
        "fail-first-n",
        "rate-limit",
    ] = Field(
        description="one of: status, throttle, timeout, reset, slow, commit-then-fail, "
        "fail-first-n, rate-limit"
    )
    status: int = Field(
        _default(FaultSpec, "status"), ge=400, le=599, description="an HTTP status from 400 to 599"
    )
    retry_after: Duration = Field(_default(FaultSpec, "retry_after"), description=_DURATION_TEXT)
    hold: PositiveDuration = Field(_default(FaultSpec, "hold"), description=_POSITIVE_DURATION_TEXT)
    latency: Duration = Field(_default(FaultSpec, "latency"), description=_DURATION_TEXT)
    jitter: Duration = Field(_default(FaultSpec, "jitter"), description=_DURATION_TEXT)
    count: int = Field(
        _default(FaultSpec, "count"), gt=0, description="an integer greater than 0: failing calls"
    )
    then: Literal["status", "timeout"] = Field(
        _default(FaultSpec, "then"), description="one of: status, timeout"
    )
    route: FaultRoute | None = Field(None, description="a method and a path like 'POST /payouts'")
    rate: float | None = Field(
        None,
        gt=0,
        description="a number greater than 0: rate-limit: the calls allowed per real second",
    )

    @model_validator(mode="after")
    def _rate_with_rate_limit(self) -> Self:
        if (self.mode == "rate-limit") != (self.rate is not None):
            raise invalid_mapping(
                "has rate, which only mode: rate-limit uses — remove it, or set mode: rate-limit"
                if self.rate is not None
                else "has mode: rate-limit without rate — say how many calls a real second "
                "the downstream allows, like rate: 5"
            )
        return self


# --- correlation ----------------------------------------------------------------------------

_TRANSFORMS_TEXT = "one of " + ", ".join(TRANSFORMS) + ", or a list of them applied in order"


def _effect_shorthand(value: object) -> object:
    """``effect: $.x`` is ``effect: {body: $.x}``."""
    if isinstance(value, str):
        try:
            steps = _paths.parse(value)
        except InputError:
            steps = ()
        if not steps:
            raise invalid(
                "must be a JSONPath into the effect's JSON body like '$.checkout_session', or a "
                "mapping of one of body, path, header, query, like {header: X-Order-Id}"
            )
        return {"body": value}
    return value


class CorrelateEffectDoc(Doc):
    expected = (
        "a JSONPath into the effect's body like '$.checkout_session', or a mapping of one of "
        "body (a JSONPath), path (a {name} of the rule's route), header (a name), query (a name)"
    )

    body: JsonPath | None = Field(None, description=_PATH_TEXT + " into the effect's JSON body")
    path: Name | None = Field(
        None, description="the name of a {name} parameter of the rule's route, like session"
    )
    header: HeaderName | None = Field(None, description="an HTTP header name, like X-Order-Id")
    query: str | None = Field(
        None, min_length=1, description="a query parameter name, like session_id"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        return _effect_shorthand(data)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [k for k in CORRELATE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            has = ", ".join(given) or "none"
            raise invalid_mapping(
                f"has {has} — give exactly one of {', '.join(CORRELATE_KINDS)}: where in the "
                "effect the value is"
            )
        return self

    @property
    def kind(self) -> str:
        (kind,) = (k for k in CORRELATE_KINDS if getattr(self, k) is not None)
        return kind


def _transforms(value: object) -> tuple[str, ...]:
    steps = [value] if isinstance(value, str) else value
    if not isinstance(steps, list) or not steps or not all(s in TRANSFORMS for s in steps):
        raise invalid(f"must be {_TRANSFORMS_TEXT}{hint(value, TRANSFORMS)}")
    return tuple(steps)


class CorrelateDoc(Doc):
    expected = (
        "a mapping with effect and event, and optionally downstream, route, pattern, transform"
    )

    effect: CorrelateEffectDoc = Field(description=CorrelateEffectDoc.expected)
    event: JsonPath = Field(description=_PATH_TEXT + " into the event's payload")
    downstream: Name | None = Field(
        None, description="the name of one of the scenario's downstreams"
    )
    route: FaultRoute | None = Field(
        None, description="a method and a path like 'POST /deals' or 'PUT /deals/{session}'"
    )
    pattern: str | None = Field(
        None,
        description="a regular expression with at most one group, like 'order-(\\w+)': the "
        "part of the effect's value compared (the group, else the whole match)",
    )
    transform: Annotated[tuple[str, ...], PlainValidator(_transforms)] = Field(
        (), description=_TRANSFORMS_TEXT + ": what the event's value becomes before comparing"
    )


class TracerDoc(Doc):
    expected = "a mapping with rewrite (true or false) or paths (a list of JSONPaths)"

    rewrite: bool | None = Field(
        _default(TracerSpec, "rewrite"),
        description="true or false (on or off): rewrite the events' ids and values into tracer "
        "tokens; false sends them as recorded (the default for a recorded source)",
    )
    paths: list[JsonPath] | None = Field(
        None,
        min_length=1,
        description="a non-empty list of payload paths: rewrite only the values there",
    )

    @model_validator(mode="after")
    def _paths_need_rewrite(self) -> Self:
        if self.rewrite is False and self.paths is not None:
            raise invalid_mapping(
                "has rewrite: false and paths — paths says which values to rewrite; leave "
                "rewrite out (or true) to rewrite only those, or leave paths out to rewrite none"
            )
        return self


# --- expected effects -----------------------------------------------------------------------

_EXPECT_TEXT = (
    "a mapping of event types to the requests each event of the type must cause: a list of "
    "'METHOD /path' or {request, downstream, count} items, or none for a type the automation "
    "ignores on purpose"
)


class ExpectedRequestDoc(Doc):
    expected = "'METHOD /path', or a mapping with request, and optionally downstream and count"

    request: ExpectedRoute = Field(
        description="an HTTP method and a path like 'POST /deals' or 'PUT /contacts/{id}'"
    )
    downstream: Name | None = Field(
        None, description="the name of one of the scenario's downstreams; leave it out for any"
    )
    count: int = Field(
        _default(ExpectedRequest, "count"),
        gt=0,
        description="an integer greater than 0: how many such requests each event causes at least",
    )

    @model_validator(mode="before")
    @classmethod
    def _request_alone(cls, data: object) -> object:
        return {"request": data} if isinstance(data, str) else data


def _expected_requests(value: object) -> object:
    """``none`` -> no request; one ``'METHOD /path'`` -> a list of it; an empty list refused."""
    if value == "none":
        return []
    if isinstance(value, str):
        return [value]
    if value == []:
        raise invalid(
            "must list at least one request — write none for a type the automation ignores "
            "on purpose"
        )
    return value


ExpectedRequests = Annotated[list[ExpectedRequestDoc], BeforeValidator(_expected_requests)]


# --- explicit schedule, reset (harness explore) and restart ---------------------------------


class PlannedDeliveryDoc(Doc):
    expected = "a mapping with event, and optionally at and tamper, like {event: 1, at: 0s}"

    event: int = Field(gt=0, description="an integer greater than 0: the source's n-th event")
    at: Duration = Field(0.0, description=_DURATION_TEXT + ": when it is sent")
    tamper: Literal["forged", "unsigned", "stale", "replayed"] | None = Field(
        None, description="one of: forged, unsigned, stale, replayed (leave out: genuine)"
    )


class _HookDoc(Doc):
    """A way to act on the target from outside it: exactly one of post and command."""

    post: ObserverUrl | None = Field(
        None, description="an http:// URL to POST to, like http://127.0.0.1:8000/reset"
    )
    command: list[str] | None = Field(
        None, min_length=1, description="a non-empty list of arguments, like [make, deploy]"
    )

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.post is None) == (self.command is None):
            has = "both" if self.post is not None else "neither"
            raise invalid_mapping(f"has {has} of post and command — give exactly one of them")
        return self


_ONE_WAY = "a mapping with exactly one of post (a URL to POST to) and command (a list of arguments)"


class ResetDoc(_HookDoc):
    expected = f"{_ONE_WAY}, like {{post: http://127.0.0.1:8000/reset}}"

    def spec(self) -> ResetSpec:
        return ResetSpec(self.post, tuple(self.command or ()))


class RestartDoc(_HookDoc):
    expected = f"{_ONE_WAY}, like {{command: [sh, -c, 'kill -HUP $(cat gunicorn.pid)']}}"

    def spec(self) -> RestartSpec:
        return RestartSpec(self.post, tuple(self.command or ()))


# --- a year (calendar:) -----------------------------------------------------------------------


class LifeEventDoc(Doc):
    expected = "a mapping with kind and date, like {kind: maintenance, date: '2028-03-08'}"

    kind: Literal[LIFE_EVENT_KINDS] = Field(  # type: ignore[valid-type]
        description="one of: " + ", ".join(LIFE_EVENT_KINDS)
    )
    # Not ``on``: YAML 1.1 reads that key as true.
    date: CalendarDate = Field(description="a date like '2028-03-08' (quoted): the day it happens")
    title: str = Field("", description="one line of text: how the report names it")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="a mapping of its parameters, like {hour: 2, hours: 3} (docs/year.md)",
    )


class CalendarDoc(Doc):
    expected = (
        "a mapping with start, months, events_per_day, timezone, day_seconds and life, like "
        "{months: 12, events_per_day: 1000}"
    )

    start: CalendarDate = Field(
        _default(CalendarSpec, "start").isoformat(),
        description="a date like '2028-01-01' (quoted): the first day of the year run",
    )
    months: int = Field(
        _default(CalendarSpec, "months"),
        ge=1,
        le=120,
        description="an integer from 1 to 120: how many months to run",
    )
    events_per_day: int = Field(
        _default(CalendarSpec, "events_per_day"),
        gt=0,
        description="an integer greater than 0: the events of an average day",
    )
    timezone: TimeZone = Field(
        _default(CalendarSpec, "timezone"),
        description="an IANA time zone like Europe/Berlin: where the days and DST are",
    )
    day_seconds: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="a number greater than 0: wall seconds one calendar day takes (leave it "
        "out: chosen from events_per_day)",
    )
    life: list[LifeEventDoc] | None = Field(
        None,
        description="a list of life events, each {kind, date}; leave it out for the built-in "
        "year's, [] for none",
    )

    def spec(self) -> CalendarSpec:
        life = None
        if self.life is not None:
            life = tuple(
                LifeEvent(e.kind, _date.fromisoformat(e.date), dict(e.params), e.title)
                for e in self.life
            )
        return CalendarSpec(
            start=_date.fromisoformat(self.start),
            months=self.months,
            events_per_day=self.events_per_day,
            timezone=self.timezone,
            day_seconds=self.day_seconds,
            life=life,
        )


# --- the files ------------------------------------------------------------------------------


def _all_invariants() -> list[InvariantSpec]:
    return [InvariantSpec(name) for name in DEFAULT_INVARIANTS]


class ScenarioDoc(Doc):
    expected = "a mapping with at least source"

    name: Name | None = Field(None, description=_NAME_TEXT)
    description: str = Field("", description="one line of text")
    model: Literal["ledger", "register"] = Field(
        _default(Scenario, "model").value, description="one of: ledger, register"
    )
    source: SourceDoc = Field(description=SourceDoc.expected)
    perturbations: list[PerturbationDoc] = Field(
        default_factory=list, description="a list of perturbations"
    )
    invariants: list[Invariant] = Field(
        default_factory=_all_invariants,
        min_length=1,
        description="a non-empty list of invariants; leave it out for the default ones",
    )
    downstreams: list[DownstreamDoc] = Field(
        default_factory=lambda: [DownstreamDoc.model_validate({})],
        description="a list of downstreams",
    )
    delivery: DeliveryDoc = Field(
        default_factory=lambda: DeliveryDoc.model_validate({}), description=DeliveryDoc.expected
    )
    settle: SettleDoc = Field(
        default_factory=lambda: SettleDoc.model_validate({}), description=SettleDoc.expected
    )
    faults: list[FaultDoc] = Field(default_factory=list, description="a list of fault windows")
    provider: ProviderDoc | None = Field(None, description=ProviderDoc.expected)
    time_scale: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="a number greater than 0: run seconds per scenario second, like 0.02",
    )
    marks: list[str] = Field(default_factory=list, description="a list of pytest mark names")
    redact: list[JsonPath] = Field(
        default_factory=list,
        description="a list of payload paths (PII) whose values never appear in a report",
    )
    observer: ObserverDoc | None = Field(None, description=ObserverDoc.expected)
    correlate: list[CorrelateDoc] = Field(
        default_factory=list,
        description="a list of correlation rules, each {effect: ..., event: $.path}",
    )
    tracer: TracerDoc = Field(
        default_factory=lambda: TracerDoc.model_validate({}), description=TracerDoc.expected
    )
    expect: dict[str, ExpectedRequests] = Field(default_factory=dict, description=_EXPECT_TEXT)
    baseline: bool = Field(
        _default(Scenario, "baseline"),
        description="true or false: drive a clean run first (each event once, in order, no "
        "faults) to learn the expected effects; false for a target that cannot take two runs",
    )
    schedule: list[PlannedDeliveryDoc] | None = Field(
        None,
        min_length=1,
        description="a non-empty list of deliveries, each {event: N, at: 0s}: exactly these, "
        "instead of the perturbations' schedule",
    )
    reset: ResetDoc | None = Field(None, description=ResetDoc.expected)
    restarts: list[PositiveDuration] = Field(
        default_factory=list,
        description="a list of durations greater than 0, like [2s]: when the run restarts the "
        "target as a deploy does (by restart:, else the project's), while it goes on sending",
    )
    restart: RestartDoc | None = Field(
        None, description="how the target is restarted at restarts: " + RestartDoc.expected
    )
    calendar: CalendarDoc | None = Field(None, description=CalendarDoc.expected)


class SuiteDoc(Doc):
    expected = "a mapping with suite"

    name: Name | None = Field(None, description=_NAME_TEXT)
    description: str = Field("", description="one line of text")
    suite: list[str] = Field(
        min_length=1, description="a non-empty list of scenario names or .yaml paths"
    )
