"""Job ids: 24 lowercase hex characters, ordered by creation time (ObjectId-like).

Layout (12 bytes): 6 bytes of milliseconds since the epoch, 3 bytes of a per-engine counter,
3 bytes of per-engine randomness (:class:`JobIds`, one per engine — no module state). Ids
from one engine sort in creation order even within one millisecond; ids from different
engines sort by millisecond. The randomness is renewed in a child after ``fork`` so two
processes never share a sequence.

:func:`check_job_id` is the one check of a job id a script, a CLI user or an HTTP client
gives (the bindings call it too), with one message.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time

from sysjobs.jobs.values import bad

_ID = re.compile(r"[0-9a-f]{24}\Z")
#: What a job id looks like, as every message says it.
ID_ALLOWED = "a job id of 24 lowercase hexadecimal characters (0-9, a-f)"


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch (the unit of every stored time)."""
    return time.time_ns() // 1_000_000


class JobIds:
    """One engine's id source: the creation millisecond, then a sequence and a random node,
    so ids of one engine created in the same millisecond sort in creation order.

    Each engine has its own (``EngineParts.ids``), never a module's; a forked process
    draws a new node and sequence start, so parent and child never repeat an id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._node = 0
        self._seq = 0

    def new(self, at_ms: int | None = None) -> str:
        """A fresh id for a job created at ``at_ms`` (now by default)."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._node = secrets.randbelow(1 << 24)
                self._seq = secrets.randbelow(1 << 23)
            self._seq = (self._seq + 1) & 0xFFFFFF
            seq, node = self._seq, self._node
        return _job_id(now_ms() if at_ms is None else at_ms, seq, node)


def new_job_id(at_ms: int | None = None) -> str:
    """A fresh id for a job created at ``at_ms`` (now by default), with a random suffix —
    for callers without an engine; an engine's ids come from its :class:`JobIds`."""
    ms = now_ms() if at_ms is None else at_ms
    return _job_id(ms, secrets.randbelow(1 << 24), secrets.randbelow(1 << 24))


def _job_id(ms: int, seq: int, node: int) -> str:
    return f"{ms & 0xFFFFFFFFFFFF:012x}{seq:06x}{node:06x}"


def is_job_id(value: object) -> bool:
    """Whether ``value`` is a well-formed job id."""
    return isinstance(value, str) and _ID.match(value) is not None


def check_job_id(value: object, parameter: str = "jobId") -> str:
    """``value`` if it is a job id, else ``BadRequest`` naming the parameter."""
    if not is_job_id(value):
        raise bad(parameter, value, ID_ALLOWED)
    return str(value)


def id_time_ms(job_id: str) -> int:
    """The creation millisecond encoded in a job id."""
    return int(check_job_id(job_id)[:12], 16)
