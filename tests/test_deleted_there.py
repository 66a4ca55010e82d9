"""Records the clean run deleted (harness/invariants/_deleted.py): found by its last committed
write of the record, and said by what this run did to it after its own DELETE, if any."""

from __future__ import annotations

from harness.core._model import Effect, Model
from harness.history import History, RunInfo
from harness.invariants._deleted import deleted_here, deleted_text, deleted_there


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
