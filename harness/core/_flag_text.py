"""Numbers written back as command-line flags, so that a reproduce line runs the same run."""

from __future__ import annotations


def exact(number: float) -> str:
    """``number`` as a flag takes it back: every digit the float has (``:g`` kept six, so a
    reproduce line's 0.1234567 became 0.123457), no ``.0`` on a whole number."""
    return repr(number).removesuffix(".0")
