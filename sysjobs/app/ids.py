"""Record, user and file ids: 24 lowercase hex characters, ordered by creation in a process.

Like a job id (ObjectId layout: seconds, a per-process random part, a counter), so every id
a script sees has the same shape and ``badRequest`` rules.
"""

from __future__ import annotations

import itertools
import os
import threading
import time

_PROCESS = os.urandom(5).hex()
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))
_LOCK = threading.Lock()
_PID = os.getpid()


def new_id() -> str:
    """A fresh id; re-seeds the process part after a fork so children never collide."""
    global _PROCESS, _PID
    with _LOCK:
        if os.getpid() != _PID:
            _PROCESS, _PID = os.urandom(5).hex(), os.getpid()
        count = next(_COUNTER) & 0xFFFFFF
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{_PROCESS}{count:06x}"
