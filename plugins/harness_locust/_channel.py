"""Frames between a Locust process and its recorder process: a length, then a pickle.

Both ends are this package's own code on one machine, started one by the other; the frames
carry a PreparedRun and delivery rows one way, readiness and the verdicts' outcome the other.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any

HEADER = struct.Struct("!I")


def frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def unframe(data: bytes) -> Any:
    return pickle.loads(data)
