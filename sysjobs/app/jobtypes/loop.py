"""The resumable per-record loop shared by EXECUTE_ACTION and DELETE_RECORDS.

Records are walked in id order, a chunk at a time. After each chunk — and at a stop —
the loop saves a checkpoint (last id done, counts, results so far), so a resumed job
continues with the records not yet done and never redoes one. One record failing is an
ERROR log and an ``error`` entry; the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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
    """What the checkpoint holds."""

    total: int
    after: str | None = None
    done: int = 0
    results: dict[str, Any] = field(default_factory=dict)


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
        state = LoopState(**cp)
    should_stop = StopCheck(ctx)
    while limit is None or state.done < limit:
        left = CHUNK if limit is None else min(CHUNK, limit - state.done)
        chunk = records.scan(entity, query, state.after, left)
        if not chunk:
            break
        for i, record in enumerate(chunk):
            if should_stop(force=i == 0):
                _save(ctx, state)
                return
            _one(ctx, state, record, per_record)
        _save(ctx, state)
        ctx.set_progress(min(99, state.done * 100 // max(state.total, 1)))
    ctx.set_results({"results": state.results})
    ctx.set_progress(100)


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
    ctx.save_checkpoint(asdict(state))
    ctx.set_results({"results": state.results})
