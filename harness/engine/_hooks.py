"""The user's hooks on the target, outside it: an HTTP POST or a command run to completion —
explore's ``reset:`` between examples (``call``), a run's ``restart:`` at its restarts
(``run``, on the run's event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..core._errors import InputError, RunError
from ..core._scenario import ResetSpec, RestartSpec
from ..drive._target import checked_url, require_allowed

if TYPE_CHECKING:  # imported where a POST is made: 0.12-0.18 CPU-s, and most runs have no hook
    import httpx


@dataclass(frozen=True, slots=True)
class Hook:
    """One kind of hook: its ``name`` (the key: reset, restart), ``why`` its URL is called (what
    a refusal says), ``when`` the run calls it, what it must have ``done`` once it succeeds,
    and the seconds it may take."""

    name: str
    why: str
    when: str
    done: str
    timeout: float = 60.0

    def check(self, spec: ResetSpec | RestartSpec, allow_hosts: Sequence[str], where: str) -> None:
        """Refuse, before anything runs, a command whose program is not found, and a URL
        outside loopback and the allowed hosts."""
        if spec.command and shutil.which(spec.command[0]) is None:
            raise InputError(
                f"{self.name}: command {spec.command[0]!r} is not found",
                where=where,
                hint="give the command as a list of arguments, its program on PATH or by its "
                f"path ({self.name}: in harness.yaml or the scenario)",
            )
        if spec.post is not None:
            what = f"{self.name} URL"
            host = checked_url(spec.post, where, what)
            require_allowed(host, allow_hosts, what=what, why=self.why, where=where)

    def call(self, spec: ResetSpec | RestartSpec) -> None:
        """POST to the spec's URL, else run its command. RunError naming the hook, the URL
        without its query or the program (not its arguments: either may hold a token) and
        what went wrong."""
        if spec.post is not None:
            import httpx

            try:
                answer = httpx.post(spec.post, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise self._unreached(spec.post, exc) from None
            self._answered(spec.post, answer)
            return
        try:
            ended = subprocess.run(
                list(spec.command), capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise self._outlasted(spec.command[0]) from None
        except OSError as exc:
            raise self._not_run(spec.command[0], exc) from None
        self._exited(spec.command[0], ended.returncode)

    async def run(self, spec: ResetSpec | RestartSpec) -> None:
        """``call`` for an event loop, that stops at once when cancelled (Ctrl-C): the POST
        abandoned, the command's process group killed — a thread running ``call`` would be
        waited for, up to the timeout, before the harness could exit."""
        if spec.post is not None:
            import httpx

            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    answer = await client.post(spec.post)
            except httpx.HTTPError as exc:
                raise self._unreached(spec.post, exc) from None
            self._answered(spec.post, answer)
            return
        program = spec.command[0]
        try:
            # A session of its own: killed whole (a shell and what it started), and not sent
            # the terminal's Ctrl-C, which is the harness's to act on.
            process = await asyncio.create_subprocess_exec(
                *spec.command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise self._not_run(program, exc) from None
        try:
            code = await asyncio.wait_for(process.wait(), self.timeout)
        except TimeoutError:
            raise self._outlasted(program) from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        self._exited(program, code)

    def _unreached(self, url: str, exc: Exception) -> RunError:
        return RunError(
            f"{self.name}: POST {_shown(url)} failed: {type(exc).__name__}\n"
            f"  hint: is the endpoint up? The run calls it {self.when}"
        )

    def _answered(self, url: str, answer: httpx.Response) -> None:
        if not answer.is_success:
            raise RunError(
                f"{self.name}: POST {_shown(url)} answered {answer.status_code}\n"
                f"  hint: it must answer 2xx once {self.done}"
            )

    def _outlasted(self, program: str) -> RunError:
        return RunError(
            f"{self.name}: command {program!r} did not end within {self.timeout:g} s\n"
            f"  hint: run it by hand; it must exit once {self.done}"
        )

    def _not_run(self, program: str, exc: OSError) -> RunError:
        return RunError(
            f"{self.name}: command {program!r} could not run: {type(exc).__name__}\n"
            "  hint: give the command as a list of arguments, its program on PATH "
            f"({self.name}: in harness.yaml or the scenario)"
        )

    def _exited(self, program: str, code: int) -> None:
        if code != 0:
            raise RunError(
                f"{self.name}: command {program!r} exited {code}\n"
                f"  hint: run it by hand; it must exit 0 once {self.done}"
            )


def _shown(url: str) -> str:
    """The URL without its query (it may hold a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
