"""The error hierarchy. Every message says what was wrong, where, and how to fix it."""

from __future__ import annotations

from ._data_paths import data_dir

BUILTIN_SCENARIO = ".scenario.yaml"


class HarnessError(Exception):
    """Root of every error the harness raises on purpose.

    ``exit_code`` is the CLI exit code the error maps to: 2 for bad input or usage,
    3 when a run could not be completed.
    """

    exit_code = 2


DAMAGED_HINT = (
    "judge a journal only as a `harness run` wrote it; run the scenario again for a new one"
)
"""What to do about a journal whose rows hold what the harness never writes there."""


class InputError(HarnessError):
    """Bad user input: a scenario, an event file, a flag. Says where and how to fix it."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where = _shown(where)
        self.hint = hint
        text = f"{where}: {message}" if where else message
        if hint:
            text = f"{text}\n  hint: {hint}"
        super().__init__(text)


def _shown(where: str | None) -> str | None:
    """``where`` as the user knows it: a built-in scenario by its name, not by a path inside
    the installed package (a hazard applied to a project fails there on the project's secret or
    events, and a path in site-packages says nothing of which file to edit)."""
    if where is None:
        return None
    folder = data_dir("scenarios")
    for prefix in {f"{folder}/", f"{folder.resolve()}/"}:
        if where.startswith(prefix):
            name, _, rest = where[len(prefix) :].partition(BUILTIN_SCENARIO)
            return f"the built-in scenario {name}{rest}"
    return where


class ScenarioError(InputError):
    """A scenario file or object is invalid."""


class SourceError(InputError):
    """An event source (JSONL file, example payload) is invalid."""


class UnknownScenarioError(InputError):
    """A scenario name that is neither built in nor a file."""


class UnsafeTargetError(InputError):
    """A target outside loopback and the allow-list."""


class RunError(HarnessError):
    """The run could not be completed: target unreachable, port in use, aborted."""

    exit_code = 3


class OutputError(RunError):
    """A journal or report could not be written (disk full, folder removed or read-only): the
    run, or the command, could not be completed. Says what was kept and where."""

    def __init__(self, message: str, *, where: str, hint: str):
        super().__init__(f"{where}: {message}\n  hint: {hint}")


class TargetUnreachableError(RunError):
    """The target refused or never answered any connection."""


class DownstreamBindError(RunError):
    """The downstream double could not listen on the requested address."""


class RunAborted(RunError):
    """The run was interrupted (Ctrl-C); its journal is kept."""
