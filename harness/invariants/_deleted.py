"""Records the clean run deleted: its last committed write of the record a ``DELETE``.

A record this run holds and its clean run does not was set aside as one the clean run "wrote
nothing for" (lost or refused there, or not owed here). Where the clean run did write it, and
its last write removed it, the clean run shows the end the events call for — the record gone
(a subscription cancelled, a contact erased) — and this run, holding it, ends otherwise: a
write that came after its ``DELETE`` brought it back (an update delivered after the deletion,
upserted by a ``PUT``). ``final_state_matches_baseline`` judges those records, saying so; and
counts as compared the records both runs deleted (a pass where every record ended deleted said
"0 records compared").
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from ..core._model import Effect
from ..history import History
from ._facts import is_write


def deleted_there(
    baseline: History,
    keys: Collection[str],
    normal_here: Callable[[str], str],
    normal_there: Callable[[str], str],
) -> dict[str, Effect]:
    """Of ``keys`` (records as this run names them), those whose last committed write in
    ``baseline`` (by the record's key) was a ``DELETE``: each with that write."""
    if not keys:
        return {}
    wanted = {normal_here(key): key for key in keys}
    last: dict[str, Effect] = {}
    for w in sorted(baseline.effects, key=lambda e: e.at):
        if w.key and w.committed and is_write(w):
            key = wanted.get(normal_there(w.key))
            if key is not None:
                last[key] = w
    return {key: w for key, w in last.items() if w.method.upper() == "DELETE"}


def deleted_here(writes: Iterable[Effect]) -> set[str]:
    """The records whose last committed write among ``writes`` (in time order) was a
    ``DELETE``."""
    last: dict[str, str] = {}
    for w in writes:
        if w.key and w.committed and is_write(w):
            last[w.key] = w.method.upper()
    return {key for key, method in last.items() if method == "DELETE"}


def deleted_text(delete: Effect, here: Sequence[Effect]) -> str:
    """``deleted in the clean run by DELETE /subscriptions/sub_1 (eff_9), its last write of
    the record; here PUT … (eff_14) came after this run's DELETE … (eff_11)``: ``here`` is
    this run's writes of the record, in time order."""
    there = (
        f"deleted in the clean run by {delete.method.upper()} {delete.path} ({delete.id}), its "
        "last write of the record"
    )
    done = [w for w in here if w.committed and is_write(w)]
    removed = [i for i, w in enumerate(done) if w.method.upper() == "DELETE"]
    if not removed:
        return f"{there}; never deleted here"
    after = done[removed[-1] + 1 :]
    if not after:  # held all the same: not this run's writes of it that made it so
        return there
    gone, back = done[removed[-1]], after[0]
    return (
        f"{there}; here {back.method.upper()} {back.path} ({back.id}) came after this run's "
        f"{gone.method.upper()} {gone.path} ({gone.id}) and brought it back"
    )
