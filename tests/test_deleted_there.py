"""Records the clean run deleted (harness/invariants/_deleted.py): found by its last committed
write of the record, and said by what this run did to it after its own DELETE, if any."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

from harness.core._model import ISSUED_MARK, Effect, Event, Model, Status
from harness.history import History, Mark, RunInfo
from harness.invariants._deleted import deleted_here, deleted_text, deleted_there
from harness.invariants._requests import Request
from harness.invariants._shortfalls import Level, Short, _deleted_instead

from .test_duplicates_unattributed import ok, run
from .test_record_attribution import verdict_of


def write(n: int, method: str, key: str, committed: bool = True) -> Effect:
    path = f"/subscriptions/{key}"
    return Effect(f"eff_{n}", "crm", float(n), method, path, {}, "{}", 200, (), key, committed)


RUN = RunInfo("clean@zq", "clean", 1, "http://127.0.0.1:1/", "t", Model.REGISTER, (), "", "zq")


def clean(*effects: Effect) -> History:
    return History(RUN, [], [], list(effects))


def test_a_record_whose_last_write_there_was_a_delete() -> None:
    baseline = clean(write(1, "PUT", "s1"), write(2, "DELETE", "s1"), write(3, "PUT", "s2"))
    found = deleted_there(baseline, {"s1", "s2", "s3"}, str, str)
    assert list(found) == ["s1"] and found["s1"].id == "eff_2"


def test_a_refused_delete_deleted_nothing() -> None:
    baseline = clean(write(1, "PUT", "s1"), write(2, "DELETE", "s1", committed=False))
    assert deleted_there(baseline, {"s1"}, str, str) == {}


def test_what_this_run_did_after_its_own_delete() -> None:
    delete = write(9, "DELETE", "s1")
    back = deleted_text(
        delete, [write(1, "PUT", "s1"), write(2, "DELETE", "s1"), write(3, "PUT", "s1")]
    )
    assert back.endswith(
        "; here PUT /subscriptions/s1 (eff_3) came after this run's DELETE /subscriptions/s1 "
        "(eff_2) and brought it back"
    ), back
    never = deleted_text(delete, [write(1, "PUT", "s1"), write(2, "DELETE", "s1", committed=False)])
    assert never.endswith("its last write of the record; never deleted here"), never


def test_the_records_a_run_left_deleted() -> None:
    writes = [write(1, "PUT", "s1"), write(2, "DELETE", "s1"), write(3, "DELETE", "s2")]
    writes += [write(4, "PUT", "s2"), write(5, "DELETE", "s3", committed=False)]
    assert deleted_here(writes) == {"s1"}


def _deletions_short(
    clean: tuple[int, int], here: tuple[int, int]
) -> tuple[Short, Request, Counter[Request], Counter[tuple[str, Request]]]:
    """A record short of ``DELETE /contacts/{id}``: (creations, deletions) of its clean twin
    and here."""
    create, delete = Request("crm", "POST", "/contacts"), Request("crm", "DELETE", "/contacts/{id}")
    wanted = Counter({create: clean[0], delete: clean[1]})
    by_record = Counter({("c1", create): here[0], ("c1", delete): here[1]})
    short = Short(Level.RECORD, "c1", delete, clean[1], here[1], "clean", 3)
    return short, delete, wanted, by_record


def test_deletions_a_replace_never_found_to_make_are_not_called_lost() -> None:
    # A replace by delete and create: the clean twin created 3 and deleted all but the last;
    # here each of three updates at once found nothing, so 3 created and none deleted.
    found = _deleted_instead(*_deletions_short((3, 2), (3, 0)))
    assert found is not None and found.removal and (found.created, found.clean_created) == (3, 3)


def test_a_deletion_of_what_the_clean_run_left_none_of_stays_a_loss() -> None:
    # Created then deleted in the clean run (a contact.deleted event): here the deletion never
    # came — lost, not a deletion that found nothing.
    assert _deleted_instead(*_deletions_short((1, 1), (1, 0))) is None
    # Fewer creations here than there: not the race either.
    assert _deleted_instead(*_deletions_short((3, 2), (2, 0))) is None


def replaced(
    tag: str,
    lost: bool = False,
    marked: bool = True,
    baseline: History | None = None,
    query: str = "",
) -> History:
    """A sync that "upserts" a record's customer by deleting it and creating it anew, three
    changes a record, its writes naming the record alone; ``lost``: the last change's DELETE
    answered 503 and taken for done (the customer created all the same); ``marked``: the double
    marks the ids it makes up; ``query``: the creations' query string."""
    evs = [
        Event(f"evt_{tag}e{s}", f"{tag}k{s // 3}", s, "record.updated", 0.0, {}) for s in range(6)
    ]
    effects, marks = [], []
    for e in evs:
        n = e.seq % 3
        if n:
            gone = Effect(f"eff_{e.id}_d", "billing", e.seq + 0.05, "DELETE",
                          f"/customers/ds_{e.key}_{n - 1}", {}, "", 204, (), e.key)  # fmt: skip
            effects.append(replace(gone, status=503, committed=False) if lost and n == 2 else gone)
        made = Effect(f"eff_{e.id}_p", "billing", e.seq + 0.1, "POST", f"/customers{query}", {},
                      json.dumps({"attio_id": e.key, "n": n}), 201, (), e.key)  # fmt: skip
        effects.append(made)
        marks.append(
            Mark(made.at, ISSUED_MARK, json.dumps({"effect": made.id, "id": f"ds_{e.key}_{n}"}))
        )
    h = run(evs, [ok(e, 1) for e in evs], effects, tag=tag, baseline=baseline)
    h.marks = marks if marked else []
    return h


def test_a_delete_short_is_left_to_the_customers_standing_only_where_the_double_marks_them() -> (
    None
):
    """Where the double marks the ids it makes up, the customer a lost DELETE left standing is
    no_duplicate_effects' to count, and no_lost_events is inconclusive; where it does not (a
    real API forwarded to), nothing counts the customers standing: no_lost_events was
    inconclusive and no_duplicate_effects passed a deletion lost (review13). It fails, as
    before the replace-by-delete rule."""
    judged = {
        marked: {
            name: verdict_of(
                replaced("zqrun", True, marked, replaced("zqclean", marked=marked)), name
            )
            for name in ("no_lost_events", "no_duplicate_effects")
        }
        for marked in (True, False)
    }
    assert judged[True]["no_lost_events"].status is Status.INCONCLUSIVE
    assert judged[True]["no_duplicate_effects"].status is Status.FAIL
    lost = judged[False]["no_lost_events"]
    assert lost.status is Status.FAIL, lost.summary
    assert lost.summary.startswith("2 records short of DELETE /customers/{id}"), lost.summary
    for marked in (True, False):
        sound = verdict_of(
            replaced("zqrun", False, marked, replaced("zqclean", marked=marked)), "no_lost_events"
        )
        assert sound.status is Status.PASS, sound.summary


def test_a_delete_short_of_a_drifted_record_is_a_loss() -> None:
    """no_duplicate_effects does not count the customers standing of a record a drift hazard
    changed (its look-up by a renamed field may miss and create again): a DELETE short there
    is a loss, not left to it — it was inconclusive, and no_duplicate_effects passed."""
    h = replaced("zqrun", True, True, replaced("zqclean"))
    changed = {e.id: "old" for e in h.events if e.seq % 3 == 1}
    h.info.settings["drift"] = [{"kind": "rename", "path": "$.a", "to": "b", "events": changed}]
    assert verdict_of(h, "no_duplicate_effects").status is Status.PASS
    lost = verdict_of(h, "no_lost_events")
    assert lost.status is Status.FAIL, lost.summary
    assert lost.summary.startswith("2 records short of DELETE /customers/{id}"), lost.summary


def test_a_creation_under_a_query_string_is_removed_by_the_delete_of_its_item() -> None:
    """``POST /customers?expand=tax`` made ``ds_…``, and ``DELETE /customers/ds_…`` removed
    it: the creation was matched to its deletion with its query string on, never met, so
    every creation stood in both runs and a lost deletion (2 customers standing where the
    clean twin left 1) passed no_duplicate_effects."""
    h = replaced("zqrun", True, True, replaced("zqclean", query="?expand=tax"), "?expand=tax")
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert "(record zqrunk0: 2 created and left standing, where its clean twin left 1)" in (
        v.summary
    ), v.summary


def subscription(tag: str, writes: list[tuple[str, int | None]], clean: History | None) -> History:
    """A subscription's three events (created, updated, deleted; seqs 0-2), each delivered at
    once, and ``writes`` in time order: (method, the seq of the event it names; None: the
    record alone, as a DELETE of only the subscription's id)."""
    key = f"sub_{tag}"
    types = ("created", "updated", "deleted")
    evs = [
        Event(f"evt_{tag}{s}", key, s, f"subscription.{t}", 0.0, {}) for s, t in enumerate(types)
    ]
    effects = [
        Effect(
            f"eff_{tag}{n}",
            "crm",
            1.0 + n,
            method,
            f"/subscriptions/{key}",
            {},
            "{}",
            200,
            () if seq is None else (evs[seq].id,),
            key,
        )
        for n, (method, seq) in enumerate(writes)
    ]
    info = replace(RUN, run_id=f"run@{tag}", tracer_tag=tag)
    h = History(info, evs, [ok(e, 1) for e in evs], effects)
    h.baseline = clean
    return h


def test_a_subscription_updated_after_its_deletion_is_named_by_per_key_order() -> None:
    """The deletion's DELETE names only the subscription, so the walk had no event to order
    it by: the update written after it, bringing the subscription back, was not named (its
    writes otherwise in order, per_key_order passed). The clean run ended it deleted."""
    clean = subscription("zqclean", [("PUT", 0), ("PUT", 1), ("DELETE", None)], None)
    late = subscription("zqrun", [("PUT", 0), ("DELETE", None), ("PUT", 1)], clean)
    v = verdict_of(late, "per_key_order")
    assert v.status is Status.FAIL, v.summary
    assert "1 record brought back after its deletion" in v.summary, v.summary
    assert v.evidence.lines[0].startswith(
        "record sub_zqrun was brought back after its deletion: seq 1 (evt_zqrun1, eff_zqrun2) "
        "PUT /subscriptions/sub_zqrun at 3.00 s after DELETE /subscriptions/sub_zqrun "
        "(eff_zqrun1) at 2.00 s, which names no event"
    ), v.evidence.lines
    # Created again by a newer event after its deletion, as in the clean run: in order.
    again = [("PUT", 0), ("DELETE", None), ("PUT", 2)]
    clean = subscription("zqclean", again, None)
    v = verdict_of(subscription("zqrun", again, clean), "per_key_order")
    assert v.status is Status.PASS, v.summary
