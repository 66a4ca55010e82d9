"""The payload library: every entry loads, its paths resolve, its provider signs it."""

from __future__ import annotations

import pytest

from harness.core import _library
from harness.core._errors import InputError
from harness.drive._sample import Sample

HEADER_IDS = {"github", "shopify", "attio", "standard-webhooks"}


def test_names_are_provider_and_type() -> None:
    names = _library.names()
    assert "stripe:checkout.session.completed" in names
    assert names == tuple(sorted(names))
    for name in names:
        found = _library.entry(name)
        assert name == f"{found.provider}:{found.type}"


@pytest.mark.parametrize("name", _library.names())
def test_every_path_resolves_in_every_event(name: str) -> None:
    found = _library.entry(name)
    assert found.source.startswith("https://")
    assert "key" in found.paths and set(found.paths) <= set(_library.PATH_NAMES)
    # Without an id path the provider's headers carry the event id (docs/payloads.md).
    assert "id" in found.paths or found.provider in HEADER_IDS
    events = found.payload if isinstance(found.payload, list) else [found.payload]
    for event in events:
        sample = Sample.example(event)
        for path in found.paths.values():
            assert sample.unresolved(path) is None, (name, path)


def test_an_unknown_name_lists_the_close_ones() -> None:
    with pytest.raises(InputError, match=r"did you mean 'stripe:checkout.session.completed'"):
        _library.entry("stripe:checkout.completed")
