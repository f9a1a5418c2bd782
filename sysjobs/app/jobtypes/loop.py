"""The resumable per-record loop shared by EXECUTE_ACTION and DELETE_RECORDS.

Records are walked in id order, a chunk at a time. After each chunk — and at a stop —
the loop saves a checkpoint (last id done, counts, results so far), so a resumed job
continues with the records not yet done and never redoes one. One record failing is an
ERROR log and an ``error`` entry; the others go on.

Group commit: the log lines of a chunk (the scripts' ``log()`` lines, the ERROR lines of
failed records) are held in memory and written with the chunk's checkpoint and results in
one transaction fenced by the lease (``JobContext.held_logs``/``commit_chunk``), not one
transaction per line. A worker that loses its lease has the whole chunk refused. A run that
dies mid-chunk (crash, lost lease) leaves none of that chunk's lines and no checkpoint past
the last committed chunk: the records before that checkpoint are never run again, the
chunk's records run again on the next attempt, and its lines are written then — once. (A
chunk that logs more than ``HELD_LINES`` lines writes them early; after a crash those appear
again when the chunk re-runs.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sysjobs.app.records import Record, RecordsService
from sysjobs.errors import SysError
from sysjobs.jobs import JobContext

CHUNK = 100
#: Seconds between two stop checks inside a chunk (each check may read the job's row).
STOP_CHECK_S = 0.1
#: The spec caps the per-record results map at 1,000 entries.
MAX_RESULTS = 1000

#: Does the work for one record; returns its results entry or raises.
PerRecord = Callable[[Record], dict[str, Any]]


@dataclass
class LoopState:
    """Where the loop is: the checkpoint (``total``, ``after``, ``done``) and the results
    so far (stored as the job's results, not again in the checkpoint)."""

    total: int
    after: str | None = None
    done: int = 0
    results: dict[str, Any] = field(default_factory=dict)
    #: How many results entries the job's stored results hold (-1: not written yet).
    written: int = -1

    def checkpoint(self) -> dict[str, Any]:
        return {"total": self.total, "after": self.after, "done": self.done}

    @staticmethod
    def resumed(ctx: JobContext, cp: dict[str, Any]) -> LoopState:
        """The state a checkpoint left; the results so far are the job's stored results
        (a checkpoint written before they moved out of it still carries them)."""
        stored = (ctx.job.results or {}).get("results")
        results = cp.get("results", stored if isinstance(stored, dict) else {})
        return LoopState(int(cp["total"]), cp.get("after"), int(cp.get("done", 0)),
                         dict(results), written=len(results))  # fmt: skip


class StopCheck:
    """``ctx.should_stop()`` at most every :data:`STOP_CHECK_S` — per-record checks would
    cost one database read per record; a stop still lands within a fraction of a second."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.last = time.monotonic()

    def __call__(self, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self.last < STOP_CHECK_S:
            return False
        self.last = now
        return self.ctx.should_stop()


def run_record_loop(ctx: JobContext, records: RecordsService, entity: str,
                    query: dict[str, Any], per_record: PerRecord) -> None:
    cp: dict[str, Any] = dict(ctx.checkpoint or {})
    size = query.get("_size")  # at most this many records (validated at enqueue)
    limit = None if size is None else int(size)
    if not cp:
        total = records.count(entity, query)
        state = LoopState(total=total if limit is None else min(total, limit))
    else:
        state = LoopState.resumed(ctx, cp)
    with ctx.held_logs():  # a chunk's lines go out with its checkpoint (module docstring)
        if _chunks(ctx, records, entity, query, per_record, state, limit):
            ctx.set_progress(100)


def _chunks(ctx: JobContext, records: RecordsService, entity: str, query: dict[str, Any],
            per_record: PerRecord, state: LoopState, limit: int | None) -> bool:
    """Run the chunks; False when stopped before the end."""
    should_stop = StopCheck(ctx)
    while limit is None or state.done < limit:
        left = CHUNK if limit is None else min(CHUNK, limit - state.done)
        chunk = records.scan(entity, query, state.after, left)
        if not chunk:
            break
        for i, record in enumerate(chunk):
            if should_stop(force=i == 0):
                _save(ctx, state)
                return False
            _one(ctx, state, record, per_record)
        _save(ctx, state)
        ctx.set_progress(min(99, state.done * 100 // max(state.total, 1)))
    _save(ctx, state)
    return True


def _one(ctx: JobContext, state: LoopState, record: Record, per_record: PerRecord) -> None:
    assert record.id is not None
    try:
        entry = per_record(record)
    except SysError as exc:
        entry = error_entry(ctx, record.id, exc.message)
    except Exception as exc:  # one bad record must not stop the others
        entry = error_entry(ctx, record.id, f"{type(exc).__name__}: {exc}")
    if len(state.results) < MAX_RESULTS:
        state.results[record.id] = entry
    state.done += 1
    state.after = record.id


def error_entry(ctx: JobContext, record_id: str, message: str) -> dict[str, Any]:
    """Log the failure of one record and return its results entry."""
    ctx.log_error(f"Record {record_id}: {message}", {"recordId": record_id})
    return {"status": "error", "errorMessage": message}


def _save(ctx: JobContext, state: LoopState) -> None:
    """The chunk's group commit: its log lines, the checkpoint and the results so far, in
    one transaction under the lease."""
    changed = len(state.results) != state.written  # (entries are only ever added)
    ctx.commit_chunk(state.checkpoint(), {"results": state.results} if changed else None)
    state.written = len(state.results)
