"""EXECUTE_IN_JOB: ``sys.jobs.executeInJob``'s callback over its items, a chunk at a time.

Each chunk is one script run in the job's sandbox session: the callback's source is
evaluated afresh there — in a scope of its own, so it sees the sandbox's globals (``sys``,
``log``) and nothing of the script that called ``executeInJob`` (a variable of that script
is a ``ReferenceError`` naming it) — and called once per item. An item whose call throws
is an ERROR line (``Item 3: ReferenceError: x is not defined``) and the others go on.

Exactly once: after each chunk the job saves a checkpoint (items done, items failed),
fenced by its lease; stop, cancel and shutdown are honoured between chunks, and a resumed
or retried job continues after the last checkpoint, so the items of a completed chunk never
run again. A chunk cut short — the worker died, a forced stop terminated it, the chunk ran
out of time — has no checkpoint: a resumed or retried job runs that chunk again, and a chunk
that failed as a whole (its time limit, a syntax error in the callback) is an ERROR line for
its items, which count as failed. Progress is items done / items.

Parts: without ``step`` and past ``PARALLEL_MIN_ITEMS`` items, the chunks are split in
parts (``plan_parts``, as many as the queue runs at once) and the job is their owner
(:class:`_Owner`): the other parts run as its children, each with its own checkpoint; the
owner runs the first, takes over those no worker claimed, waits for the rest and adds up
their results (docs/jobs-api.md, "Parts").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sysjobs.app.app import App
from sysjobs.app.jobtypes.models import ExecuteInJobData
from sysjobs.app.scripts import SCRIPT_TIMEOUT_S, error_text, script_session
from sysjobs.errors import SystemException
from sysjobs.jobs import JobContext
from sysjobs.jobs.clock import Clock, while_unanswered
from sysjobs.jobs.in_job import IN_JOB_TYPE, auto_step, plan_parts
from sysjobs.jobs.models import JobState

T = TypeVar("T")
log = logging.getLogger(__name__)
#: How long a write of the job waits for the database to answer again (seconds).
DB_RETRY_S = 120.0
#: Statuses a part ends in.
FINAL_STATUSES = ("FINISHED", "CANCELED")
#: Longest single wait for the parts between looks for a stop (a hint ends it sooner).
PART_WAIT_S = 1.0
#: The reason a part taken over by its owner shows in its events.
TAKEN_REASON = "taken over by its owner"
#: Most children an owner looks through for the parts an earlier run started.
MAX_PART_SCAN = 1000
#: Item failures logged per chunk (the rest are counted, not each logged).
MAX_FAILURE_LINES = 100

# The callback is evaluated inside a function with no locals of its own, so its free
# names resolve to the sandbox's globals only; the loop lives in a separate function.
_CHUNK = """(function (__sysjobsEach) {{ return __sysjobsEach((function () {{ return (
{callback}
); }})()); }})(function (callback) {{
  var items = {items}, failed = [], max = {max_lines}, count = 0;
  for (var i = 0; i < items.length; i++) {{
    try {{ callback(items[i]); }} catch (e) {{
      count++;
      if (failed.length < max) {{
        var text;
        try {{ text = (e instanceof Error) ? e.name + ": " + e.message : "Uncaught " + String(e); }}
        catch (_) {{ text = "Uncaught exception"; }}
        failed.push([i, text]);
      }}
    }}
  }}
  return {{failed: failed, count: count}};
}})"""


def chunk_source(callback: str, items: list[Any]) -> str:
    """The script that runs ``callback`` over one chunk; returns its failures."""
    text = json.dumps(items, ensure_ascii=True)  # ASCII: no U+2028/9 or surrogates in source
    return _CHUNK.format(callback=callback, items=text, max_lines=MAX_FAILURE_LINES)


Tally = tuple[int, int, int]
"""Items done, items failed, chunks run."""
_ZERO: Tally = (0, 0, 0)


def execute_in_job(app: App, ctx: JobContext, data: ExecuteInJobData) -> None:
    if ctx.script_runner is None:
        raise SystemException("This worker has no script runner.")
    total = len(data.items)
    parts = [range(0, total)] if data.part else plan_parts(
        total, data.step, app.engine.registry.queue_caps().get(ctx.job.queue))
    if len(parts) == 1:
        clock = app.engine.clock

        def save(tally: Tally) -> None:
            _steady(clock, partial(ctx.save_checkpoint, _saved(tally)))
            _steady(clock, partial(ctx.set_progress, min(99, tally[0] * 100 // max(1, total))))

        tally = _run_items(ctx, clock, data, range(0, total), _tally(ctx.checkpoint), save)
        if tally is not None:
            _end(ctx, total, tally)
        return
    _Owner(app, ctx, data, parts).run()


def _tally(saved: Any) -> Tally:
    saved = saved if isinstance(saved, dict) else {}
    done, failed, chunks = (int(saved.get(k, 0)) for k in ("done", "failed", "chunks"))
    return done, failed, chunks


def _saved(tally: Tally) -> dict[str, int]:
    return {"done": tally[0], "failed": tally[1], "chunks": tally[2]}


class _Owner:
    """The job ``executeInJob`` returned, when its items are split in parts.

    It starts the other parts as its children (once, whatever crashes: the checkpoint
    names them, or they are found by their first item), runs the first part itself, then
    **takes over every part no worker has claimed yet** (``Engine.take_pending``: the part
    ends CANCELED, atomically with the claims, and the owner goes on from its checkpoint)
    and waits — on the job hub, looking for a stop between waits — only for parts that a
    worker is running. So an owner never waits for a part that needs its slot: one worker
    thread alone runs the whole call, in turn. Its checkpoint: the parts, its own part's
    tally (``done``, ``failed``, ``chunks``), ``taking`` (the part being taken, noted
    before the take) and ``taken`` (each taken part's tally).
    """

    def __init__(self, app: App, ctx: JobContext, data: ExecuteInJobData,
                 parts: list[range]) -> None:  # fmt: skip
        self.app, self.ctx, self.data, self.parts = app, ctx, data, parts
        #: The engine's clock: it times the retries through a database outage (``_steady``).
        self.clock = app.engine.clock
        cp = ctx.checkpoint
        self.taken: dict[str, Tally] = {
            str(k): _tally(v) for k, v in (cp.get("taken") or {}).items()
        }  # fmt: skip
        self.taking: str | None = cp.get("taking")
        self.own: Tally = _tally(cp)
        self.ids: list[str] = []

    def _steady(self, call: Callable[[], T]) -> T:
        return _steady(self.clock, call)

    def run(self) -> None:
        self.ids = self._steady(self._start_parts)
        own = self._items(self.parts[0], self.own, "own")
        if own is None:
            return
        jobs = self._settle()
        if jobs is None:
            return
        self._end(own, jobs)

    def _save(self) -> None:
        saved = {
            **_saved(self.own), "parts": self.ids, "taking": self.taking,
            "taken": {k: _saved(v) for k, v in self.taken.items()},
        }  # fmt: skip
        self._steady(lambda: self.ctx.save_checkpoint(saved))

    def _items(self, part: range, start: Tally, key: str) -> Tally | None:
        def save(tally: Tally) -> None:
            if key == "own":
                self.own = tally
            else:
                self.taken[key] = tally
            self._save()
            done = self.own[0] + sum(t[0] for t in self.taken.values())
            pct = min(99, done * 100 // max(1, len(self.data.items)))
            self._steady(partial(self.ctx.set_progress, max(pct, self.ctx.state.progress or 0)))

        return _run_items(self.ctx, self.clock, self.data, part, start, save)

    def _start_parts(self) -> list[str]:
        """The ids of the children running ``parts[1:]``."""
        ctx, data, parts = self.ctx, self.data, self.parts[1:]
        saved = ctx.checkpoint.get("parts")
        if isinstance(saved, list) and len(saved) == len(parts):
            return [str(i) for i in saved]
        found, _ = self.app.engine.tree_jobs(ctx.job.id, children_only=True, size=MAX_PART_SCAN)
        started = {int(j.data.get("_first", -1)): j.id for j in found if j.data.get("_part")}
        step = auto_step(len(data.items))
        for part in parts:
            if part.start not in started:
                child = ctx.enqueue(IN_JOB_TYPE, {
                    "itemsCount": len(part), "step": step, "queue": data.queue,
                    "_items": data.items[part.start : part.stop], "_callback": data.callback,
                    "_first": part.start, "_part": True,
                }, label=f"Execute in job: items {part.start} to {part.stop - 1}",
                   queue=ctx.job.queue, run_by=ctx.job.run_by)  # fmt: skip
                started[part.start] = child.id
        self.ids = [started[p.start] for p in parts]
        self._save()
        return self.ids

    def _settle(self) -> list[JobState] | None:
        """The children's states once every one is final (FINISHED, or CANCELED), taking
        over those still PENDING; None when this job is to stop (its tree is stopped with
        it). Each look reads the parts' status and progress only, in one query: their
        rows' data, checkpoints and results are not needed until the end (``_end``)."""
        engine, ctx = self.app.engine, self.ctx
        by_id = dict(zip(self.ids, self.parts[1:], strict=True))
        while True:
            jobs = self._steady(lambda: engine.states(self.ids))
            taken_before = len(self.taken)
            for job in jobs:
                if not self._take(job, by_id[job.id]):
                    return None
            if len(self.taken) != taken_before:  # a part ran here meanwhile: read them again
                jobs = self._steady(lambda: engine.states(self.ids))
            if all(j.status in FINAL_STATUSES for j in jobs):
                return jobs
            self._steady(partial(ctx.set_progress, self._progress(jobs, by_id)))
            if self._steady(ctx.should_stop):
                return None
            self._steady(lambda: engine.wait_states(self.ids, FINAL_STATUSES, PART_WAIT_S))

    def _take(self, job: JobState, part: range) -> bool:
        """Run ``job``'s part here if it is taken (now or by an earlier run) or can be;
        False when this job is to stop."""
        if job.id not in self.taken:
            if job.status != "PENDING" and not (self.taking == job.id and job.status == "CANCELED"):
                return True
            self.taking = job.id
            self._save()
            engine = self.app.engine
            taken = self._steady(lambda: engine.take_pending(job.id, TAKEN_REASON))
            # None: a worker has it, a user canceled it — or the take committed and its
            # answer was lost (only then is the cancel the owner's own)
            if taken is None and not self._steady(partial(_taken_by_owner, self.app, job.id)):
                self.taking = None
                self._save()
                return True
            checkpoint: Any = taken[1] if taken is not None else \
                self._steady(partial(engine.store.checkpoint, job.id))
            self.taking, self.taken[job.id] = None, _tally(checkpoint)
            self._save()
        if self.taken[job.id][0] >= len(part):
            return True  # ran to its end already
        return self._items(part, self.taken[job.id], job.id) is not None

    def _progress(self, jobs: list[JobState], parts: dict[str, range]) -> int:
        done = self.own[0] + sum(t[0] for t in self.taken.values())
        done += sum(len(parts[j.id]) * j.progress // 100
                    for j in jobs if j.id not in self.taken)  # fmt: skip
        pct = min(99, done * 100 // max(1, len(self.data.items)))
        return max(pct, self.ctx.state.progress or 0)  # never back: a part's is throttled

    def _end(self, own: Tally, jobs: list[JobState]) -> None:
        ctx = self.ctx
        tallies = [own, *self.taken.values()]
        ran = [job.id for job in jobs if job.id not in self.taken]
        results = self._steady(lambda: self.app.engine.results_of(ran)) if ran else {}
        for job in jobs:
            if job.id in self.taken:
                continue
            counts = results.get(job.id) or {}
            tally = _tally({"done": counts.get("itemsProcessed", 0),
                            "failed": counts.get("itemsFailed", 0),
                            "chunks": counts.get("chunks", 0)})  # fmt: skip
            tallies.append(tally)
            if tally[1]:
                ctx.log_error(f"Part {job.id}: {tally[1]} item(s) failed (see its log)",
                              {"part": job.id})  # fmt: skip
            if job.status != "FINISHED":
                ctx.log_error(f"Part {job.id} ended {job.status}: its items did not all run",
                              {"part": job.id})  # fmt: skip
        total = tuple(sum(t[i] for t in tallies) for i in range(3))
        _end(ctx, len(self.data.items), (total[0], total[1], total[2]))


def _taken_by_owner(app: App, job_id: str) -> bool:
    """Whether the part was canceled by its owner's take (the event's reason says so), not
    by a user's cancel — whose items must then not run."""
    return any(e.to_status == "CANCELED" and e.reason == TAKEN_REASON
               for e in app.engine.events(job_id))  # fmt: skip


def _run_items(
    ctx: JobContext, clock: Clock, data: ExecuteInJobData, part: range, start: Tally,
    save: Callable[[Tally], None],
) -> Tally | None:  # fmt: skip
    """Run the items of ``part`` (indexes into ``data.items``; numbered from
    ``data.first`` in log lines) a chunk at a time from ``start``, ``save``-ing the tally
    (checkpoint and progress) after each chunk; the tally, or None when the job is to
    stop."""
    assert ctx.script_runner is not None
    step = data.step or auto_step(len(data.items))
    done, failed, chunks = start
    with script_session(ctx.script_runner, ctx.job.id):
        while done < len(part):
            if _steady(clock, ctx.should_stop):
                return None  # the checkpoint already says where to go on
            at = part.start + done
            chunk = data.items[at : min(part.stop, at + step)]
            failed += _run_chunk(ctx, clock, data.callback, chunk, data.first + at)
            done, chunks = done + len(chunk), chunks + 1
            save((done, failed, chunks))
    return done, failed, chunks


def _end(ctx: JobContext, total: int, tally: Tally) -> None:
    done, failed, chunks = tally
    results = {"itemsCount": total, "itemsProcessed": done, "itemsFailed": failed,
               "chunks": chunks}  # fmt: skip
    ctx.set_results(results, at_end=True)
    ctx.set_progress(100)


def _steady(clock: Clock, call: Callable[[], T]) -> T:
    """``call()``, again while the database does not answer, for up to :data:`DB_RETRY_S`
    by the engine's ``clock`` (``sysjobs.jobs.clock.while_unanswered``): the job's lease
    outlives a short outage (its heartbeat retries too), so giving up would fail the job
    for nothing. Every call retried so is idempotent (a checkpoint written twice is the
    same one)."""
    return while_unanswered(clock, call, within_s=DB_RETRY_S, warn=_warn_unanswered)


def _warn_unanswered() -> None:
    log.warning("sysjobs: the database did not answer an executeInJob write; retrying")


def _run_chunk(
    ctx: JobContext, clock: Clock, callback: str, chunk: list[Any], first: int
) -> int:
    """Run one chunk; how many of its items failed (each logged, up to a limit)."""
    assert ctx.script_runner is not None
    outcome = ctx.script_runner.run(
        chunk_source(callback, chunk), job_id=ctx.job.id, globals={},
        timeout_s=SCRIPT_TIMEOUT_S, name="executeInJob",
    )  # fmt: skip
    if not outcome.ok:
        last = first + len(chunk) - 1
        text = f"Items {first} to {last}: {error_text(outcome)}"
        _steady(clock, lambda: ctx.log_error(text, {"from": first, "to": last}))
        return len(chunk)
    report = _chunk_report(outcome.value, len(chunk))
    if report is None:
        last = first + len(chunk) - 1
        text = (f"Items {first} to {last}: the chunk's report of the items that threw was "
                "changed by the callback (e.g. Array.prototype.push or a toJSON replaced); "
                "its items count as failed")  # fmt: skip
        _steady(clock, lambda: ctx.log_error(text, {"from": first, "to": last}))
        return len(chunk)
    failures, count = report
    for index, text in failures:
        at = first + index
        _steady(clock, lambda: ctx.log_error(f"Item {at}: {text}", {"item": at}))  # noqa: B023
    return count


def _chunk_report(value: Any, size: int) -> tuple[list[tuple[int, str]], int] | None:
    """The chunk script's ``{failed: [[index, text]…], count}`` for a chunk of ``size``
    items, or None when it is not that shape: the callback runs in the same realm as the
    code building it and can change it, so it is read as untrusted data."""
    if not isinstance(value, dict):
        return None
    failed, count = value.get("failed"), value.get("count")
    if not isinstance(failed, list) or not isinstance(count, int) or not _index(count, size + 1) \
            or len(failed) > size:  # fmt: skip
        return None
    failures: list[tuple[int, str]] = []
    for entry in failed:
        if not (isinstance(entry, list) and len(entry) == 2 and _index(entry[0], size)
                and isinstance(entry[1], str)):  # fmt: skip
            return None
        failures.append((entry[0], entry[1]))
    return failures, count


def _index(value: Any, size: int) -> bool:
    """Whether ``value`` is a whole number from 0 to ``size - 1``."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size
