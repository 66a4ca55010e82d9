"""Ctrl-C or SIGTERM before a Locust test began, ended in the main greenlet alone.

Python runs a signal handler in whichever greenlet is running when the signal comes: while the
master waits for its workers, that is often one of Locust's own (its CPU monitor, its heartbeat).
An exception raised there ends that greenlet, and Locust logs it as a crash with a traceback.
The handler raises only in the main greenlet; anywhere else it asks the hub to throw there.
"""

from __future__ import annotations

import gevent


class Stopped(SystemExit):
    """Ctrl-C or SIGTERM before the test began: exit code 3."""


def stop(*_: object) -> None:
    """The signal handler: end the main greenlet, never the one the signal interrupted."""
    hub = gevent.get_hub()
    main = hub.parent
    if gevent.getcurrent() is main:
        raise Stopped(3)
    hub.loop.run_callback(main.throw, Stopped(3))
