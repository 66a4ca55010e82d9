"""``free_port(count=n)``: the first of n ports in a row nothing listens on — a scenario's
second downstream listens on the port after its first, which a test picking one free port left
unchecked (CI: "could not listen on 127.0.0.1:24024: address already in use")."""

from __future__ import annotations

import random
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from harness.cli import _processes
from harness.cli._processes import free_port


def test_a_port_whose_next_is_taken_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        held = taken.getsockname()[1]  # a port held; the one before it is the first offered
        offered = [held - 1, held + 1]
        sample = random.sample

        def first_offered(population: Sequence[Any], k: int) -> list[Any]:
            return offered + sample(population, k - len(offered))

        monkeypatch.setattr(_processes, "_QUIET_PORTS", range(held - 1, held + 60))
        monkeypatch.setattr(random, "sample", first_offered)
        got = free_port(count=2)  # not held - 1, first offered: the port after it is held
        assert held not in (got, got + 1), (held, got)
