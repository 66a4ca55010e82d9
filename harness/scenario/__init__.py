"""Scenario and suite files: YAML read with its lines, validated with file:line errors, built into
the Scenario of ``core._scenario``; the built-ins found by name."""
