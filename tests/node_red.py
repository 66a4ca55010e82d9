"""Node-RED as a target: a real engine nobody here wrote, installed from npm into a cache and
started on loopback with the flow in tests/node-red/.

``python -m tests.node_red`` installs it ahead of the tests (.ci/run does), so a test's timeout
is not spent on npm.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .conftest import free_port

VERSION = "4.1.15"  # the 4.1 line runs on Node.js >= 18.5; 5.x needs Node.js 22
FILES = Path(__file__).resolve().parent / "node-red"
FLOW = FILES / "flow.json"
SETTINGS = FILES / "settings.js"
HOOK_PATH = "/hooks/orders"
HEALTH_PATH = "/health"
REGISTRY_TIMEOUT = 60.0
INSTALL_TIMEOUT = 240.0
READY_TIMEOUT = 30.0

# What npm says when it cannot reach the registry (npm error code ..., or its "network" lines).
_NETWORK_CODES = {
    "EAI_AGAIN",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EHOSTUNREACH",
    "ENETDOWN",
    "ENETUNREACH",
    "ENOTFOUND",
    "ERR_SOCKET_TIMEOUT",
    "ESOCKETTIMEDOUT",
    "ETIMEDOUT",
}
_NPM_CODE = re.compile(r"^npm (?:error|ERR!) code (\S+)", re.MULTILINE)
_NPM_NETWORK = re.compile(r"^npm (?:error|ERR!) network ", re.MULTILINE)


class RegistryUnreachable(Exception):
    """npm could not reach its registry: the only reason the Node-RED tests are skipped."""


class NodeRedError(Exception):
    """Node-RED could not be installed or started, for a reason other than the network."""


def cache_root() -> Path:
    """``$HARNESS_TEST_CACHE``, else ``$XDG_CACHE_HOME/harness-tests`` (``~/.cache/...``)."""
    if os.environ.get("HARNESS_TEST_CACHE"):
        return Path(os.environ["HARNESS_TEST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "harness-tests"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise NodeRedError(
            f"{name!r} is not on PATH: the Node-RED tests need Node.js >= 18.5 with npm "
            "(apt-get install nodejs npm)"
        )
    return found


def _npm(args: list[str], timeout: float, env: dict[str, str] | None) -> tuple[int, str]:
    """Run npm quietly; its exit code and its output. A timeout is the network's doing: npm
    retries a registry that does not answer rather than failing."""
    try:
        proc = subprocess.run(
            [_tool("npm"), *args, "--no-audit", "--no-fund", "--no-update-notifier"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as exc:
        raise RegistryUnreachable(
            f"npm {args[0]} got no answer from the registry in {timeout:.0f} s"
        ) from exc
    return proc.returncode, proc.stdout + proc.stderr


def _unreachable(output: str) -> bool:
    codes = set(_NPM_CODE.findall(output))
    return bool(codes & _NETWORK_CODES) or _NPM_NETWORK.search(output) is not None


def _gist(output: str) -> str:
    """npm's error code and the line saying which request failed, without its stack trace."""
    codes = _NPM_CODE.findall(output)
    failed = next((line for line in output.splitlines() if "request to " in line), "")
    reason = failed.split("request to ", 1)[1] if failed else output.strip()[-300:]
    return f"{codes[0] if codes else 'no error code'}: request to {reason}"


def check_registry(version: str = VERSION, env: dict[str, str] | None = None) -> None:
    """Ask the registry for node-red@version: RegistryUnreachable when npm cannot reach it,
    NodeRedError for any other failure (no such version, a broken npm)."""
    code, out = _npm(
        [
            "view",
            f"node-red@{version}",
            "version",
            # One retry, soon: npm's own default waits 10 s and more before it gives up.
            "--fetch-retries=1",
            "--fetch-retry-mintimeout=1000",
            "--fetch-retry-maxtimeout=2000",
        ],
        REGISTRY_TIMEOUT,
        env,
    )
    if code != 0 and _unreachable(out):
        raise RegistryUnreachable(f"npm cannot reach its registry ({_gist(out)})")
    if code != 0 or out.strip() != version:
        raise NodeRedError(f"npm view node-red@{version} failed (exit {code}):\n{out.strip()}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time across processes (pytest-xdist workers, CI's pre-install)."""
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install(version: str = VERSION, timeout: float = INSTALL_TIMEOUT) -> Path:
    """The ``red.js`` of node-red@version, installed into the cache on first use.

    npm installs into a staging folder beside the cache entry, renamed into place once
    complete, so an interrupted install is never mistaken for a cached one.
    """
    home = cache_root() / f"node-red-{version}"
    red = home / "node_modules" / "node-red" / "red.js"
    if red.is_file():
        return red
    home.parent.mkdir(parents=True, exist_ok=True)
    with _locked(home.parent / f"node-red-{version}.lock"):
        if red.is_file():  # another process installed it while this one waited
            return red
        check_registry(version)
        staging = Path(tempfile.mkdtemp(prefix=f".node-red-{version}-", dir=home.parent))
        try:
            code, out = _npm(
                [
                    "install",
                    "--prefix",
                    str(staging),
                    "--omit=dev",
                    "--ignore-scripts",
                    "--no-save",
                    f"node-red@{version}",
                ],
                timeout,
                None,
            )
            if code != 0:
                raise NodeRedError(f"npm install node-red@{version} failed (exit {code}):\n{out}")
            if not (staging / "node_modules" / "node-red" / "red.js").is_file():
                raise NodeRedError(f"npm install node-red@{version} left no red.js:\n{out}")
            shutil.rmtree(home, ignore_errors=True)  # a broken earlier attempt
            staging.chmod(0o755)  # mkdtemp's 0700 would hide it from other users
            staging.rename(home)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return red


@dataclass
class NodeRed:
    """A running Node-RED: its webhook URL, and where the flow expects the downstream double."""

    process: subprocess.Popen[bytes]
    url: str
    downstream: str  # HOST:PORT for ``harness run --downstream``
    log: Path

    @property
    def hook(self) -> str:
        return self.url + HOOK_PATH

    def output(self) -> str:
        """Node-RED's log so far, to show with a failure."""
        text = self.log.read_text(errors="replace")
        return f"\n--- Node-RED log ({self.log}) ---\n{text[-4000:]}"

    def stop(self, grace: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def started(
    red: Path,
    work: Path,
    flow: Path = FLOW,
    timeout: float = READY_TIMEOUT,
    settings: Path = SETTINGS,
) -> Iterator[NodeRed]:
    """Node-RED with ``flow`` (a flow file of tests/node-red/, each with a ``GET /health``) and
    ``settings`` (a settings file there), on a free loopback port, its user directory in
    ``work``, calling the double at another free port; ready once the flow answers
    ``GET /health``."""
    user_dir = work / "node-red-user"
    user_dir.mkdir(parents=True)
    shutil.copyfile(flow, user_dir / "flows.json")
    port = free_port()
    downstream_port = free_port()
    while downstream_port == port:
        downstream_port = free_port()
    log = work / "node-red.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                _tool("node"),
                str(red),
                "--settings",
                str(settings),
                "--userDir",
                str(user_dir),
                "--port",
                str(port),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "DOWNSTREAM_URL": f"http://127.0.0.1:{downstream_port}",
                "NODE_RED_DISABLE_TELEMETRY": "1",
            },
        )
    node_red = NodeRed(process, f"http://127.0.0.1:{port}", f"127.0.0.1:{downstream_port}", log)
    try:
        deadline = time.monotonic() + timeout
        while not _ready(node_red.url + HEALTH_PATH):
            if process.poll() is not None:
                raise NodeRedError(
                    f"Node-RED exited with code {process.returncode}" + node_red.output()
                )
            if time.monotonic() > deadline:
                raise NodeRedError(f"Node-RED was not ready in {timeout:.0f} s" + node_red.output())
            time.sleep(0.05)
        yield node_red
    finally:
        node_red.stop()


def main() -> int:
    """Install ahead of the tests. Exit 0 when installed, or when the registry cannot be
    reached (the tests then skip, saying so); 1 on any other failure."""
    started_at = time.monotonic()
    try:
        red = install()
    except RegistryUnreachable as exc:
        print(f"node-red@{VERSION} not installed, the tests will skip: {exc}", file=sys.stderr)
        return 0
    except NodeRedError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"node-red@{VERSION}: {red} ({time.monotonic() - started_at:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
