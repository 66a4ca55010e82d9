from collections import Counter

import pytest

from harness.core._errors import ScenarioError
from harness.core._model import Event
from harness.core._scenario import Perturbation as P
from harness.drive._perturb import plan


def stream(n: int = 20, keys: int = 4, over: float = 10.0) -> list[Event]:
    return [Event(f"e{i}", f"k{i % keys}", i, "t", i * over / n, {}) for i in range(n)]


def test_no_perturbation_is_the_natural_order() -> None:
    s = plan(stream(), [], 1)
    assert [x.event for x in s] == list(range(20))
    assert s[-1].at == pytest.approx(9.5)


def test_same_seed_same_schedule() -> None:
    ps = [P("duplicate", {"rate": 0.5, "copies": 3, "spread": 1.0}), P("reorder", {"window": 4})]
    assert plan(stream(), ps, 7) == plan(stream(), ps, 7)
    assert plan(stream(), ps, 7) != plan(stream(), ps, 8)


def test_duplicate_concurrent_copies_share_the_instant() -> None:
    s = plan(stream(), [P("duplicate", {"rate": 1.0, "copies": 3})], 1)
    counts = Counter(x.event for x in s)
    assert set(counts.values()) == {3}
    by_event: dict[int, set[float]] = {}
    for x in s:
        by_event.setdefault(x.event, set()).add(x.at)
    assert all(len(ts) == 1 for ts in by_event.values())


def test_duplicate_rate_zero_changes_nothing() -> None:
    assert plan(stream(), [P("duplicate", {"rate": 0.0})], 1) == plan(stream(), [], 1)


def test_burst_squeezes_into_window_keeping_order() -> None:
    s = plan(stream(200, over=100.0), [P("burst", {"within": 3.0})], 1)
    assert [x.event for x in s] == list(range(200))
    assert s[0].at == 0 and s[-1].at == pytest.approx(3.0)


def test_burst_of_first_n_shifts_the_rest() -> None:
    s = plan(stream(10, over=10.0), [P("burst", {"within": 0.0, "count": 5})], 1)
    assert [x.at for x in s[:5]] == [0.0] * 5
    assert s[5].at == pytest.approx(1.0)


def test_simultaneous_puts_a_records_events_at_one_instant() -> None:
    s = plan(stream(20, keys=4), [P("simultaneous", {"records": 2, "events": 3})], 3)
    marked = [x for x in s if x.why == "simultaneous"]
    assert len(marked) == 6
    instants = Counter(x.at for x in marked)
    assert sorted(instants.values()) == [3, 3]
    assert len(s) == 20


def test_reorder_permutes_within_windows() -> None:
    s = plan(stream(12), [P("reorder", {"window": 4, "rate": 1.0})], 5)
    order = [x.event for x in s]
    assert order != list(range(12))
    for w in range(3):
        assert sorted(order[w * 4 : w * 4 + 4]) == list(range(w * 4, w * 4 + 4))


def test_replay_sends_the_stream_again_after_a_gap() -> None:
    s = plan(stream(5, over=5.0), [P("replay", {"times": 2, "gap": 1.0})], 1)
    assert len(s) == 15
    assert Counter(x.event for x in s) == {i: 3 for i in range(5)}
    assert s[5].at == pytest.approx(5.0)  # end 4 s + gap 1 s


def test_unknown_kind() -> None:
    with pytest.raises(ScenarioError, match="unknown perturbation 'shuffle'"):
        plan(stream(), [P("shuffle")], 1)


@pytest.mark.parametrize("params", [{}, {"mode": "spoofed", "rate": 0.5}])
def test_a_tamper_built_in_python_without_a_known_mode_is_refused(
    params: dict[str, object],
) -> None:
    # An unknown mode would otherwise be signed as a stale one, with no error.
    with pytest.raises(ScenarioError) as info:
        plan(stream(3), [P("tamper", params)], 1)
    text = str(info.value)
    assert "perturbation 'tamper' needs a mode, one of forged, unsigned, stale, replayed" in text
    assert repr(params) in text and "Perturbation('tamper', {'mode': 'forged'" in text
