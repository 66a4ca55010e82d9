"""The year section of the HTML report as a reader sees it, in headless Chromium: first, its
answer and timeline shown, one table row per month, nothing wider than a phone's screen."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.report import html as html_report
from harness.report._content import build_report, inputs

from .test_report_browser import DESKTOP, PHONE, chromium
from .test_trends import month_run

pytestmark = pytest.mark.integration  # one worker takes the module (conftest.py)

PROBE = """<!DOCTYPE html>
<html><body style="margin: 0">
<iframe id="page" style="border: 0; width: %(width)dpx; height: 1800px"
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
      if (s.display === "none" || s.visibility === "hidden") return false;
    }
    return true;
  }
  var year = doc.getElementById("year"), matrix = doc.getElementById("matrix");
  var svg = year && year.querySelector("figure.year-timeline svg");
  var out = {
    width: win.innerWidth,
    scrollWidth: doc.documentElement.scrollWidth,
    yearShown: shown(year),
    yearFirst: !!(year && matrix && year.getBoundingClientRect().top
                  < matrix.getBoundingClientRect().top),
    question: year ? year.querySelector("h2").textContent : "",
    answer: year ? year.querySelector(".year-answer").textContent.trim() : "",
    answerShown: shown(year && year.querySelector(".year-answer")),
    svgShown: shown(svg),
    svgHeight: svg ? svg.getBoundingClientRect().height : 0,
    svgInside: !!svg && svg.getBoundingClientRect().right <= doc.documentElement.clientWidth + 1,
    lifeMarks: svg ? svg.querySelectorAll("path > title").length : 0,
    rows: Array.prototype.map.call(
      doc.querySelectorAll("table.year-table tbody tr th"), function (th) {
        return th.textContent;
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


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of four month runs whose acks grow, one month losing events, a DST switch."""
    life = [{"kind": "dst", "on": "2028-03-26", "title": "DST starts"}]
    runs = [
        month_run(i, 0.5 * i, rss=50e6, lost=5 if i == 2 else 0, life=life if i == 3 else ())
        for i in range(1, 5)
    ]
    path = tmp_path_factory.mktemp("year") / "year.html"
    path.write_text(html_report.render(build_report(inputs(runs), environ={})))
    return path


def probe(page: Path, tmp: Path, width: int) -> dict[str, Any]:
    probed = tmp / f"probed-{width}.html"
    probed.write_text(PROBE % {"width": width, "page": html.escape(page.read_text())})
    dom = chromium(tmp, "--window-size=1400,1800", "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-1000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_year_answer_and_timeline_come_first(
    page: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    seen = probe(page, tmp_path, size[0])
    assert seen["width"] == size[0]
    assert seen["yearShown"] and seen["yearFirst"]
    assert seen["question"] == "If it runs twelve months with nobody watching, what breaks?"
    assert seen["answerShown"]
    assert seen["answer"].startswith("It breaks in month 2 (February 2028): lost events")
    assert seen["svgShown"] and seen["svgHeight"] > 100 and seen["svgInside"]
    assert seen["lifeMarks"] >= 1
    assert seen["rows"] == [
        "1 · January 2028",
        "2 · February 2028",
        "3 · March 2028",
        "4 · April 2028",
    ]
    assert seen["scrollWidth"] <= seen["width"]
