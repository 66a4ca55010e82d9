"""The downstream double: a loopback HTTP server the target calls instead of its real API.

Every request, whatever its method and path, becomes one Effect handed to ``on_effect``
and gets a stub answer: the first matching Route of the DownstreamSpec, else a default
that makes a typical REST API work (POST creates, PUT/PATCH echo, GET reads {}, DELETE 204).
Inside a fault window (``faults``, on the run's clock) the FaultPlan decides the answer
instead: an error status, a 429 with Retry-After, a held call, a reset connection, a slow
answer, or a write that takes effect and is then answered with an error.
A ``stateful`` double answers what no stub route matches from its ResourceStore
(``_resources``): a small REST API in memory, honouring Idempotency-Key but on the routes its
spec says the API ignores the key on (``key_ignored``). A pass-through double
(``forward_to``) forwards what no stub route matches to the real API (``_forward``) and
answers with its answer, faults applied on the way.
A downstream with ``auth`` answers its token endpoint and refuses calls without a live
credential with 401 (``_auth``); with ``page_size`` its store's lists come in pages; its
``shape_changes`` rename fields of its JSON answers from their dates on (``_shapes``). Its
store may be carried from an earlier run (``_carry``).

It runs on aiohttp's low-level server: routing is ours anyway, and the same handler behind
``web.Application``'s router cost about 10 µs more server CPU per request when measured.
benchmarks/bench_downstream.py compares the double with trivial aiohttp servers.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import json
import logging
import os
import re
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from ..core._errors import DownstreamBindError, InputError, OutputError
from ..core._form import is_form
from ..core._model import (
    FAULT_MARK,
    FORWARDED_MARK,
    ISSUED_MARK,
    JSON,
    KEY_REPLAY_MARK,
    Effect,
    Fault,
)
from ..core._scenario import DownstreamSpec, Route
from ..drive import _target
from ..drive._correlate import Attribute as Attribute  # what ``attribute`` must be
from ..drive._correlate import Attribution as Attribution
from ._auth import CHALLENGE, TOKEN_MARK, Gate, issued, token_mark
from ._carry import Carried
from ._contract import CONTRACT_MARK, CONTRACT_VIOLATION_MARK, Checked, Contract
from ._faults import Action, FaultPlan
from ._forward import REDACTED, Forwarder, RealAnswer, journal_headers, journal_target
from ._resources import GENERATED_PREFIX, Resource, ResourceStore, request_object
from ._routes import compile_path, compile_route, route_matches
from ._shapes import Shapes

_log = logging.getLogger("harness.downstream")

_LOOPBACK = "127.0.0.1"
# Generous for API payloads, yet bounded: a runaway target must not exhaust memory.
_MAX_BODY = 32 * 1024 * 1024
# How long stop() lets requests in flight (delayed answers) finish before cutting them off.
_SHUTDOWN_TIMEOUT = 1.0

_DEFAULT_ROUTES = (
    Route("POST", "*", status=201),
    Route("PUT", "*", status=200),
    Route("PATCH", "*", status=200),
    Route("GET", "*", status=200, body={}),
    Route("DELETE", "*", status=204),
    Route("*", "*", status=200),
)


@dataclass(frozen=True, slots=True)
class _CompiledRoute:
    route: Route
    method: str  # upper case; "*" matches any
    pattern: re.Pattern[str]
    headers: CIMultiDict[str]  # the route's headers, plus Content-Type when a body is sent
    default: bool = False  # one of _DEFAULT_ROUTES: a stateful double's store answers instead

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        return self.pattern.fullmatch(path) is not None


class Downstream:
    """The double of one downstream: records every request as an Effect, answers stubs.

    ``clock`` gives the run's time (``Effect.at``, taken on arrival); ``attribute`` maps a
    request's method, ``path?query``, headers and body (as the Effect records them) to (event
    ids, record key). The path is percent-decoded as aiohttp decodes it, so tracer values in a
    URL read as written.
    ``on_effect`` is called once per request, before the answer is sent; if it raises,
    the error is logged and the request answered anyway. ``on_mark`` (name, detail) gets a
    pass-through double's ``forwarded`` marks: the real API's answer to each forwarded call.
    ``faults`` are windows on the ``clock``; those naming this downstream apply (``seed``
    drives a slow fault's jitter). ``time_scale`` (run seconds per scenario second) puts the
    spec's token lifetimes, key rotation and shape changes on the ``clock``. ``carried``: the
    stores to start from and leave for the next run (``_carry``); None: a fresh one.
    """

    def __init__(
        self,
        spec: DownstreamSpec,
        *,
        on_effect: Callable[[Effect], None],
        clock: Callable[[], float],
        attribute: Attribute | None = None,
        effect_prefix: str = "eff_",
        faults: Sequence[Fault] = (),
        seed: int = 0,
        on_mark: Callable[[str, str], None] | None = None,
        time_scale: float = 1.0,
        carried: Carried | None = None,
    ) -> None:
        self._name = spec.name
        # The real API's OpenAPI document: every request checked against it (``_contract``).
        self._contract = Contract(spec.contract, seed) if spec.contract is not None else None
        # Pass-through: the real API answers whatever the scenario's own routes do not.
        self._forwarder = Forwarder(spec.forward_to) if spec.forward_to else None
        self._on_mark = on_mark
        # Stateful: the store answers whatever the scenario's own routes do not.
        if not spec.stateful:
            self._store: ResourceStore | None = None
        else:
            self._store = carried.store(spec.name) if carried is not None else ResourceStore()
        self._page_size = spec.page_size
        # Routes whose API ignores an Idempotency-Key: the store applies each repeat there.
        self._key_ignored = tuple(
            compile_route(r, where=f"downstream {spec.name!r}, idempotency_key.ignored")
            for r in spec.key_ignored
        )
        where = f"downstream {spec.name!r}"
        self._gate = (
            Gate(spec.auth, scale=time_scale, tokens=issued(spec.name), where=where)
            if spec.auth is not None
            else None
        )
        self._shapes = Shapes(spec.shape_changes, time_scale, where) if spec.shape_changes else None
        self._routes = tuple(
            _compile_route(route, where=f"downstream {spec.name!r}, routes[{i}]")
            for i, route in enumerate(spec.routes)
        ) + tuple(
            _compile_route(route, where="<defaults>", default=True) for route in _DEFAULT_ROUTES
        )
        self._on_effect = on_effect
        self._clock = clock
        self._attribute = attribute
        self._effect_prefix = effect_prefix  # distinct per double when a run has several
        self._effect_numbers = itertools.count(1)
        self._id_numbers = itertools.count(1)
        mine = [f for f in faults if f.downstream == spec.name]
        self._plan = FaultPlan(mine, seed) if mine else None
        # Each fault's position among the run's (as its journal keeps them), by identity: a
        # Fault holds a dict, so it is not hashable.
        self._fault_numbers = {id(f): n for n, f in enumerate(faults)}
        self._runner: web.ServerRunner | None = None
        self._url: str | None = None
        self.effects_recorded = 0
        self.last_effect_at: float | None = None
        self.in_flight = 0  # calls received and not yet answered (or cut off)
        # Settling's waits (``engine._settle``), woken as a call arrives: they sleep until the
        # quiet would be reached instead of looking at the doubles many times a second.
        self.woken: set[asyncio.Future[None]] = set()

    @property
    def url(self) -> str:
        """The base URL the target should call, e.g. ``http://127.0.0.1:38211``."""
        if self._url is None:
            raise RuntimeError(f"downstream double {self._name!r} has no URL yet: await start()")
        return self._url

    async def start(
        self, host: str = _LOOPBACK, port: int = 0, *, allow_non_loopback: bool = False
    ) -> str:
        """Listen on ``host:port`` (0: a free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError(f"downstream double {self._name!r} is already listening")
        host = _LOOPBACK if host == "localhost" else host  # one address, so one port
        if not allow_non_loopback:
            require_loopback_listen(host, None)
        # A caller that hangs up ends its call here too: a held (timeout fault) or delayed
        # answer nobody waits for any more must not keep the run from settling.
        server = web.Server(self._handle, access_log=None, handler_cancellation=True)
        runner = web.ServerRunner(server, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise _bind_error(host, port, exc) from exc
        self._runner = runner
        bound_port = runner.addresses[0][1]
        url_host = f"[{host}]" if ":" in host else host
        self._url = f"http://{url_host}:{bound_port}"
        if self._contract is not None and self._on_mark is not None:
            detail = {"downstream": self._name, "document": self._contract.origin}
            self._on_mark(CONTRACT_MARK, json.dumps(detail))
        return self._url

    def resources(self) -> list[Resource] | None:
        """The resources a stateful double holds now; None for a double without a store."""
        return None if self._store is None else self._store.resources()

    async def stop(self) -> None:
        """Stop listening; answers still delayed after a short grace period are cut off."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._forwarder is not None:
            await self._forwarder.close()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        at = self._clock()
        self.in_flight += 1
        for waiting in self.woken:
            if not waiting.done():
                waiting.set_result(None)
        try:
            return await self._answer(request, at)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.BaseRequest, at: float) -> web.StreamResponse:
        query = request.query_string
        target = f"{request.path}?{query}" if query else request.path
        raw, complete = await _read_body(request)
        text = raw.decode("utf-8", errors="replace")
        method = request.method.upper()
        compiled = self._match(method, request.path) if complete else _TOO_LARGE
        headers = _plain_headers(request.headers)
        if self._gate is not None and complete:
            if self._gate.is_token_call(method, request.path):
                return self._token_answer(text)
            refused = self._gate.refusal(headers, at)
            if refused is not None:
                self._record(at, method, target, headers, text, 401, False)
                problem = {"error": "invalid_token", "error_description": refused}
                return web.json_response(problem, status=401, headers=CHALLENGE)
        action = self._plan.decide(method, request.path, at) if self._plan and complete else None
        stateful = self._store is not None and compiled.default
        if self._forwarder is not None and compiled.default and complete:
            return await self._forwarded_answer(request, action, at, method, target, headers, raw)
        if action is None or (action.status is None and not action.reset):
            checked = (
                self._contract.check(method, target, text, form=_form(headers))
                if self._contract
                else None
            )
            generated = checked is not None and checked.body is not None and not stateful
            if checked is not None and (checked.problems or (compiled.default and generated)):
                return await self._contract_answer(
                    checked, action, at, method, target, headers, text
                )
            if stateful:
                return await self._stored_answer(
                    request.path, action, at, method, target, headers, text
                )
            # The route's own answer (a slow fault only delays it): committed as it says.
            route = compiled.route
            body, made_up = self._answer_body(route, text, headers, method, request.path, at)
            effect_id = self._record(
                at, method, target, headers, text, route.status, route.status < 400, action
            )
            if made_up is not None:
                self._issued(effect_id, made_up)
            delay = route.delay + (action.delay if action else 0.0)
            if delay > 0:
                await asyncio.sleep(delay)
            return web.Response(status=route.status, body=body, headers=compiled.headers)
        if stateful and action.committed and self._store is not None:
            # Commit-then-fail: the write takes effect in the store, then the caller is failed.
            key = self._idempotency_key(method, request.path, headers)
            stored = self._store.handle(method, request.path, text, key, form=_form(headers))
            action = replace(action, committed=stored.committed)
            return await self._fault_answer(
                request, action, at, method, target, headers, text, replayed=stored.replayed
            )
        return await self._fault_answer(request, action, at, method, target, headers, text)

    async def _forwarded_answer(
        self,
        request: web.BaseRequest,
        action: Action | None,
        at: float,
        method: str,
        target: str,
        headers: dict[str, str],
        raw: bytes,
    ) -> web.StreamResponse:
        """Forward to the real API unless a fault answers instead; commit-then-fail forwards,
        then fails the caller; slow forwards, then waits."""
        assert self._forwarder is not None  # only called for a pass-through double
        text = raw.decode("utf-8", errors="replace")
        if action is not None and (action.reset or (action.status and not action.committed)):
            return await self._fault_answer(request, action, at, method, target, headers, text)
        real = await self._forwarder.send(method, target, headers, raw)
        # A call the real API did not answer in time may have taken effect there.
        committed = real.timed_out or 0 < real.status < 400
        if action is not None and action.status is not None:  # commit-then-fail
            failed = replace(action, committed=committed)
            return await self._fault_answer(
                request, failed, at, method, target, headers, text, real
            )
        status = real.status or (504 if real.timed_out else 502)
        effect_id = self._record(at, method, target, headers, text, status, committed, action)
        self._forwarded(effect_id, real)
        if action is not None and action.delay > 0:  # a slow fault
            await asyncio.sleep(action.delay)
        if not real.status:
            why = f"harness pass-through to {self._forwarder.base}: {real.error}"
            return web.json_response({"error": why}, status=status)
        return web.Response(status=real.status, body=real.body, headers=real.headers)

    async def _stored_answer(
        self,
        path: str,
        action: Action | None,
        at: float,
        method: str,
        target: str,
        headers: dict[str, str],
        text: str,
    ) -> web.StreamResponse:
        assert self._store is not None  # only called for a stateful double
        answer = self._store.handle(
            method,
            path,
            text,
            self._idempotency_key(method, path, headers),
            query=target.partition("?")[2],
            page_size=self._page_size,
            form=_form(headers),
        )
        effect_id = self._record(
            at, method, target, headers, text, answer.status, answer.committed, action
        )
        if answer.replayed:
            self._key_replayed(effect_id)
        elif answer.status == 201 and isinstance(answer.body, dict):
            made_up = answer.body.get("id")
            if isinstance(made_up, str) and made_up.startswith(GENERATED_PREFIX):
                self._issued(effect_id, made_up)
        if action is not None and action.delay > 0:  # a slow fault
            await asyncio.sleep(action.delay)
        if answer.body is None:
            return web.Response(status=answer.status)
        extra = dict(answer.headers)
        if answer.replayed:
            extra["Idempotent-Replayed"] = "true"
        body = self._reshaped(method, path, at, answer.body)
        return web.json_response(body, status=answer.status, headers=extra)

    def _idempotency_key(self, method: str, path: str, headers: dict[str, str]) -> str | None:
        """The request's Idempotency-Key, whatever its case; None where there is none or the
        API ignores it (``key_ignored``): a repeat is then applied again, as that API does."""
        if any(route_matches(r, method, path) for r in self._key_ignored):
            return None
        for name, value in headers.items():
            if name.lower() == "idempotency-key":
                return value
        return None

    def _token_answer(self, text: str) -> web.StreamResponse:
        """A call to the token endpoint: a mark, not an effect (no event caused it)."""
        assert self._gate is not None  # only called for a double with auth
        answer = self._gate.token(text)
        if self._on_mark is not None:
            self._on_mark(TOKEN_MARK, token_mark(self._name, answer))
        no_store = {"Cache-Control": "no-store"}
        return web.json_response(answer.body, status=answer.status, headers=no_store)

    def _reshaped(self, method: str, path: str, at: float, body: JSON) -> JSON:
        return body if self._shapes is None else self._shapes.apply(method, path, at, body)

    async def _contract_answer(
        self,
        checked: Checked,
        action: Action | None,
        at: float,
        method: str,
        target: str,
        headers: dict[str, str],
        text: str,
    ) -> web.StreamResponse:
        """The answer the real API would give: its 4xx for a request its contract refuses (kept
        as a mark for ``effects_match_contract``), else its 2xx with a body from its schema."""
        status = checked.status or 200
        valid = not checked.problems
        effect_id = self._record(at, method, target, headers, text, status, valid, action)
        if not valid and self._on_mark is not None:
            detail = {
                "effect": effect_id,
                "downstream": self._name,
                "operation": checked.operation,
                "problems": list(checked.problems),
            }
            self._on_mark(CONTRACT_VIOLATION_MARK, json.dumps(detail))
        if action is not None and action.delay > 0:  # a slow fault
            await asyncio.sleep(action.delay)
        if checked.body is None or not _may_have_body(status):
            return web.Response(status=status)
        return web.json_response(checked.body, status=status)

    async def _fault_answer(
        self,
        request: web.BaseRequest,
        action: Action,
        at: float,
        method: str,
        target: str,
        headers: dict[str, str],
        text: str,
        real: RealAnswer | None = None,
        *,
        replayed: bool = False,
    ) -> web.StreamResponse:
        """``replayed``: the store answered the write with its key's first answer."""
        if action.reset:
            effect_id = self._record(at, method, target, headers, text, 0, action.committed, action)
            if replayed:
                self._key_replayed(effect_id)
            _reset(request)
            # Nothing reaches the caller: the connection is gone before this is written.
            return web.Response(status=500)
        status = action.status or 500
        effect_id = self._record(
            at, method, target, headers, text, status, action.committed, action
        )
        if real is not None:  # forwarded first: what the real API said, the caller never saw
            self._forwarded(effect_id, real)
        if replayed:
            self._key_replayed(effect_id)
        if action.delay > 0:
            await asyncio.sleep(action.delay)
        answer = {"error": f"harness fault on downstream {self._name!r}: {action.fault.mode}"}
        return web.json_response(answer, status=status, headers=dict(action.headers))

    def _key_replayed(self, effect_id: str) -> None:
        if self._on_mark is not None:
            try:
                self._on_mark(KEY_REPLAY_MARK, json.dumps({"effect": effect_id}))
            except OutputError:
                pass  # as for the effect: the run stops and says so; the target gets its answer

    def _issued(self, effect_id: str, made_up: str) -> None:
        """The id a creation was answered with: a later call naming it is read against it."""
        if self._on_mark is not None:
            try:
                self._on_mark(ISSUED_MARK, json.dumps({"effect": effect_id, "id": made_up}))
            except OutputError:
                pass  # as for the effect: the run stops and says so; the target gets its answer

    def _forwarded(self, effect_id: str, real: RealAnswer) -> None:
        if self._on_mark is not None:
            self._on_mark(FORWARDED_MARK, real.mark_detail(effect_id))

    def _match(self, method: str, path: str) -> _CompiledRoute:
        for compiled in self._routes:
            if compiled.matches(method, path):
                return compiled
        raise AssertionError("the default routes end with '* *', which matches everything")

    def _answer_body(
        self,
        route: Route,
        request_text: str,
        headers: dict[str, str],
        method: str,
        path: str,
        at: float,
    ) -> tuple[bytes | None, str | None]:
        """The route's answer to a request, and the id it made up for a creation (or None)."""
        if not _may_have_body(route.status):
            return None, None
        answer: JSON = route.body if route.body is not None else _echo(request_text, headers)
        made_up = None
        if route.body is None and route.status == 201:
            # A creation gets a fresh server-side id, as a real API would assign one.
            made_up = answer["id"] = f"{GENERATED_PREFIX}{next(self._id_numbers)}"
        return json.dumps(self._reshaped(method, path, at, answer)).encode(), made_up

    def _record(
        self,
        at: float,
        method: str,
        target: str,
        headers: dict[str, str],
        text: str,
        status: int,
        committed: bool,
        action: Action | None = None,
    ) -> str:
        """Record the request as an Effect; its id. ``action``: the fault that answered it,
        kept as a FAULT_MARK (what ``recovers_after_outage`` counts as the outage met)."""
        event_ids, key = self._attribution(method, target, headers, text)
        if self._forwarder is not None or self._gate is not None:
            # Real credentials for a real API, or the double's own tokens and keys: never in
            # the journal.
            target, headers = journal_target(target), journal_headers(headers)
            if self._gate is not None:
                headers = {
                    k: REDACTED if k.lower() == self._gate.header.lower() else v
                    for k, v in headers.items()
                }
        effect = Effect(
            id=f"{self._effect_prefix}{next(self._effect_numbers)}",
            downstream=self._name,
            at=at,
            method=method,
            path=target,
            headers=headers,
            body=text,
            status=status,
            event_ids=event_ids,
            key=key,
            committed=committed,
        )
        self.effects_recorded += 1
        self.last_effect_at = at
        try:
            self._on_effect(effect)
        except OutputError:
            pass  # the journal could not be written: the run stops and says so, once
        except Exception:
            # The target must see the answer it would get from the real API; a broken
            # recorder is our bug, reported in the log, not the target's failure.
            # The path without its query: a query may carry a credential (?api_key=).
            path = target.partition("?")[0]
            _log.exception("on_effect failed for %s %s %s", self._name, method, path)
        if action is not None and self._on_mark is not None:
            detail = {"effect": effect.id, "fault": self._fault_numbers[id(action.fault)]}
            try:
                self._on_mark(FAULT_MARK, json.dumps(detail))
            except OutputError:
                pass  # as for the effect: the run stops and says so; the target gets its answer
        return effect.id

    def _attribution(
        self, method: str, target: str, headers: dict[str, str], text: str
    ) -> Attribution:
        if self._attribute is None:
            return (), None
        try:
            return self._attribute(method, target, headers, text)
        except Exception:
            _log.exception(
                "attribution failed on downstream %s; effect left unattributed", self._name
            )
            return (), None


def parse_address(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT``, ``:PORT`` or ``PORT`` (``[::1]:PORT`` for IPv6) into (host, port).

    The host defaults to 127.0.0.1; port 0 asks for a free port.
    """
    hint = "write HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:9100 (port 0 picks a free one)"
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        host, port_text = "", text.strip()
    if "/" in host:
        raise InputError(f"bad downstream address {text!r}: give an address, not a URL", hint=hint)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise InputError(
            f"bad downstream address {text!r}: an IPv6 host must be in brackets", hint=hint
        )
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InputError(
            f"bad downstream address {text!r}: the port {port_text!r} is not a number "
            "from 0 to 65535",
            hint=hint,
        )
    if any(c.isspace() for c in host):
        raise InputError(f"bad downstream address {text!r}: the host has spaces", hint=hint)
    return host or _LOOPBACK, int(port_text)


def _compile_route(route: Route, *, where: str, default: bool = False) -> _CompiledRoute:
    headers: CIMultiDict[str] = CIMultiDict(route.headers)
    if _may_have_body(route.status) and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return _CompiledRoute(
        route=route,
        method=route.method.upper(),
        pattern=compile_path(route.path, where=f"{where}.path"),
        headers=headers,
        default=default,
    )


async def _read_body(request: web.BaseRequest) -> tuple[bytes, bool]:
    """The request body, and whether it was complete (else it is cut at ``_MAX_BODY``)."""
    content = request.content
    chunks: list[bytes] = []
    size = 0
    # Checking EOF before reading spares the usual one-chunk body a second, empty read.
    while size <= _MAX_BODY and not content.at_eof():
        chunk = await content.readany()
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return (body, True) if size <= _MAX_BODY else (body[:_MAX_BODY], False)


def _reset(request: web.BaseRequest) -> None:
    """Drop the caller's connection with a TCP reset, as a crashing API or a proxy would."""
    transport = request.transport
    if transport is None:  # the caller is already gone
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0: close() sends RST instead of an orderly FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _plain_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """Request headers as a dict; a repeated header's values joined by ", " as HTTP allows."""
    plain: dict[str, str] = {}
    for name, value in headers.items():
        plain[name] = f"{plain[name]}, {value}" if name in plain else value
    return plain


def _may_have_body(status: int) -> bool:
    return not (100 <= status < 200 or status in (204, 304))


def _echo(text: str, headers: dict[str, str]) -> dict[str, JSON]:
    """The request body if it is a JSON object or a form, as an object; else an empty one."""
    found = request_object(text, _form(headers))
    return {} if found is None else found


def _form(headers: dict[str, str]) -> bool:
    """Whether the request's body is form-encoded (its Content-Type, whatever the case)."""
    return any(k.lower() == "content-type" and is_form(v) for k, v in headers.items())


def require_loopback_listen(host: str, where: str | None = "--downstream") -> None:
    """UnsafeTargetError, saying which flag allows it, unless ``host`` is a loopback address."""
    _target.require_loopback_listen(
        host,
        what="the downstream double",
        reach="reach it and send it effects",
        where=where,
        hint=f"other machines must reach it (pytest: --harness{_target.LISTEN_FLAG[1:]})",
    )


def _bind_error(host: str, port: int, exc: OSError) -> DownstreamBindError:
    if exc.errno is not None and exc.errno in errno.errorcode:
        reason = os.strerror(exc.errno).lower()
    else:  # e.g. a host name that does not resolve (socket.gaierror)
        reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        hint = "stop what holds the port, or pass --downstream 127.0.0.1:0 for a free one"
    else:
        hint = "pass --downstream 127.0.0.1:0 to listen on a free port of this machine"
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return DownstreamBindError(
        f"the downstream double could not listen on {address}: {reason}\n  hint: {hint}"
    )


# Answered, and recorded, when a body exceeds _MAX_BODY.
_TOO_LARGE = _compile_route(
    Route("*", "*", status=413, body={"error": f"request body over {_MAX_BODY} bytes"}),
    where="<too large>",
)
