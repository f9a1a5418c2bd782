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

import json
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
#: Does the work for a chunk of records at once; returns each record's results entry.
PerChunk = Callable[[list[Record]], dict[str, dict[str, Any]]]


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
    #: Bytes of JSON the entries hold so far (their share of the job's results cap).
    result_bytes: int = 0

    def checkpoint(self) -> dict[str, Any]:
        return {"total": self.total, "after": self.after, "done": self.done}

    @staticmethod
    def resumed(ctx: JobContext, cp: dict[str, Any]) -> LoopState:
        """The state a checkpoint left; the results so far are the job's stored results
        (a checkpoint written before they moved out of it still carries them)."""
        stored = (ctx.job.results or {}).get("results")
        results = cp.get("results", stored if isinstance(stored, dict) else {})
        used = sum(_entry_bytes(key, entry) for key, entry in results.items())
        return LoopState(int(cp["total"]), cp.get("after"), int(cp.get("done", 0)),
                         dict(results), written=len(results), result_bytes=used)  # fmt: skip


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


def run_record_loop(
    ctx: JobContext, records: RecordsService, entity: str, query: dict[str, Any],
    per_record: PerRecord | None = None, *, per_chunk: PerChunk | None = None,
    step: Step | None = None,
) -> None:  # fmt: skip
    """Walk the matches a chunk at a time, with ``per_record`` for each record,
    ``per_chunk`` for each chunk at once (then its results entry per record id), or
    ``step`` for each chunk with the stop check (it checks between two records itself)."""
    if step is None:
        step = (
            _Each(ctx, _required(per_record)) if per_chunk is None
            else lambda chunk, _stop: per_chunk(chunk)
        )  # fmt: skip
    cp: dict[str, Any] = dict(ctx.checkpoint or {})
    size = query.get("_size")  # at most this many records (validated at enqueue)
    limit = None if size is None else int(size)
    if not cp:
        total = records.count(entity, query)
        state = LoopState(total=total if limit is None else min(total, limit))
    else:
        state = LoopState.resumed(ctx, cp)
    with ctx.held_logs():  # a chunk's lines go out with its checkpoint (module docstring)
        if _chunks(ctx, records, entity, query, step, state, limit):
            ctx.set_progress(100)


def _required(per_record: PerRecord | None) -> PerRecord:
    if per_record is None:
        raise TypeError("run_record_loop needs per_record or per_chunk")
    return per_record


#: A chunk's work, given the stop check: the results entry of each record it did, in
#: order (it stops early, leaving the rest undone, when the check says so).
Step = Callable[[list[Record], "StopCheck"], dict[str, dict[str, Any]]]


def _chunks(ctx: JobContext, records: RecordsService, entity: str, query: dict[str, Any],
            step: Step, state: LoopState, limit: int | None) -> bool:
    """Run the chunks; False when stopped before the end."""
    should_stop = StopCheck(ctx)
    while limit is None or state.done < limit:
        left = CHUNK if limit is None else min(CHUNK, limit - state.done)
        chunk = records.scan(entity, query, state.after, left)
        if not chunk:
            break
        if should_stop(force=True):
            _save(ctx, state)
            return False
        entries = step(chunk, should_stop)
        budget = _results_budget(ctx)
        for record_id, entry in entries.items():
            _done(state, record_id, entry, budget)
        if len(entries) < len(chunk):  # the step saw a stop
            _save(ctx, state)
            return False
        _save(ctx, state)
        ctx.set_progress(min(99, state.done * 100 // max(state.total, 1)))
    _save(ctx, state)
    return True


def each_record(ctx: JobContext, per_record: PerRecord) -> Step:
    """The step that runs ``per_record`` record by record (what ``run_record_loop`` does
    with ``per_record``): a failing record is an ``error`` entry, the stop check between
    two records."""
    return _Each(ctx, per_record)


class _Each:
    """``per_record`` over a chunk, record by record, with the stop check between two."""

    def __init__(self, ctx: JobContext, per_record: PerRecord) -> None:
        self.ctx = ctx
        self.per_record = per_record

    def __call__(self, chunk: list[Record], should_stop: StopCheck) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        for i, record in enumerate(chunk):
            if i and should_stop():
                break
            assert record.id is not None
            entries[record.id] = _one(self.ctx, record, self.per_record)
        return entries


def _one(ctx: JobContext, record: Record, per_record: PerRecord) -> dict[str, Any]:
    assert record.id is not None
    try:
        return per_record(record)
    except SysError as exc:
        return error_entry(ctx, record.id, exc.message)
    except Exception as exc:  # one bad record must not stop the others
        return error_entry(ctx, record.id, f"{type(exc).__name__}: {exc}")


def _done(state: LoopState, record_id: str, entry: dict[str, Any], budget: int) -> None:
    if len(state.results) < MAX_RESULTS:
        size = _entry_bytes(record_id, entry)
        if state.result_bytes + size > budget:
            entry = _clipped(entry, size, budget - state.result_bytes)
            size = _entry_bytes(record_id, entry)
        state.results[record_id] = entry
        state.result_bytes += size
    state.done += 1
    state.after = record_id


#: Bytes of the job's results cap kept back for the map's own syntax and the entries that
#: carry no response (a status, a cut error message): the responses share the rest.
RESULTS_HEADROOM = 256 * 1024


def _results_budget(ctx: JobContext) -> int:
    """Bytes the records' entries may take in the results. The engine's cap applies to the
    whole results and keeps none of them past it, so one record's large response would
    erase every other record's entry: a response that does not fit what is left is
    replaced by a marker instead, and the other records keep theirs."""
    limit = ctx.engine.leases.max_result_bytes
    return max(limit - min(RESULTS_HEADROOM, limit // 4), 0)


def _entry_bytes(record_id: str, entry: Any) -> int:
    """The JSON bytes one entry adds to the results map (as the cap counts them)."""
    text = json.dumps({record_id: entry}, ensure_ascii=False, default=str)
    return len(text.encode("utf-8", "surrogatepass"))


#: Characters of an error message kept once the results are full.
CLIPPED_MESSAGE_CHARS = 100


def _clipped(entry: dict[str, Any], size: int, left: int) -> dict[str, Any]:
    """``entry`` made small once the results are full: its status stays; a response becomes
    a marker saying how large it was, an error message its first characters."""
    clipped = dict(entry)
    if "response" in clipped:
        clipped["response"] = {"truncated": True, "bytes": size, "limit": max(left, 0)}
    message = clipped.get("errorMessage")
    if isinstance(message, str) and len(message) > CLIPPED_MESSAGE_CHARS:
        cut = message[:CLIPPED_MESSAGE_CHARS]
        clipped["errorMessage"] = f"{cut}… [cut: the job's results are full]"
    return clipped


#: Characters of a record's ``errorMessage`` in the results (its log line keeps more, up to
#: the per-line cap). The results map holds up to 1,000 records within the results' byte
#: cap, past which none are kept: one record throwing a megabyte message must not leave
#: every other record of the job without its result.
RESULT_MESSAGE_CHARS = 1000


def error_entry(ctx: JobContext, record_id: str, message: str) -> dict[str, Any]:
    """Log the failure of one record and return its results entry."""
    ctx.log_error(f"Record {record_id}: {message}", {"recordId": record_id})
    if len(message) > RESULT_MESSAGE_CHARS:
        cut = len(message) - RESULT_MESSAGE_CHARS
        message = f"{message[:RESULT_MESSAGE_CHARS]}… [{cut} more characters cut]"
    return {"status": "error", "errorMessage": message}


def _save(ctx: JobContext, state: LoopState) -> None:
    """The chunk's group commit: its log lines, the checkpoint and the results so far, in
    one transaction under the lease."""
    changed = len(state.results) != state.written  # (entries are only ever added)
    ctx.commit_chunk(state.checkpoint(), {"results": state.results} if changed else None)
    state.written = len(state.results)
