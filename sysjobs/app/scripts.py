"""Running an action's or listener's JavaScript through the job's script runner.

Scripts are function bodies (they may ``return`` their response): the wrapper calls the
body with the run's globals — which the ``sys.data`` prelude adapts into what scripts
expect, ``record``/``oldRecord`` as Records and ``action.field('param1').val()`` — and
hands back a JSON value (a returned Record becomes its ``toJson()``).

The wrapper's head and the body's first line share one line, so a stack frame's line
number is the line in the author's file (``actions/x.js:3`` is its third line); the run is
named by that file. Only columns on the first line are shifted, by the head's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sysjobs.errors import SystemException
from sysjobs.jobs import ScriptOutcome, ScriptRunner
from sysjobs.jobs.scripts import EachScriptRunner, ItemOutcome, SessionScriptRunner

#: Seconds one action/listener run may take.
SCRIPT_TIMEOUT_S = 30.0

_HEAD = "(function () { var __out = (function (record, oldRecord, query, action, event) { "
#: After the body, on one line: the call with the run's globals, then the JSON value.
_TAIL = (
    "\n})(typeof record === 'undefined' ? null : record, "
    "typeof oldRecord === 'undefined' ? null : oldRecord, "
    "typeof query === 'undefined' ? null : query, "
    "typeof action === 'undefined' ? null : action, "
    "typeof event === 'undefined' ? null : event); "
    "if (__out != null && typeof __out.toJson === 'function') return __out.toJson(); "
    "return __out === undefined ? null : __out; })()"
)


def wrap(source: str) -> str:
    """The script as a function body, called with the run's globals."""
    return _HEAD + source + _TAIL


def run_script(
    runner: ScriptRunner | None,
    source: str,
    *,
    job_id: str | None,
    globals: dict[str, Any],
    timeout_s: float = SCRIPT_TIMEOUT_S,
    name: str | None = None,
) -> ScriptOutcome:
    """Run ``source`` wrapped; the outcome tells success or the script's error. ``name``,
    the script's path in the app (``actions/x.js``), names its stack frames."""
    if runner is None:
        raise SystemException("No script runner is available to run app scripts.")
    return runner.run(wrap(source), job_id=job_id, globals=globals, timeout_s=timeout_s,
                      name=name)  # fmt: skip


def run_script_each(
    runner: EachScriptRunner,
    source: str,
    items: Sequence[dict[str, Any]],
    on_item: ItemOutcome,
    *,
    job_id: str,
    globals: dict[str, Any],
    timeout_s: float = SCRIPT_TIMEOUT_S,
    name: str | None = None,
) -> ScriptOutcome:
    """Run ``source`` wrapped, once per item, as :func:`run_script` would run it with the
    item's globals over ``globals`` — in as few sandbox calls as the runner can
    (``EachScriptRunner.run_each``: each item's outcome to ``on_item``, in order)."""
    return runner.run_each(wrap(source), items, on_item, job_id=job_id, globals=globals,
                           timeout_s=timeout_s, name=name)  # fmt: skip


def script_session(runner: ScriptRunner | None, job_id: str) -> AbstractContextManager[object]:
    """Around one script's many runs for one job (an action over records): one context
    for all of them when the runner supports sessions, else a fresh one per run."""
    if isinstance(runner, SessionScriptRunner):
        return runner.session(job_id)
    return nullcontext()


def error_text(outcome: ScriptOutcome) -> str:
    """One line for a failed run: ``code: message``."""
    return f"{outcome.error_code or 'unknown'}: {outcome.error_message or 'script failed'}"
