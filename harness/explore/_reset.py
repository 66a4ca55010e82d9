"""Resetting the target between examples: an HTTP POST or a command (``reset:``)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import httpx

from ..core._errors import RunError
from ..core._scenario import ResetSpec
from ..drive._target import checked_url, require_allowed

RESET_TIMEOUT = 60.0  # seconds a reset may take, HTTP or command


def check_reset(spec: ResetSpec, allow_hosts: Sequence[str], where: str) -> None:
    """Refuse a reset URL outside loopback and the allowed hosts before anything runs."""
    if spec.post is not None:
        host = checked_url(spec.post, where, "reset URL")
        require_allowed(
            host,
            allow_hosts,
            what="reset URL",
            why="explore resets the target between examples",
            where=where,
        )


def reset_target(spec: ResetSpec) -> None:
    """Make the target forget earlier examples. Raises RunError when the reset fails."""
    if spec.post is not None:
        try:
            answer = httpx.post(spec.post, timeout=RESET_TIMEOUT)
        except httpx.HTTPError as exc:
            raise RunError(
                f"reset: POST {spec.post} failed: {type(exc).__name__}\n"
                "  hint: is the target's reset endpoint up? explore resets before every example"
            ) from None
        if not answer.is_success:
            raise RunError(
                f"reset: POST {spec.post} answered {answer.status_code}\n"
                "  hint: the reset endpoint must answer 2xx once the target has forgotten"
            )
        return
    try:
        done = subprocess.run(
            list(spec.command), capture_output=True, timeout=RESET_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunError(
            f"reset: command {spec.command[0]!r} could not run: {type(exc).__name__}\n"
            "  hint: give the command as a list of arguments, its program on PATH"
        ) from None
    if done.returncode != 0:
        raise RunError(
            f"reset: command {spec.command[0]!r} exited {done.returncode}\n"
            "  hint: run it by hand; it must exit 0 once the target has forgotten"
        )
