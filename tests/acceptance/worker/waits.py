"""Waiting in a test for what another process writes — a worker's registry row, a job's log
line — on the engine's own wake-ups instead of sleeps.

Another process's commit reaches this one as a hint (SQLite: the write-ahead-log watch hears
every commit; PostgreSQL: LISTEN, for the writes that notify), and each hint makes the wait
read again, as ``waitForJob`` does for a job another process runs. A write that sends no
hint (a registry row on PostgreSQL) is seen at the dialect's re-read pace, the safety net
(at most 0.5 s). A generous deadline bounds the wait; one that runs out fails the test with
what it waited for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sysjobs.jobs import Engine
from sysjobs.jobs.waiting import wait_until
from sysjobs.jobs.workers import WorkerInfo, list_workers

T = TypeVar("T")

#: How long a test waits for another process (a loaded machine starts one in seconds).
PATIENCE_S = 60.0


def wait_for(
    engine: Engine, read: Callable[[], T | None], what: str, *, keys: Sequence[str] = (),
    timeout_s: float = PATIENCE_S,
) -> T:  # fmt: skip
    """``read()``'s first non-None value, read again on each hint of a commit."""
    found = wait_until(
        read, hub=engine.hub, keys=keys, timeout_s=timeout_s, poll=engine.database.poll_interval
    )
    assert found is not None, f"{what} within {timeout_s}s"
    return found


def registered(
    engine: Engine, count: int, *, check: Callable[[], None] = lambda: None
) -> list[WorkerInfo]:
    """The registry once ``count`` pools registered their rows (``check`` runs before each
    read: e.g. that the process starting them is still alive)."""

    def read() -> list[WorkerInfo] | None:
        check()
        found = list_workers(engine)
        return found if len(found) >= count else None

    return wait_for(engine, read, f"{count} registered workers")


def shown_gone(engine: Engine, worker_id: str) -> WorkerInfo:
    """``worker_id``'s row once it reads ``gone``."""

    def read() -> WorkerInfo | None:
        row = next((w for w in list_workers(engine) if w.id == worker_id), None)
        return row if row is not None and row.state == "gone" else None

    return wait_for(engine, read, f"worker {worker_id} shown gone")
