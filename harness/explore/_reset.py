"""Resetting the target between examples: an HTTP POST or a command (``reset:``)."""

from __future__ import annotations

from ..engine._hooks import Hook

RESET = Hook(
    "reset",
    why="explore resets the target between examples",
    when="before every example of explore",
    done="the target has forgotten",
)
check_reset = RESET.check
reset_target = RESET.call
