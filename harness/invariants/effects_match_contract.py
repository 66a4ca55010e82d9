"""effects_match_contract: every request the target makes to a downstream is one the real API
accepts, by the API's OpenAPI document (the downstream's ``contract:``).

The double checks each request as it arrives (``double._contract``) and answers an invalid one
as the API would, with a 4xx; it keeps each refusal as a ``contract-violation`` mark, which is
what this judges. Silent: in production the API refuses the call, and an automation that does
not look at the answer drops the contact, the deal or the payment without an error anyone sees.
Inconclusive when no downstream of the run has a contract, or the target made no request to
one.
"""

from __future__ import annotations

import json

from ..core._model import FailureClass, Status, Verdict
from ..double._contract import CONTRACT_MARK, CONTRACT_VIOLATION_MARK
from ._facts import Facts, Witness, plural, verdict

NAME = "effects_match_contract"
CLASS = FailureClass.SILENT


def effects_match_contract(facts: Facts) -> Verdict:
    """Fail for every effect its downstream's contract refused, naming the schema error."""
    history = facts.history
    contracts: dict[str, str] = {}
    refused: list[dict[str, object]] = []
    for mark in history.marks:
        if mark.name == CONTRACT_MARK:
            found = json.loads(mark.detail)
            contracts[str(found["downstream"])] = str(found["document"])
        elif mark.name == CONTRACT_VIOLATION_MARK:
            refused.append(json.loads(mark.detail))
    if not contracts:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "no downstream has a contract (downstreams[].contract: an OpenAPI document); "
            "nothing to judge",
        )
    checked = [e for e in facts.effects_in_order if e.downstream in contracts]
    names = ", ".join(f"{d} ({doc})" for d, doc in sorted(contracts.items()))
    if not checked:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, f"the target made no request to {names}")
    if not refused:
        return verdict(
            NAME,
            Status.PASS,
            CLASS,
            f"all {plural(len(checked), 'request')} to {names} match the contract",
        )
    by_id = {e.id: e for e in checked}
    witnesses = []
    for found in refused:
        effect = by_id.get(str(found["effect"]))
        problems = "; ".join(str(p) for p in found.get("problems") or ())  # type: ignore[attr-defined]
        line = (
            f"effect {found['effect']} {found['operation']} to {found['downstream']}: "
            f"the API would refuse it — {problems}"
        )
        events = effect.event_ids if effect is not None else ()
        if events:
            line += f" (event {events[0]})"
        witnesses.append(Witness(line, events, (), (str(found["effect"]),)))
    operations = sorted({str(f["operation"]) for f in refused})
    summary = (
        f"{len(refused):,} of {plural(len(checked), 'request')} to {names} do not match the "
        f"contract ({', '.join(operations)}): the real API would refuse them"
    )
    return verdict(NAME, Status.FAIL, CLASS, summary, witnesses)
