"""The report as a person sees it: a real run of the demo automations, its report opened in
headless Chromium at desktop and phone widths, and the DOM checked for what must be visible.

Set HARNESS_REPORT_SCREENSHOTS=<dir> to keep the screenshots for a look.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.core._paths import get, parse
from harness.history import load_all
from harness.invariants import INVARIANTS, judge
from harness.report.json import report_dict

from .conftest import SECRET, harness, start_automation
from .test_report import run_cli

pytestmark = pytest.mark.integration  # one worker takes the module (conftest.py)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
Size = tuple[int, int]  # width, height in CSS px
DESKTOP, PHONE = (1280, 1800), (390, 1800)
CARD = "4242424242424242"
API_TOKEN = "tok_live_browser0secret0value"

# Two small scenarios (well under a second of deliveries each) with a field to redact and
# secrets in the payload: the fragile automation fails both, the sound one passes.
PAYMENTS = """
name: twice-paid
model: ledger
source:
  synthetic:
    example: {{id: evt_1, type: order.paid, sequence: 1, occurred_at: "2026-01-01T00:00:00Z",
              data: {{order_id: ord_1, customer: {{name: Ada Lovelace, email: ada@example.com}},
                     amount: 10, currency: usd, note: hi there,
                     card_number: "{card}", api_token: {token}}}}}
    events: 24
    records: 6
    over: 0.6s
    id: $.id
    key: $.data.order_id
    sequence: $.sequence
    time: $.occurred_at
perturbations:
  - duplicate: {{rate: 0.5, copies: 2}}
redact: [$.data.customer.email]
settle: {{quiet: 0.4s, deadline: 10s}}
"""
CONTACTS = """
name: shuffled
model: register
source:
  synthetic:
    example: {{id: evt_1, type: contact.updated, sequence: 1, occurred_at: "2026-01-01T00:00:00Z",
              data: {{contact_id: con_1, name: Ada Lovelace, email: ada@example.com,
                     company: Analytical Engines Ltd, api_token: {token}}}}}
    events: 24
    records: 6
    over: 0.6s
    id: $.id
    key: $.data.contact_id
    type: $.type
    types: [contact.updated]
    sequence: $.sequence
    time: $.occurred_at
perturbations:
  - reorder: {{window: 4, rate: 1}}
redact: [$.data.email]
settle: {{quiet: 0.4s, deadline: 10s}}
"""
REDACTED = ("$.data.customer.email", "$.data.email", "$.data.card_number", "$.data.api_token")


def scenario(tmp: Path, name: str, template: str) -> Path:
    path = tmp / f"{name}.scenario.yaml"
    path.write_text(template.format(card=CARD, token=API_TOKEN))
    return path


@dataclass
class Run:
    journal: Path
    dir: Path
    html_from_run: Path


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Both demo automations driven by `harness run` (the fragile run writes report.html)."""
    tmp = tmp_path_factory.mktemp("report-run")
    files = [
        scenario(tmp, "twice-paid", PAYMENTS),
        scenario(tmp, "shuffled", CONTACTS),
    ]
    journal = tmp / "journal.db"
    for name in ("fragile", "sound"):
        automation = start_automation(name, tmp / name)
        try:
            r = harness(
                "run",
                *map(str, files),
                "--target",
                automation.hook,
                "--target-name",
                name,
                "--downstream",
                f"127.0.0.1:{automation.downstream_port}",
                "--seed",
                "7",
                "--journal",
                str(journal),
                "--report",
                str(tmp / f"{name}.html"),
                cwd=tmp,
            )
        finally:
            automation.service.stop()
        assert r.code == (1 if name == "fragile" else 0), r.out + r.err
    yield Run(journal, tmp, tmp / "fragile.html")


@pytest.fixture(scope="module")
def page(real_run: Run) -> Path:
    path = real_run.dir / "report.html"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_SECRET", SECRET)
        assert run_cli(str(real_run.journal), "-o", str(path)) == 1
    return path


@pytest.fixture(scope="module")
def seen_at(
    page: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Size], dict[str, Any]]:
    """What a reader sees of the page at a size: probed once per size (a Chromium each), read
    by every test of that size."""
    tmp = tmp_path_factory.mktemp("probed")
    probed: dict[Size, dict[str, Any]] = {}

    def at(size: Size) -> dict[str, Any]:
        if size not in probed:
            probed[size] = probe(page, tmp, size)
        return probed[size]

    return at


def chromium(tmp: Path, *args: str) -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


# The page goes into an iframe of the width under test (headless Chromium keeps its window at
# least 500 px wide), and this script reads what a reader sees there. The report itself has
# no script.
PROBE = """<!DOCTYPE html>
<html><body style="margin: 0">
<iframe id="page" style="border: 0; width: %(width)dpx; height: %(height)dpx"
        srcdoc="%(page)s"></iframe>
<script>
function probe(frame) {
  var doc = frame.contentDocument, win = frame.contentWindow;
  function shown(el) {
    if (!el) return false;
    var box = el.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return false;
    for (var e = el; e; e = e.parentElement) {
      var s = win.getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || Number(s.opacity) === 0) {
        return false;
      }
    }
    return true;
  }
  function inside(el) {
    var box = el.getBoundingClientRect();
    return box.left >= -1 && box.right <= doc.documentElement.clientWidth + 1;
  }
  function all(sel, root) {
    return Array.prototype.slice.call((root || doc).querySelectorAll(sel));
  }
  var out = {
    width: win.innerWidth,
    scrollWidth: doc.documentElement.scrollWidth,
    verdict: doc.querySelector("#verdict h1").textContent,
    verdictShown: shown(doc.getElementById("verdict")),
    fontPx: parseFloat(win.getComputedStyle(doc.querySelector("li.evidence-line")).fontSize),
    scenarios: all("article.scenario").map(function (a) {
      return {id: a.id, name: a.dataset.scenario, shown: shown(a.querySelector("h3"))};
    }),
    columns: all("table.matrix thead th span").map(function (th) { return th.textContent; }),
    matrix: all("table.matrix tbody tr").map(function (tr) {
      return {
        label: tr.querySelector("th a").textContent,
        cells: all("td.cell", tr).map(function (td) {
          var a = td.querySelector("a"), to = a && doc.getElementById(a.hash.slice(1));
          return {
            mark: td.textContent.trim(),
            shown: shown(td),
            invariant: to ? to.dataset.invariant : null,
            scenario: to ? to.closest("article").dataset.scenario : null
          };
        })
      };
    }),
    failing: all(".verdict.fail").map(function (v) {
      return {
        scenario: v.closest("article").id,
        invariant: v.dataset.invariant,
        summaryShown: shown(v.querySelector(".summary")),
        lines: all("li.evidence-line", v).map(function (li) {
          return {text: li.textContent, shown: shown(li), inside: inside(li)};
        })
      };
    })
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}
var frame = document.getElementById("page");
if (frame.contentDocument && frame.contentDocument.readyState === "complete"
    && frame.contentDocument.getElementById("verdict")) {
  probe(frame);
} else {
  frame.addEventListener("load", function () { probe(frame); });
}
</script>
</body></html>
"""


def probe(page: Path, tmp: Path, size: Size) -> dict[str, Any]:
    probed = tmp / f"probed-{size[0]}.html"
    fields = {"width": size[0], "height": size[1], "page": html.escape(page.read_text())}
    probed.write_text(PROBE % fields)
    dom = chromium(tmp, "--window-size=1400,1800", "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-1000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def expected(journal: Path) -> dict[str, Any]:
    runs = [(h, judge(h)) for h in load_all(journal)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_SECRET", SECRET)
        return report_dict(runs, journal)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_verdict_scenarios_and_failing_evidence_are_visible(
    seen_at: Callable[[Size], dict[str, Any]], real_run: Run, size: Size
) -> None:
    seen = seen_at(size)
    assert seen["width"] == size[0]
    assert seen["verdictShown"] and seen["verdict"] == "Not ready"
    doc = expected(real_run.journal)
    runs = doc["runs"]
    assert [s["name"] for s in seen["scenarios"]] == [r["scenario"] for r in runs]
    assert all(s["shown"] for s in seen["scenarios"])
    failing = [
        (r["scenario"], v["invariant"], v["evidence"]["lines"])
        for r in runs
        for v in r["verdicts"]
        if v["status"] == "fail"
    ]
    assert {inv for _, inv, _ in failing} >= {"no_duplicate_effects", "per_key_order"}
    assert len(seen["failing"]) == len(failing)
    for (scenario, invariant, lines), shown in zip(failing, seen["failing"], strict=True):
        assert shown["invariant"] == invariant and shown["summaryShown"], scenario
        assert [line["text"] for line in shown["lines"]] == lines
        assert all(line["shown"] and line["inside"] for line in shown["lines"]), shown
    # Nothing wider than the screen: no sideways scrolling to read the page.
    assert seen["scrollWidth"] <= seen["width"]
    assert seen["fontPx"] >= 14


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_matrix_shows_every_verdict_and_links_to_it(
    seen_at: Callable[[Size], dict[str, Any]], real_run: Run, size: Size
) -> None:
    """The headline: one row per run, one column per invariant, each mark a link to its verdict."""
    seen = seen_at(size)
    runs = expected(real_run.journal)["runs"]
    judged = {v["invariant"] for r in runs for v in r["verdicts"]}
    columns = [name for name in INVARIANTS if name in judged]  # the registry's order
    assert seen["columns"] == columns
    marks = {"pass": "✓", "fail": "✗", "inconclusive": "?"}
    assert [row["label"] for row in seen["matrix"]] == [
        f"{r['target_name']} · {r['scenario']}" for r in runs
    ]
    for run, row in zip(runs, seen["matrix"], strict=True):
        status = {v["invariant"]: v["status"] for v in run["verdicts"]}
        assert [c["mark"] for c in row["cells"]] == [marks[status[n]] for n in columns]
        assert [c["invariant"] for c in row["cells"]] == columns, row
        assert {c["scenario"] for c in row["cells"]} == {run["scenario"]}
        assert all(c["shown"] for c in row["cells"]), row
    assert seen["scrollWidth"] <= seen["width"]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots(page: Path, tmp_path: Path, size: Size) -> None:
    shot = tmp_path / f"report-{size[0]}.png"
    chromium(tmp_path, f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    keep = os.environ.get("HARNESS_REPORT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


def test_run_report_option_writes_html(real_run: Run) -> None:
    page = real_run.html_from_run.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Not ready" in page
    assert "twice-paid" in page and "shuffled" in page


def test_no_secret_of_the_run_appears_in_any_format(real_run: Run, tmp_path: Path) -> None:
    histories = load_all(real_run.journal)
    secrets = {SECRET, CARD, API_TOKEN}
    for h in histories:
        for e in h.events:
            secrets.update(str(get(e.payload, parse(p), "")) for p in REDACTED)
    secrets.discard("")
    # The fragile automation forwards the email downstream: it is in the effects' bodies.
    assert any(s in e.body for h in histories for e in h.effects for s in secrets)
    outputs = [real_run.html_from_run]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_SECRET", SECRET)
        for ext in ("html", "md", "json", "xml"):
            path = tmp_path / f"report.{ext}"
            run_cli(str(real_run.journal), "-o", str(path))
            outputs.append(path)
    for path in outputs:
        text = path.read_text(encoding="utf-8")
        leaked = sorted(s for s in secrets if s in text)
        assert leaked == [], path.name
