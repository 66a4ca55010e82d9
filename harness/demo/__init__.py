"""Two bundled demo automations (targets) that ``harness demo`` starts on loopback.

``fragile`` is the naive webhook receiver most automations start as; ``sound`` is what a
careful engineer builds. Both consume the same events and write to the same downstream, so a
run against each shows what the harness finds and what it does not.
"""
