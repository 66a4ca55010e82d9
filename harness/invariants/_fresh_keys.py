"""Repeats that each carried an Idempotency-Key of their own: a key made per call.

An automation that sends ``Idempotency-Key: <uuid4()>`` made where the call is — inside its
retry loop, or by an HTTP helper that adds a key to every POST — gives each retry (and each
redelivery's call) a key the API has never seen: a new request, and the API makes its effect
again. The journal
shows it: an event's duplicate writes of one request each carry a key, none of them an earlier
write's. ``no_duplicate_effects`` says so, where it would otherwise read as a retry sent with no
key at all: the cure is the key's making (once per event, from its id), not adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..core._model import Effect
from ._facts import plural
from ._idempotent import IDEMPOTENCY_KEY


def fresh_keyed(
    event_ids: Sequence[str], writes_of: Callable[[str], Sequence[Effect]]
) -> list[str]:
    """Of ``event_ids`` (events with a duplicate effect), those whose repeated request's
    writes each carried an Idempotency-Key, every one different: made per call."""
    found = []
    for eid in event_ids:
        by_request: dict[tuple[str, str, str], list[str | None]] = {}
        for w in writes_of(eid):
            request = (w.downstream, w.method.upper(), w.path)
            by_request.setdefault(request, []).append(w.header(IDEMPOTENCY_KEY))
        repeated = [keys for keys in by_request.values() if len(keys) > 1]
        if repeated and all(None not in keys and len(set(keys)) == len(keys) for keys in repeated):
            found.append(eid)
    return found


def fresh_key_text(fresh: Sequence[str], harmful: int) -> str:
    """``; each repeat of these carried an Idempotency-Key of its own …``; "" for none."""
    if not fresh:
        return ""
    which = "these" if len(fresh) == harmful else f"{plural(len(fresh), 'event')} of these"
    return (
        f"; every write of {which} carried an Idempotency-Key, no two the same: a key made "
        "per call (a uuid4() where the call is made, in a retry loop or an HTTP helper), not "
        "per event, so the API takes each repeat — a retry, a redelivery's call — for a new "
        "request and makes it again; make the key once per event, from its id"
    )
