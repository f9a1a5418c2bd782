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
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from sysjobs.app.app import App
from sysjobs.app.jobtypes.models import ExecuteInJobData
from sysjobs.app.scripts import SCRIPT_TIMEOUT_S, error_text, script_session
from sysjobs.errors import SystemException, Timeout
from sysjobs.jobs import Job, JobContext
from sysjobs.jobs.in_job import IN_JOB_TYPE, auto_step, plan_parts

#: Statuses a part ends in.
FINAL_STATUSES = ("FINISHED", "CANCELED")
#: Longest single wait for the parts between looks for a stop (a hint ends it sooner).
PART_WAIT_S = 1.0
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


def execute_in_job(app: App, ctx: JobContext, data: ExecuteInJobData) -> None:
    if ctx.script_runner is None:
        raise SystemException("This worker has no script runner.")
    total = len(data.items)
    parts = [range(0, total)] if data.part else plan_parts(
        total, data.step, app.engine.registry.queue_caps().get(ctx.job.queue))
    if len(parts) == 1:
        tally = _run_items(ctx, data, data.items, data.first, total)
        if tally is not None:
            _end(ctx, total, tally)
        return
    _run_owner(app, ctx, data, parts)


def _run_owner(app: App, ctx: JobContext, data: ExecuteInJobData, parts: list[range]) -> None:
    """The owner of a call split in parts: start the other parts as its children (once,
    whatever crashes), run the first part itself, then wait for the children — on the job
    hub, looking for a stop between waits — and add their counts to its own."""
    total = len(data.items)
    children = _start_parts(app, ctx, data, parts[1:])
    own = parts[0]
    tally = _run_items(ctx, data, data.items[own.start : own.stop], own.start, total,
                       keep={"parts": children})  # fmt: skip
    if tally is None:
        return
    jobs = _wait_parts(app, ctx, children, total, tally[0])
    if jobs is None:
        return
    done, failed, chunks = tally
    for job in jobs:
        counts = job.results or {}
        done += int(counts.get("itemsProcessed", 0))
        failed += int(counts.get("itemsFailed", 0))
        chunks += int(counts.get("chunks", 0))
        if job.has_errors:
            ctx.log_error(f"Part {job.id}: {int(counts.get('itemsFailed', 0))} item(s) failed",
                          {"part": job.id})  # fmt: skip
        if job.status != "FINISHED":
            ctx.log_error(f"Part {job.id} ended {job.status}; its items did not all run",
                          {"part": job.id})  # fmt: skip
    _end(ctx, total, (done, failed, chunks))


def _start_parts(
    app: App, ctx: JobContext, data: ExecuteInJobData, parts: list[range]
) -> list[str]:
    """The ids of the child jobs running ``parts``: those the checkpoint names, else those
    an earlier run started before it died (found by their first item), else new ones."""
    saved = ctx.checkpoint.get("parts")
    if isinstance(saved, list) and len(saved) == len(parts):
        return [str(i) for i in saved]
    engine = app.engine
    found, _ = engine.tree_jobs(ctx.job.id, children_only=True, size=MAX_PART_SCAN)
    started = {int(j.data.get("_first", -1)): j.id for j in found if j.data.get("_part")}
    ids: list[str] = []
    for part in parts:
        if part.start not in started:
            child = ctx.enqueue(IN_JOB_TYPE, {
                "itemsCount": len(part), "step": auto_step(len(data.items)), "queue": data.queue,
                "_items": data.items[part.start : part.stop], "_callback": data.callback,
                "_first": part.start, "_part": True,
            }, label=f"Execute in job: items {part.start} to {part.stop - 1}",
               queue=ctx.job.queue, run_by=ctx.job.run_by)  # fmt: skip
            started[part.start] = child.id
        ids.append(started[part.start])
    ctx.save_checkpoint({**ctx.checkpoint, "parts": ids})
    return ids


def _wait_parts(
    app: App, ctx: JobContext, ids: list[str], total: int, own_done: int
) -> list[Job] | None:
    """The child jobs once every one is final (FINISHED or CANCELED), progress moving with
    theirs meanwhile; None when this job is to stop (its tree is stopped with it)."""
    engine = app.engine
    while True:
        jobs = [engine.require(i) for i in ids]
        if all(j.status in FINAL_STATUSES for j in jobs):
            return jobs
        done = own_done + sum(len(j.data.get("_items", [])) * j.progress // 100 for j in jobs)
        ctx.set_progress(min(99, done * 100 // max(1, total)))
        if ctx.should_stop():
            return None
        with suppress(Timeout):
            engine.wait_all(ids, list(FINAL_STATUSES), PART_WAIT_S)


def _run_items(
    ctx: JobContext, data: ExecuteInJobData, items: list[Any], first: int, total: int,
    keep: dict[str, Any] | None = None,
) -> tuple[int, int, int] | None:  # fmt: skip
    """Run ``items`` (the call's from index ``first``) a chunk at a time, a checkpoint
    after each; (done, failed, chunks), or None when the job is to stop."""
    assert ctx.script_runner is not None
    step = data.step or auto_step(total)
    cp = ctx.checkpoint
    done, failed, chunks = (int(cp.get(key, 0)) for key in ("done", "failed", "chunks"))
    with script_session(ctx.script_runner, ctx.job.id):
        while done < len(items):
            if ctx.should_stop():
                return None  # the checkpoint already says where to go on
            chunk = items[done : done + step]
            failed += _run_chunk(ctx, data.callback, chunk, first + done)
            done, chunks = done + len(chunk), chunks + 1
            ctx.save_checkpoint({**(keep or {}), "done": done, "failed": failed,
                                 "chunks": chunks})  # fmt: skip
            ctx.set_progress(min(99, done * 100 // max(1, total)))
    return done, failed, chunks


def _end(ctx: JobContext, total: int, tally: tuple[int, int, int]) -> None:
    done, failed, chunks = tally
    results = {"itemsCount": total, "itemsProcessed": done, "itemsFailed": failed,
               "chunks": chunks}  # fmt: skip
    ctx.set_results(results, at_end=True)
    ctx.set_progress(100)


def _run_chunk(ctx: JobContext, callback: str, chunk: list[Any], first: int) -> int:
    """Run one chunk; how many of its items failed (each logged, up to a limit)."""
    assert ctx.script_runner is not None
    outcome = ctx.script_runner.run(
        chunk_source(callback, chunk), job_id=ctx.job.id, globals={},
        timeout_s=SCRIPT_TIMEOUT_S, name="executeInJob",
    )  # fmt: skip
    if not outcome.ok:
        last = first + len(chunk) - 1
        ctx.log_error(f"Items {first} to {last}: {error_text(outcome)}",
                      {"from": first, "to": last})  # fmt: skip
        return len(chunk)
    value: dict[str, Any] = outcome.value if isinstance(outcome.value, dict) else {}
    for index, text in value.get("failed", []):
        ctx.log_error(f"Item {first + int(index)}: {text}", {"item": first + int(index)})
    return int(value.get("count", 0))
