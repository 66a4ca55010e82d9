"""The report draws each deploy restart a run made — where its hook was called, until it
returned — beside the fault windows on the timeline (HTML and Markdown), and the JSON lists
them (``restarts``: docs/report-json.md). A real run: the ASGI app, a restart hook that
takes 0.3 s."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report._charts import COLORS

from .conftest import harness
from .test_deploy_restart import SHORT


def test_the_report_draws_and_lists_each_restart_and_none_where_there_was_none(
    tmp_path: Path,
) -> None:
    (tmp_path / "harness.yaml").write_text(
        "target: tests.project_asgi:app/webhooks/stripe\n"
        "restart: {command: [sh, -c, 'sleep 0.3']}\n"
    )
    (tmp_path / "short.yaml").write_text(SHORT)  # a restart 0.1 s in
    (tmp_path / "plain.yaml").write_text(SHORT.replace("restarts: [0.1s]\n", "").replace(
        "name: short-deploy", "name: plain"))  # fmt: skip
    journal = tmp_path / "j.db"
    done = harness(
        "run", "plain.yaml", "short.yaml", "--journal", str(journal),
        "--downstream", "127.0.0.1:0", "--report", str(tmp_path / "r.json"), cwd=tmp_path,
    )  # fmt: skip
    assert done.code in (0, 1), done.err  # an app that calls nothing: judged, either way
    plain, deployed = json.loads((tmp_path / "r.json").read_text())["runs"]
    assert plain["restarts"] == []
    [restart] = deployed["restarts"]
    assert restart["at"] == 0.1 and restart["started"] >= 0.1
    assert restart["took"] >= 0.3 and restart["ended"] >= restart["started"] + 0.3
    assert restart["interrupted"] is False and restart["calendar"] is None

    for suffix in ("html", "md"):
        checked = harness("check", str(journal), "--report", str(tmp_path / f"r.{suffix}"))
        assert checked.code in (0, 1), checked.err
    html = (tmp_path / "r.html").read_text()
    label = f"deploy restart at {restart['started']:.2f} s: the restart hook took "
    first, second = html.split('id="run-2-short-deploy"')
    assert label not in first and COLORS["restart"] not in first  # the plain run: none drawn
    assert f"<g><title>{label}" in second, "no restart on the timeline"
    assert f'stroke="{COLORS["restart"]}"' in second
    assert ">deploy restart</span>" in second  # the legend
    assert f"In purple, from the hook's call to its return: {label}" in second
    md = (tmp_path / "r.md").read_text()
    assert md.count("\nrestarts ") == 1 and "┃" in md
    assert f"Deploy restarts (`┃`): {label}" in md
