"""The command line: ``harness run``, ``check``, ``report``, ``demo``, ``downstream``, ``sign``."""

from ._commands import main

__all__ = ["main"]
