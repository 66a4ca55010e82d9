"""An event type whose every request the clean run's double refused is not "ignored by design".

tests/gallery/early_updates.py with ``ON_MISSING=skip``, in a project of
``stripe:customer.subscription.updated`` alone, under duplicate-storm: each update's only
request, ``PATCH /subscriptions/{id}``, was answered 404 in the clean run as in the run (the
double holds no subscription: no ``created`` came), logged "not in the CRM yet, skipping" and
answered 200. ``no_lost_events`` PASSED, "all 30 records got the expected effects of their
latest accepted event; ignored by design (no effect in the clean run):
customer.subscription.updated (60 events)" — with no write committed, nothing was tested.
Inconclusive now, naming the refused request and the stub that lets it act.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_gallery import QUICK, said
from .test_gallery_round20 import STRIPE, judged

pytestmark = pytest.mark.integration


def inconclusive_loss(
    cwd: Path, app: str, hook: str, events: str, hazard: str, secret: dict[str, str], **env: str
) -> dict[str, Any]:
    """``no_lost_events`` of ``tests.gallery.<app>`` under ``hazard`` (``judged``), asserted
    inconclusive."""
    lost = judged(cwd, app, hook, events, hazard, secret, *QUICK, **env)["no_lost_events"]
    assert lost["status"] == "inconclusive", said(lost)
    return lost


def test_updates_whose_every_patch_the_double_refused_are_not_ignored_by_design(
    tmp_path: Path,
) -> None:
    lost = inconclusive_loss(
        tmp_path, "early_updates", "/webhooks/stripe", "stripe:customer.subscription.updated",
        "duplicate-storm", STRIPE, ON_MISSING="skip",
    )  # fmt: skip
    for words in (
        "of a type whose every request in the clean run was refused "
        "(customer.subscription.updated: PATCH /subscriptions/{id} answered 404 ",
        'e.g. {method: PATCH, path: "/subscriptions/{id}", status: 200}',
        "rule: any effect — the clean run's every request for them was refused",
    ):
        assert words in lost["summary"], said(lost)
    assert "ignored by design (no effect in the clean run)" not in said(lost), said(lost)
