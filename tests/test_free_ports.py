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


def test_a_port_handed_out_is_not_handed_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # A port handed out is free until its process listens on it: the Node-RED fixtures keep
    # one for a module's tests, and `harness demo` asks for all its targets' ports first.
    start = _processes._QUIET_PORTS.start
    monkeypatch.setattr(_processes, "_QUIET_PORTS", range(start, start + 60))
    monkeypatch.setattr(_processes, "_handed", set())
    got = [free_port() for _ in range(30)]
    assert len(set(got)) == 30, sorted(got)
    assert set(got) <= set(range(start, start + 60))


def test_once_every_port_was_handed_out_they_are_handed_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = _processes._QUIET_PORTS.start
    monkeypatch.setattr(_processes, "_QUIET_PORTS", range(start, start + 60))
    monkeypatch.setattr(_processes, "_handed", set(range(start, start + 60)))
    assert free_port() in range(start, start + 60)  # not one the kernel picked
