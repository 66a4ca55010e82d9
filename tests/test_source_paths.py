"""Paths into the events must lead somewhere: refused at load time with the file, the line, the
lines of a recorded file that lack the path and the paths that do exist (issue #11, point 8)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.core._errors import InputError, ScenarioError
from harness.drive._sample import Sample
from harness.scenario._load import _Invalid, load_scenario, require_path

from .conftest import harness

SYNTHETIC = """\
name: paths
source:
  synthetic:
    example:
      id: evt_1
      type: order.paid
      sequence: 1
      occurred_at: "2026-01-01T00:00:00Z"
      data: {order_id: ord_1, email: ada@example.com}
    events: 4
    records: 2
    over: 1s
    id: %(id)s
    key: %(key)s
    type: %(type)s
    sequence: %(sequence)s
    time: %(time)s
"""
GOOD = {
    "id": "$.id",
    "key": "$.data.order_id",
    "type": "$.type",
    "sequence": "$.sequence",
    "time": "$.occurred_at",
}
LINES = {"id": 13, "key": 14, "type": 15, "sequence": 16, "time": 17}


def write(folder: Path, text: str) -> Path:
    path = folder / "s.scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def test_good_paths_load(tmp_path: Path) -> None:
    load_scenario(write(tmp_path, SYNTHETIC % GOOD))


@pytest.mark.parametrize("field", list(GOOD))
def test_a_synthetic_path_the_example_lacks_is_refused_at_its_line(
    tmp_path: Path, field: str
) -> None:
    typo = GOOD[field].replace(".", ".x", 1) if field != "key" else "$.data.ordr_id"
    path = write(tmp_path, SYNTHETIC % {**GOOD, field: typo})
    text = error_of(path)
    assert text.startswith(
        f"{path}:{LINES[field]}: source.synthetic.{field}: {typo!r} is not allowed — "
        "the example payload has no such field; it has $.id, $.type, $.sequence, "
        "$.occurred_at, $.data, $.data.order_id, $.data.email"
    ), text


def test_a_typo_is_answered_with_the_close_path(tmp_path: Path) -> None:
    path = write(tmp_path, SYNTHETIC % {**GOOD, "key": "$.data.order_idd"})
    assert error_of(path).endswith("— did you mean $.data.order_id?")


def test_synthetic_paths_left_at_their_default_are_written_as_before(tmp_path: Path) -> None:
    """``$.key`` (the default) is not in the example: written into each payload, as always."""
    path = write(
        tmp_path,
        """\
        source:
          synthetic: {example: {id: evt_1, data: {a: 1}}, events: 2, records: 1, over: 1}
        """,
    )
    assert load_scenario(path).source.key_path == "$.key"  # type: ignore[union-attr]


# --- recorded files ---------------------------------------------------------------------------


def recorded(folder: Path, lines: list[dict[str, object]], paths: str) -> Path:
    """A scenario reading ``lines`` from events.jsonl; ``paths`` (``id: $.id``, one a line)
    start at line 5."""
    (folder / "events.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    fields = "".join(f"    {line}\n" for line in paths.splitlines())
    return write(folder, f"name: rec\nsource:\n  recorded:\n    file: events.jsonl\n{fields}")


def checkout(n: int, customer: str | None = "cus_1") -> dict[str, object]:
    obj: dict[str, object] = {"id": f"cs_{n}", "amount_total": 2900}
    if customer is not None:
        obj["customer"] = customer
    return {"id": f"evt_{n}", "type": "checkout.session.completed", "data": {"object": obj}}


def test_a_recorded_key_no_line_has_is_refused_at_its_line(tmp_path: Path) -> None:
    """The issue's typo: every event would have had a made-up record of its own."""
    path = recorded(
        tmp_path,
        [checkout(n) for n in range(1, 11)],
        "id: $.id\nkey: $.data.object.custmer\ntype: $.type",
    )
    assert error_of(path) == (
        f"{path}:6: source.recorded.key: '$.data.object.custmer' is not allowed — no line of "
        "events.jsonl has a value there (10 lines read); line 1 has $.id, $.type, $.data, "
        "$.data.object, $.data.object.id, $.data.object.amount_total, $.data.object.customer"
        " — did you mean $.data.object.customer?"
    )


def test_a_recorded_path_missing_in_some_lines_names_the_first_few(tmp_path: Path) -> None:
    lines = [checkout(n, None if n % 4 == 0 else "cus_1") for n in range(1, 31)]
    path = recorded(tmp_path, lines, "id: $.id\nkey: $.data.object.customer")
    text = error_of(path)
    assert text.startswith(
        f"{path}:6: source.recorded.key: '$.data.object.customer' is not allowed — lines 4, 8, "
        "12, 16, 20 and 2 more of events.jsonl (7 of 30 lines) have no value there; line 4 has "
    ), text
    assert "did you mean" not in text


@pytest.mark.parametrize(("field", "line"), [("id", 5), ("type", 7)])
def test_each_recorded_path_is_checked(tmp_path: Path, field: str, line: int) -> None:
    paths = {"id": "$.id", "key": "$.data.object.customer", "type": "$.type"}
    paths[field] = "$.nope"
    text = "\n".join(f"{k}: {v}" for k, v in paths.items())
    path = recorded(tmp_path, [checkout(1)], text)
    assert error_of(path).startswith(
        f"{path}:{line}: source.recorded.{field}: '$.nope' is not allowed — no line of "
        "events.jsonl has a value there (1 line read)"
    )


def test_a_drift_of_a_field_no_recorded_line_has_is_refused(tmp_path: Path) -> None:
    path = recorded(tmp_path, [checkout(1), checkout(2)], "id: $.id")
    text = path.read_text() + "perturbations:\n  - drop_field: {path: $.data.object.emial}\n"
    path.write_text(text)
    assert error_of(path).startswith(
        f"{path}:7: perturbations[0].drop_field.path: '$.data.object.emial' is not allowed — "
        "no line of events.jsonl has a value there (2 lines read)"
    )


def test_a_bad_line_is_reported_at_load_time_with_its_line(tmp_path: Path) -> None:
    path = recorded(tmp_path, [checkout(1)], "id: $.id")
    (tmp_path / "events.jsonl").write_text(json.dumps(checkout(1)) + "\n{oops\n")
    with pytest.raises(InputError, match=r"events.jsonl:2: not JSON"):
        load_scenario(path)


# --- the checker other fields reuse (correlation rules) -----------------------------------------


def test_require_path_is_the_same_check_for_any_field(tmp_path: Path) -> None:
    sample = Sample("events.jsonl", ((1, checkout(1)), (2, checkout(2, None))))
    require_path(sample, "$.data.object.id", ("correlate", 0, "event"))  # in every line
    with pytest.raises(_Invalid) as info:
        require_path(sample, "$.data.object.customer", ("correlate", 0, "event"))
    assert info.value.loc == ("correlate", 0, "event")
    assert info.value.message.startswith(
        "correlate[0].event: '$.data.object.customer' is not allowed — line 2 of events.jsonl "
        "(1 of 2 lines) has no value there; line 2 has "
    )


def test_harness_run_refuses_it_before_sending_anything_exit_2(tmp_path: Path) -> None:
    """Port 9 has no listener: had the run started, it would have said the target is down."""
    path = recorded(tmp_path, [checkout(1)], "id: $.id\nkey: $.data.object.custmer")
    done = harness("run", str(path), "--target", "http://127.0.0.1:9/hooks")
    assert done.code == 2, done.err
    assert f"{path}:6: source.recorded.key: '$.data.object.custmer' is not allowed" in done.err
    assert "did you mean $.data.object.customer?" in done.err
    assert "Traceback" not in done.err
