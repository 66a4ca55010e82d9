"""Automations that update a record their event names, which the real API holds before the
event comes (an order the shop made), driven as a new user drives theirs: ``harness init`` with
an example payload, then ``harness run`` (tests/gallery/activity_log.py).

Init's double is stateful and starts empty: every ``PATCH /orders/{id}`` was answered 404 and
the automation answered 503 to every delivery. The likely cause said the automation updates
"what an earlier run created", found again by a value a recording sends as it was, and
advised tracing the recording — wrong for a synthetic run whose paths carry this run's own
tokens: nothing of any run made those orders. What to do is stub the route.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import harness
from .test_gallery import automation, init_project

pytestmark = pytest.mark.integration

SECRET = {"HARNESS_SECRET": "c2VjcmV0MHByaW9yMHJlY29yZHM="}  # the test's own
ORDER = {
    "id": "evt_1",
    "type": "order.paid",
    "occurred_at": "2026-01-01T00:00:00Z",
    "data": {
        "order_id": "ord_1",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "amount": 1999,
        "currency": "usd",
    },
}


def test_a_patch_of_the_order_its_event_names_wants_a_stub_not_a_traced_recording(
    tmp_path: Path,
) -> None:
    example = tmp_path / "order-paid.json"
    example.write_text(json.dumps(ORDER))
    with automation("activity_log", "/hooks/orders") as target:
        api = f"api={target.downstream_port}"
        init_project(
            "standard-webhooks",
            str(example),
            target.url,
            api,
            tmp_path,
            "--secret-env",
            "HARNESS_SECRET",
        )
        ran = harness("run", "duplicate-storm", "--seed", "7", cwd=tmp_path, env=SECRET)
    assert "the target accepted no event" in ran.out, ran.out
    assert "likely cause: 503 after PATCH /orders/{id} answered 404" in ran.out, ran.out
    assert "each to the record its event names" in ran.out, ran.out
    assert '{method: PATCH, path: "/orders/{id}", status: 200}' in ran.out, ran.out
    assert "earlier run" not in ran.out and "Trace the recording" not in ran.out, ran.out
