"""The suite's own order (tests/conftest.py): the longest tests first, by their measured wall
where tests/durations.json has it, by their marks where it has not."""

from __future__ import annotations

import pytest

from . import conftest

pytest_plugins = ["pytester"]

# The inner session's settings: its marks known, pytest-asyncio's loop scope set (else a warning).
INI = """[pytest]
asyncio_default_fixture_loop_scope = function
markers =
    integration
    long
"""

MODULE = """
import pytest

def test_quick(): pass

@pytest.mark.integration
def test_processes(): pass

@pytest.mark.long
def test_long(): pass

def test_measured_quick_but_not(): pass

@pytest.mark.integration
def test_measured_shorter(): pass
"""


def test_measured_tests_start_by_their_wall_and_the_others_by_their_marks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test of neither mark measured at 30 s (a Hypothesis search, say) starts before a
    ``long`` one not yet measured, and one of real processes measured at 0.5 s after those
    not measured; unmeasured and unmarked last, each kind in collection order."""
    pytester.makeini(INI)
    items = pytester.getitems(MODULE)
    module = items[0].nodeid.partition("::")[0]
    measured = {f"{module}::test_measured_quick_but_not": 30.0}
    measured[f"{module}::test_measured_shorter"] = 0.5
    monkeypatch.setattr(conftest, "DURATIONS", measured, raising=False)
    conftest.pytest_collection_modifyitems(items)
    assert [item.name for item in items] == [
        "test_measured_quick_but_not",
        "test_long",
        "test_processes",
        "test_measured_shorter",
        "test_quick",
    ]
