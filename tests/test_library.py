"""The payload library: every entry loads, its paths resolve, its provider signs it."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from harness.core import _library
from harness.core._errors import InputError, ScenarioError
from harness.core._providers import PROVIDERS
from harness.core._scenario import SyntheticSource
from harness.core._signing import Signer, detect_scheme, verify
from harness.drive._sample import Sample
from harness.scenario._load import load_scenario

from .conftest import SECRET

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


@pytest.mark.parametrize("name", _library.names())
def test_every_entry_signs_and_verifies_under_its_provider_s_scheme(name: str) -> None:
    found = _library.entry(name)
    scheme = PROVIDERS[found.provider].scheme
    body = json.dumps(found.payload).encode()
    url = "http://127.0.0.1:8000/hooks"
    now = int(time.time())
    headers = Signer(scheme, SECRET).headers(body, "msg_1", now, event_type=found.type, url=url)
    assert detect_scheme(headers) == scheme
    assert verify(scheme, SECRET, headers, body, now=now, url=url)
    assert not verify(scheme, SECRET, headers, body + b" ", now=now, url=url)
    # Where the provider names the type in a header, the header carries the entry's type.
    for header in ("X-GitHub-Event", "X-Shopify-Topic"):
        if header in headers:
            assert headers[header] == found.type


def scenario(tmp_path: Path, synthetic: str) -> Path:
    path = tmp_path / "lib.scenario.yaml"
    path.write_text(
        "name: lib\nsource:\n  synthetic:\n"
        + textwrap.indent(textwrap.dedent(synthetic), "    ")
        + "    events: 6\n    records: 2\n    over: 3s\ninvariants: [no_lost_events]\n"
    )
    return path


def test_a_scenario_source_names_a_library_payload(tmp_path: Path) -> None:
    source = load_scenario(scenario(tmp_path, "library: stripe:invoice.paid\n")).source
    assert isinstance(source, SyntheticSource)
    assert source.example == _library.entry("stripe:invoice.paid").payload
    assert (source.id_path, source.key_path, source.type_path, source.time_path) == (
        "$.id",
        "$.data.object.customer",
        "$.type",
        "$.created",
    )
    # A path the scenario gives wins; a provider that names the type in a header has none,
    # so every event is of the entry's type.
    own = "library: github:issues\nkey: $.issue.number\n"
    github = load_scenario(scenario(tmp_path, own)).source
    assert isinstance(github, SyntheticSource)
    assert (github.id_path, github.key_path, github.type_path) == (None, "$.issue.number", None)
    assert github.types == ("issues",)


def test_an_unknown_library_name_is_refused_at_its_line(tmp_path: Path) -> None:
    path = scenario(tmp_path, "library: stripe:checkout.session.complete\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(
        f"{path}:4: source.synthetic.library: no payload 'stripe:checkout.session.complete' "
        "in the library — did you mean 'stripe:checkout.session.completed'"
    )
    both = scenario(tmp_path, "library: stripe:invoice.paid\nexample: {id: evt_1}\n")
    with pytest.raises(ScenarioError, match="has both example and library — give exactly one of"):
        load_scenario(both)


def test_docs_list_every_entry_with_its_paths_and_source() -> None:
    text = (Path(__file__).parents[1] / "docs" / "payloads.md").read_text(encoding="utf-8")
    for name in _library.names():
        found = _library.entry(name)
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), "")
        assert found.source in row, name
        assert all(f"`{path}`" in row for path in found.paths.values()), name


def test_an_entry_whose_body_has_no_id_of_its_own_has_none_written() -> None:
    """A header carries the id (webhook-id, Idempotency-Key) and the example has no ``id``:
    nothing is written into the body; Shopify's order ``id`` stays the id path, as before."""
    paths = {name: _library.entry(name).id_path for name in _library.names()}
    assert paths["standard-webhooks:contact.updated"] is None
    assert paths["attio:record.updated"] is None
    assert paths["shopify:orders/create"] == "$.id"
    assert paths["stripe:invoice.paid"] == "$.id"
    assert paths["slack:event_callback"] == "$.event_id"
