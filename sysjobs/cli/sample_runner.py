"""Run one sample the way its sidecar says, and report whether it did what the spec says.

A run: the sidecar's ``given`` script (data the sample needs) → wait until the jobs it
started, and any the app started in reaction, have settled → note the newest jobs → run
the sample (as a job when ``in_job``; with the workers paused when ``workers: false``) →
collect the jobs it created → :func:`sysjobs.cli.sample_checks.check`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sysjobs.cli.sample_checks import SIDE_EFFECT_TYPES, Observed, SampleRun, check
from sysjobs.errors import SysError, code_of
from sysjobs.jobs import Engine, Job
from sysjobs.runtime import RunResult

#: Statuses in which a job still changes on its own (a worker's or the reaper's move).
_ACTIVE = "PENDING,RUNNING,STOPPING,CANCELING"
#: Statuses it leaves them for.
_DONE = ("FINISHED", "STOPPED", "CANCELED")
#: Active jobs one wait watches; more are waited for in the next round.
_WATCHED = 100
_LOOKBACK_MS = 60_000


class SampleHost(Protocol):
    """What running a sample needs: the engine, a way to run scripts, pausable workers."""

    @property
    def engine(self) -> Engine: ...

    def run_script(
        self, source: str, *, in_job: bool, timeout_s: float
    ) -> tuple[RunResult, str | None]:
        """Run ``source`` (inside a fresh job when ``in_job``); the result and that job's id."""
        ...

    def workers_paused(self) -> AbstractContextManager[None]:
        """While entered, no worker claims a job."""
        ...

    def settle(self) -> None:
        """Return once no job is active and nothing is about to start one."""
        ...


@dataclass
class Report:
    """The verdict on one run, with what it printed."""

    run: SampleRun
    problems: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    error: str | None = None
    ms: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def settle(
    engine: Engine, pump: Callable[[], int] | None = None, timeout_s: float = 60.0
) -> None:
    """Return once no job is active and ``pump`` has nothing left to hand out.

    ``pump`` fires the app's job listeners for transitions not yet seen (it returns how
    many it handled): listener jobs start *after* the job they react to ended, so a quiet
    engine is only settled once the pump has nothing left either. No job active, then a
    round that takes nothing: nothing is left that could start a job — provided nobody
    else pumps meanwhile (``JobEventPump.held``). The waits are on the active jobs' own
    ends (the engine's wake-ups: this process's commits, the WAL watch, LISTEN), not on a
    pace: a run that leaves nothing behind settles after one look.
    """
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        active = [j.id for j in engine.find({"status": _ACTIVE, "_size": _WATCHED})]
        if active:
            engine.wait_states(active, _DONE, left)
        elif pump is None or pump() == 0:
            return


def _ids_since(engine: Engine, since_ms: int) -> Iterator[Job]:
    yield from engine.find({"createFrom": since_ms})


def execute(run: SampleRun, host: SampleHost) -> Report:
    """Run ``run`` on ``host`` and judge it."""
    report = Report(run)
    engine = host.engine
    if run.given:
        given, _ = host.run_script(run.given, in_job=False, timeout_s=120.0)
        if not given.ok:
            report.problems.append(f"the sidecar's given script failed: {_describe(given)}")
            return report
    host.settle()
    newest = list(engine.find({"_size": 10}))
    since = int(time.time() * 1000) - _LOOKBACK_MS
    before = {j.id for j in _ids_since(engine, since)}
    started = time.monotonic()
    began_ms = engine.clock.now_ms()
    if run.workers:
        result, current_id, created = _run_and_collect(run, host, since, before)
    else:
        # Observe before the workers come back, or the PENDING job would already run.
        with host.workers_paused():
            result, current_id, created = _run_and_collect(run, host, since, before)
    report.ms = round((time.monotonic() - started) * 1000, 1)
    report.logs = list(result.logs)
    report.error = None if result.ok else _describe(result)
    seen = _observed(result, created, engine.get(current_id) if current_id else None, newest)
    if "app_logs" in run.expect:  # what the run's jobs log comes once they have run
        host.settle()
        seen = replace(seen, app_logs=_app_log_lines(engine, began_ms))
    report.problems = check(run, seen, engine)
    return report


def _app_log_lines(engine: Engine, since_ms: int) -> list[str]:
    """The app log's lines from ``since_ms`` on, as ``LEVEL message``."""
    return [f"{e.level} {e.message}" for e in engine.app_logs({"from": since_ms})]


def judge(run: SampleRun, host: SampleHost) -> Report:
    """:func:`execute`, with a platform error on the way (a sidecar's ``find`` query the
    engine refuses, a deadline) reported as this run's failure instead of ending the rest."""
    try:
        return execute(run, host)
    except SysError as exc:
        return Report(run, problems=[f"the run could not be judged: {code_of(exc)}: {exc.message}"])


def _run_and_collect(
    run: SampleRun, host: SampleHost, since: int, before: set[str]
) -> tuple[RunResult, str | None, list[Job]]:
    """Run the sample; and the jobs it created, oldest first (side effects excluded)."""
    result, current_id = host.run_script(run.source, in_job=run.in_job, timeout_s=run.timeout_s)
    created = [
        j
        for j in reversed(list(_ids_since(host.engine, since)))
        if j.id not in before and j.id != current_id and str(j.type) not in SIDE_EFFECT_TYPES
    ]
    return result, current_id, created


def _observed(
    result: RunResult, created: list[Job], current: Job | None, newest: list[Job]
) -> Observed:
    error: Any = result.error
    return Observed(
        ok=result.ok,
        logs=result.logs,
        error_code=getattr(error, "code", None),
        error_name=getattr(error, "name", None),
        error_message=getattr(error, "message", None),
        created=created,
        current=current,
        newest_before=newest,
    )


def _describe(result: RunResult) -> str:
    if result.error is None:
        return str(result.outcome)
    return result.error.headline()
