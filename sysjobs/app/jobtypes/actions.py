"""EXECUTE_ACTION: run an action's script per record, once for a query, or globally.

Per record, a chunk of records is one sandbox call when the runner can
(``EachScriptRunner``): the action runs for each record in turn inside that call, each
record a run of its own — its own time limit, budget and errors, its outcome reported
(and the stop check made) before the next record starts. What stays the same as one run
per record: a throw fails that record only; a record that loops ends with ``timeout`` and
the records after it run in a fresh context; the records' ``log()`` lines and results; the
stop or cancel check between two records; the chunk's group commit under the lease.

What a record's action leaves pending (a ``then`` after it returned) runs after the last
record of its call — never inside another record's run — under that call's time limit. It
cannot be told which record left work that outlived its limit, so every record of that
chunk that had succeeded gets a ``timeout`` error, and the job's remaining records run one
sandbox call each (today's exact attribution). Should a record of a call hit a limit, its
context is discarded, with what the records before it in that call left pending.

Globals: the records of one job share one context (its session) as they did with one run
per record — a global one record's action sets (``globalThis.x = …``) is there for the
next records of the same job, never for another job or domain (the recycling rules).
"""

from __future__ import annotations

from typing import Any

from sysjobs.app.app import App
from sysjobs.app.jobtypes.loop import StopCheck, each_record, error_entry, run_record_loop
from sysjobs.app.jobtypes.models import ExecuteActionData
from sysjobs.app.manifest import ActionDef, ActionKind
from sysjobs.app.records import Record
from sysjobs.app.scripts import (
    SCRIPT_TIMEOUT_S,
    error_text,
    run_script,
    run_script_each,
    script_session,
)
from sysjobs.errors import SysError
from sysjobs.jobs import JobContext, ScriptOutcome
from sysjobs.jobs.scripts import EachScriptRunner

#: Seconds one record's action may run (each record its own limit).
RECORD_TIMEOUT_S = SCRIPT_TIMEOUT_S
#: What a record's ``timeout`` says when the work its chunk's actions left pending ran on.
PENDING_WORK = (
    "the action returned but work it left pending (a promise chain or microtask loop) in "
    "one of the records run with this one ran past its time limit"
)


class ActionFailed(SysError):
    """The action's script failed."""

    code = "scriptError"


def execute_action(app: App, ctx: JobContext, data: ExecuteActionData) -> None:
    action = app.definition.action(data.entityName, data.actionName)
    source = app.definition.script(action.script)
    params = {"params": data.params}
    if action.kind is ActionKind.ONE_RECORD and data.entityName is not None:
        per_record = _PerRecord(app, ctx, action, source, params)
        with script_session(ctx.script_runner, ctx.job.id):
            run_record_loop(ctx, app.records, data.entityName, data.query,
                            step=per_record.step)  # fmt: skip
        return
    globals_ = {"query": data.query, "action": params}
    try:
        entry = _run(ctx, action, source, globals_)
    except ActionFailed as exc:
        ctx.log_error(f"Action {data.actionName} failed: {exc.message}")
        entry = {"status": "error", "errorMessage": exc.message}
    ctx.set_results({"results": entry})
    ctx.set_progress(100)


class _PerRecord:
    """The action over a chunk of records: one sandbox call for the chunk, or one run per
    record (a runner without ``run_each``, or after pending work outlived its limit)."""

    def __init__(self, app: App, ctx: JobContext, action: ActionDef, source: str,
                 params: dict[str, Any]) -> None:  # fmt: skip
        self.app, self.ctx, self.action, self.source, self.params = app, ctx, action, source, params
        runner = ctx.script_runner
        self.runner = runner if isinstance(runner, EachScriptRunner) else None

    def step(self, chunk: list[Record], should_stop: StopCheck) -> dict[str, dict[str, Any]]:
        if self.runner is None:
            return self._one_by_one(chunk, should_stop)
        ids = [_id(record) for record in chunk]
        entries: dict[str, dict[str, Any]] = {}

        def on_item(index: int, outcome: ScriptOutcome) -> bool:
            entries[ids[index]] = self._entry(ids[index], outcome)
            return index + 1 < len(ids) and not should_stop()

        wired = (self.app.records.wire(record) for record in chunk)
        tail = run_script_each(
            self.runner, self.source, [{"record": w, "oldRecord": w} for w in wired], on_item,
            job_id=self.ctx.job.id, globals={"action": self.params}, name=self.action.script,
            timeout_s=RECORD_TIMEOUT_S,
        )  # fmt: skip
        if not tail.ok:
            self._pending_work_failed(entries, tail)
        return entries

    def _one_by_one(self, chunk: list[Record], should_stop: StopCheck) -> dict[str, dict[str, Any]]:
        return each_record(self.ctx, self._one)(chunk, should_stop)

    def _one(self, record: Record) -> dict[str, Any]:
        wired = self.app.records.wire(record)
        globals_ = {"record": wired, "oldRecord": wired, "action": self.params}
        return _run(self.ctx, self.action, self.source, globals_, RECORD_TIMEOUT_S)

    def _entry(self, record_id: str, outcome: ScriptOutcome) -> dict[str, Any]:
        if not outcome.ok:
            return error_entry(self.ctx, record_id, error_text(outcome))
        entry: dict[str, Any] = {"status": "ok"}
        if self.action.returns_response:
            entry["response"] = outcome.value
        return entry

    def _pending_work_failed(self, entries: dict[str, dict[str, Any]],
                             tail: ScriptOutcome) -> None:  # fmt: skip
        """Work the chunk's actions left pending hit a limit: which record left it is not
        known, so each that succeeded fails, and the rest of the job runs record by record."""
        message = f"{tail.error_code or 'timeout'}: {PENDING_WORK} ({tail.error_message})"
        for record_id, entry in entries.items():
            if entry["status"] == "ok":
                entries[record_id] = error_entry(self.ctx, record_id, message)
        self.runner = None


def _id(record: Record) -> str:
    assert record.id is not None
    return record.id


def _run(ctx: JobContext, action: ActionDef, source: str, globals_: dict[str, Any],
         timeout_s: float = SCRIPT_TIMEOUT_S) -> dict[str, Any]:  # fmt: skip
    outcome = run_script(ctx.script_runner, source, job_id=ctx.job.id, globals=globals_,
                         name=action.script, timeout_s=timeout_s)  # fmt: skip
    if not outcome.ok:
        raise ActionFailed(error_text(outcome))
    entry: dict[str, Any] = {"status": "ok"}
    if action.returns_response:
        entry["response"] = outcome.value
    return entry
