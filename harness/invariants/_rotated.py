"""Events lost because the automation checks its signature after it answers, with the old
secret alone: accepted (2xx) when signed with the new secret alone, then dropped unworked.

A receiver that queues the raw request and verifies it in a worker answers 2xx to every
delivery; after a secret rotation it drops, in silence, each event signed with the new secret
only (tests/gallery/verify_later.py under its rotation scenario). Its losses are exactly those
events, while the events signed with the old secret (alone or beside the new one) made their
effects: ``no_lost_events`` says so, rather than "it stopped working then — a worker that died".
"""

from __future__ import annotations

from collections.abc import Collection

from ..history import History, delivery_rows
from ._refused import NEW, SecretPhases, is_2xx


def rotation_loss(history: History, lost: Collection[str]) -> str:
    """``; each of these was accepted only when signed with the new secret …`` where every one
    of ``lost`` was accepted only in deliveries signed with the rotation's new secret alone,
    every event so accepted is among them, and some event accepted under the old secret is
    not; "" otherwise."""
    phases = SecretPhases.of(history.info.settings)
    if phases is None or not lost:
        return ""
    tampered = history.info.settings.get("tampered") or {}
    accepted_in: dict[str, set[str]] = {}  # event id -> the phases it was accepted in
    for dlv, eid, sent, status in delivery_rows(
        history.deliveries, "id", "event_id", "sent_at", "status"
    ):
        if dlv not in tampered and is_2xx(status):
            accepted_in.setdefault(eid, set()).add(phases.phase(sent))
    wanted = set(lost)
    new_only = {eid for eid, seen in accepted_in.items() if seen == {NEW}}
    if new_only != wanted or len(accepted_in) == len(new_only):
        return ""
    return (
        f"; each of these was accepted only in deliveries signed with the new secret (in "
        f"${phases.next_env}) alone, from the rotation at {phases.end:.2f} s on, and every "
        "event so accepted is among them, while those signed with the old secret made their "
        "effects: the automation answers 2xx and then drops what its signature check fails — "
        f"it checks after answering (a queued request verified in a worker), with the old "
        f"secret only. Give it ${phases.next_env} beside the old one, and verify before "
        "answering, refusing with a 4xx what fails (docs/security.md)"
    )
