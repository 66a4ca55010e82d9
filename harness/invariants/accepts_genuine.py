"""accepts_genuine: the target does not refuse genuine deliveries — those the sender signed
with a secret the automation was given, on a clock within the providers' tolerance (loud).

The mirror of ``rejects_forged``: a refusal (a 4xx other than 429) of a genuine delivery is a
refusal of the sender's real work, retried by the provider until it gives up, then lost. It
matters most when the sender's life changes under a running automation: a signing-secret
rotation (``delivery.rotation``: the automation must accept both secrets' signatures during the
overlap, then the new one) and a sender's clock running ahead or behind
(``delivery.clock_skew``). And in any run: a receiver that checks the signature over its own
re-serialisation of the body (``json.dumps`` of the parsed payload) refuses every genuine
delivery it does not write back byte for byte — those with text beyond ASCII, which the sender
sends as UTF-8 and ``json.dumps`` escapes. Judged in every run whose deliveries are signed
(``run_invariants`` adds it).

Tampered deliveries are ``rejects_forged``'s, and a drifted event's refusal ``drift_is_loud``'s:
both are left out. A sender's clock skewed past the 300 s every timestamped provider allows
makes its deliveries stale to a careful receiver: refusing them is right (inconclusive). A run
whose genuine deliveries were all refused stays inconclusive, as every verdict of it is
(``_refused``), unless the rotation explains it; a run that never signed with the new secret
alone did not put the rotation to the test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..core._model import Delivery, Event, FailureClass, Status, Verdict
from ..core._signing import DEFAULT_TOLERANCE, TIMESTAMPED
from ..core._text_event import payload_json
from ..history import History
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    event_ref,
    id_list,
    is_write,
    plural,
    timestamp,
    verdict,
)
from ._refusal_context import dated_before
from ._refused import (
    BODY_REFUSED,
    BOTH,
    NEW,
    OLD,
    SecretPhases,
    is_accepted,
    is_refusal,
    likely_cause,
    rotation_cause,
)
from ._restarts import refused_while_restarting

NAME = "accepts_genuine"
CLASS = FailureClass.LOUD

_SIGNED = {
    OLD: "signed with the old secret",
    BOTH: "signed with both secrets",
    NEW: "signed with the new secret",
}


def accepts_genuine(facts: Facts) -> Verdict:
    """Fail when the target refused deliveries the sender signed with a secret it was given."""
    history = facts.history
    settings = history.info.settings
    drifted = _drifted(settings)
    genuine = [
        d for d in history.deliveries if d.id not in facts.tampered and d.event_id not in drifted
    ]
    if not genuine:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, _none_genuine(history, facts))
    skew = _skew(settings)
    if settings.get("signing") in TIMESTAMPED and abs(skew) > DEFAULT_TOLERANCE:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"the sender's clock ran {_seconds(skew)}, past the {DEFAULT_TOLERANCE:g} s "
            "the providers allow: a receiver that refuses its deliveries as stale is right",
        )
    phases = SecretPhases.of(settings)
    refused = [d for d in genuine if is_refusal(d)]
    of = plural(len(genuine), "genuine delivery", "genuine deliveries")
    # "none of the 3 … was refused"; of one, "the 1 … was not refused"
    none_refused = f"the {of} was not" if len(genuine) == 1 else f"none of the {of} was"
    signed = _by_phase(genuine, phases)
    if not refused:
        if phases is not None and not any(phases.phase(d.sent_at) == NEW for d in genuine):
            return verdict(
                NAME,
                Status.INCONCLUSIVE,
                CLASS,
                f"{none_refused} refused{signed}, but none was signed with the new "
                f"secret alone (from {timestamp(phases.end)}): the run did not reach the end "
                "of the rotation's overlap",
            )
        if phases is not None and (unseen := _unjudged_phase(genuine, phases)):
            summary = f"{none_refused} refused{signed}, but {unseen}"
            return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary)
        dropped = _new_dropped(facts, genuine, phases) if phases is not None else ""
        return verdict(NAME, Status.PASS, CLASS, f"{none_refused} refused{signed}{dropped}")
    explained = phases is not None and phases.explains(genuine, refused)
    if explained and phases is not None:
        cause, _ = rotation_cause(phases, refused)
    else:
        cause = (
            refused_while_restarting(history, genuine, refused)
            or _beyond_ascii(facts, genuine, refused)
            or _copies_refused(genuine, refused)
            or _cause(history, refused, skew)
        )
    began = min(d.sent_at for d in refused)
    ids = [d.id for d in sorted(refused, key=lambda d: d.sent_at)]
    summary = (
        f"{len(refused):,} of the {of} were refused{_refused_by_phase(refused, phases)}, from "
        f"{timestamp(began)} on ({id_list(ids)}); likely cause: {cause}"
    )
    if not explained and not any(is_accepted(d) for d in genuine):
        # Nothing accepted and nothing explains why: the run put nothing to the test.
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, "not judged: " + summary)
    lost = {d.event_id for d in refused} - facts.accepted
    if lost:
        summary += f"; {plural(len(lost), 'event')} never accepted"
    return verdict(NAME, Status.FAIL, CLASS, summary, _witnesses(facts, refused, phases))


def _none_genuine(history: History, facts: Facts) -> str:
    """Why no delivery is judged here: none sent, or each one tampered or drifted — a year's
    month after a lasting field-added drifts every event, signed as genuinely as any."""
    if not history.deliveries:
        return "no genuine delivery was sent"
    tampered = sum(1 for d in history.deliveries if d.id in facts.tampered)
    moved = len(history.deliveries) - tampered
    said = [
        f"{plural(n, 'delivery', 'deliveries')} {what}"
        for n, what in (
            (moved, "of events with field drift, whose refusal drift_is_loud judges"),
            (tampered, "tampered with on purpose"),
        )
        if n
    ]
    return f"no delivery was both genuine and undrifted: {' and '.join(said)}"


def _drifted(settings: Mapping[str, Any]) -> set[str]:
    """The ids of the events a drift perturbation changed: their refusal is drift_is_loud's."""
    found: set[str] = set()
    for record in settings.get("drift") or ():
        if isinstance(record, Mapping) and isinstance(record.get("events"), Mapping):
            found.update(str(k) for k in record["events"])
    return found


def _skew(settings: Mapping[str, Any]) -> float:
    value = settings.get("clock_skew") or 0.0
    return float(value) if isinstance(value, int | float) else 0.0


def _seconds(skew: float) -> str:
    return f"{abs(skew):g} s {'ahead' if skew > 0 else 'behind'}"


def _new_dropped(facts: Facts, genuine: Sequence[Delivery], phases: SecretPhases) -> str:
    """Where the events signed with the new secret alone, all accepted, made no write while
    some signed with the old one did: what a receiver that answers before it checks the
    signature (and drops what fails its check) does with a secret it was not given — not a
    refusal, so not this verdict's failure, but said beside its pass; "" otherwise."""
    by_phase: dict[str, set[str]] = {OLD: set(), NEW: set()}
    for d in genuine:
        phase = phases.phase(d.sent_at)
        if phase in by_phase and is_accepted(d):
            by_phase[phase].add(d.event_id)
    new, old = by_phase[NEW], by_phase[OLD]
    if not new or not old:
        return ""
    acted = {eid for e in facts.effects_in_order if is_write(e) for eid in e.event_ids}
    if new & acted or not old & acted:
        return ""
    return (
        f"; but none of the {plural(len(new), 'event')} signed with the new secret alone made "
        f"a write, where {len(old & acted):,} of the {len(old):,} signed with the old one did: "
        "accepted (2xx) and dropped — a receiver that answers before it checks the signature "
        "drops what the check fails instead of refusing it: give it the new secret "
        "(no_lost_events judges those events)"
    )


def _unjudged_phase(genuine: Sequence[Delivery], phases: SecretPhases) -> str:
    """Where every delivery of a rotation's phase got neither a 2xx nor a refusal (5xx, no
    answer), what of the rotation was not seen: "none refused" would pass a phase nobody saw
    accepted (tests/gallery/split_signature.py answered 500 to every delivery signed with both
    secrets, and the verdict passed)."""
    by_phase: dict[str, list[Delivery]] = {}
    for d in genuine:
        by_phase.setdefault(phases.phase(d.sent_at), []).append(d)
    for phase in (OLD, BOTH, NEW):
        sent = by_phase.get(phase, [])
        if sent and not any(is_accepted(d) or is_refusal(d) for d in sent):
            answers = Counter(f"answered {d.status}" if d.status else "got no answer" for d in sent)
            got = ", ".join(f"{n:,} {a}" for a, n in answers.most_common())
            return (
                f"none of the {plural(len(sent), 'delivery', 'deliveries')} {_SIGNED[phase]} "
                f"was answered 2xx or refused ({got}): whether the automation accepts them was "
                "not seen (no_server_errors judges the errors)"
            )
    return ""


def _by_phase(genuine: Sequence[Delivery], phases: SecretPhases | None) -> str:
    """`` (signed with the old secret: 40, both: 5, the new one: 55)`` during a rotation."""
    if phases is None:
        return ""
    counts = {OLD: 0, BOTH: 0, NEW: 0}
    for d in genuine:
        counts[phases.phase(d.sent_at)] += 1
    return (
        f" (signed with the old secret: {counts[OLD]:,}, both: {counts[BOTH]:,}, "
        f"the new one: {counts[NEW]:,})"
    )


def _refused_by_phase(refused: Sequence[Delivery], phases: SecretPhases | None) -> str:
    """`` (0 signed with the old secret alone, 2 with both, 3 with the new one alone)``: the
    refused deliveries by the rotation's phase they were signed in (all the run's deliveries
    by phase, read after "were refused", said the refused ones were signed in every phase)."""
    if phases is None:
        return ""
    counts = Counter(phases.phase(d.sent_at) for d in refused)
    return (
        f" ({counts[OLD]:,} signed with the old secret alone, {counts[BOTH]:,} with both, "
        f"{counts[NEW]:,} with the new one alone)"
    )


def _cause(history: History, refused: Sequence[Delivery], skew: float) -> str:
    """The likely cause of refusals the rotation does not explain: the answer they got most,
    read as ``_refused`` reads a run's refusals, with the sender's clock skew when it had one."""
    settings = history.info.settings
    statuses = [d.status for d in refused]
    status = max(set(statuses), key=statuses.count)
    most = [d for d in refused if d.status == status]
    dated = dated_before(history, most) if status in BODY_REFUSED else None
    cause, _ = likely_cause(history.info.target, settings, status, None, dated=dated)
    if skew and settings.get("signing") in TIMESTAMPED:
        return (
            f"the sender's clock ran {_seconds(skew)} (within the {DEFAULT_TOLERANCE:g} s the "
            "providers allow): does the automation allow that much skew in the signed "
            f"timestamp? Otherwise, {cause}"
        )
    return cause


def _beyond_ascii(
    facts: Facts, genuine: Sequence[Delivery], refused: Sequence[Delivery]
) -> str | None:
    """The cause when the refused deliveries are those whose events hold text beyond ASCII
    (``"Zoë"``) and the accepted ones those whose events hold none; None otherwise. A payload's
    JSON text (``payload_json``) writes such text as ``\\u`` escapes; the values are not shown."""
    events = facts.events_by_id
    taken = {d.event_id for d in genuine if is_accepted(d)}
    if not taken:
        return None

    def beyond(event_id: str) -> bool:
        event = events.get(event_id)
        return event is not None and "\\u" in payload_json(event)

    if not all(beyond(d.event_id) for d in refused) or any(beyond(i) for i in taken):
        return None
    return (
        "every refused delivery's event holds text beyond ASCII (a name such as 'Zoë' or "
        "'Łukasz'), and no accepted one's does: the automation likely checks the signature over "
        "the payload it parsed, written back as JSON (json.dumps escapes 'ë' as \\u00eb, where "
        "the sender signed its UTF-8 bytes) — verify the signature over the raw body, byte for "
        "byte as received (docs/troubleshooting.md)"
    )


def _copies_refused(genuine: Sequence[Delivery], refused: Sequence[Delivery]) -> str | None:
    """The cause when each refused delivery repeated an event an earlier delivery had carried,
    and each such event was accepted (2xx) from one of its deliveries; None otherwise. The same
    payload was taken, so neither its shape nor its time is what the automation refused: it
    refuses a copy — a duplicate check answering 4xx, or a replay check keyed on the request (a
    set of the signatures seen: a sender's copies, or a retry, sent within one second of the
    first carry the same one)."""
    sent: dict[str, list[Delivery]] = {}
    taken: set[str] = set()
    for d in genuine:
        sent.setdefault(d.event_id, []).append(d)
        if is_accepted(d):
            taken.add(d.event_id)

    def copy(d: Delivery) -> bool:
        """Its event taken, and another of its deliveries sent before it, or at once."""
        others = sent[d.event_id]
        return d.event_id in taken and any(o is not d and o.sent_at <= d.sent_at for o in others)

    if not all(copy(d) for d in refused):
        return None
    return (
        "each refused delivery repeated an event an earlier delivery had brought, and the "
        "automation accepted that event from one of its deliveries — the same payload, so "
        "neither its shape nor its time is the cause: it refuses a copy (a duplicate check "
        "answering 4xx, or a replay check keyed on the request, such as the signatures it has "
        "seen, which a sender's copy or retry sent within one second of the first repeats byte "
        "for byte). A sender counts a 4xx as a failed delivery and redelivers it, signed anew, "
        "and then it is done again — answer a copy of an event already handled 2xx, doing "
        "nothing, and leave replays to the signed timestamp's tolerance (docs/security.md)"
    )


def _witnesses(
    facts: Facts, refused: Sequence[Delivery], phases: SecretPhases | None
) -> list[Witness]:
    """The first refused delivery of each event, in the order they were sent."""
    events = facts.events_by_id
    seen: set[str] = set()
    found: list[Witness] = []
    for d in sorted(refused, key=lambda d: d.sent_at):
        event = events.get(d.event_id)
        if event is None or d.event_id in seen:
            continue
        seen.add(d.event_id)
        found.append(_witness(d, event, phases))
        if len(found) == MAX_WITNESSES:
            break
    return found


def _witness(d: Delivery, event: Event, phases: SecretPhases | None) -> Witness:
    how = _SIGNED[phases.phase(d.sent_at)] + " " if phases is not None else ""
    why = f": {d.answer_body.strip()[:80]!r}" if d.answer_body and d.answer_body.strip() else ""
    line = (
        f"delivery {d.id} of {event_ref(event)}, {how}at {timestamp(d.sent_at)}, was refused "
        f"with {d.status}{why}"
    )
    return Witness(line, (event.id,), (d.id,))
