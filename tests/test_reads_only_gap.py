"""An attribution gap made of reads alone: no correlate: rule to advise. Found sweeping
tests/gallery/fetch_upsert.py through `harness init` + `harness run standard`: its look-ups
(`GET /customers?attio_id=…`, `GET /v2/objects/…/records/…`) were all it made — the record
fetch answered 404 under init's default double and it answered 500 — and per_key_order said
"add a correlate: rule mapping a field of GET /customers to the event field it comes from"."""

from __future__ import annotations

from harness.core._model import Status

from .test_invariants import delivery, effect, event, history, one


def test_reads_alone_say_nothing_was_written_and_advise_no_rule() -> None:
    reads = [
        effect(f"eff_{n}", [], 0.1 * n, method="GET", path=f"/customers?q={n}") for n in (1, 2)
    ]
    h = history([event(1), event(2)], [delivery("dlv_1", "evt_1")], reads)
    v = one(h, "per_key_order")
    assert v.status is Status.INCONCLUSIVE
    assert v.summary.endswith(
        "each is a read, which changes nothing: no write reached a downstream double to be "
        "judged (no correlate: rule would change that)"
    ), v.summary
    assert "correlate: rule mapping" not in v.summary


def test_a_write_among_them_still_gets_the_rule_for_its_route() -> None:
    effects = [
        effect("eff_1", [], 0.1, method="GET", path="/customers?q=1"),
        effect("eff_2", [], 0.2, path="/customers"),
    ]
    h = history([event(1)], [delivery("dlv_1", "evt_1")], effects)
    v = one(h, "per_key_order")
    assert v.status is Status.INCONCLUSIVE
    assert "add a correlate: rule mapping a field of POST /customers" in v.summary, v.summary
