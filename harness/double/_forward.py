"""A pass-through double (``forward_to:``): calls go on to a real API, its answers come back.

The double still records every call as an Effect and still opens the scenario's fault windows:
a fault answers instead of forwarding (the real API never sees the call), commit-then-fail
forwards and then replaces the real answer, slow forwards and then waits. What the journal
keeps of a forwarded call has its credentials redacted — the Authorization header the
automation sends to a sandbox API is a real credential — and the real answer's status and
first bytes go into a ``forwarded`` mark (``core._model.FORWARDED_MARK``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDict

from ..core._http import end_to_end, not_added
from ..core._scenario import DownstreamSpec
from ..core._sensitive import (
    KEYED,
    is_credential_param,
    is_sensitive_header,
    is_sensitive_key,
    is_sensitive_written_key,
)
from ..drive._target import checked_url, require_allowed

REDACTED = "[redacted]"
# How much of a real answer the mark keeps: enough to see an API's error, not its data.
ANSWER_KEPT = 200
_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class RealAnswer:
    """What the real API answered; ``status`` 0 with ``error`` when it could not be reached
    or did not answer in time (``timed_out``: the call may have taken effect there)."""

    status: int
    headers: CIMultiDict[str]
    body: bytes
    error: str = ""
    timed_out: bool = False

    def mark_detail(self, effect_id: str) -> str:
        text = self.body[:ANSWER_KEPT].decode("utf-8", errors="replace")
        detail = {"effect": effect_id, "status": self.status, "body": _scrub_keys(text)}
        if self.error:
            detail["error"] = self.error
        return json.dumps(detail, ensure_ascii=False)


class Forwarder:
    """One client to the real API at ``base`` (the request's path and query appended)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> RealAnswer:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                auto_decompress=False, timeout=aiohttp.ClientTimeout(total=_TIMEOUT)
            )
        sent = end_to_end(headers.items())
        try:
            async with self._session.request(
                method,
                self.base + target,
                data=body,
                headers=sent,
                skip_auto_headers=not_added(sent),
                allow_redirects=False,  # a redirect is the real API's answer
            ) as resp:
                data = await resp.read()
                kept = end_to_end(resp.headers.items(), also=("date", "server"))
                return RealAnswer(resp.status, kept, data)
        except TimeoutError:
            return RealAnswer(0, CIMultiDict(), b"", "no answer in time", timed_out=True)
        except aiohttp.ClientError as exc:
            return RealAnswer(0, CIMultiDict(), b"", type(exc).__name__)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def check_forward_to(spec: DownstreamSpec, allow_hosts: Sequence[str], where: str) -> None:
    """Refuse a ``forward_to`` outside loopback and the run's allow-list, as a target would be."""
    if spec.forward_to is None:
        return
    field = f"{where}: downstreams {spec.name!r}: forward_to"
    require_allowed(
        checked_url(spec.forward_to, field, "forward_to URL"),
        allow_hosts,
        what="forward_to",
        why="a pass-through double forwards the automation's calls only to hosts you name",
        where=field,
    )


def journal_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as the journal keeps a forwarded call's: credential values redacted."""
    return {k: REDACTED if is_sensitive_header(k) else v for k, v in headers.items()}


def journal_target(target: str) -> str:
    """``path?query`` with the values of credential-like query parameters redacted."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if eq and is_credential_param(name) else part)
    return f"{path}?{'&'.join(parts)}"


def _scrub_keys(text: str) -> str:
    """An answer's start with values under secret-looking keys redacted (an API answering a
    token it issued): as JSON, or as ``"key": value`` pairs of JSON cut short."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return KEYED.sub(_keyed, text)
    return json.dumps(_redact(parsed), ensure_ascii=False)


def _keyed(match: re.Match[str]) -> str:
    key, colon, _ = match.groups()
    return f'"{key}"{colon}"{REDACTED}"' if is_sensitive_written_key(key) else match.group(0)


def _redact(value: object) -> object:
    if isinstance(value, dict):
        return {k: REDACTED if is_sensitive_key(k) else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value
