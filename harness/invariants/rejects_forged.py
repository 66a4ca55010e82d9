"""rejects_forged: tampered deliveries (forged, unsigned, stale, replayed) get a 4xx, no effect.

Which deliveries were tampered is in the run's settings (``tampered``), written when the run
was planned, so this is judged from the History alone. A replayed delivery under a scheme that
signs no timestamp (GitHub, Shopify, Attio, generic HMAC) carries a valid signature: a receiver
can only refuse its effect (dedup by id), so there it must cause no effect, whatever the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..core._model import Delivery, Effect, Event, FailureClass, Status, Verdict
from ..core._signing import TIMESTAMPED
from ..history import History
from ._expected import expectation_of, owed_writes
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    delivery_result,
    effects_text,
    event_ref,
    is_write,
    plural,
    verdict,
)
from ._refused import is_refusal
from ._requests import Request

NAME = "rejects_forged"
CLASS = FailureClass.SILENT


def rejects_forged(facts: Facts) -> Verdict:
    """Fail when a tampered delivery was not refused with a 4xx, or caused an effect."""
    tampered = facts.tampered
    history = facts.history
    if not tampered:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "no delivery was tampered; add a tamper perturbation (forged, unsigned, stale or "
            "replayed) to judge this",
        )
    timestamped = history.info.settings.get("signing") in TIMESTAMPED
    sent = [d for d in history.deliveries if d.id in tampered]
    genuine = {d.event_id for d in history.deliveries if d.id not in tampered}
    taken = Counter(
        d.event_id
        for d in history.deliveries
        if d.id not in tampered and d.status is not None and 200 <= d.status < 300
    )
    effects = facts.effects_of({d.event_id for d in sent})
    events = facts.events_by_id
    witnesses: list[Witness] = []
    tally = {"accepted (2xx)": 0, "answered 5xx or not at all": 0, "caused an effect": 0}
    accepted = 0  # replays a scheme without a signed timestamp may accept: judged by effect
    taken_modes: set[str] = set()  # the modes of the deliveries accepted that must be refused
    taken_since = float("inf")  # when the first of those accepted (2xx) was sent
    for d in sent:
        event = events.get(d.event_id)
        if event is None:
            continue
        mode = tampered[d.id]
        writes = [e for e in effects[d.event_id] if is_write(e)]
        caused = _caused(
            facts,
            d,
            writes,
            only_tampered=d.event_id not in genuine,
            repeats_its=taken[d.event_id] <= 1,
        )
        must_refuse = mode != "replayed" or timestamped
        refused = d.status is not None and 400 <= d.status < 500
        unrefused = must_refuse and not refused
        accepted += not (must_refuse or refused)
        if caused or unrefused:
            witnesses.append(_witness(d, mode, event, caused, unrefused))
            tally["caused an effect"] += bool(caused)
            if unrefused:
                ok = d.status is not None and 200 <= d.status < 300
                tally["accepted (2xx)" if ok else "answered 5xx or not at all"] += 1
                taken_modes.add(mode if ok else "")
                taken_since = min(taken_since, d.sent_at) if ok else taken_since
    total = plural(len(sent), "tampered delivery", "tampered deliveries")
    if not witnesses:
        return verdict(NAME, Status.PASS, CLASS, _held(total, len(sent), accepted, history))
    if not tally["accepted (2xx)"] and not tally["caused an effect"] and not facts.accepted:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"not judged: {total} got no 4xx, but the target accepted none of the run's genuine "
            "deliveries either (5xx or no answer to all): a target failing every delivery shows "
            "nothing of whether it checks signatures",
            witnesses[:MAX_WITNESSES],
        )
    how = ", ".join(f"{n:,} {what}" for what, n in tally.items() if n)
    return verdict(
        NAME,
        Status.FAIL,
        CLASS,
        f"{len(witnesses):,} of {total} were not refused with a 4xx, or caused an effect ({how})"
        + (
            (
                _age_unchecked(history, sent, tampered, taken_modes)
                or _unsigned_let_through(sent, tampered, taken_modes)
            )
            if tally["caused an effect"]
            else _acted_on_none(facts, taken_modes, taken_since)
        ),
        witnesses[:MAX_WITNESSES],
    )


def _age_unchecked(
    history: History, sent: Sequence[Delivery], tampered: dict[str, str], taken: set[str]
) -> str:
    """The cause when the deliveries accepted that must be refused are all stale or replayed
    (a valid signature over an old timestamp) and every forged or unsigned one was refused:
    the signature is checked, the timestamp's age is not; "" otherwise."""
    if not taken or not taken <= {"stale", "replayed"}:
        return ""
    bad = [d for d in sent if tampered[d.id] in ("forged", "unsigned")]
    if not all(is_refusal(d) for d in bad):
        return ""
    checked = (
        f"every forged or unsigned delivery was refused ({len(bad):,}), so the signature is "
        "checked; "
        if bad
        else ""
    )
    # Without a forged delivery in the run, an automation that checks no signature at all
    # accepts these too (tests/gallery/member_sync): the timestamp's unit is one reading only.
    unknown = (
        ""
        if bad
        else "; whether it checks the signature at all, this run sent nothing to show "
        "(forged-signature sends forged deliveries)"
    )
    signing = history.info.settings.get("signing")
    unit = (
        f"{' — if it does,' if not bad else ' —'} X-HubSpot-Request-Timestamp is in milliseconds: "
        "compare it with the clock in milliseconds (time.time() * 1000), not in seconds, or no "
        "timestamp is ever too old"
        if signing == "hubspot"
        else ""
    )
    return (
        f"; {checked}each {' and '.join(sorted(taken))} delivery accepted carried a valid "
        "signature over an old timestamp: the automation does not refuse a signed timestamp "
        f"more than 5 minutes from now{unknown}{unit} (docs/security.md)"
    )


def _unsigned_let_through(
    sent: Sequence[Delivery], tampered: dict[str, str], taken: set[str]
) -> str:
    """The cause when the deliveries accepted that must be refused are all unsigned and every
    one with a wrong signature was refused: the signature is checked only when the header is
    there (``if header and not valid: 401``, tests/gallery/unsigned_orders); "" otherwise."""
    if taken != {"unsigned"}:
        return ""
    forged = [d for d in sent if tampered[d.id] == "forged"]
    if not forged or not all(is_refusal(d) for d in forged):
        return ""
    return (
        f"; every delivery with a wrong signature was refused ({len(forged):,}), and each "
        "unsigned one accepted carried no signature header at all: the automation checks the "
        "signature only when one is sent, so anyone who leaves the header out is let through — "
        "refuse a delivery without its signature header with a 4xx (docs/security.md)"
    )


def _acted_on_none(facts: Facts, taken: set[str], since: float) -> str:
    """The cause when tampered deliveries were accepted (the first sent at ``since``) and none
    caused an effect: checked, if at all, after the answer — harmless for the forgery, not for
    a genuine delivery the check fails, which the sender is told it delivered; "" when none was
    accepted (2xx). Not where writes after them name no event: any may be theirs."""
    modes = sorted(taken - {""})
    if not modes:
        return ""
    known = facts.events_by_id
    unnamed = sum(
        1
        for e in facts.effects_in_order
        if e.at >= since and is_write(e) and not any(i in known for i in e.event_ids)
    )
    if unnamed:
        names = "names" if unnamed == 1 else "name"
        return (
            f"; {plural(unnamed, 'write')} made after them {names} no event: whether they "
            "caused an effect is not known"
        )
    if modes == ["replayed"]:
        return (
            "; none caused an effect: each replayed delivery was acknowledged (2xx) and acted on "
            "by nothing after — the automation deduplicated it by its event id, or checks the "
            "timestamp only after answering: this run cannot tell which, nor that the age goes "
            "unchecked; refuse a signed timestamp more than 5 minutes from now with a 4xx, "
            "before answering (docs/security.md)"
        )
    return (
        f"; none caused an effect: each {', '.join(modes)} delivery was acknowledged (2xx) "
        "and acted on by nothing after — the automation answers before it checks, as a "
        "receiver that queues the raw request and verifies in its worker does. The forgery is "
        "harmless so, but the sender is told 2xx for what the check drops: a genuine delivery "
        "the check fails (a secret rolled at the sender and not here, a skewed clock, a body "
        "re-encoded on its way) is lost with no retry and no failed delivery on the sender's "
        "side — verify before answering and refuse with a 4xx (docs/security.md)"
    )


def _held(total: str, sent: int, accepted: int, history: History) -> str:
    """The pass's summary: refused, or — replays under a scheme that signs no timestamp —
    accepted and deduplicated (the receiver cannot tell one from a redelivery)."""
    if not accepted:
        return f"all {total} were refused and caused no effect"
    scheme = history.info.settings.get("signing")
    others = sent - accepted
    refused = f"; the other {others:,} {'was' if others == 1 else 'were'} refused" if others else ""
    replays = plural(accepted, "replayed delivery", "replayed deliveries")
    return (
        f"all {total} caused no effect: {replays} {'was' if accepted == 1 else 'were'} "
        "accepted (2xx) without acting again — "
        f"{scheme} signs no timestamp, so a receiver can tell a replay from a redelivery only by "
        f"its id{refused}"
    )


def _caused(
    facts: Facts,
    d: Delivery,
    writes: Sequence[Effect],
    *,
    only_tampered: bool,
    repeats_its: bool,
) -> list[Effect]:
    """The writes this tampered delivery caused.

    An event that only ever arrived tampered owes no effect: each of its writes was caused by
    a tampered delivery. A delivery refused with a 4xx caused nothing else: a write of its
    event after it is the event's own repeat (a job run again: ``no_duplicate_effects``
    judges it). Otherwise a write that came after this delivery was sent, when the
    event had already been written before it, is the tampered copy acted on again. And where
    the event had no write yet when the copy came (a receiver that answers, then works off a
    queue) and only one genuine delivery was accepted (``repeats_its``): each committed write
    of a request beyond what the event owes of it (its clean twin's count, else one), made
    after this delivery was sent — nothing else asked for it twice.
    """
    if only_tampered:
        return list(writes)
    if is_refusal(d):
        return []  # refused: a write of its event after it is a repeat of the event's own
    if any(e.at < d.sent_at for e in writes):
        return [e for e in writes if e.at >= d.sent_at]
    if not repeats_its:
        return []
    routes = expectation_of(facts).routes
    by_request: dict[tuple[Request, str], list[Effect]] = {}
    for e in sorted(writes, key=_at):
        if e.committed:  # a GraphQL mutation's request named by its fields, on the path written
            by_request.setdefault((routes.of(e), e.path.partition("?")[0]), []).append(e)
    caused = [
        e
        for same in by_request.values()
        if len(same) > (allowed := max(1, _owed(facts, same[0])))
        for e in same[allowed:]
        if e.at >= d.sent_at
    ]
    return sorted(caused, key=_at)


def _owed(facts: Facts, e: Effect) -> int:
    """The writes of ``e``'s request the events it names owe together (a batch call's, each
    of its events' own)."""
    return sum(owed_writes(facts, i)(e) for i in e.event_ids)


def _at(e: Effect) -> float:
    return e.at


def _witness(
    d: Delivery, mode: str, event: Event, caused: Sequence[Effect], unrefused: bool
) -> Witness:
    answer = f"was answered {delivery_result(d).removeprefix(d.id + ' ')}"
    if d.status is None:
        answer = "got no answer" if d.answered_at is None else f"failed ({d.error})"
    line = f"{mode} delivery {d.id} of {event_ref(event)} {answer}"
    if unrefused:
        line += " — expected a 4xx"
    line += f"; it caused {effects_text(caused)}" if caused else "; it caused no effect"
    return Witness(line, (event.id,), (d.id,), tuple(e.id for e in caused))
