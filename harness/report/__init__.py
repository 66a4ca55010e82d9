"""The production-readiness report: what it says (``_content``) and how it is written.

``build_report`` turns histories and verdicts into a redacted content model; the writers
(``html``, ``markdown``, ``junit``, and ``harness.report.json``) render that model only, so
no writer can show what redaction removed. ``_writers`` maps format names and file
extensions to writers.
"""
