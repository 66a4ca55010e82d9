"""harness: prove an event-driven automation holds before handoff."""
