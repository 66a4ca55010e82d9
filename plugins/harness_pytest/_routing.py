"""In-process targets: an app's outbound httpx calls routed to the downstream double by respx.

An app driven in the test process calls its real APIs (``https://api.stripe.com/v1/...``);
a route replaces such a base URL by the double's URL, so the double records and answers the
call as it would for an automation configured to call it. The delivery side is untouched:
deliveries reach the app through httpx's ASGITransport, which respx does not intercept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

from ._settings import HttpxRoute, connect_host

if TYPE_CHECKING:
    import httpx
    import respx

# Headers the forwarded exchange recomputes; copying them would corrupt the message.
_HOP_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
)
# How many consecutive ports after the first may hold further doubles of one scenario.
_DOUBLE_PORTS = 10


class HttpxRouting:
    """Routes an in-process app's httpx calls to the downstream double, with respx.

    ``forward("https://api.stripe.com")`` sends every call under that base URL to the first
    double (``forward(url, downstream="crm")`` to the one named ``crm``), the base URL replaced:
    ``https://api.stripe.com/v1/payouts`` reaches the double as ``/v1/payouts``. Calls to any
    other host fail inside the app (respx: "not mocked"), so a run never reaches a real API.
    ``router`` is the respx router, for stubs of your own.
    """

    def __init__(self, host: str, port: int) -> None:
        import respx

        self.router: respx.MockRouter = respx.mock(assert_all_called=False)
        self._host = connect_host(host)
        self._port = port
        self._names: tuple[str, ...] = ()
        self._routes: list[HttpxRoute] = []
        # The forwarding requests themselves go through httpx, hence through respx too.
        self.router.route(
            host=self._host, port__in=tuple(range(port, port + _DOUBLE_PORTS))
        ).pass_through()

    def forward(self, base_url: str, downstream: str | None = None) -> None:
        """Send the app's httpx calls under ``base_url`` to the double of ``downstream``."""
        route = HttpxRoute(base_url.rstrip("/"), downstream)
        self._routes.append(route)
        self.router.route(url__startswith=route.base_url).mock(
            side_effect=lambda request: self._forward(request, route)
        )

    def bind(self, host: str, port: int, downstreams: Sequence[str]) -> None:
        """The doubles of the run about to start: their address and the scenario's names."""
        if (connect_host(host), port) != (self._host, self._port):
            pytest.fail(
                f"harness_respx routes to the double at {self._host}:{self._port}, but this run "
                f"listens on {host}:{port}: leave out harness_run's downstream= argument, or "
                "set --harness-downstream instead",
                pytrace=False,
            )
        for route in self._routes:
            if route.downstream is not None and route.downstream not in downstreams:
                pytest.fail(
                    f"httpx route {route.downstream}={route.base_url}: the scenario has no "
                    f"downstream {route.downstream!r} — it has {', '.join(downstreams)}",
                    pytrace=False,
                )
        self._names = tuple(downstreams)

    def start(self) -> None:
        self.router.start()

    def stop(self) -> None:
        self.router.stop(quiet=True)

    def __enter__(self) -> HttpxRouting:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _double_url(self, route: HttpxRoute) -> str:
        # bind() checked the name against the scenario; before any bind, only the first.
        index = self._names.index(route.downstream) if route.downstream in self._names else 0
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port + index}"

    def _forward(
        self, request: httpx.Request, route: HttpxRoute
    ) -> httpx.Response | Awaitable[httpx.Response]:
        """respx asks from the app's event loop for an AsyncClient call, else synchronously."""
        url = self._double_url(route) + _rest(request, route.base_url)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        # The app's own timeouts hold for the forwarded call, as they would for the real API.
        import asyncio

        timeout = request.extensions.get("timeout")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _send_sync(request.method, url, headers, request.content, timeout)
        return _send_async(request.method, url, headers, request.content, timeout)


def _rest(request: httpx.Request, base_url: str) -> str:
    """The part of the request's URL after the base URL: path and query."""
    full = str(request.url)
    rest = full[len(base_url) :] if full.startswith(base_url) else request.url.raw_path.decode()
    return rest if rest.startswith(("/", "?")) or not rest else "/" + rest


def _client_options(timeout: dict[str, float | None] | None) -> dict[str, Any]:
    import httpx

    # No TLS to a loopback double, and no proxy from the environment: a proxy would take
    # the call off this machine. Without TLS, a client costs about 0.3 ms, so one per call.
    return {
        "verify": False,
        "trust_env": False,
        "timeout": httpx.Timeout(**timeout) if timeout else None,
    }


def _send_sync(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    timeout: dict[str, float | None] | None,
) -> httpx.Response:
    import httpx

    with httpx.Client(**_client_options(timeout)) as client:
        answer = client.request(method, url, headers=headers, content=body)
    return _copy(answer)


async def _send_async(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    timeout: dict[str, float | None] | None,
) -> httpx.Response:
    import httpx

    async with httpx.AsyncClient(**_client_options(timeout)) as client:
        answer = await client.request(method, url, headers=headers, content=body)
    return _copy(answer)


def _copy(answer: httpx.Response) -> httpx.Response:
    import httpx

    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
    return httpx.Response(answer.status_code, headers=headers, content=answer.content)
