"""The handoff appendix's "what to check if something unexpected happens".

Derived from what these runs showed: each item is there because a failure, a rejection or
a gap was seen, and says where (docs/troubleshooting.md and docs/invariants.md hold the
same advice at length).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core._model import UNAVAILABLE
from ._views import AdviceView, ScenarioView

ADVICE: dict[str, tuple[str, str]] = {
    "lost": (
        "Events acknowledged, then lost",
        "The automation answered 2xx and never acted: typically an in-memory queue, a "
        "swallowed exception or a worker that crashed. Persist each event before "
        "acknowledging it and retry failed downstream calls. If the effects do arrive, only "
        "late, the automation was still working when the run settled (each run says how it "
        "settled and lists the effects that arrived after): raise --settle-quiet or "
        "--settle-deadline (settle: in the scenario). A backlog that outlasts minutes is a "
        "finding in itself.",
    ),
    "duplicate": (
        "A repeated delivery repeated its effect",
        "Senders deliver the same event again: retries, replays, concurrent twins. "
        "Deduplicate on the event id with a unique key in durable storage that every "
        "worker process and replica shares (an in-memory set is one per process), before "
        "acting, and send an Idempotency-Key downstream so retries of your own calls are harmless "
        "too — where the API honours one (Stripe does; Slack and mail APIs ignore it: there, "
        "record each call done under the event id before making it).",
    ),
    "order": (
        "Effects applied out of order, or a record overwritten with an older state",
        "Process each record's events one at a time; compare a version, sequence or "
        "updated_at and skip updates older than what was applied. For ledgers, hold a later "
        "event until the earlier one arrives (or a timeout passes).",
    ),
    "slow": (
        "Slow acknowledgements",
        "The automation does its work before answering the webhook. Senders time out "
        "(GitHub 10 s, Shopify 5 s, Slack 3 s) and then retry: duplicates follow. Answer "
        "first, work after.",
    ),
    "outage": (
        "Work accepted during a downstream outage never happened",
        "The automation acknowledged events while its API was failing and did not carry them "
        "out once the API was back: its one attempt failed and nothing retried it. Store the "
        "event before acknowledging, and retry downstream calls with backoff (honouring "
        "Retry-After) until the API answers, with an Idempotency-Key so a retry that follows "
        "an ambiguous answer is harmless. Refusing the event instead (a 5xx while the API "
        "is down) works only with a sender that retries: one that does not (GitHub), or gives "
        "up after its schedule, loses it — the verdict names those events.",
    ),
    "unavailable": (
        "The target stopped answering",
        "Deliveries could not connect, were reset or got no answer at all: the process died, "
        "was restarted or hung (an OOM kill, an unhandled exception in a worker, a crash in a "
        "native library, a deadlock). The verdict says when it stopped and which events were "
        "never accepted because of it; the automation's logs (or its supervisor's, dmesg for "
        "an OOM kill) at that time say why. Run it under a supervisor that restarts it, and "
        "check that events sent while it was down are delivered again: a sender retries only "
        "for so long.",
    ),
    "server_errors": (
        "The automation answered its sender with server errors",
        "A 5xx tells the sender the delivery failed, so it retries (Stripe for 3 days) or gives "
        "up. An automation that calls its API inline passes the API's outage on to its sender: "
        "acknowledge first and do the downstream work from a queue.",
    ),
    "backoff": (
        "The automation hammered an API that was refusing it",
        "It made a refused call again before the Retry-After its 429 asked, or many times a "
        "second while the API was down: in production the API throttles it harder or bans "
        "the key, starves the other integrations on the same quota and stays down longer. "
        "Honour Retry-After; otherwise back off exponentially with jitter and a cap, from a "
        "queue rather than inside the webhook's request.",
    ),
    "state": (
        "The final state differs from a clean run's",
        "After the same events with duplicates, reordering or faults, a record ended in "
        "another state than when each event came once, in order: a lost update, a stale "
        "overwrite or a record created twice. Serialise the work per record, compare a "
        "version or sequence before writing, and deduplicate creations on the event id.",
    ),
    "drift": (
        "A changed payload was processed without complaint",
        "A field was renamed, dropped, nulled or changed type, and the automation wrote its "
        "effect with the value missing or altered. Validate each event against the fields "
        "you use and reject (4xx) or alert on what does not fit; parse large integer ids as "
        "strings or big integers, never through a double.",
    ),
    "amounts": (
        "Amounts changed on the way",
        'A decimal amount ("64.32") reached the API changed: converted to minor units through '
        "a float, int(float(x) * 100) is a cent short on about one amount in ten. Parse amounts "
        "as decimals (Python's Decimal, a decimal library in JavaScript) and convert with "
        "Decimal(x).scaleb(2), or ask the sender for minor units.",
    ),
    "forged": (
        "Tampered deliveries accepted",
        "A forged, unsigned, stale or replayed delivery got a 2xx or caused an effect. Verify "
        "the signature over the raw body before anything else, refuse a request without one, "
        "refuse a timestamp more than 5 minutes old, and dedup by the event id (docs/security.md).",
    ),
    "genuine_refused": (
        "Genuine deliveries refused",
        "Deliveries signed with a secret the automation was given were refused: after a "
        "signing-secret rotation (give the automation the next secret beside the first and "
        "accept a delivery either verifies; read every signature of a header that carries two) "
        "or under a sender's clock skew within the providers' 5 minutes (docs/security.md).",
    ),
    "other": (
        "Another check failed",
        "The evidence names the events, deliveries and effects involved; look them up in "
        "the journal (harness check) and the automation's logs at those times.",
    ),
    "inconclusive": (
        "A check could not be judged",
        "There was nothing to judge: no event accepted, or no effect could be attributed. "
        "The verdict's summary says which; fix that first, then rerun. For effects that "
        "cannot be attributed, the summary names their routes and the correlate: rule to "
        "write (docs/correlation.md).",
    ),
    "unattributed": (
        "Effects that could not be attributed to an event",
        "Effects are attributed by the tracer values the harness puts in ids, emails and free "
        "text, and by the scenario's correlate: rules. An effect that carries only values the "
        "automation derived (a session id, a computed balance) needs a rule: add to the "
        "scenario `correlate: [{route: POST /deals, effect: $.checkout_session, event: "
        "$.data.object.id}]`, mapping a field of the effect (body, path parameter, header or "
        "query) to the event field it comes from. docs/correlation.md shows how, also for "
        "values the automation computes.",
    ),
    "record_only": (
        "Effects that named only their record",
        "These requests carry the record's key (a contact id in the path) and nothing of the "
        "event: they are not unattributed, and the verdicts judge them per record — lost writes, "
        "more writes per record than the clean run made. Per-record order and recovery need "
        "the event, and say so. To judge them per event, tie them to their events: the event "
        "id in an Idempotency-Key, or a correlate: rule on a value each event has of its own "
        "(docs/correlation.md).",
    ),
    "rejected": (
        "Deliveries rejected (4xx)",
        "Usually the signature: the automation verifies with another secret than the one "
        "the harness signs with (the scenario's delivery.secret_env, HARNESS_SECRET by "
        "default), or expects another scheme (delivery.signing). A 400 or 422 means the "
        "payloads do not match what the automation parses: use a real payload of yours as "
        "source.example.",
    ),
    "failed": (
        "Deliveries failed (5xx or no connection)",
        "The automation errored or refused connections under this load; its logs at the "
        "times on the timeline say why. A sender retries these: check they are not "
        "processed twice afterwards.",
    ),
    "timeouts": (
        "Deliveries timed out",
        "A timed-out delivery may or may not have been processed; the sender cannot know and "
        "retries it. Acknowledge faster, and make processing idempotent.",
    ),
    "stopped": (
        "The target stopped answering, and the run stopped",
        "For 30 s it answered no delivery and called no downstream: the run stopped sending "
        "and the scenarios after it were not run. Check that the automation is alive and "
        "answers, then its log (a deadlock, a connection pool never given back, a log pipe "
        "nobody reads); rerun the reproduce line once it answers.",
    ),
    "aborted": (
        "A run was interrupted",
        "Its journal keeps everything recorded up to the interruption: harness check "
        "<journal> judges it. Rerun the reproduce line for a complete run.",
    ),
    "races": (
        "A rerun gives a different result",
        "The same seed gives the same schedule; the automation's timing is not the same. "
        "Races (simultaneous events, concurrent duplicates) are nondeterministic by nature: "
        "a run that failed once has shown the race exists. After a fix, rerun the "
        "reproduce line a few times before trusting a pass.",
    ),
    "contract": (
        "Requests the real API would refuse",
        "The automation sent a downstream a request its OpenAPI document does not allow: a "
        "required field missing, a wrong type or format, a path or method the API does not "
        "have. In production the API answers 4xx and the write is lost unless the automation "
        "checks the answer. Map every required field (the evidence names it), and treat a 4xx "
        "from a downstream as a failure to alert on, not a success.",
    ),
    "clean": (
        "Nothing failed here; if production shows something these runs did not",
        "Record the events production received (one JSON object a line) and replay them with "
        "a copy of a scenario whose source is that file: the verdicts name the events "
        "involved. Rerun the suite after every change to the automation.",
    ),
}
_BY_INVARIANT = {
    "no_lost_events": "lost",
    "no_duplicate_effects": "duplicate",
    "per_key_order": "order",
    "ack_within": "slow",
    "recovers_after_outage": "outage",
    "no_server_errors": "server_errors",
    "backs_off": "backoff",
    "final_state_matches_baseline": "state",
    "drift_is_loud": "drift",
    "big_numbers_intact": "drift",
    "amounts_intact": "amounts",
    "rejects_forged": "forged",
    "accepts_genuine": "genuine_refused",
    "effects_match_contract": "contract",
    "target_available": "unavailable",
}


def advice(scenarios: Sequence[ScenarioView]) -> tuple[AdviceView, ...]:
    """One item per kind of trouble seen, in the order of ADVICE, naming where it was seen."""
    seen: dict[str, list[str]] = {}
    for s in scenarios:
        where = f"{s.target_name} · {s.scenario}"
        for key in _keys(s):
            seen.setdefault(key, [])
            # Effects naming no event: their routes.
            here = _routes_where(s, key, where)
            if here not in seen[key]:
                seen[key].append(here)
    failures = (*_BY_INVARIANT.values(), "other")
    if any(key in seen for key in failures):
        seen["races"] = list(dict.fromkeys(w for k in failures for w in seen.get(k, ())))
    else:
        seen["clean"] = []
    return tuple(
        AdviceView(key, title, text, tuple(seen[key]))
        for key, (title, text) in ADVICE.items()
        if key in seen
    )


def _routes_where(s: ScenarioView, key: str, where: str) -> str:
    """``where`` with the routes of the effects naming no event, for their two items."""
    routes = {
        "unattributed": s.counts.unattributed_routes,
        "record_only": s.counts.record_only_routes,
    }.get(key)
    return f"{where} ({', '.join(routes)})" if routes else where


def _keys(s: ScenarioView) -> list[str]:
    keys = []
    for v in s.verdicts:
        if v.status == "fail":
            keys.append(_BY_INVARIANT.get(v.invariant, "other"))
        elif v.status == "inconclusive":
            keys.append("inconclusive")
    by_outcome = dict(s.counts.by_outcome)
    for outcome, key in (("rejected", "rejected"), ("failed", "failed")):
        if by_outcome.get(outcome):
            keys.append(key)
    if by_outcome.get("indeterminate"):
        keys.append("timeouts")
    if s.counts.unattributed:
        keys.append("unattributed")
    if s.counts.record_only:
        keys.append("record_only")
    if s.status == UNAVAILABLE:
        keys.append("stopped")
    elif s.status != "complete":
        keys.append("aborted")
    return keys
