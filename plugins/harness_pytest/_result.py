"""What ``harness_run`` returns: a run's verdicts, readable in an assert message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._redaction import redacted

if TYPE_CHECKING:
    from harness import (
        DeliveryAnswers,
        Evidence,
        FailureClass,
        History,
        RunResult,
        Status,
        Verdict,
    )

_REPR_SUMMARY = 160  # pytest cuts reprs in assert messages at 240 characters (-vv shows all)


@dataclass(frozen=True, slots=True)
class VerdictView:
    """One verdict of a run. Its ``repr`` says what failed, so a bare
    ``assert result.verdict("no_duplicate_effects").passed`` explains itself."""

    verdict: Verdict
    history: History | None = None  # its run, whose values its repr redacts

    @property
    def invariant(self) -> str:
        return self.verdict.invariant

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def status(self) -> Status:
        return self.verdict.status

    @property
    def failure_class(self) -> FailureClass:
        return self.verdict.failure_class

    @property
    def summary(self) -> str:
        return self.verdict.summary

    @property
    def evidence(self) -> Evidence:
        return self.verdict.evidence

    def __repr__(self) -> str:
        v = self.verdict
        if v.passed:
            return f"<{v.invariant} holds: {v.summary}>"
        first = v.evidence.lines[0] if v.evidence.lines else ""
        # What failed, an example, then the notes on why (cut first when the repr is too long).
        head, _, why = v.summary.partition("; ")
        text = head + (f" — e.g. {first}" if first else "") + (f"; {why}" if why else "")
        text = redacted(text, [self.history] if self.history is not None else [])
        if len(text) > _REPR_SUMMARY:
            text = text[: _REPR_SUMMARY - 1] + "…"
        return f"<{v.invariant} {v.status.value.upper()} [{v.failure_class.value}]: {text}>"


@dataclass(frozen=True, slots=True)
class HarnessResult:
    """One scenario run, judged: its history and a verdict per invariant."""

    result: RunResult

    @property
    def history(self) -> History:
        return self.result.history

    @property
    def verdicts(self) -> tuple[VerdictView, ...]:
        return tuple(VerdictView(v, self.history) for v in self.result.verdicts)

    @property
    def passed(self) -> bool:
        """Every invariant holds."""
        return self.result.passed

    @property
    def failures(self) -> tuple[VerdictView, ...]:
        """Every verdict that did not hold: the failed first, then the inconclusive (``failed``,
        ``inconclusive`` tell them apart) — pytest shows an assertion's message cut short, and
        a failure listed after an inconclusive was cut off."""
        return (*self.failed, *self.inconclusive)

    @property
    def failed(self) -> tuple[VerdictView, ...]:
        """The verdicts that failed: the run showed the invariant broken."""
        return tuple(v for v in self.verdicts if v.status.value == "fail")

    @property
    def inconclusive(self) -> tuple[VerdictView, ...]:
        """The verdicts that could not be judged (nothing to judge): not a pass either."""
        return tuple(v for v in self.verdicts if v.status.value == "inconclusive")

    @property
    def answers(self) -> DeliveryAnswers:
        """The run's deliveries by answer: accepted, rejected, failed, unanswered; and the
        most common answer (redacted) when the target accepted none."""
        from harness import delivery_answers

        return delivery_answers(self.history)

    @property
    def seed(self) -> int:
        return self.history.info.seed

    @property
    def reproduce(self) -> str:
        """The command that runs the same scenario, target and seed again."""
        return str(self.history.info.settings.get("reproduce") or "")

    def verdict(self, invariant: str) -> VerdictView:
        """The verdict of ``invariant``. Raises KeyError naming the invariants the run judged."""
        __tracebackhide__ = True
        for v in self.result.verdicts:
            if v.invariant == invariant:
                return VerdictView(v, self.history)
        judged = ", ".join(v.invariant for v in self.result.verdicts)
        raise KeyError(
            f"the run of {self.history.info.scenario!r} judged no invariant {invariant!r} — "
            f"it judged: {judged}"
        )

    def __repr__(self) -> str:
        info = self.history.info
        held = sum(v.passed for v in self.result.verdicts)
        tail = "".join(
            f"; {word} " + ", ".join(v.invariant for v in mine)
            for word, mine in (("fails", self.failed), ("inconclusive", self.inconclusive))
            if mine
        )
        return (
            f"<harness run {info.scenario} seed {info.seed}: "
            f"{held}/{len(self.result.verdicts)} hold{tail}>"
        )
