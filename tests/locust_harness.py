"""``python -m tests.locust_harness ARGS``: ``python -m harness ARGS`` with ``harness locust``'s
Locust forked from the Locust zygote (tests/locust_zygote.py) instead of started afresh — what a
test forks from the automations' zygote where it reads what a ``harness locust`` process and its
Locust printed, or runs one beside another (a distributed run's workers)."""

from harness.cli import _locust, main

from . import locust_zygote

_locust._popen = locust_zygote.popen
main()
