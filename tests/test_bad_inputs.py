"""Bad input through the real entry point: a clear message, exit code 2, no traceback.

One table: (argv, expected exit code, a fragment the message must hold). Each case runs
``harness.cli.main`` in-process, as the ``harness`` command does, before anything is sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

LOOPBACK = "http://127.0.0.1:1/hooks"

SMALL = """\
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: EVENTS
    records: 2
    over: 1s
    key: $.data.order_id
perturbations: PERTURBATIONS
"""


def small(events: int = 4, perturbations: str = "[]") -> str:
    return SMALL.replace("EVENTS", str(events)).replace("PERTURBATIONS", perturbations)


def nested(depth: int) -> str:
    return small().replace("{order_id: ord_1}", "[" * depth + "1" + "]" * depth)


# Files the cases name as {tmp}/<name>, written before each case.
FILES = {
    "huge-events.scenario.yaml": small(50_000_000),
    "huge-events-30.scenario.yaml": small(10**30),
    "huge-copies.scenario.yaml": small(perturbations="[{duplicate: {rate: 1, copies: 100000000}}]"),
    "huge-replay.scenario.yaml": small(perturbations="[{replay: {times: 100000000}}]"),
    "many-deliveries.scenario.yaml": small(
        1_000_000, "[{duplicate: {rate: 1, copies: 100}}, {replay: {times: 9}}]"
    ),
    "deep-70.scenario.yaml": nested(70),
    "deep-5000.scenario.yaml": nested(5000),
    "crlf-header.scenario.yaml": small()
    + 'delivery: {signing: none, headers: {X-Tenant: "a\\r\\nX-Admin: 1"}}\n',
    "unbalanced-route.scenario.yaml": small()
    + "downstreams: [{name: api, routes: [{method: POST, path: '/deals/{id'}]}]\n",
    "self.suite.yaml": "suite: [self.suite.yaml]\n",
    "a.suite.yaml": "suite: [b.suite.yaml]\n",
    "b.suite.yaml": "suite: [a.suite.yaml]\n",
}
RUN_AT = ["--target", "http://127.0.0.1:1/hooks", "--journal", "{tmp}/j.db"]
RUN = ["run", "duplicate-storm", "--journal", "{tmp}/j.db"]

CASES: list[tuple[list[str], int, str]] = [
    # --target: URLs a client would dial differently from what the check saw, or cannot dial
    ([*RUN, "--target", "http://127.0.0.1:99999/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://127.0.0.1:abc/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://[::1/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://[zz::1]:8000/h"], 2, "not a valid URL"),
    ([*RUN, "--target", "http://127.0.0.1:0/h"], 2, "port 0"),
    ([*RUN, "--target", "http://example.com\\@127.0.0.1:8000/h"], 2, "backslash"),
    ([*RUN, "--target", "http://127.0.0.1:8000/h ook"], 2, "a space"),
    ([*RUN, "--target", "http://127.0.0.1:8000/h\r\nX-Evil: 1"], 2, "control character"),
    ([*RUN, "--target", "http://user:pw@127.0.0.1:8000/h"], 2, "user name or password"),
    ([*RUN, "--target", "http://user@127.0.0.1:8000/h"], 2, "user name or password"),
    ([*RUN, "--target", "http:///h"], 2, "has no host"),
    ([*RUN, "--target", "http://10.0.0.8:8000/h"], 2, "outside loopback"),
    ([*RUN, "--target", "http://169.254.169.254/latest"], 2, "outside loopback"),
    ([*RUN, "--target", "ftp://127.0.0.1/h"], 2, "neither a URL nor module:attr"),
    ([*RUN, "--target", "127.0.0.1:8000"], 2, "neither a URL nor module:attr"),
    # --target module:attr that is not an ASGI app
    ([*RUN, "--target", "os:getcwd"], 2, "not an ASGI app"),
    ([*RUN, "--target", "json:dumps"], 2, "not an ASGI app"),
    ([*RUN, "--target", "os:sep"], 2, "not an ASGI app"),
    ([*RUN, "--target", "no_such_module_here:app"], 2, "cannot import"),
    ([*RUN, "--target", "os:no_such_attr"], 2, "has no attribute"),
    # the double listens on loopback unless one flag says otherwise
    ([*RUN, "--target", LOOPBACK, "--downstream", "0.0.0.0:0"], 2, "--listen-beyond-loopback"),
    ([*RUN, "--target", LOOPBACK, "--downstream", "[::]:0"], 2, "--listen-beyond-loopback"),
    (["downstream", "--listen", "0.0.0.0:0", "--for", "1"], 2, "--listen-beyond-loopback"),
    (
        ["locust", "duplicate-storm", "--target", LOOPBACK, "--downstream", "0.0.0.0:0"],
        2,
        "--listen-beyond-loopback",
    ),
    # --report: refused before the run, not after it
    ([*RUN, "--target", LOOPBACK, "--report", "{tmp}/dir.json"], 2, "is a directory"),
    ([*RUN, "--target", LOOPBACK, "--report", "{tmp}/file.txt/r.json"], 2, "is a file"),
    ([*RUN, "--target", LOOPBACK, "--report", "{tmp}/r.pdf"], 2, "report format"),
    (["report", "{tmp}/none.db", "-o", "{tmp}/dir.json"], 2, "is a directory"),
    # harness downstream --for and harness sign --secret
    (["downstream", "--listen", "127.0.0.1:0", "--for", "-1"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "0"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "nan"], 2, "not a usable duration"),
    (["downstream", "--listen", "127.0.0.1:0", "--for", "inf"], 2, "not a usable duration"),
    (["sign", "--provider", "stripe", "--secret", "", "{tmp}/file.txt"], 2, "--secret is empty"),
    # scenario files: sizes that would hang or exhaust memory, nesting, suites that loop
    (["run", "{tmp}/huge-events.scenario.yaml", *RUN_AT], 2, "the limit is 5,000,000"),
    (["run", "{tmp}/huge-events-30.scenario.yaml", *RUN_AT], 2, "HARNESS_MAX_DELIVERIES="),
    (["run", "{tmp}/huge-copies.scenario.yaml", *RUN_AT], 2, "an integer from 2 to 100"),
    (["run", "{tmp}/huge-replay.scenario.yaml", *RUN_AT], 2, "an integer from 1 to 100"),
    (["run", "{tmp}/many-deliveries.scenario.yaml", *RUN_AT], 2, "plans about 1,000,000,000"),
    (["run", "{tmp}/deep-70.scenario.yaml", *RUN_AT], 2, "nested more than 64 levels"),
    (["run", "{tmp}/deep-5000.scenario.yaml", *RUN_AT], 2, "nested far more than 64 levels"),
    (["run", "{tmp}/crlf-header.scenario.yaml", *RUN_AT], 2, "must be one line"),
    (["run", "{tmp}/unbalanced-route.scenario.yaml", *RUN_AT], 2, "'{id'"),
    (["run", "{tmp}/self.suite.yaml", *RUN_AT], 2, "this suite or one that includes it"),
    (["run", "{tmp}/a.suite.yaml", *RUN_AT], 2, "this suite or one that includes it"),
]


@pytest.mark.parametrize(
    ("argv", "code", "fragment"), CASES, ids=[" ".join(c[0][:2] + c[0][-2:]) for c in CASES]
)
def test_bad_input_is_refused_before_anything_is_sent(
    argv: list[str],
    code: int,
    fragment: str,
    tmp_path: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "file.txt").write_text("{}")
    (tmp_path / "dir.json").mkdir()
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert exit_.value.code == code, text
    assert fragment in text, text
    assert "Traceback" not in text
    assert not (tmp_path / "j.db").exists(), "a journal was written for refused input"


def test_a_secret_the_scheme_cannot_use_is_one_message_before_any_delivery(
    tmp_path: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", "whsec_this is not base64!")
    with pytest.raises(SystemExit) as exit_:
        main(["run", "duplicate-storm", *[a.replace("{tmp}", str(tmp_path)) for a in RUN_AT]])
    out = capsys.readouterr()
    text = out.out + out.err
    assert exit_.value.code == 2, text
    assert "the secret in HARNESS_SECRET" in text and "not base64" in text
    assert text.count("not base64") == 1 and "Traceback" not in text
    assert "this is not" not in text  # the secret itself is never echoed
    assert not (tmp_path / "j.db").exists()


def test_an_internal_error_is_one_line_a_crash_file_and_exit_70(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import re
    import tempfile

    from harness.scenario import _load

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the crash file goes here

    def broken() -> list[tuple[str, str, str]]:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(_load, "builtin_catalogue", broken)
    with pytest.raises(SystemExit) as exit_:
        main(["scenarios"])
    err = capsys.readouterr().err
    assert exit_.value.code == 70
    assert "internal error in harness" in err and "Traceback" not in err
    crash = re.search(r"the traceback is in (\S+harness-crash-\S+\.txt)", err)
    assert crash, err
    path = Path(crash.group(1))
    assert path.parent == tmp_path
    assert "RuntimeError: a bug of ours" in path.read_text(encoding="utf-8")
