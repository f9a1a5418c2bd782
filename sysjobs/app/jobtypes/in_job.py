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
from typing import Any

from sysjobs.app.app import App
from sysjobs.app.jobtypes.models import ExecuteInJobData
from sysjobs.app.scripts import SCRIPT_TIMEOUT_S, error_text, script_session
from sysjobs.errors import SystemException
from sysjobs.jobs import JobContext
from sysjobs.jobs.in_job import auto_step

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
    runner = ctx.script_runner
    if runner is None:
        raise SystemException("This worker has no script runner.")
    total = len(data.items)
    step = data.step or auto_step(total)
    cp = ctx.checkpoint
    done, failed, chunks = (int(cp.get(key, 0)) for key in ("done", "failed", "chunks"))
    with script_session(runner, ctx.job.id):
        while done < total:
            if ctx.should_stop():
                return  # the checkpoint already says where to go on
            chunk = data.items[done : done + step]
            failed += _run_chunk(ctx, data.callback, chunk, done)
            done, chunks = done + len(chunk), chunks + 1
            ctx.save_checkpoint({"done": done, "failed": failed, "chunks": chunks})
            ctx.set_progress(min(99, done * 100 // total))
    results = {"itemsCount": total, "itemsProcessed": done, "itemsFailed": failed,
               "chunks": chunks}
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
