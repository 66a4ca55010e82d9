"""The user's hooks on the target, outside it: an HTTP POST or a command run to completion —
explore's ``reset:`` between examples, a run's ``restart:`` at its restarts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ..core._errors import InputError, RunError
from ..core._scenario import ResetSpec, RestartSpec
from ..drive._target import checked_url, require_allowed


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
        name, done = self.name, self.done
        if spec.post is not None:
            parts = urlsplit(spec.post)
            url = f"{parts.scheme}://{parts.netloc}{parts.path}"
            try:
                answer = httpx.post(spec.post, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise RunError(
                    f"{name}: POST {url} failed: {type(exc).__name__}\n"
                    f"  hint: is the endpoint up? The run calls it {self.when}"
                ) from None
            if not answer.is_success:
                raise RunError(
                    f"{name}: POST {url} answered {answer.status_code}\n"
                    f"  hint: it must answer 2xx once {done}"
                )
            return
        program = spec.command[0]
        try:
            ended = subprocess.run(
                list(spec.command), capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise RunError(
                f"{name}: command {program!r} did not end within {self.timeout:g} s\n"
                f"  hint: run it by hand; it must exit once {done}"
            ) from None
        except OSError as exc:
            raise RunError(
                f"{name}: command {program!r} could not run: {type(exc).__name__}\n"
                "  hint: give the command as a list of arguments, its program on PATH "
                f"({name}: in harness.yaml or the scenario)"
            ) from None
        if ended.returncode != 0:
            raise RunError(
                f"{name}: command {program!r} exited {ended.returncode}\n"
                f"  hint: run it by hand; it must exit 0 once {done}"
            )
