"""What happens to a job whose worker vanished (its lease expired, or its process died).

The decision is made per job and written to the job's own log so that whoever looks at it
later reads *why* it ended: a stop or cancel in flight simply completes; an idempotent type
is retried a capped number of times; anything else — or a job that keeps taking its workers
down with it (a poison pill) — ends FINISHED with an error saying so.
"""

from __future__ import annotations

from typing import Any

from sysjobs.jobs.models import to_datetime
from sysjobs.store.backend import Recovery


def decide_lost(row: dict[str, Any], now_ms: int, cause: str | None) -> Recovery:
    """(new status, event reason, log level, log message) for one lost job."""
    what = cause or _expired(row, now_ms)
    status = row["status"]
    if status == "STOPPING":
        return "STOPPED", "worker lost", "INFO", f"Stopped: {what} while the job was stopping."
    if status == "CANCELING":
        return "CANCELED", "worker lost", "INFO", f"Canceled: {what} while the job was canceling."
    lost = row["lost_count"] + 1
    retries = row["max_retries"]
    if lost <= retries:
        return (
            "PENDING",
            "worker lost; retry",
            "INFO",
            f"Retrying: {what}. Retry {lost} of {retries} (the job type is idempotent).",
        )
    if retries:
        why = (
            f"gave up after its worker was lost {lost} times (the job may be crashing its workers)"
        )
    else:
        why = "not retried because its type is not idempotent"
    return "FINISHED", "worker lost", "ERROR", f"Job lost: {what}; {why}."


def _expired(row: dict[str, Any], now_ms: int) -> str:
    expired = to_datetime(row["lease_expires_ms"])
    late_s = (now_ms - (row["lease_expires_ms"] or now_ms)) / 1000
    return (
        f"worker {row['owner']} stopped renewing its lease (attempt {row['attempt']}; "
        f"lease expired at {expired:%Y-%m-%d %H:%M:%S} UTC, {late_s:.1f}s ago)"
    )
