"""Providers: how real senders deliver — signature scheme, ack timeout, retry schedule.

Facts from the providers' public documentation (PROVIDERS.md in the design notes). Where a
figure is not published it is None (a scenario must set it); where only its shape is published
("10 retries, exponential, over about 3 days") the schedule is derived from that shape by
``exponential`` and the profile says so in ``notes``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import InputError
from ._indented import indented
from ._signing import SCHEMES

_MIN, _HOUR, _DAY = 60.0, 3600.0, 86400.0


def exponential(count: int, over: float) -> tuple[float, ...]:
    """``count`` retry delays doubling each time and adding up to ``over`` seconds."""
    first = over / (2**count - 1)
    return tuple(first * 2**i for i in range(count))


def _no_headers(attempt: int, reason: str) -> Mapping[str, str]:
    return {}


def _slack_retry(attempt: int, reason: str) -> Mapping[str, str]:
    return {"X-Slack-Retry-Num": str(attempt - 1), "X-Slack-Retry-Reason": reason}


def _same_body(body: bytes, _retry: int) -> bytes:
    return body


# HubSpot counts its attempts in each event of the body: "attemptNumber": 0, then 1, 2, ...
_HUBSPOT_ATTEMPT = re.compile(rb'("attemptNumber"\s*:\s*)\d+')


def _hubspot_retry_body(body: bytes, retry: int) -> bytes:
    """The body of HubSpot's ``retry``-th retry: each event's ``attemptNumber`` set to it (its
    documentation: "starting at 0, which number attempt this is"), nothing else touched — a
    receiver deduplicating by a hash of the event sees a new one."""
    return _HUBSPOT_ATTEMPT.sub(rb"\g<1>" + str(retry).encode(), body)


# How a sender lays out the JSON text of its bodies (``Provider.body``).
PYTHON = "python"  # as json.dumps writes it: ", " and ": ", non-ASCII as \u escapes
COMPACT = "compact"  # no space, non-ASCII as UTF-8 (GitHub, Shopify, HubSpot)
PRETTY = "pretty"  # indented two spaces, non-ASCII as UTF-8 (Stripe)


@dataclass(frozen=True, slots=True)
class Layout:
    """A layout as ``json.dumps`` writes it: ``items`` between the items of an object or array,
    ``keys`` between a key and its value, ``indent`` spaces a level (None: all on one line),
    non-ASCII characters as \\u escapes where ``ascii``. (A synthetic source's template is
    compiled in it too: ``drive/_synthetic_text``.)"""

    items: str
    keys: str
    indent: int | None
    ascii: bool

    def dumps(self, value: Any) -> str:
        """``value`` (as ``json.loads`` makes one) as JSON text in this layout."""
        if self.indent is not None:
            return indented(value, self.items, self.keys, self.indent, self.ascii)
        return json.dumps(
            value, separators=(self.items, self.keys), indent=self.indent, ensure_ascii=self.ascii
        )


LAYOUTS: Mapping[str, Layout] = {
    PYTHON: Layout(", ", ": ", None, ascii=True),
    COMPACT: Layout(",", ":", None, ascii=False),
    PRETTY: Layout(",", ": ", 2, ascii=False),
}


@dataclass(frozen=True, slots=True)
class Provider:
    """A sender's delivery profile."""

    name: str
    title: str
    scheme: str  # a key of _signing.SCHEMES
    timeout: float | None  # seconds the sender waits for a 2xx; None: not published
    retries: tuple[float, ...]  # delays (s) between attempts; () = no automatic retry
    tolerance: float | None = None  # receivers' accepted timestamp skew, where specified
    max_batch: int = 1  # events per request
    # Batching: slots due within this many seconds of a batch's first join it (not published
    # by HubSpot: the harness's choice, settable per scenario), and at most this many
    # requests are in flight (None: no limit of the provider's own).
    batch_window: float = 1.0
    max_in_flight: int | None = None
    notes: str = ""
    retry_headers: Callable[[int, str], Mapping[str, str]] = field(default=_no_headers)
    # The body of the k-th retry (k >= 1), from the first attempt's: the same, but where the
    # sender counts its attempts in the payload (HubSpot's attemptNumber).
    retry_body: Callable[[bytes, int], bytes] = field(default=_same_body)
    # A retry is sent when the ack timeout passes while the first request still runs.
    overlap: bool = False
    gives_up_on: frozenset[int] = frozenset()  # answers that end an event's retries
    honours_retry_after: bool = False  # a Retry-After answer header delays the next retry
    no_retry_header: str | None = None  # an answer header the receiver sets to stop retries
    # False for the generic profiles (hmac, none): the sender is the user's own, and whether
    # it retries is not known (``retries`` is then only what a scenario sets).
    retries_known: bool = True
    # How its bodies' JSON is laid out: PYTHON (the harness's own, where the sender's layout is
    # not known), COMPACT or PRETTY. A receiver that checks the signature over its own
    # re-serialisation of the body passes only the bodies it happens to re-serialise byte for
    # byte: to put it to the test, bodies are laid out as the sender lays them out.
    layout: str = PYTHON

    @property
    def short_title(self) -> str:
        """``HubSpot`` for ``HubSpot (v3 signature)``: the title without its qualifier."""
        return self.title.split(" (")[0]

    def body(self, text: str) -> bytes:
        """The bytes of a body whose JSON ``text`` is as json.dumps writes it, laid out as
        this sender lays out its bodies."""
        if self.layout != PYTHON:
            text = LAYOUTS[self.layout].dumps(json.loads(text))
        return text.encode()

    def retry_wait(self, status: int | None, headers: Mapping[str, str]) -> float | None:
        """After an answer (``status`` None: the connection failed): None when this sender
        stops retrying, else the least wait (s, real time) the receiver asked for."""
        if status is not None and (200 <= status < 300 or status in self.gives_up_on):
            return None
        if self.no_retry_header is not None and headers.get(self.no_retry_header) == "1":
            return None
        if self.honours_retry_after:
            # Bounded: a target answering "Retry-After: 86400" must not hold the run for a day.
            return min(parse_retry_after(headers.get("Retry-After")), MAX_RETRY_AFTER)
        return 0.0

    def with_overrides(
        self,
        retries: int | tuple[float, ...] | None,
        timeout: float | None,
        batch_window: float | None = None,
    ) -> Provider:
        """This profile with the first ``retries`` delays of its schedule (or that schedule),
        ``timeout`` as its ack timeout and ``batch_window``; None keeps the profile's own."""
        schedule = self.retries
        if isinstance(retries, int):
            if retries > len(self.retries):
                raise InputError(
                    f"provider {self.name!r} has {len(self.retries)} retry delays; "
                    f"{retries!r} retries is more than its schedule",
                    hint=f"use at most {len(self.retries)}, or give the delays as a list",
                )
            schedule = self.retries[:retries]
        elif retries is not None:
            schedule = retries
        return replace(
            self,
            retries=schedule,
            timeout=self.timeout if timeout is None else timeout,
            batch_window=self.batch_window if batch_window is None else batch_window,
        )


def attempt_timeout(provider: Provider | None, timeout: float) -> float:
    """How long one request is waited for: ``timeout`` (the scenario's delivery.timeout), or the
    provider's ack timeout for a sender that gives a request up then (all but Slack, which leaves
    it running while it retries)."""
    if provider is None or provider.overlap or not provider.timeout:
        return timeout
    return provider.timeout


# The longest Retry-After (s, real time) a run waits before a retry; a longer one is cut to it.
MAX_RETRY_AFTER = 60.0


def parse_retry_after(value: str | None) -> float:
    """Seconds in a Retry-After header given as a number of seconds; 0 when absent or not."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


PROVIDERS: Mapping[str, Provider] = {
    p.name: p
    for p in (
        Provider(
            "standard-webhooks",
            "Standard Webhooks (Svix)",
            "standard-webhooks",
            15.0,
            (
                5,
                5 * _MIN,
                30 * _MIN,
                2 * _HOUR,
                5 * _HOUR,
                10 * _HOUR,
                14 * _HOUR,
                20 * _HOUR,
                24 * _HOUR,
            ),
            tolerance=300,
            notes="the spec's example schedule; 410 disables the endpoint; honours retry-after",
            gives_up_on=frozenset({410}),
            honours_retry_after=True,
        ),
        Provider(
            "stripe",
            "Stripe",
            "stripe",
            None,
            exponential(8, 3 * _DAY),
            tolerance=300,
            notes="live mode retries for up to 3 days with exponential backoff; the count and "
            "the timeout are not published (8 doublings assumed: set retries to override)",
            layout=PRETTY,
        ),
        Provider(
            "github", "GitHub", "github", 10.0, (), notes="no automatic retries", layout=COMPACT
        ),
        Provider(
            "shopify",
            "Shopify",
            "shopify",
            5.0,
            exponential(8, 4 * _HOUR),
            notes="8 retries over 4 h, exponential, same payload; 1 s to connect",
            layout=COMPACT,
        ),
        Provider(
            "slack",
            "Slack Events API",
            "slack",
            3.0,
            (0, _MIN, 5 * _MIN),
            tolerance=300,
            notes="a retry can arrive while the first attempt still runs",
            retry_headers=_slack_retry,
            overlap=True,
            no_retry_header="X-Slack-No-Retry",
        ),
        Provider(
            "hubspot",
            "HubSpot (v3 signature)",
            "hubspot",
            5.0,
            exponential(10, _DAY),
            tolerance=300,
            max_batch=100,
            max_in_flight=10,
            notes="up to 10 retries over 24 h, randomised; batches of up to 100 events; each "
            "event's attemptNumber counts the retries",
            retry_body=_hubspot_retry_body,
            layout=COMPACT,
        ),
        Provider(
            "attio",
            "Attio",
            "attio",
            None,
            exponential(10, 3 * _DAY),
            notes="10 retries, exponential, over about 3 days; Idempotency-Key kept across "
            "retries; timeout not published",
        ),
        Provider("hmac", "generic HMAC-SHA256", "hmac", None, (), retries_known=False),
        Provider("none", "unsigned", "none", None, (), retries_known=False),
    )
}
assert set(PROVIDERS) == set(SCHEMES), "every scheme has a provider profile"


def provider(name: str) -> Provider:
    """The profile named ``name``; an InputError naming the nearest one otherwise."""
    found = PROVIDERS.get(name)
    if found is None:
        near = difflib.get_close_matches(name, list(PROVIDERS), n=1)
        raise InputError(
            f"unknown provider {name!r}" + (f" — did you mean {near[0]!r}?" if near else ""),
            hint=f"use one of {', '.join(PROVIDERS)}",
        )
    return found
