"""Values an automation derived from the event's, read as what they are (tests/gallery/
derived_contacts.py; the final state's title-cased names: tests/test_final_state.py)."""

from __future__ import annotations

from harness.invariants._expected import normalise
from harness.invariants._facts import route_text


def test_a_contact_keyed_by_its_email_is_one_request_in_every_text() -> None:
    """``PUT /contacts/ada@x.io``: one request with ``PUT /contacts/{id}``, as the expected
    effects read it. The notes of effects no event named listed each address as a route of
    its own ('PUT /contacts/fpaul@example.org (4) … and 43 more routes')."""
    for path in ("/contacts/ada@example.org", "/contacts/zq1", "/v2/contacts/b@x.io?x=1"):
        assert route_text("PUT", path) == "PUT " + normalise(path)
    assert route_text("GET", "/v2/2024-01/contacts") == "GET /v2/2024-01/contacts"
