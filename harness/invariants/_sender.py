"""The run's sender as its settings name it: does it redeliver what the target refuses, and did
the run send all of its retries?

An event the target refused is redelivered, or not, by its sender (``core._providers``). The
run delivered as its provider does, with the retries its settings list (on the run's clock):
all of the provider's schedule, or the first few (a fault hazard keeps those that fit in its
span; a scenario may set fewer). What happens to an event still refused after the run's last
attempt follows (``Redelivery``): the sender gives it up (lost in production), or would try
again later (not seen by the run), or nobody knows (no provider, or a generic one; or a run
that stopped before its end, which may not have sent the retries its settings list). Whatever
the schedule, a sender stops on an answer its profile gives up on (``Provider.gives_up_on``:
Standard Webhooks on a 410, which disables the endpoint): an event refused so is lost, never
redelivered later (``gave_up``). Only the answers a provider's published habits name do so.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core._providers import PROVIDERS


class Redelivery(enum.Enum):
    """What the sender does with an event still refused after the run's last attempt."""

    UNKNOWN = "unknown"  # no provider, or a generic one that sent no retry: not known
    NEVER = "never"  # a provider that does not retry (GitHub): lost in production
    GIVEN_UP = "given up"  # the run sent the whole schedule: the sender stops there, lost
    LATER = "later"  # the run sent the first retries only: the sender tries again, unseen
    CUT = "cut"  # the run stopped before its end: the retries it would have sent, unseen


@dataclass(frozen=True, slots=True)
class Sender:
    """``provider`` and its ``title`` (None: the run named no provider), the retries of its
    published schedule, and those the run sent."""

    provider: str | None
    title: str | None
    schedule: int
    sent: int
    known: bool  # whether the provider's retries are known (not hmac, none)
    # The run's status when it did not complete (aborted, interrupted): the retries it lists
    # may not all have been sent.
    stopped: str | None = None
    gives_up_on: frozenset[int] = frozenset()  # answers after which it redelivers nothing

    def gave_up(self, status: int | None) -> bool:
        """Whether an answer of ``status`` ends this sender's redelivery of the event."""
        return status is not None and status in self.gives_up_on

    def gave_up_text(self, statuses: Iterable[int]) -> str:
        """Why events refused with ``statuses`` (ones it gives up on) are not redelivered."""
        answers = " or ".join(str(s) for s in sorted(set(statuses)))
        return (
            f"{self.name} gives up on a {answers} answer and redelivers nothing more: lost in "
            "production"
        )

    @property
    def redelivery(self) -> Redelivery:
        if self.sent == 0:
            if self.title is None or not self.known:
                return Redelivery.UNKNOWN
            return Redelivery.NEVER if self.schedule == 0 else Redelivery.LATER
        if self.known and self.sent < self.schedule:
            return Redelivery.LATER
        if self.stopped is not None:
            return Redelivery.CUT
        return Redelivery.GIVEN_UP  # a generic sender with a schedule of the scenario's own

    @property
    def never_brings_back(self) -> bool:
        """Whether an event still refused after the run's last attempt is lost to this sender:
        it does not redeliver (GitHub), or the run sent its whole schedule."""
        return self.redelivery in (Redelivery.NEVER, Redelivery.GIVEN_UP)

    @property
    def retries(self) -> bool:
        """Whether the sender redelivers what the target refuses (the run's retries, or the
        provider's published schedule when the run sent none of it)."""
        return self.sent > 0 or (self.known and self.schedule > 0)

    @property
    def name(self) -> str:
        """``Stripe``, or ``the sender`` when the run named no provider."""
        return "the sender" if self.title is None else self.title

    def unredelivered(self) -> str:
        """Why an event still refused after the run's last attempt is not redelivered in it,
        and what follows in production."""
        found = self.redelivery
        if found is Redelivery.NEVER:
            return f"{self.name} does not redeliver what the target refuses: lost in production"
        if found is Redelivery.GIVEN_UP:
            return (
                f"{self.name} gives an event up after its {self._retries(self.sent)}, which the "
                "run sent: lost in production"
            )
        if found is Redelivery.LATER:
            sent = f"the first {self.sent:,}" if self.sent else "none"
            return (
                f"{self.name} redelivers later than the run watched (the run sent {sent} of "
                f"its {self._retries(self.schedule)})"
            )
        if found is Redelivery.CUT:
            return (
                f"the run stopped before its end ({self.stopped}): whether it sent {self.name}'s "
                f"{self._retries(self.sent)} is not known"
            )
        if self.title is None:
            return (
                "the run named no provider, so it made one attempt per planned delivery: "
                "whether the sender redelivers is not known"
            )
        return f"whether a {self.title} sender redelivers is not known, and the run did not"

    @staticmethod
    def _retries(n: int) -> str:
        return f"{n:,} {'retry' if n == 1 else 'retries'}"


def sender_of(settings: Mapping[str, Any], status: str = "complete") -> Sender:
    """The run's sender, from its ``provider`` and ``retries`` settings; ``status``: the run's
    (``History.status``)."""
    name = settings.get("provider")
    profile = PROVIDERS.get(str(name)) if name else None
    retries = settings.get("retries")
    sent = len(retries) if isinstance(retries, list) else 0
    stopped = None if status == "complete" else status
    if profile is None:
        return Sender(None, None, 0, sent, known=False, stopped=stopped)
    return Sender(
        profile.name,
        profile.short_title,
        len(profile.retries),
        sent,
        profile.retries_known,
        stopped,
        profile.gives_up_on,
    )
