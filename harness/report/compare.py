"""Comparison across runs: what a fix made pass, what a regression made fail.

Runs are paired by target label and scenario; a scenario run once on each side is paired by
its name alone, since an unnamed target's label (host:port) may change between runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..core._model import Status, Verdict
from . import _describe
from ._content import RunInput
from ._views import Change, Comparison

# Most interesting first: what got worse, what got better, what is still wrong.
ORDER = ("regressed", "fixed", "still failing", "new", "removed", "unchanged")


def compare(before: Sequence[RunInput], after: Sequence[RunInput]) -> Comparison:
    changes: list[Change] = []
    for old, new in _pairs(before, after):
        changes.extend(_changes(old, new))
    changes.sort(key=lambda c: ORDER.index(c.kind))
    return Comparison(
        before=_journals(before),
        after=_journals(after),
        before_ready=_ready(before),
        after_ready=_ready(after),
        headline=_headline(changes),
        changes=tuple(changes),
    )


def _pairs(
    before: Sequence[RunInput], after: Sequence[RunInput]
) -> list[tuple[RunInput | None, RunInput | None]]:
    def key(r: RunInput) -> tuple[str, str]:
        return (r.history.info.target_name, r.history.info.scenario)

    olds = {key(r): r for r in before}
    pairs: list[tuple[RunInput | None, RunInput | None]] = []
    lone_new: list[RunInput] = []
    for r in after:
        match = olds.pop(key(r), None)
        if match is None:
            lone_new.append(r)
        else:
            pairs.append((match, r))
    by_name = Counter(k[1] for k in olds)
    new_names = Counter(r.history.info.scenario for r in lone_new)
    for r in lone_new:
        name = r.history.info.scenario
        old_key = next((k for k in olds if k[1] == name), None)
        if old_key is not None and by_name[name] == 1 and new_names[name] == 1:
            pairs.append((olds.pop(old_key), r))
        else:
            pairs.append((None, r))
    pairs.extend((r, None) for r in olds.values())
    return pairs


def _changes(old: RunInput | None, new: RunInput | None) -> list[Change]:
    run = new or old
    assert run is not None  # a pair always has one side
    info = run.history.info
    before = {v.invariant: v for v in old.verdicts} if old else {}
    after = {v.invariant: v for v in new.verdicts} if new else {}
    out = []
    for name in dict.fromkeys([*after, *before]):
        b, a = before.get(name), after.get(name)
        shown = a or b
        assert shown is not None
        out.append(
            Change(
                target_name=info.target_name,
                scenario=info.scenario,
                invariant=name,
                title=_describe.title(name),
                kind=_kind(b, a),
                before=b.status.value if b else None,
                after=a.status.value if a else None,
                summary=shown.summary,
            )
        )
    return out


def _kind(before: Verdict | None, after: Verdict | None) -> str:
    if before is None:
        return "new"
    if after is None:
        return "removed"
    was, now = before.status is Status.PASS, after.status is Status.PASS
    if was and now:
        return "unchanged"
    if now:
        return "fixed"
    return "regressed" if was else "still failing"


def _headline(changes: Sequence[Change]) -> str:
    counts = Counter(c.kind for c in changes)
    parts = [f"{counts[k]} {k}" for k in ORDER if k != "unchanged" and counts[k]]
    if not parts:
        return f"nothing changed: all {len(changes)} checks held before and after"
    return ", ".join(parts)


def _journals(runs: Sequence[RunInput]) -> str:
    names = dict.fromkeys(str(r.journal) for r in runs if r.journal)
    return ", ".join(names) or "(runs in memory)"


def _ready(runs: Sequence[RunInput]) -> bool:
    return bool(runs) and all(
        r.history.status == "complete" and all(v.passed for v in r.verdicts) for r in runs
    )
