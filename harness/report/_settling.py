"""How a run ended, in words: how long it waited for the target, and what came after.

"Lost" and "late" look alike from inside a run: an accepted event without an effect. These
sentences tell them apart for the reader: how settling ended (quiet, still waiting for events,
or cut by the deadline with the target still working), and the effects that arrived after the
run's final state was taken — kept with the run, never judged (docs/troubleshooting.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..history import History
from ..invariants._facts import effects_text, id_list, plural
from ..invariants._unfinished import settled

_GUIDE = "docs/troubleshooting.md, “Lost or late?”"


def settle_sentence(history: History, duration: Callable[[float], str]) -> str:
    """``Then the run waited ...``; ``duration`` formats seconds. "" when nothing is known."""
    settle = history.info.settings.get("settle")
    if not (isinstance(settle, Mapping) and "quiet" in settle):
        return ""
    quiet, deadline = float(settle["quiet"]), float(settle.get("deadline", 0))
    text = (
        f"Then the run waited for the target to finish, in real time: until {duration(quiet)} "
        f"passed without a call from it and no accepted event was waiting for its effect "
        f"(at most {duration(deadline)})"
    )
    ended = settled(history)
    if ended is None:
        return text + "."
    waited, pending = duration(float(ended.get("waited", 0))), int(ended.get("pending", 0))
    events = plural(pending, "accepted event")
    how = ended.get("ended")
    if how == "quiet":
        return f"{text}; it settled after {waited}."
    if how == "pending":
        return (
            f"{text}; it ended after {waited}, quiet for {duration(float(ended['idle']))} with "
            f"{events} still without an effect."
        )
    idle = float(ended.get("idle", 0))
    text += f"; it stopped at the deadline, after {waited}"
    if idle < quiet:
        text += f", the target still working (its last call {duration(idle)} before)"
    if not pending:
        return text + "."
    return (
        f"{text}, with {events} still without an effect: they may be late rather than lost; "
        f"raise --settle-deadline to tell ({_GUIDE})."
    )


def late_sentence(history: History) -> str:
    """The effects that arrived after settling, or ""."""
    late = history.late_effects
    if not late:
        return ""
    events = list(dict.fromkeys(i for e in late for i in e.event_ids))
    about = f", for {plural(len(events), 'event')} ({id_list(events)})" if events else ""
    return (
        f"{plural(len(late), 'effect')} arrived after settling, once the run's final state was "
        f"taken{about}: {effects_text(late)}. They are kept in the journal, not judged as "
        f"effects, and the events they name are not called lost; to judge them, raise "
        f"--settle-quiet or --settle-deadline for this target ({_GUIDE})."
    )
