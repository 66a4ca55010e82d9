"""Tampering: the signature headers of a delivery-side fault (forged, unsigned, stale, replayed).

An attacker, not the provider, sends these: they are never retried. What a receiver must do
with each is judged by ``rejects_forged``; which deliveries were tampered is kept in the
run's settings (``tampered``: delivery id -> mode), so judging needs nothing but the History.
"""

from __future__ import annotations

from ..core._signing import Signer
from ._schedule import Schedule, Slot, delivery_id


def signed_headers(
    signer: Signer,
    slot: Slot,
    body: bytes,
    msg_id: str,
    now: int,
    *,
    event_type: str,
    url: str,
    at: float = 0.0,
) -> dict[str, str]:
    """The signature headers of ``slot``'s delivery at Unix time ``now``, ``at`` run seconds
    into the run (which secrets sign it, during a rotation): genuine, or tampered as the slot
    says (``tampered_headers``)."""
    if slot.tamper:
        return tampered_headers(
            signer, slot, body, msg_id, now, event_type=event_type, url=url, at=at
        )
    return signer.headers(body, msg_id, now, event_type=event_type, url=url, at=at)


def tampered_headers(
    signer: Signer,
    slot: Slot,
    body: bytes,
    msg_id: str,
    now: int,
    *,
    event_type: str,
    url: str,
    at: float = 0.0,
) -> dict[str, str]:
    """The signature headers of tampered ``slot``, signed at Unix time ``now``.

    forged: signed with a wrong secret · unsigned: none at all · stale and replayed: a valid
    signature over a timestamp ``slot.age`` seconds old (replayed is a copy of a genuine
    delivery, as if captured that long ago and sent again).
    """
    if slot.tamper == "unsigned":
        return {}
    if slot.tamper == "forged":
        return signer.forger().headers(body, msg_id, now, event_type=event_type, url=url)
    return signer.headers(body, msg_id, now - int(slot.age), event_type=event_type, url=url, at=at)


def tampered_ids(schedule: Schedule) -> dict[str, str]:
    """Delivery id -> tamper mode for the tampered slots of a schedule (``dlv_<n+1>``)."""
    return {delivery_id(n): mode for n, mode in schedule.tampered()}
