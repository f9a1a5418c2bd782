"""EXECUTE_ACTION: run an action's script per record, once for a query, or globally."""

from __future__ import annotations

from typing import Any

from sysjobs.app.app import App
from sysjobs.app.jobtypes.loop import run_record_loop
from sysjobs.app.jobtypes.models import ExecuteActionData
from sysjobs.app.manifest import ActionDef, ActionKind
from sysjobs.app.records import Record
from sysjobs.app.scripts import error_text, run_script, script_session
from sysjobs.errors import SysError
from sysjobs.jobs import JobContext


class ActionFailed(SysError):
    """The action's script failed."""

    code = "scriptError"


def execute_action(app: App, ctx: JobContext, data: ExecuteActionData) -> None:
    action = app.definition.action(data.entityName, data.actionName)
    source = app.definition.script(action.script)
    params = {"params": data.params}
    if action.kind is ActionKind.ONE_RECORD and data.entityName is not None:
        def per_record(record: Record) -> dict[str, Any]:
            wired = app.records.wire(record)
            globals_ = {"record": wired, "oldRecord": wired, "action": params}
            return _run(ctx, action, source, globals_)

        with script_session(ctx.script_runner, ctx.job.id):
            run_record_loop(ctx, app.records, data.entityName, data.query, per_record)
        return
    globals_ = {"query": data.query, "action": params}
    try:
        entry = _run(ctx, action, source, globals_)
    except ActionFailed as exc:
        ctx.log_error(f"Action {data.actionName} failed: {exc.message}")
        entry = {"status": "error", "errorMessage": exc.message}
    ctx.set_results({"results": entry})
    ctx.set_progress(100)


def _run(ctx: JobContext, action: ActionDef, source: str,
         globals_: dict[str, Any]) -> dict[str, Any]:
    outcome = run_script(ctx.script_runner, source, job_id=ctx.job.id, globals=globals_,
                         name=action.script)  # fmt: skip
    if not outcome.ok:
        raise ActionFailed(error_text(outcome))
    entry: dict[str, Any] = {"status": "ok"}
    if action.returns_response:
        entry["response"] = outcome.value
    return entry
