"""Life events on a year's calendar, each mapped onto a mechanism the harness already has.

A ``Draft`` is one month under construction (its deliveries, perturbations, faults,
downstreams, delivery, example and types); ``apply`` changes it for one life event, either in
the event's own month (``since`` = the scenario second the event happens at) or in a later month
it still holds in (``since`` None: from the month's first second). ``why_not`` says why a life
event does not apply to the scenario (no downstream, unsigned deliveries, no numeric id...):
it is then skipped, with that reason, for the whole year.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..core import _paths
from ..core._calendar import LifeEvent
from ..core._providers import PROVIDERS
from ..core._scenario import (
    DeliverySpec,
    DownstreamSpec,
    FaultSpec,
    Perturbation,
    Scenario,
    SecretRotation,
    ShapeChange,
    SyntheticSource,
)
from ..core._secret_env import next_secret_env
from ..report._describe import duration
from ..scenario._hazards import RESTART_FIX, choose_rename
from ._rhythm import HOUR, black_friday, last_business_day, midnight

# Kinds that hold from their day on, in every later month too. Not field-renamed: an automation
# that rejects the renamed events loudly (as it should) would accept nothing for the rest of the
# year, and every later month would test nothing; the rename is judged in its own month.
LASTING = frozenset(
    {
        "rate-limit",
        "token-expiry",
        "api-key-rotation",
        "secret-rotation",
        "field-added",
        "enum-value-added",
        "api-version",
        "clock-skew",
        "id-growth",
        "pagination",
        "duplicates",
    }
)
# Kinds the calendar itself makes (timestamps in the zone, the rhythm's volume): markers that
# name the day for the report, applied by the planner's rhythm and the source's times.
MARKERS = frozenset({"dst", "leap-day", "month-end", "bulk-import", "peak"})

PAST_31 = 3_000_000_001  # an id past 2**31 (a signed 32-bit column overflows)
PAST_53 = 9_007_199_254_740_993  # an id past 2**53 (a double rounds it)


@dataclass(slots=True)
class Draft:
    """One month under construction: deliveries are (scenario second, event number)."""

    deliveries: list[tuple[float, int]]
    times: list[float]  # each event's occurred_at, by event number
    perturbations: list[Perturbation]
    faults: list[FaultSpec]
    downstreams: list[DownstreamSpec]
    delivery: DeliverySpec
    example: Any
    types: tuple[str, ...]
    length: float  # the month's real seconds
    day_seconds: float  # wall seconds a calendar day takes
    epoch_day: date
    zone: ZoneInfo
    rng: random.Random
    notes: list[str] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)  # deploys: scenario seconds

    def second(self, day: date, hour: float = 0.0) -> float:
        """Scenario seconds from the month's first midnight to ``hour`` (local) on ``day``."""
        start = midnight(self.epoch_day, self.zone)
        moment = midnight(day, self.zone) + timedelta(hours=hour)
        return (moment - start).total_seconds()


def builtin_life(start: date, months: int, zone: ZoneInfo) -> tuple[LifeEvent, ...]:
    """The built-in year's life events for ``months`` months from ``start`` (docs/year.md)."""

    def on(offset: int, day: int) -> date:
        year, month = divmod(start.month - 1 + offset, 12)
        first = date(start.year + year, month + 1, 1)
        last = (date(first.year + first.month // 12, first.month % 12 + 1, 1)) - timedelta(1)
        return first.replace(day=min(day, last.day))

    planned: list[LifeEvent] = [
        LifeEvent("duplicates", start, {"share": DUPLICATE_SHARE}, "a few deliveries sent twice"),
        LifeEvent("month-end", last_business_day(start.year, start.month), {}, "month-end import"),
        LifeEvent("field-added", on(1, 15), {}, "a field added to the events"),
        LifeEvent("maintenance", on(2, 8), {"hour": 2, "hours": 2}, "downstream maintenance"),
        LifeEvent("field-renamed", on(2, 20), {}, "a field renamed by the sender"),
        LifeEvent("provider-outage", on(3, 12), {"hour": 9, "hours": 4}, "provider outage"),
        LifeEvent("rate-limit", on(4, 3), {}, "the downstream's rate limit tightens"),
        LifeEvent("token-expiry", on(4, 17), {}, "access tokens start expiring"),
        LifeEvent("id-growth", on(5, 14), {"past": 31}, "ids past 2^31"),
        LifeEvent("secret-rotation", on(6, 1), {}, "signing secret rotated"),
        LifeEvent("retry-storm", on(6, 19), {"copies": 3}, "provider retry storm"),
        LifeEvent("enum-value-added", on(7, 9), {}, "a new event type"),
        LifeEvent("api-key-rotation", on(8, 6), {}, "API key rotated"),
        LifeEvent("pagination", on(8, 13), {}, "lists past their first page"),
        LifeEvent("api-version", on(9, 4), {}, "a new API version"),
        LifeEvent("id-growth", on(9, 18), {"past": 53}, "ids past 2^53"),
        LifeEvent("clock-skew", on(10, 8), {"seconds": 120}, "sender clock 2 min ahead"),
        LifeEvent("maintenance", on(11, 27), {"hour": 3, "hours": 3}, "year-end maintenance"),
    ]
    end = on(months, 1) if months < 1200 else date.max
    first = date(start.year, start.month, 1)
    planned.extend(_deploys(first, end))
    for year in range(start.year, end.year + 1):
        planned.append(LifeEvent("peak", black_friday(year), {}, "Black Friday"))
        for month in (3, 6, 9, 12):
            day = last_business_day(year, month)
            planned.append(LifeEvent("bulk-import", day, {}, "quarter-end import"))
        leap = _leap_day(year)
        if leap is not None:
            planned.append(LifeEvent("leap-day", leap, {}, "29 February"))
    day = first
    while day < end:  # the zone's DST switches: a day not 24 hours long
        if (midnight(day + timedelta(1), zone) - midnight(day, zone)).total_seconds() != 24 * HOUR:
            planned.append(LifeEvent("dst", day, {}, "DST switch"))
        day += timedelta(1)
    return tuple(sorted((e for e in planned if first <= e.on < end), key=lambda e: e.on))


# Of a month's deliveries, the share an at-least-once sender sends twice: its ack lost on the way
# back (a timeout, a reset), it sends the event again at its first retry (docs/year.md).
DUPLICATE_SHARE = 0.01
UNKNOWN_COPY_DELAY = 300.0  # a sender of the user's own: its copy after 5 minutes

DEPLOY_HOUR = 14.0  # local: after lunch, with the team at hand, under business-hours traffic


def _deploys(first: date, end: date) -> list[LifeEvent]:
    """A small team's releases: every other Tuesday at 14:00 from the calendar's first
    Tuesday, none in a change freeze — the week of Black Friday (Monday to Sunday) and 18
    December to 1 January (docs/year.md)."""
    day = first + timedelta((1 - first.weekday()) % 7)  # the first Tuesday
    out = []
    while day < end:
        friday = black_friday(day.year)
        frozen = friday - timedelta(4) <= day <= friday + timedelta(2) or (
            (day.month, day.day) >= (12, 18) or (day.month, day.day) == (1, 1)
        )
        if not frozen:
            out.append(LifeEvent("deploy", day, {"hour": DEPLOY_HOUR}, "deploy"))
        day += timedelta(14)
    return out


def _leap_day(year: int) -> date | None:
    try:
        return date(year, 2, 29)
    except ValueError:
        return None


# --- what applies where ---------------------------------------------------------------------


def why_not(event: LifeEvent, template: Scenario, zone: ZoneInfo) -> str | None:
    """Why ``event`` does not apply to ``template``'s events, downstreams or delivery; None
    when it does."""
    source = template.source
    assert isinstance(source, SyntheticSource)  # the planner refuses others first
    kind = event.kind
    if kind in ("maintenance", "rate-limit") and not template.downstreams:
        return "the scenario has no downstream"
    if kind == "token-expiry" and not _auth_of(template, "oauth"):
        return "no downstream authenticates with OAuth (auth: {kind: oauth})"
    if kind == "api-key-rotation" and not [
        d for d in _auth_of(template, "api-key") if d.auth and d.auth.next_key_env
    ]:
        return "no downstream has an API key with a next key to rotate to (auth: next_key_env)"
    if kind == "pagination" and not any(d.stateful for d in template.downstreams):
        return "no stateful downstream lists records"
    if kind == "api-version" and not template.downstreams:
        return "the scenario has no downstream"
    if kind == "secret-rotation":
        signing = template.delivery.provider.scheme if template.delivery.provider else None
        if (signing or template.delivery.signing) == "none":
            return "the deliveries are unsigned: there is no secret to rotate"
        default = next_secret_env(template.delivery.secret_env)
        env = str(event.params.get("next_secret_env", default))
        if not os.environ.get(env):
            return f"the next secret's variable {env} is not set"
    if kind == "deploy" and template.restart is None:
        return f"the project gives no way to restart the automation — {RESTART_FIX}"
    if kind == "duplicates" and isinstance(delay := copy_delay(template.delivery, event), str):
        return delay
    if kind == "retry-storm" and int(event.params.get("copies", 3)) < 2:
        return "copies must be 2 or more"
    if kind in ("dst", "leap-day", "month-end") and not source.time_path:
        return "the events carry no time (the source has no time path)"
    if kind == "dst":
        length = (
            midnight(event.on + timedelta(1), zone) - midnight(event.on, zone)
        ).total_seconds()
        if length == 24 * HOUR:
            return f"{event.on} is no DST switch in {zone.key}"
    if kind == "leap-day" and (event.on.month, event.on.day) != (2, 29):
        return f"{event.on} is not 29 February"
    if kind == "field-renamed" and choose_rename(source.example, source) is None:
        return "the payload has no string field to rename"
    if kind == "enum-value-added" and not source.type_path:
        return "the events carry no type (the source has no type path)"
    if kind == "id-growth" and not _numeric_ids(source):
        return "the events' ids and record keys are not numbers"
    return None


def copy_delay(delivery: DeliverySpec, event: LifeEvent) -> tuple[float, str] | str:
    """When a delivery's ``duplicates`` copy comes, in seconds after it, and why then:
    ``params.after_minutes``, else the sender's first retry (it did not get the 2xx and sends
    again: the scenario's own schedule, or its provider's) — 5 minutes for a sender whose
    retries are not known, as every HTTP sender sends at least once; or why there is none (a
    sender that never redelivers)."""
    if "after_minutes" in event.params:
        return float(event.params["after_minutes"]) * 60, "params.after_minutes"
    first = "its ack lost: the sender's first retry"
    provider = delivery.provider
    if provider is not None and provider.retries:
        return provider.retries[0], first
    if not _retries_known(delivery):
        unknown = "the sender's retries are not known: 5 min assumed, params.after_minutes sets it"
        return UNKNOWN_COPY_DELAY, unknown
    assert provider is not None
    profile = PROVIDERS[provider.name]
    if not profile.retries:
        return (
            f"{profile.short_title} does not redeliver on its own (give params.after_minutes "
            "for the copies your own redeliveries send)"
        )
    return profile.retries[0], first


def _retries_known(delivery: DeliverySpec) -> bool:
    provider = delivery.provider
    return provider is not None and (
        bool(provider.retries) or PROVIDERS[provider.name].retries_known
    )


def _auth_of(template: Scenario, kind: str) -> list[DownstreamSpec]:
    return [d for d in template.downstreams if d.auth is not None and d.auth.kind == kind]


def _numeric_ids(source: SyntheticSource) -> list[str]:
    """The source's id and key paths whose example value is an integer."""
    found = []
    for path in (source.id_path, source.key_path):
        if path is None:
            continue
        value = _paths.get(source.example, _paths.parse(path), None)
        if isinstance(value, int) and not isinstance(value, bool):
            found.append(path)
    return found


# --- applying one -----------------------------------------------------------------------------


def apply(draft: Draft, event: LifeEvent, source: SyntheticSource, since: float | None) -> None:
    """Change ``draft`` for ``event``: in its own month from ``since`` scenario seconds, or in
    a later month (``since`` None) for the kinds that last."""
    _APPLY[event.kind](draft, event, source, since)


def _maintenance(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    if since is None:
        return
    at = draft.second(e.on, float(e.params.get("hour", 2)))
    hours = float(e.params.get("hours", 2))
    status = int(e.params.get("status", 503))
    for d in draft.downstreams:
        draft.faults.append(FaultSpec(d.name, "status", at, hours * HOUR, status=status))
    draft.notes.append(f"{e.on}: downstreams answer {status} for {hours:g} h (maintenance).")


def _rate_limit(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    at = 0.0 if since is None else since
    rate = float(e.params.get("rate", 0.0)) or _default_rate(draft)
    for d in draft.downstreams:
        draft.faults.append(FaultSpec(d.name, "rate-limit", at, draft.length - at, rate=rate))
    draft.notes.append(f"rate limit of {rate:g} calls per wall second {_when(e, since)}.")


def _default_rate(draft: Draft) -> float:
    """Twice the month's mean rate of events per wall second: a limit its peaks pass."""
    days = draft.length / 86400
    per_wall_second = len(draft.times) / max(days * draft.day_seconds, 1e-9)
    return round(max(1.0, 2 * per_wall_second), 1)


def _token_expiry(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    # OAuth enforced from this month on: the first token expires after its lifetime.
    lifetime = e.params.get("lifetime")
    for n, d in enumerate(draft.downstreams):
        if d.auth is not None and d.auth.kind == "oauth":
            auth = replace(d.auth, lifetime=float(lifetime)) if lifetime else d.auth
            draft.downstreams[n] = replace(d, auth=auth)
    draft.notes.append(f"OAuth access tokens asked for, and expiring, {_when(e, since)}.")


def _api_key(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    for n, d in enumerate(draft.downstreams):
        auth = d.auth
        if auth is None or auth.kind != "api-key" or not auth.next_key_env:
            continue
        if since is None:  # rotated in an earlier month: only the new key works
            auth = replace(auth, key_env=auth.next_key_env, next_key_env=None, rotate_at=None)
        else:
            auth = replace(auth, rotate_at=since)
        draft.downstreams[n] = replace(d, auth=auth)
    draft.notes.append(f"API key rotated {_when(e, since)}.")


def _secret(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    env = str(e.params.get("next_secret_env", next_secret_env(draft.delivery.secret_env)))
    overlap = float(e.params.get("overlap_hours", 24)) * HOUR
    spec = draft.delivery
    if since is None:  # past the overlap: the new secret only
        draft.delivery = replace(spec, secret_env=env, rotation=None)
    else:
        draft.delivery = replace(spec, rotation=SecretRotation(env, since, overlap))
    draft.notes.append(f"signing secret rotated to {env} {_when(e, since)}.")


def _clock_skew(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    seconds = float(e.params.get("seconds", 120))
    draft.delivery = replace(draft.delivery, clock_skew=seconds)
    draft.notes.append(f"the sender's clock runs {seconds:+g} s off (whole month).")


def _pagination(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    size = int(e.params.get("page_size", 100))
    for n, d in enumerate(draft.downstreams):
        if d.stateful:
            draft.downstreams[n] = replace(d, page_size=size)
    draft.notes.append(f"list endpoints answer {size} records a page (whole month).")


def _api_version(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    rename = dict(e.params.get("rename") or {"status": "state"})
    route = e.params.get("route")
    change = ShapeChange(0.0 if since is None else since, rename, route)
    for n, d in enumerate(draft.downstreams):
        draft.downstreams[n] = replace(d, shape_changes=(*d.shape_changes, change))
    shown = ", ".join(f"{a} -> {b}" for a, b in rename.items())
    draft.notes.append(f"answers renamed ({shown}) {_when(e, since)}.")


def _drift_from(draft: Draft, since: float | None) -> float:
    return 0.0 if since is None else since


def _field_added(draft: Draft, e: LifeEvent, source: SyntheticSource, since: float | None) -> None:
    parent = source.key_path.rsplit(".", 1)[0] if "." in source.key_path else "$"
    name = str(e.params.get("field", "channel"))
    path = e.params.get("path") or f"{parent}.{name}"
    value = e.params.get("value", "web")
    params = {"path": path, "value": value, "from": _drift_from(draft, since)}
    draft.perturbations.append(Perturbation("add_field", params))
    draft.notes.append(f"{path} added {_when(e, since)}.")


def _field_renamed(
    draft: Draft, e: LifeEvent, source: SyntheticSource, since: float | None
) -> None:
    if "path" in e.params and "to" in e.params:
        path, to = str(e.params["path"]), str(e.params["to"])
    else:
        chosen = choose_rename(draft.example, source)
        assert chosen is not None  # why_not made sure
        path, to = chosen
    params = {"path": path, "to": to, "from": _drift_from(draft, since)}
    draft.perturbations.append(Perturbation("rename_field", params))
    draft.notes.append(f"{path} renamed to {to} {_when(e, since)}.")


def _enum_value(draft: Draft, e: LifeEvent, source: SyntheticSource, since: float | None) -> None:
    # The source cycles through its types: a new one joins them, one event in len(types).
    example_type = _paths.get(source.example, _paths.parse(source.type_path or "$"), "event")
    types = draft.types or (str(example_type),)
    new = str(e.params.get("value") or f"{types[0]}.v2")
    if new not in types:
        draft.types = (*types, new)
    draft.notes.append(f"a new event type {new} (whole month).")


def _id_growth(draft: Draft, e: LifeEvent, source: SyntheticSource, since: float | None) -> None:
    value = PAST_53 if int(e.params.get("past", 31)) >= 53 else PAST_31
    for path in _numeric_ids(source):
        current = _paths.get(draft.example, _paths.parse(path), 0)
        if isinstance(current, int) and current < value:
            _paths.put(draft.example, _paths.parse(path), value)
    draft.notes.append(f"ids past 2^{53 if value == PAST_53 else 31} (whole month).")


def _outage(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    if since is None:
        return
    start = draft.second(e.on, float(e.params.get("hour", 9)))
    end = start + float(e.params.get("hours", 4)) * HOUR
    spread = float(e.params.get("redeliver_hours", 6)) * HOUR
    held = [d for d in draft.deliveries if start <= d[0] < end]
    kept = [d for d in draft.deliveries if not start <= d[0] < end]
    later = sorted(end + draft.rng.random() * spread for _ in held)
    draft.rng.shuffle(held)  # redelivered out of order
    draft.deliveries = sorted(kept + [(t, n) for t, (_, n) in zip(later, held, strict=True)])
    draft.notes.append(
        f"{e.on}: the sender holds {len(held)} deliveries for {(end - start) / HOUR:g} h, then "
        f"redelivers them out of order over {spread / HOUR:g} h."
    )


def _storm(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    if since is None:
        return
    copies = int(e.params.get("copies", 3))
    spread = float(e.params.get("spread_minutes", 10)) * 60
    start, end = draft.second(e.on), draft.second(e.on + timedelta(1))
    extra = [
        (t + draft.rng.random() * spread, n)
        for t, n in draft.deliveries
        if start <= t < end
        for _ in range(copies - 1)
    ]
    draft.deliveries = sorted(draft.deliveries + [(min(t, draft.length), n) for t, n in extra])
    draft.notes.append(f"{e.on}: each delivery sent {copies} times (retry storm).")


def _duplicates(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    """A share of the month's deliveries (from ``since`` in its own month) sent again, each
    copy ``copy_delay`` later and within the month."""
    timing = copy_delay(draft.delivery, e)
    start = 0.0 if since is None else since
    share = float(e.params.get("share", DUPLICATE_SHARE))
    sent = [d for d in draft.deliveries if d[0] >= start]
    if not sent or isinstance(timing, str):
        return
    delay, why = timing
    chosen = draft.rng.sample(sent, max(1, round(share * len(sent))))
    copies = [(min(t + delay, draft.length), n) for t, n in chosen]
    draft.deliveries = sorted(draft.deliveries + copies)
    draft.notes.append(
        f"{len(copies)} deliveries sent twice, each copy {duration(delay)} after it ({why})."
    )


def _deploy(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    if since is None:
        return
    hour = float(e.params.get("hour", DEPLOY_HOUR))
    draft.restarts.append(draft.second(e.on, hour))
    draft.notes.append(f"{e.on}: deployed at {_clock(hour)}, the automation restarted.")


def _clock(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _marker(draft: Draft, e: LifeEvent, _: SyntheticSource, since: float | None) -> None:
    return None


def _when(e: LifeEvent, since: float | None) -> str:
    return f"on {e.on}" if since is not None else f"since {e.on}"


_APPLY: dict[str, Callable[[Draft, LifeEvent, SyntheticSource, float | None], None]] = {
    "maintenance": _maintenance,
    "rate-limit": _rate_limit,
    "token-expiry": _token_expiry,
    "api-key-rotation": _api_key,
    "secret-rotation": _secret,
    "clock-skew": _clock_skew,
    "pagination": _pagination,
    "api-version": _api_version,
    "field-added": _field_added,
    "field-renamed": _field_renamed,
    "enum-value-added": _enum_value,
    "id-growth": _id_growth,
    "provider-outage": _outage,
    "retry-storm": _storm,
    "deploy": _deploy,
    "duplicates": _duplicates,
    **{kind: _marker for kind in MARKERS},
}
