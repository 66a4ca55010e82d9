"""Bad input through the real entry point: a clear message, exit code 2, no traceback.

One table: (argv, expected exit code, a fragment the message must hold). Each case runs
``harness.cli.main`` in-process, as the ``harness`` command does, before anything is sent.
"""

from __future__ import annotations

import pytest

from harness.cli import main

LOOPBACK = "http://127.0.0.1:1/hooks"
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
]


@pytest.mark.parametrize(
    ("argv", "code", "fragment"), CASES, ids=[" ".join(c[0][-4:]) for c in CASES]
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
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert exit_.value.code == code, text
    assert fragment in text, text
    assert "Traceback" not in text
    assert not (tmp_path / "j.db").exists(), "a journal was written for refused input"
