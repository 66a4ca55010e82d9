"""The `provider:` key and the tamper perturbation in scenario files, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._errors import InputError
from harness.engine import signer_for
from harness.scenario._load import load_scenario

from .test_scenario_yaml import MINIMAL, error_of, write


def test_provider_by_name_sets_signing_timeout_and_schedule(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL + "provider: slack\n"))
    assert s.delivery.signing == "slack"
    assert s.delivery.provider is not None
    assert s.delivery.provider.retries == (0, 60, 300) and s.delivery.provider.timeout == 3


def test_provider_mapping_takes_the_first_retries_or_a_schedule(tmp_path: Path) -> None:
    text = MINIMAL + "provider: {name: standard-webhooks, retries: 2, timeout: 500ms}\n"
    p = load_scenario(write(tmp_path, text)).delivery.provider
    assert p is not None and p.retries == (5, 300) and p.timeout == 0.5
    text = MINIMAL + "provider: {name: slack, retries: [0s, 1m, 5m], timeout: 3s}\n"
    p = load_scenario(write(tmp_path, text)).delivery.provider
    assert p is not None and p.retries == (0, 60, 300) and p.overlap


def test_delivery_signing_alone_keeps_one_attempt(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL + "delivery: {signing: slack}\n"))
    assert s.delivery.signing == "slack" and s.delivery.provider is None


def test_signing_that_matches_the_provider_is_fine(tmp_path: Path) -> None:
    text = MINIMAL + "provider: stripe\ndelivery: {signing: stripe}\n"
    assert load_scenario(write(tmp_path, text)).delivery.signing == "stripe"


def test_conflicting_signing_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "provider: slack\ndelivery:\n  signing: github\n")
    assert error_of(path) == (
        f"{path}:9: delivery.signing: 'github' is not allowed — provider 'slack' signs with "
        "'slack'; leave delivery.signing out (the provider sets it) or name the provider that "
        "signs that way"
    )


def test_unknown_provider(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "provider: slak\n")
    message = error_of(path)
    assert message.startswith(f"{path}:7: provider.name: 'slak' is not allowed — ")
    assert "standard-webhooks" in message and "slack" in message


def test_too_many_retries(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "provider:\n  name: slack\n  retries: 5\n")
    assert error_of(path) == (
        f"{path}:9: provider.retries: 5 is not allowed — 'slack' has 3 retry delays in its "
        "schedule; give at most 3, or the delays as a list like [0s, 1m, 5m]"
    )


def test_bad_retries_and_timeout(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "provider: {name: slack, retries: -1}\n")
    assert "provider.retries: -1 is not allowed" in error_of(path)
    path = write(tmp_path, MINIMAL + "provider: {name: slack, retries: [1s, soon]}\n")
    assert error_of(path).startswith(
        f"{path}:7: provider.retries: ['1s', 'soon'] is not allowed — must be an integer of 0 or "
        "more (the first delays of the provider's schedule), or a list of durations"
    )
    path = write(tmp_path, MINIMAL + "provider: {name: slack, timeout: 0s}\n")
    assert "provider.timeout: '0s' is not allowed — must be a duration greater than 0" in (
        error_of(path)
    )
    path = write(tmp_path, MINIMAL + "provider: {name: slack, retry: 2}\n")
    assert "unknown field 'retry'" in error_of(path)


def test_tamper_perturbation(tmp_path: Path) -> None:
    text = MINIMAL + "perturbations:\n  - tamper: {mode: replayed, rate: 0.5, after: 2s}\n"
    (p,) = load_scenario(write(tmp_path, text)).perturbations
    assert p.kind == "tamper"
    assert dict(p.params) == {"mode": "replayed", "rate": 0.5, "age": 3600.0, "after": 2.0}


def test_tamper_errors(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "perturbations:\n  - tamper: {mode: spoofed}\n")
    assert error_of(path) == (
        f"{path}:8: perturbations[0].tamper.mode: 'spoofed' is not allowed — "
        "must be one of: forged, unsigned, stale, replayed"
    )
    path = write(tmp_path, MINIMAL + "perturbations:\n  - tamper: {mode: forged, rate: 2}\n")
    assert "perturbations[0].tamper.rate: 2 is not allowed" in error_of(path)
    text = MINIMAL + "delivery: {signing: none}\nperturbations:\n  - tamper: {mode: forged}\n"
    path = write(tmp_path, text)
    assert error_of(path).startswith(
        f"{path}:9: perturbations[0].tamper: 'forged' is not allowed — the scenario sends "
        "unsigned deliveries"
    )
    text = MINIMAL + "provider: github\nperturbations:\n  - tamper: {mode: stale}\n"
    path = write(tmp_path, text)
    assert error_of(path).startswith(
        f"{path}:9: perturbations[0].tamper.mode: 'stale' is not allowed — 'github' signs no "
        "timestamp"
    )


def test_hubspot_batch_window(tmp_path: Path) -> None:
    text = MINIMAL + "provider: {name: hubspot, retries: 2, batch_window: 500ms}\n"
    p = load_scenario(write(tmp_path, text)).delivery.provider
    assert p is not None and p.max_batch == 100 and p.max_in_flight == 10
    assert p.batch_window == 0.5 and len(p.retries) == 2
    path = write(tmp_path, MINIMAL + "provider: {name: hubspot, batch_window: soon}\n")
    assert f"{path}:7: provider.batch_window: 'soon' is not allowed — must be a duration" in (
        error_of(path)
    )


def test_a_missing_secret_under_a_provider_does_not_advise_signing_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `delivery.signing: none` beside a provider is refused, so the hint must not offer it.
    monkeypatch.delenv("HARNESS_SECRET", raising=False)
    scenario = load_scenario(write(tmp_path, MINIMAL + "provider: slack\n"))
    with pytest.raises(InputError) as info:
        signer_for(scenario)
    text = str(info.value)
    assert "signs deliveries (slack)" in text and "HARNESS_SECRET is not set" in text
    assert "provider 'slack' always signs" in text and "signing: none" not in text
    plain = load_scenario(write(tmp_path, MINIMAL + "delivery: {signing: slack}\n"))
    with pytest.raises(InputError) as info:
        signer_for(plain)
    assert "or set delivery.signing: none in the scenario" in str(info.value)
