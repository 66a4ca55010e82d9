"""tests/node-red/fanout.json: each paid order fanned out to three APIs — the customer to the CRM,
the invoice to billing, the receipt to the mailer — by a function node with three outputs and
one http request node, the order answered at once. At ``/hooks/fanout`` the calls' answers are
dropped on the floor; at ``/hooks/fanout-retried`` a 5xx or a connection error sends the call
again 2 s later, at most five times, with no Idempotency-Key (the forum's retry loop). Only
billing's ``POST /invoices`` is faulted, for 3 s (``tests/node-red/fanout-*.yaml``): an outage
(503, refused) or an ambiguous commit (the invoice made, then 502).

Each verdict is checked against what the journal shows: the invoices an outage cost, the
invoices a retry made twice.

Skipped only when npm cannot reach its registry to install Node-RED (tests/node_red.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from .node_red import FILES, NodeRed, started
from .test_node_red import TIMEOUT, Run, _held, _silent_fail, red, run

__all__ = ["red"]  # the session's Node-RED install, a fixture shared with test_node_red

pytestmark = pytest.mark.integration  # real processes: scheduled before the quick tests

INVOICES = "/invoices"
OTHERS = ("/customers", "/emails")


@pytest.fixture(scope="module")
def fanout(red: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRed]:
    with started(red, tmp_path_factory.mktemp("node-red"), FILES / "fanout.json") as running:
        yield running


def fanned(node_red: NodeRed, hook: str, kind: str, tmp_path: Path, code: int) -> Run:
    """``harness run tests/node-red/fanout-KIND.yaml`` against ``hook``: every order's customer
    and receipt made once (only billing is faulted), whatever its invoice."""
    r = run(node_red, str(FILES / f"fanout-{kind}.yaml"), tmp_path, hook=hook, code=code)
    for path in OTHERS:
        made = Counter(e.event_ids for e in r.history.effects if e.path == path and e.committed)
        assert sorted(made.values()) == [1] * len(r.history.events), (path, made)
    return r


def invoices(r: Run) -> Counter[str]:
    """Each order's invoices the billing API made (committed), by order id (their bodies name
    the order, not the event)."""
    made: Counter[str] = Counter()
    for effect in r.history.effects:
        if effect.path == INVOICES and effect.committed:
            made[re.findall(r'"order_id":\s*"([^"]+)"', effect.body)[0]] += 1
    return made


def _records(r: Run, invariant: str) -> set[str]:
    """The records of the events ``invariant``'s evidence names: some."""
    found = {m[1] for line in r.lines(invariant) if (m := re.search(r"\(record (\S+), ", line))}
    assert found, r.lines(invariant)
    return found


@pytest.mark.timeout(TIMEOUT)
def test_calls_whose_answers_are_dropped_lose_the_invoices_an_outage_refused(
    fanout: NodeRed, tmp_path: Path
) -> None:
    # Billing's 503s go nowhere: each order paid in the window keeps its customer and receipt
    # and never gets its invoice — a partial loss, named by the one call it lacks.
    r = fanned(fanout, "/hooks/fanout", "outage", tmp_path, 1)
    made = invoices(r)
    refused = [e for e in r.history.effects if e.path == INVOICES and not e.committed]
    lost = {e.key for e in r.history.events if made[e.key or ""] == 0}
    assert refused and len(lost) == len(refused), (lost, refused)
    assert all(n == 1 for n in made.values())
    n, events = len(lost), len(r.history.events)
    summary = _silent_fail(r, "no_lost_events", f"{n} of {events} accepted events lack expected")
    assert f"missing POST /invoices for {n}" in summary, summary
    assert all(
        re.search(
            r"made POST /customers eff_\d+; POST /emails eff_\d+ but never POST /invoices", line
        )
        for line in r.lines("no_lost_events")
    ), r.lines("no_lost_events")
    assert _records(r, "no_lost_events") <= lost
    recovered = r.verdicts["recovers_after_outage"]
    assert recovered["status"] == "fail"
    assert recovered["summary"].startswith(f"{n} of {n} events accepted during 1 fault window")
    _held(r, "no_duplicate_effects", "ack_within", "target_available")


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(
    ("hook", "kind", "status"),
    [
        # The outage's refused invoices sent again 2 s later until billing takes them: the
        # retries' 503s are no effect, and every order gets one invoice, late.
        ("/hooks/fanout-retried", "outage", 503),
        # Billing made each invoice and answered 502, and the flow never looked: nothing is
        # missing or repeated — no verdict may fail what the API did take.
        ("/hooks/fanout", "commit-then-fail", 502),
    ],
)
def test_every_order_invoiced_once_holds(
    fanout: NodeRed, tmp_path: Path, hook: str, kind: str, status: int
) -> None:
    r = fanned(fanout, hook, kind, tmp_path, 0)
    made = invoices(r)
    assert sorted(made.values()) == [1] * len(r.history.events), made
    assert any(e.path == INVOICES and e.status == status for e in r.history.effects)
    _held(r, *r.verdicts)


@pytest.mark.timeout(TIMEOUT)
def test_a_retry_loop_without_a_key_invoices_an_ambiguous_commit_again(
    fanout: NodeRed, tmp_path: Path
) -> None:
    # Each 502 sends the invoice again, made again: the orders paid in the window are invoiced
    # two or three times, and the verdict names them and counts every repeated POST.
    r = fanned(fanout, "/hooks/fanout-retried", "commit-then-fail", tmp_path, 1)
    made = invoices(r)
    twice = {order for order, n in made.items() if n > 1}
    assert twice and len(made) == len(r.history.events), made
    repeats = sum(n - 1 for n in made.values())
    _silent_fail(
        r,
        "no_duplicate_effects",
        f"{len(twice)} of {len(r.history.events)} events produced duplicate effects: "
        f"{repeats} repeated requests ({repeats} POST)",
    )
    assert _records(r, "no_duplicate_effects") <= twice
    _held(r, "no_lost_events", "ack_within", "recovers_after_outage", "target_available")


@pytest.mark.timeout(TIMEOUT)
def test_a_copy_taken_while_the_first_is_retried_is_told_it_was_worked_again(
    fanout: NodeRed, tmp_path: Path
) -> None:
    # One order delivered twice into a 3 s outage of every API, the copy 0.3 s after the
    # first was answered: each copy's calls refused 503, retried 2 s later by the flow's loop,
    # and made — the order's customer and receipt twice. harness explore's minimal schedule of
    # downstream-outage at this hook; no_duplicate_effects named no cause (no race of two
    # requests, no copy sent after a write).
    r = run(
        fanout, str(FILES / "fanout-copy-in-outage.yaml"), tmp_path, hook="/hooks/fanout-retried"
    )
    h = r.history
    [order] = {d.event_id for d in h.deliveries}
    first, second = sorted(h.deliveries, key=lambda d: d.sent_at)
    assert first.answered_at is not None and first.answered_at < second.sent_at
    made = Counter(e.path for e in h.effects if e.committed and order in e.event_ids)
    assert made["/customers"] == made["/emails"] == 2, made
    written = min(e.at for e in h.effects if e.committed)
    assert second.answered_at is not None and second.answered_at < written
    dup = r.verdicts["no_duplicate_effects"]
    assert dup["status"] == "fail", dup
    assert (
        "all of them written again by a copy accepted after the first was answered but before "
        f"the event's first write (e.g. {first.id} and {second.id}, the later sent "
    ) in dup["summary"], dup["summary"]
    assert (
        "the target works after it answers, and worked the later copy as a new event while the "
        "first's work was pending, and no copy of any event was skipped: nothing in this run "
        "shows that the automation deduplicates"
    ) in dup["summary"], dup["summary"]
