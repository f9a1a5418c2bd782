"""Per-job caps: how much log and how large a result one job may keep.

A script can call ``log()`` in a loop or return a huge value; without caps one job fills the
database and slows every other job's writes. The caps live in the engine, where every log
line and every result passes (``Engine.log_*``, the fenced ``Leases.log``/``set_results``):

* at most ``max_log_lines`` lines per job; the first line refused is replaced by one ERROR
  line telling the job's reader that the log was capped (so ``hasErrors`` is set), later
  ones are dropped silently;
* each line's message at most ``max_message_chars`` (the rest is cut, and the line says so);
* results at most ``max_result_bytes`` of JSON; larger results are replaced by a small
  marker ``{"truncated": true, "bytes": n, "limit": m}`` and an ERROR line says why.

The caps are configuration (``EngineSettings.caps``, given to ``Engine.open`` or to the
``Host``'s ``settings``), never module state: each engine builds one :class:`JobCaps` from
its settings. Line counts are kept per engine in memory (its :class:`LineCounts`, a bounded
LRU of job ids), seeded from the database the first time a job is seen, so a job resumed by
another process keeps its budget.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sysjobs.jobs.settings import Caps

__all__ = [
    "RESERVED_LINES", "Caps", "JobCaps", "LineCounts", "log_notice",
]

#: Lines the worker may still write about a job past its cap (how the job ended).
RESERVED_LINES = 100
#: Job ids whose line counts one engine remembers.
_TRACKED_JOBS = 4096


class LineCounts:
    """Log lines written per job, as one engine saw them (a bounded LRU of job ids)."""

    def __init__(self, tracked: int = _TRACKED_JOBS) -> None:
        self._lock = threading.Lock()
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._tracked = tracked

    def known(self, job_id: str) -> int | None:
        """The count remembered for ``job_id``, or None (then read the database)."""
        with self._lock:
            return self._counts.get(job_id)

    def add_one(self, job_id: str, seen: int) -> int:
        """Count one more line of ``job_id`` (at least ``seen`` were there); the new count."""
        with self._lock:
            count = max(seen, self._counts.get(job_id, 0)) + 1
            self._counts[job_id] = count
            self._counts.move_to_end(job_id)
            while len(self._counts) > self._tracked:
                self._counts.popitem(last=False)
            return count


def log_notice(limit: int) -> str:
    """The line written once a job's log reaches its cap."""
    return (
        f"Log limit reached: a job keeps at most {limit} log lines; "
        "further lines of this job are dropped."
    )


class JobCaps:
    """One engine's caps (``settings.caps``) and the line counts they keep per job."""

    def __init__(self, caps: Caps, count_logs: Callable[[str], int]) -> None:
        #: The limits in force.
        self.caps = caps
        #: A job's stored line count, read the first time this engine sees the job.
        self._count_logs = count_logs
        self.line_counts = LineCounts()

    def admit_log(
        self, job_id: str, count_existing: Callable[[], int], limit: int | None = None
    ) -> str:
        """``"keep"``, ``"notice"`` (write the notice instead) or ``"drop"`` for one more
        line."""
        limit = self.caps.max_log_lines if limit is None else limit
        seen = self.line_counts.known(job_id)
        if seen is None:
            seen = count_existing()  # outside the lock: a database read
        seen = self.line_counts.add_one(job_id, seen)
        if seen <= limit:
            return "keep"
        return "notice" if seen == limit + 1 else "drop"

    def cap_message(self, message: str) -> str:
        """``message`` cut to the per-line limit (saying how much was cut), NUL characters
        replaced by U+FFFD so that a line reads the same on both databases."""
        limit = self.caps.max_message_chars
        message = message.replace("\x00", "\ufffd")  # PostgreSQL cannot store NUL in text
        if len(message) <= limit:
            return message
        return f"{message[:limit]}… [{len(message) - limit} more characters cut]"

    def cap_results(self, results: Any) -> tuple[Any, str | None]:
        """(results to store, None) or (a small marker, the reason) when they are too
        large."""
        limit = self.caps.max_result_bytes
        size = len(json.dumps(results, ensure_ascii=False, default=str).encode("utf-8"))
        if size <= limit:
            return results, None
        reason = (
            f"Results too large: {size} bytes of JSON, the limit is {limit} bytes; "
            "they were not kept."
        )
        return {"truncated": True, "bytes": size, "limit": limit}, reason

    def capped_entry(
        self, job_id: str, entry: dict[str, Any], *, reserved: bool = False
    ) -> dict[str, Any] | None:
        """The log row to write for ``job_id`` under the caps, or None to drop the line.

        ``reserved`` lines (the worker's own ERROR lines: why a job failed or ended) do not
        count against the job's cap and have :data:`RESERVED_LINES` of their own, so a job
        that flooded its log still says how it ended.
        """
        if reserved:
            kept = self.admit_log(f"{job_id}!reserved", lambda: 0, RESERVED_LINES) == "keep"
            return {**entry, "message": self.cap_message(entry["message"])} if kept else None
        verdict = self.admit_log(job_id, lambda: self._count_logs(job_id))
        if verdict == "drop":
            return None
        if verdict == "notice":
            notice = log_notice(self.caps.max_log_lines)
            return {**entry, "level": "ERROR", "message": notice, "additional_info": None}
        return {**entry, "message": self.cap_message(entry["message"])}
