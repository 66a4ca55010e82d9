"""harness's pytest plugin: scenario files as test items, fixtures, options.

The plugin itself is ``harness_pytest.plugin`` (loaded by pytest through the ``pytest11``
entry point). The names here are for type annotations in tests::

    def test_payouts_once(harness_run: harness_pytest.Runner) -> None:
        result = harness_run("duplicate-storm")
        assert result.verdict("no_duplicate_effects").passed
"""

from ._double import DownstreamDouble
from ._result import HarnessResult, VerdictView
from ._routing import HttpxRouting
from ._runner import Runner

__all__ = ["DownstreamDouble", "HarnessResult", "HttpxRouting", "Runner", "VerdictView"]
