"""The engine: a run's orchestration on top of the stages.

``prepare`` (a scenario made ready to deliver), the Recorder (doubles, journal, settle,
final state, judge), the baseline run, ``run_scenarios``, which drives them in order, and
``run_side_by_side``, which shares them out among several instances of one automation, and
``together``, which runs several of those at once and stops them all when one fails.
"""

from ._baseline import with_baseline, without_baseline
from ._execute import Turns, run_scenarios, run_side_by_side, together
from ._late import EarlierRuns
from ._options import RunOptions, check_time_scale, settle_for
from ._prepare import PreparedRun, check_unread, prepare, signer_for
from ._recorder import Recorder, RunResult

__all__ = [
    "EarlierRuns",
    "PreparedRun",
    "Recorder",
    "RunOptions",
    "RunResult",
    "Turns",
    "check_time_scale",
    "check_unread",
    "prepare",
    "run_scenarios",
    "run_side_by_side",
    "settle_for",
    "signer_for",
    "together",
    "with_baseline",
    "without_baseline",
]
