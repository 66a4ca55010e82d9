"""Targets: where deliveries go — a URL over the network, or an ASGI app in-process."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core._errors import InputError, TargetUnreachableError, UnsafeTargetError

# module:attr, optionally followed by the path the app is driven at (module:app/hooks/stripe).
_ASGI_REF = re.compile(r"^(?P<app>[A-Za-z_][\w.]*:[A-Za-z_][\w.]*)(?P<path>/[^\s\\]*)?$")
_ASGI_BASE = "http://harness.asgi"


@dataclass(frozen=True, slots=True)
class Target:
    """``url`` for a network target; ``app`` (and ``ref``, ``module:attr`` or
    ``module:attr/path``) for an ASGI one, driven at the URL's path."""

    ref: str
    url: str
    app: Any = None

    @property
    def in_process(self) -> bool:
        return self.app is not None

    @property
    def label(self) -> str:
        if self.in_process:
            return self.ref
        parts = urlsplit(self.url)
        return parts.netloc


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


LISTEN_FLAG = "--listen-beyond-loopback"
"""The one flag that lets a listener the harness starts (the downstream double, the recording
proxy, Locust's web UI and master) listen on an address other machines can reach; under pytest
``--harness-listen-beyond-loopback``."""


def require_loopback_listen(
    host: str, *, what: str, reach: str, where: str | None, hint: str
) -> None:
    """UnsafeTargetError unless ``host`` is a loopback address: ``what`` (e.g. "the proxy")
    would listen on it and other machines could ``reach`` (e.g. "send it deliveries")."""
    # The same test as for targets: localhost, or an address in 127.0.0.0/8 or ::1; any other
    # host name may resolve anywhere.
    if not is_loopback(host):
        shown = repr(host) if host else "'' (every interface)"
        raise UnsafeTargetError(
            f"{what} would listen on {shown}, which is not a loopback address: other "
            f"machines could {reach}",
            where=where,
            hint=f"listen on 127.0.0.1 (the default), or pass {LISTEN_FLAG} if {hint}",
        )


def require_allowed(
    host: str, allow_hosts: Sequence[str], *, what: str, why: str, where: str
) -> None:
    """UnsafeTargetError unless ``host`` is loopback or one the user named (``--allow-host``)."""
    if not is_loopback(host) and host not in allow_hosts:
        raise UnsafeTargetError(
            f"{what} host {host!r} is outside loopback; {why}",
            where=where,
            hint=f"if {host} is a staging system you own, add --allow-host {host}",
        )


def parse_target(ref: str, allow_hosts: Sequence[str] = ()) -> Target:
    """A URL (loopback or an allowed host), or ``module:attr`` naming an ASGI app, optionally
    followed by the path it is driven at (``myapp.main:app/webhooks/stripe``; default ``/``)."""
    if ref.startswith(("http://", "https://")):
        host = checked_url(ref, "--target", "target URL")
        require_allowed(
            host,
            allow_hosts,
            what="target",
            why="the harness fires duplicate and burst traffic, so it only talks to other hosts "
            "you name",
            where="--target",
        )
        return Target(ref, ref)
    found = _ASGI_REF.match(ref)
    if found:
        return Target(ref, _ASGI_BASE + (found["path"] or "/"), _import_app(found["app"]))
    raise InputError(
        f"target {ref!r} is neither a URL nor module:attr" + without_scheme(ref),
        where="--target",
        hint="pass http://127.0.0.1:8000/hooks/orders, or myapp.main:app for an ASGI app "
        "(myapp.main:app/hooks/orders to drive it at a path)",
    )


# HOST:PORT[/path], as users write an address they would paste into a browser's bar.
_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d+(/\S*)?$")


def without_scheme(ref: str) -> str:
    """`` — it lacks its scheme: http://localhost:8000`` for a ``localhost:8000``, else ""."""
    if not _ADDRESS.match(ref):
        return ""
    return f" — it lacks its scheme: http://{ref}"


def check_target(ref: str, allow_hosts: Sequence[str] = ()) -> None:
    """``parse_target``'s checks without importing a ``module:attr`` app (that waits for the
    run): for front ends that read their settings before anything runs. Raises InputError."""
    if not names_app(ref):
        parse_target(ref, allow_hosts)


def names_app(ref: str) -> bool:
    """Whether the target ``ref`` (as a run's RunInfo keeps it) names an ASGI app, driven
    in-process on the harness's own event loop, rather than a URL."""
    return _ASGI_REF.match(ref) is not None


def target_path(ref: str) -> str | None:
    """The path a target ``ref`` receives webhooks at (``/hooks/orders`` of a URL or of
    ``module:attr/hooks/orders``), without importing an app; None for a ref of neither shape."""
    if ref.startswith(("http://", "https://")):
        return urlsplit(ref).path or "/"
    found = _ASGI_REF.match(ref)
    return (found["path"] or "/") if found else None


def checked_url(url: str, where: str, what: str) -> str:
    """The host of ``url``, after refusing what HTTP clients parse differently or leak.

    A backslash is read as a path separator by some clients and as part of the userinfo by
    others (``http://example.com\\@127.0.0.1/``), so the host the check sees could differ from
    the one a client dials; userinfo would put credentials in every report and reproduce line.
    """
    example = "http://127.0.0.1:8000/hooks/orders"
    if "\\" in url or any(c.isspace() or ord(c) < 32 for c in url):
        raise InputError(
            f"{what} {url!r} holds a backslash, a space or a control character",
            where=where,
            hint=f"give a plain URL such as {example}",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(
            f"{what} {url!r} is not a valid URL ({exc})",
            where=where,
            hint=f"give host and port as in {example}; an IPv6 host goes in brackets: "
            "http://[::1]:8000/",
        ) from None
    if parts.username is not None or parts.password is not None:
        raise InputError(
            f"{what} {_without_userinfo(url)!r} holds a user name or password",
            where=where,
            hint="remove user:password@ from the URL; a target that needs credentials gets them "
            "as a header (delivery.headers in the scenario), which reports redact",
        )
    host = parts.hostname or ""
    if not host:
        raise InputError(f"{what} {url!r} has no host", where=where, hint=f"e.g. {example}")
    if port == 0:
        raise InputError(
            f"{what} {url!r} names port 0, which no server listens on",
            where=where,
            hint=f"give the port the automation listens on, e.g. {example}",
        )
    return host


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _import_app(ref: str) -> Any:
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(
            f"cannot import {module_name!r} for target {ref!r}: {exc}",
            where="--target",
            hint="run from the directory that holds the module, or set PYTHONPATH",
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{module_name!r} has no attribute {attr!r}", where="--target")
        obj = getattr(obj, part)
    if not _is_asgi_app(obj):
        raise InputError(
            f"{ref!r} is not an ASGI app: an ASGI app is an async callable taking "
            "(scope, receive, send)",
            where="--target",
            hint="name the app object, e.g. myapp.main:app for app = FastAPI() or Starlette()",
        )
    return obj


def _is_asgi_app(obj: Any) -> bool:
    """An async callable of three parameters (scope, receive, send): a function or an object."""
    if not callable(obj):
        return False
    call = obj if inspect.isroutine(obj) else obj.__call__
    if not inspect.iscoroutinefunction(call):
        return False
    try:
        params = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3 or any(p.kind is p.VAR_POSITIONAL for p in params)


async def check_reachable(target: Target, timeout: float = 3.0) -> None:
    """Fail early, with exit code 3, when nothing listens at a network target.

    The connection is tried in a thread, within ``timeout`` in all (each address the host
    resolves to gets what is left): timed on this event loop, work that holds the loop ran
    the timeout out before the loop ever saw the connection made."""
    if target.in_process:
        return
    parts = urlsplit(target.url)
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    try:
        await asyncio.to_thread(_connect, parts.hostname or "", port, timeout, tls)
    except ssl.SSLError as exc:
        plain = parts._replace(scheme="http").geturl()
        raise TargetUnreachableError(
            f"the target {target.url} accepts connections but no TLS handshake "
            f"({exc.reason or exc}): a server without TLS answers so\n"
            f"  hint: if the automation serves plain HTTP, pass --target {plain}"
        ) from None
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise TargetUnreachableError(
            f"cannot connect to the target {target.url}: {reason}\n"
            "  hint: start the automation first, and check the host and port of --target"
        ) from None


def _connect(host: str, port: int, timeout: float, tls: bool = False) -> None:
    """Connect to some address of ``host`` within ``timeout`` seconds in all; OSError else.
    ``tls``: and shake hands (ssl.SSLError when the server speaks no TLS; its certificate is
    the deliveries' to verify, not checked here)."""
    deadline = time.monotonic() + timeout
    failed: OSError = TimeoutError("timed out")
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(left)
            try:
                sock.connect(address)
            except OSError as exc:
                failed = exc
                continue
            if tls:
                _handshake(sock, host)
            return
    raise failed


def _handshake(sock: socket.socket, host: str) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with context.wrap_socket(
        sock, server_hostname=host or None, do_handshake_on_connect=False
    ) as s:
        s.do_handshake()
