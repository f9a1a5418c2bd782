"""Job ids: 24 lowercase hex characters, ordered by creation time (ObjectId-like).

Layout (12 bytes): 6 bytes of milliseconds since the epoch, 3 bytes of a per-process counter,
3 bytes of per-process randomness. Ids from one process sort in creation order even within
one millisecond; ids from different processes sort by millisecond. The randomness is renewed
in a child after ``fork`` so two processes never share a sequence.

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
_lock = threading.Lock()
_state: dict[str, int] = {}


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch (the unit of every stored time)."""
    return time.time_ns() // 1_000_000


def _next_suffix() -> tuple[int, int]:
    with _lock:
        if _state.get("pid") != os.getpid():
            _state.update(
                pid=os.getpid(), node=secrets.randbelow(1 << 24), seq=secrets.randbelow(1 << 23)
            )
        _state["seq"] = (_state["seq"] + 1) & 0xFFFFFF
        return _state["seq"], _state["node"]


def new_job_id(at_ms: int | None = None) -> str:
    """A fresh id for a job created at ``at_ms`` (now by default)."""
    seq, node = _next_suffix()
    ms = now_ms() if at_ms is None else at_ms
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
