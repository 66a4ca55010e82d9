"""JUnit XML for CI systems: a test suite per run, a test case per invariant.

A failed verdict is a ``<failure>`` whose text is its evidence; an inconclusive one is a
``<failure type="inconclusive">`` too, since readiness was not shown (the CLI exits 1 for it
as well). The run's plain-words description and reproduce line go to ``<system-out>``. A
hazard that did not apply is a suite of one skipped case; the invariants the project left out
(``leave_out:``) are one suite of skipped cases, one per invariant, saying why — once, as the
project decided it once for every hazard.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..core._scenario import Skipped
from ._left_out import line
from ._views import LeftOutView, Report, ScenarioView, VerdictView

# XML 1.0 cannot carry most control characters, even escaped; a body may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(report: Report) -> str:
    root = ET.Element(
        "testsuites",
        name="harness",
        tests=str(report.checks),
        failures=str(report.checks - report.held),
        errors="0",
    )
    for s in report.scenarios:
        root.append(_suite(s))
    for skipped in report.skipped:
        root.append(_skipped(skipped))
    if report.left_out:
        root.append(_left_out(report.left_out))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(s: ScenarioView) -> ET.Element:
    failures = sum(not v.passed for v in s.verdicts)
    suite = ET.Element(
        "testsuite",
        name=_clean(f"{s.target_name} · {s.scenario}"),
        tests=str(len(s.verdicts)),
        failures=str(failures),
        errors="0",
        skipped="0",
        timestamp=s.started_at,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", s.run_id),
        ("target", s.target),
        ("seed", str(s.seed)),
        ("model", s.model),
        ("status", s.status),
        ("reproduce", s.reproduce),
    ):
        ET.SubElement(props, "property", name=name, value=_clean(value))
    for v in s.verdicts:
        suite.append(_case(s, v))
    out = ET.SubElement(suite, "system-out")
    out.text = _clean("\n".join([*s.done, f"Reproduce: {s.reproduce}"]))
    return suite


def _skipped(skipped: Skipped) -> ET.Element:
    """A hazard that did not apply, or was not tried: a suite of one skipped case, saying
    why (``secret-rotation not tried: set …``)."""
    suite = ET.Element(
        "testsuite", name=_clean(skipped.name), tests="1", failures="0", errors="0", skipped="1"
    )
    case = ET.SubElement(suite, "testcase", classname=f"harness.{skipped.name}", name="applies")
    ET.SubElement(case, "skipped", message=_clean(skipped.said))
    return suite


def _left_out(left: Sequence[LeftOutView]) -> ET.Element:
    """The invariants the project left out: a suite of skipped cases, each with the reason."""
    suite = ET.Element(
        "testsuite",
        name="left out by the project",
        tests=str(len(left)),
        failures="0",
        errors="0",
        skipped=str(len(left)),
    )
    for x in left:
        case = ET.SubElement(suite, "testcase", classname="harness.left_out", name=x.invariant)
        ET.SubElement(case, "skipped", message=_clean(line(x)))
    return suite


def _case(s: ScenarioView, v: VerdictView) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=_clean(f"harness.{s.target_name}.{s.scenario}"),
        name=v.invariant,
        time="0",
    )
    if not v.passed:
        kind = "inconclusive" if v.status == "inconclusive" else v.failure_class
        failure = ET.SubElement(case, "failure", message=_clean(v.summary), type=kind)
        failure.text = _clean("\n".join([v.summary, *v.lines, f"Reproduce: {s.reproduce}"]))
    return case
