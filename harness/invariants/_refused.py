"""Runs whose genuine deliveries the target refused: all of them, or most.

A run the target accepted nothing of put nothing to the test: a check that passed there (no
duplicate effect among no effects) proves nothing, so ``judge`` makes it inconclusive with the
reason (``mark_untested``). A failure found on such a run stands: its witnesses are real. What the
target answered says why, most of the time: ``likely_cause`` infers it from the answer the
refused deliveries got most (status, or no answer) and names what the run used — the signature
scheme and the secret's variable (never its value), the URL driven, the paths the events' ids,
keys and types were written at.

Tampered deliveries (forged, unsigned, stale, replayed) are left out: refusing them is right.

A run that rotated its signing secret (``delivery.rotation``; its window on the run's clock in
the settings) signed each delivery with the old secret, both, or the new one (``SecretPhases``).
Refusals that began with the rotation — deliveries signed the old way accepted, those signed
with both or the new one refused — have their own cause (``rotation_cause``): the automation
does not accept the new secret, or a header with two signatures. ``accepts_genuine`` judges
them; here they explain a run's refusals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core._model import Delivery, Evidence, Fault, Status, Verdict
from ..history import History, delivery_column
from ._facts import Facts, plural
from ._refusal_context import (
    MissingRead,
    PlainList,
    TimedOut,
    TokenMade,
    batch_cause,
    dated_before,
    dated_before_cause,
    failing_cause,
    failing_fault,
    missing_read,
    missing_read_cause,
    plain_list,
    plain_list_cause,
    timed_out,
    timeout_cause,
    token_made,
    token_made_cause,
)
from ._refused_call import RefusedCall, calls_by_event, refused_call_cause, refused_calls
from ._shed import SHED_STATUS, Shed, shed_cause, shed_load
from .target_available import NoAnswer, no_answer

# The answers that refuse a delivery's body (its shape, or what it says).
BODY_REFUSED = (400, 415, 422)


@dataclass(frozen=True, slots=True)
class Refusals:
    """How a run's genuine deliveries were answered, when fewer than half were accepted.

    ``status``: the answer the refused ones got most (None: no answer came, ``no_answer_kind``
    says how), ``count`` how many got it; ``cause`` the likely cause in words, ``short`` in a
    few."""

    genuine: int
    accepted: int
    tampered: bool  # the run also sent tampered deliveries (left out of ``genuine``)
    status: int | None
    no_answer_kind: NoAnswer | None
    count: int
    cause: str
    short: str

    @property
    def nothing_accepted(self) -> bool:
        return self.accepted == 0

    @property
    def answer(self) -> str:
        """``401``, or ``no answer (could not connect)``."""
        if self.status is not None:
            return str(self.status)
        return f"no answer ({self.no_answer_kind or 'failed'})"

    @property
    def deliveries(self) -> str:
        """``genuine deliveries`` when the run also sent tampered ones, else ``deliveries``."""
        return "genuine deliveries" if self.tampered else "deliveries"

    def text(self) -> str:
        """``the target accepted none of the 100 deliveries; 100 answered 401`` (or ``only 3``)."""
        how = "got " + self.answer if self.status is None else "answered " + self.answer
        one = "genuine delivery" if self.tampered else "delivery"
        of = plural(self.genuine, one, self.deliveries)
        head = (
            f"the target accepted none of the {of}"
            if self.nothing_accepted
            else f"the target accepted only {self.accepted:,} of the {of}"
        )
        return f"{head}; {self.count:,} {how}"


def is_accepted(d: Delivery) -> bool:
    return is_2xx(d.status)


def is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def is_refusal(d: Delivery) -> bool:
    """A 4xx answer other than 429 (throttling is not a refusal): the target said no."""
    return d.status is not None and 400 <= d.status < 500 and d.status != 429


OLD, BOTH, NEW = "old", "both", "new"  # the secrets a delivery was signed with


@dataclass(frozen=True, slots=True)
class SecretPhases:
    """A run's signing-secret rotation, on its clock: the old secret alone before ``start``,
    both until ``end``, the new one (in ``next_env``) from ``end``."""

    start: float
    end: float
    next_env: str

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> SecretPhases | None:
        found = settings.get("rotation")
        if not isinstance(found, Mapping):
            return None
        try:
            return cls(float(found["start"]), float(found["end"]), str(found["next_secret_env"]))
        except (KeyError, TypeError, ValueError):
            return None

    def phase(self, sent_at: float) -> str:
        """Which secrets signed a delivery sent at ``sent_at`` (it is signed as it is sent)."""
        if sent_at < self.start:
            return OLD
        return BOTH if sent_at < self.end else NEW

    def explains(self, genuine: Sequence[Delivery], refused: Sequence[Delivery]) -> bool:
        """Did the refusals begin with the rotation? Each refused delivery was signed with the
        new secret (alone or beside the old one), and the old secret alone was accepted — or
        never used (the whole run signed after the rotation)."""
        if not refused or any(self.phase(d.sent_at) == OLD for d in refused):
            return False
        old = [d for d in genuine if self.phase(d.sent_at) == OLD]
        return not old or any(is_accepted(d) for d in old)


def rotation_cause(phases: SecretPhases, refused: Sequence[Delivery]) -> tuple[str, str]:
    """The cause, in words, of refusals that began with the rotation, and in a few words."""
    if any(phases.phase(d.sent_at) == BOTH for d in refused):
        return (
            f"refused from the rotation at {phases.start:.2f} s on, while each delivery "
            "carried two signatures (the old secret's and the new one's): does the automation "
            "accept a signature header with several signatures, and look for its secret's "
            "among them?",
            "two signatures in the header",
        )
    # The rotation is dated at its start, when the new secret began to sign: a one-signature
    # sender switches then; a two-signature one signs with both until its end.
    if phases.end <= 0:
        when = "throughout the run, which began after the rotation"
    elif phases.end > phases.start:
        when = (
            f"from {phases.end:.2f} s on (the rotation began at {phases.start:.2f} s, both "
            f"secrets signing until {phases.end:.2f} s)"
        )
    else:
        when = f"from the rotation at {phases.start:.2f} s on"
    return (
        f"refused {when}, signed with the new secret (in ${phases.next_env}) alone: does the "
        f"automation accept the new secret? Give it ${phases.next_env} beside the old one "
        "(docs/security.md)",
        "the new secret after the rotation",
    )


def refusals(history: History) -> Refusals | None:
    """The run's refusals when the target accepted fewer than half of its genuine deliveries;
    None when it accepted at least half, or nothing genuine was sent."""
    tampered = history.info.settings.get("tampered") or {}
    genuine: Sequence[Delivery] = (
        [d for d in history.deliveries if d.id not in tampered] if tampered else history.deliveries
    )
    # Counted by status in C: `harness check` asks this of every run (its exit code).
    statuses = Counter(delivery_column(genuine, "status"))
    accepted = sum(n for status, n in statuses.items() if is_2xx(status))
    if not genuine or accepted * 2 >= len(genuine):
        return None
    refused = [d for d in genuine if not is_accepted(d)]
    answers: Counter[tuple[int | None, NoAnswer | None]] = Counter(
        (d.status, no_answer(d)) for d in refused
    )
    (status, kind), count = answers.most_common(1)[0]
    most = [d for d in refused if d.status == status and no_answer(d) is kind]
    server_error = status is not None and status >= 500
    cause, short = likely_cause(
        history.info.target,
        history.info.settings,
        status,
        kind,
        timed_out=timed_out(history, most) if kind is NoAnswer.TIMEOUT else None,
        failing=failing_fault(history, most) if server_error else None,
        missing=missing_read(history, most) if server_error else None,
        token=token_made(history, most) if server_error else None,
        listed=plain_list(history, most, windowed=True) if server_error else None,
        shed=shed_load(history, most) if status == SHED_STATUS else None,
        refused=refused_calls(history, most, calls_by_event(history, most))
        if server_error
        else None,
        dated=dated_before(history, most) if status in BODY_REFUSED else None,
        silent=not history.effects,
    )
    phases = SecretPhases.of(history.info.settings)
    signature = [d for d in refused if is_refusal(d)]
    if phases is not None and phases.explains(genuine, signature):
        cause, short = rotation_cause(phases, signature)
    return Refusals(len(genuine), accepted, bool(tampered), status, kind, count, cause, short)


def likely_cause(
    target: str,
    settings: Mapping[str, Any],
    status: int | None,
    kind: NoAnswer | None,
    *,
    timed_out: TimedOut | None = None,
    failing: Fault | None = None,
    missing: MissingRead | None = None,
    dated: float | None = None,
    token: TokenMade | None = None,
    listed: PlainList | None = None,
    shed: Shed | None = None,
    refused: RefusedCall | None = None,
    silent: bool = False,
) -> tuple[str, str]:
    """What most likely made the target refuse, from the answer it gave most: the cause in
    words naming what the run used, and in a few words (for a verdict's summary). What the
    run shows around those answers (``_refusal_context``): ``timed_out``, how deliveries that
    got no answer ended; ``failing``, the downstream fault window most 5xx answers came in;
    ``missing``, the read of a downstream double answered 404 with them; ``dated``, how long
    before the run their events' payloads are dated, where that is long; ``token``, the
    token requests the double answered as creations; ``listed``, the collection reads it
    answered with a plain list; ``shed``, 503 answers given at once while the target worked
    off what it had accepted (``_shed``); ``refused``, the downstream's refusal (4xx) of the
    automation's own call that most 5xx answers came right after (``_refused_call``);
    ``silent``, that the run made no call to any downstream."""
    if status is None:
        if kind is NoAnswer.TIMEOUT:
            return timeout_cause(settings, timed_out or TimedOut(None, None, went_on=False))
        if kind is NoAnswer.RESET:
            return (
                f"the connection to {target} was reset before an answer: the automation "
                "crashes while it reads the delivery, or something in between drops it",
                "the connection was reset",
            )
        return (
            f"nothing answered at {target}: the target is not running, or listens elsewhere — "
            "start it, and check the host and port of --target",
            "the target is not running",
        )
    if status in (401, 403):
        return _signature(settings), "signature scheme or secret"
    if status in (404, 405):
        return (
            f"the path or the method: every delivery was a POST to {target} — check the "
            "automation's route for it (404: no such path; 405: the path does not take a POST)",
            "the path or the method",
        )
    if status in BODY_REFUSED:
        if dated is not None:  # as likely: a check of the event's age by its payload
            time, short = dated_before_cause(settings["paths"]["time"], dated)
            return f"{_payload(settings)}; or {time}", f"the payload's shape, or {short}"
        return _payload(settings), "the payload's shape"
    # A plain list counted from the journal wins over a window met by overlapping flights.
    if status >= 500 and failing is not None and listed is None:
        return failing_cause(settings, status, failing)
    if status >= 500 and missing is not None:
        return missing_read_cause(status, missing)
    if status >= 500 and refused is not None:
        return refused_call_cause(status, refused)
    if status >= 500 and token is not None:
        return token_made_cause(status, token)
    if status >= 500 and listed is not None:
        return plain_list_cause(status, listed)
    if status >= 500 and shed is not None:
        return shed_cause(settings, shed)
    if status >= 500 and silent and (batched := batch_cause(settings, status)) is not None:
        return batched
    if status >= 500:
        return (
            "the automation crashed (5xx): the body of its answer usually names "
            "why (a missing environment variable, a database it cannot reach, an exception)",
            "the automation crashed",
        )
    if 300 <= status < 400:
        return (
            f"the target answered a redirect ({status}): a webhook sender does not follow one — "
            "point --target at the final URL",
            "a redirect",
        )
    if status == 429:
        return (
            "the target throttled the deliveries (429): slow the scenario's rate, or raise the "
            "automation's limit for the test",
            "throttling",
        )
    return (
        f"the automation refused the deliveries with {status}: its answer's body above says why",
        f"a {status} answer",
    )


def _signature(settings: Mapping[str, Any]) -> str:
    scheme = settings.get("signing") or "none"
    variable = settings.get("secret_env") or "HARNESS_SECRET"
    provider = settings.get("provider")
    if scheme == "none":
        return (
            "authentication: the deliveries were not signed (delivery.signing: none) and the "
            "automation wants them signed — set the scenario's provider (or delivery.signing) "
            "and the variable that holds its secret (delivery.secret_env)"
        )
    how = f"the {provider} way ({scheme} scheme)" if provider else f"with the {scheme} scheme"
    return (
        f"the signature scheme or the secret: the deliveries were signed {how}, with the "
        f"secret in ${variable} — check that the automation verifies that scheme (its headers, "
        "what is signed: the raw body as received, not the payload parsed and written back as "
        f"JSON) with the same secret; to sign another way, set the scenario's "
        "provider or delivery.signing, and delivery.secret_env for another variable "
        "(docs/providers.md)"
    )


def _payload(settings: Mapping[str, Any]) -> str:
    paths = settings.get("paths") or {}
    named = [
        f"the {what} at {paths[key]}"
        for key, what in (
            ("id", "event id"),
            ("key", "record key"),
            ("type", "event type"),
            ("seq", "sequence number"),
            ("time", "time"),
        )
        if paths.get(key)
    ]
    wrote = "; the harness wrote " + ", ".join(named) + " of each event's payload" if named else ""
    return (
        f"the payload's shape: the automation refused the events' body{wrote} — compare the "
        "example event (in the report) with what the automation reads, and set the source's "
        "example, or its id:, key: and type: paths, to match (docs/scenarios.md)"
    )


def mark_untested(
    facts: Facts,
    verdicts: Sequence[Verdict],
    exempt: frozenset[str],
    ordered: frozenset[str] = frozenset(),
) -> list[Verdict]:
    """``verdicts``, each pass made inconclusive when the target accepted none of the run's
    genuine deliveries (except the invariants in ``exempt``, which judge the answers
    themselves). Failures stand, but those of ``ordered`` (an order kept over the events the
    automation took: ``per_key_order``): where it took none, every effect came from a
    delivery it refused, in the order the sender redelivered them — its failure there is the
    sender's retry order (split_payout under downstream-outage failed per_key_order so, under
    duplicate-storm it was "not judged"), inconclusive with the same reason, its witnesses
    kept."""
    if facts.accepted:  # an accepted event had a genuine 2xx: the common case, decided at once
        return list(verdicts)
    found = refusals(facts.history)
    if found is None or not found.nothing_accepted:
        return list(verdicts)
    why = (
        f"not judged: {found.text()} (likely cause: {found.short}); nothing was put to the test, "
        "so a pass would prove nothing"
    )
    retried = (
        f"not judged: {found.text()} (likely cause: {found.short}); every effect came from a "
        "delivery the target refused, in the order the sender redelivered them, so the order "
        "it keeps over events it takes was never put to the test (what it saw: "
    )
    out = []
    for v in verdicts:
        if v.status is Status.FAIL and v.invariant in ordered:
            saw = v.summary.partition("; ")[0]
            v = replace(v, status=Status.INCONCLUSIVE, summary=f"{retried}{saw})")
        elif v.status is Status.PASS and v.invariant not in exempt:
            v = replace(v, status=Status.INCONCLUSIVE, summary=why, evidence=Evidence())
        out.append(v)
    return out
