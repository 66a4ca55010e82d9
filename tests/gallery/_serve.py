"""Serving glue for the gallery: what a deployment would do (bind, stop on SIGTERM), plus the
``LISTENING <url>`` line the tests wait for. Nothing here knows of the harness."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any, NoReturn

import aiohttp
from aiohttp import web


def options(
    prog: str, downstream_env: str, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """``--port`` (0: any free one) and ``--downstream`` (default: ``$downstream_env``)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--downstream",
        default=os.environ.get(downstream_env),
        help=f"base URL of the API it writes to (default ${downstream_env})",
    )
    opts = parser.parse_args(argv)
    if not opts.downstream:
        parser.error(f"give --downstream or set {downstream_env}")
    opts.downstream = opts.downstream.rstrip("/")
    return opts


def run(app: web.Application, port: int) -> None:
    asyncio.run(_serve(app, port))


def run_stripe(
    prog: str, downstream_env: str, build_app: Callable[[str, str], web.Application]
) -> None:
    """A Stripe receiver's ``main()``: ``build_app(downstream URL, signing secret)``, the secret
    from ``$STRIPE_WEBHOOK_SECRET``, served on ``--port``; warnings logged."""
    logging.basicConfig(level=logging.WARNING)
    opts = options(prog, downstream_env)
    run(build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"]), opts.port)


def run_github(
    prog: str, downstream_env: str, build_app: Callable[[str, bytes], web.Application]
) -> None:
    """A GitHub receiver's ``main()``: ``build_app(downstream URL, webhook secret)``, the secret
    from ``$GITHUB_WEBHOOK_SECRET``, served on ``--port``."""
    opts = options(prog, downstream_env)
    run(build_app(opts.downstream, os.environ["GITHUB_WEBHOOK_SECRET"].encode()), opts.port)


async def _serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"LISTENING http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def serve_forked(app: web.Application, listening: socket.socket) -> NoReturn:
    """In a process forked after ``listening`` was bound (a prefork server's worker): serve
    ``app`` on it until SIGTERM, with none of the parent's signal handlers, then exit."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        asyncio.run(_serve_on(app, listening))
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


async def _serve_on(app: web.Application, listening: socket.socket) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, listening).start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


async def asgi_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    """An ASGI request's whole body, as a framework reads it before the handler runs."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def client_session(
    key: web.AppKey[aiohttp.ClientSession], base_url: str, timeout: float = 10
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: an HTTP client of ``base_url`` under ``key`` for as long as the app
    serves, each call given up after ``timeout`` seconds."""

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[key] = aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=timeout))
        yield
        await app[key].close()

    return session


def queue_worker(
    key: web.AppKey[asyncio.Queue[Any]],
    work: Callable[[asyncio.Queue[Any]], Awaitable[None]],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: the app's in-memory queue under ``key``, and a task working it off
    for as long as the app serves (what a background-job library gives an app)."""

    async def serving(app: web.Application) -> AsyncIterator[None]:
        app[key] = asyncio.Queue()
        task = asyncio.create_task(work(app[key]))
        yield
        task.cancel()

    return serving


def worker_tasks(
    count: int, work: Callable[[web.Application], Coroutine[Any, Any, None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: ``count`` tasks each running ``work(app)`` for as long as the app
    serves (a pool of workers on one queue)."""

    async def serving(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(work(app)) for _ in range(count)]
        yield
        for task in tasks:
            task.cancel()

    return serving
