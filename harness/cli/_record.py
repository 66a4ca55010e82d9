"""``harness record``: capture live deliveries through a proxy, PII pseudonymised
(docs/recording-capture.md)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..core._errors import InputError
from ._options import for_option, stop_after

if TYPE_CHECKING:
    from ..drive._pseudonym import Scrubber

_KEY_HINT = (
    "export a key you keep (the same key gives the same pseudonyms next time), e.g. "
    "export HARNESS_CAPTURE_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'), "
    "then pass --key-env HARNESS_CAPTURE_KEY; or --no-pseudonymise to keep PII as received"
)


@click.command()
@click.option("--listen", required=True, metavar="HOST:PORT", help="Where the proxy listens.")
@click.option(
    "--forward-to",
    required=True,
    metavar="URL",
    help="The automation's base URL; each delivery's path is appended to it.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The capture file (JSON Lines) to append deliveries to.",
)
@click.option(
    "--key-env",
    metavar="VAR",
    default=None,
    help="The environment variable holding the pseudonymisation key (at least 16 characters).",
)
@click.option(
    "--pseudonymise",
    "paths",
    multiple=True,
    metavar="JSONPATH",
    help="A body path whose value is pseudonymised whatever it looks like, e.g. "
    "$.data.object.customer_details.name (repeatable); emails and phone numbers are anywhere.",
)
@click.option(
    "--no-pseudonymise",
    is_flag=True,
    help="Keep PII as received (signatures and secrets are still never written).",
)
@for_option
@click.option(
    "--max", "limit", type=int, default=None, metavar="N", help="Stop after this many deliveries."
)
@click.option(
    "--allow-host", multiple=True, help="A non-loopback automation host you own (repeatable)."
)
@click.option(
    "--listen-beyond-loopback",
    is_flag=True,
    help="Let the proxy listen on a non-loopback address, for a sender on another machine.",
)
def record(
    listen: str,
    forward_to: str,
    output: Path,
    key_env: str | None,
    paths: tuple[str, ...],
    no_pseudonymise: bool,
    duration: str | None,
    limit: int | None,
    allow_host: tuple[str, ...],
    listen_beyond_loopback: bool,
) -> None:
    """Put a capture proxy in front of an automation: forward each delivery to it unchanged,
    answer the sender with its answer, and append the delivery, PII pseudonymised, to a file."""
    from ..core._files import check_writable_file
    from ..double._downstream import parse_address
    from ..drive._pseudonym import Scrubber
    from ..drive._target import checked_url, require_allowed, require_loopback_listen

    try:
        host, port = parse_address(listen)
    except InputError as exc:
        message = str(exc).replace("downstream address", "address")
        raise InputError(message, where="--listen") from None
    if not listen_beyond_loopback:
        require_loopback_listen(
            host,
            what="the proxy",
            reach="send it deliveries that reach the automation",
            where="--listen",
            hint="the sender is on another machine",
        )
    if not forward_to.startswith(("http://", "https://")):
        raise InputError(
            f"{forward_to!r} is not an http:// or https:// URL",
            where="--forward-to",
            hint="give the automation's base URL, e.g. http://127.0.0.1:8000",
        )
    require_allowed(
        checked_url(forward_to, "--forward-to", "automation URL"),
        allow_host,
        what="automation",
        why="the proxy forwards deliveries only to hosts you name",
        where="--forward-to",
    )
    stop = stop_after(duration, "leave it out to record until Ctrl-C")
    if limit is not None and limit < 1:
        raise InputError(
            f"--max {limit!r} captures nothing", where="--max", hint="give a number >= 1"
        )
    key = _key(key_env, no_pseudonymise, paths)
    try:
        scrubber = Scrubber(key, paths)
    except InputError as exc:
        raise InputError(str(exc), where="--pseudonymise") from None
    check_writable_file(output, f"-o {output}", "recorded.jsonl")
    asyncio.run(_serve(host, port, forward_to, output, scrubber, stop, limit))


def _key(key_env: str | None, no_pseudonymise: bool, paths: tuple[str, ...]) -> bytes | None:
    from ..drive._pseudonym import MIN_KEY

    if no_pseudonymise:
        if key_env is not None or paths:
            raise InputError(
                "--no-pseudonymise keeps PII, yet --key-env or --pseudonymise asks to replace it",
                where="--no-pseudonymise",
                hint="leave out one or the other",
            )
        return None
    if key_env is None:
        raise InputError(
            "a capture pseudonymises PII with a key you keep, and none was given",
            where="harness record",
            hint=_KEY_HINT,
        )
    key = os.environ.get(key_env, "")
    if len(key) < MIN_KEY:
        state = "is not set" if not key else f"holds {len(key)} characters, fewer than {MIN_KEY}"
        raise InputError(
            f"the environment variable {key_env} {state}", where="--key-env", hint=_KEY_HINT
        )
    return key.encode()


async def _serve(
    host: str,
    port: int,
    forward_to: str,
    output: Path,
    scrubber: Scrubber,
    duration: float | None,
    limit: int | None,
) -> None:
    from ..drive._capture import Captured, CaptureProxy
    from ._console import err, out

    def show(c: Captured) -> None:
        out.print(f"{c.method:6} {c.path}  -> {c.status}  {c.ms:.0f} ms  ({c.size} bytes)")

    proxy = CaptureProxy(forward_to, output, scrubber, limit=limit, on_capture=show)
    url = await proxy.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    mode = "PII pseudonymised" if scrubber.pseudonymises else "PII kept (--no-pseudonymise)"
    err.print(f"recording at {url}, forwarding to {forward_to}, into {output} ({mode})")
    # The readiness line scripts wait for, as the demo automations print it.
    click.echo(f"LISTENING {url}")
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(proxy.done.wait())]
    try:
        await asyncio.wait(waits, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await proxy.stop()
        n = proxy.captured
        err.print(f"{n} deliver{'y' if n == 1 else 'ies'} captured to {output}")
