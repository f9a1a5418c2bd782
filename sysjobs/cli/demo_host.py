"""An app (the demo app by default) on one database with its workers.

What the samples run against.

A thin adapter over :class:`sysjobs.host.Host` (the composition root), shaped as the
sample runner's ``SampleHost``: scripts run directly (outside any job) or as a RUN_SCRIPT
job — exactly what ``sysjobs run --in-job`` does — and the workers can be paused.
Shared by ``sysjobs demo``, ``sysjobs samples run``, the pytest plugin and
``tests/samples``, so all of them judge the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sysjobs.cli.sample_runner import settle
from sysjobs.host import DONE_STATUSES, Host
from sysjobs.jobs import Engine, Job
from sysjobs.runtime import Limits, Outcome, RunResult, ScriptError
from sysjobs.worker.pool import Workers


class DemoHost:
    """A :class:`Host` on ``url`` (the demo app, or ``app_dir``) with pausable workers."""

    def __init__(
        self, url: str, *, app_dir: Path | None = None, workers: int = 2, in_process: bool = False
    ) -> None:
        self.host = Host(url, app_dir, limits=Limits(timeout_s=120.0))
        self._workers = workers
        #: Jobs run in threads of this process (trusted code only; no worker process to start:
        #: the test suite's sample checks, where a process per test costs most of the time).
        self._in_process = in_process
        self.pool: Workers | None = None
        # The demo app's job listener reacts to finished actions, as in production.
        self._events = self.host.app.start_job_event_pump(interval_s=0.2)

    @property
    def engine(self) -> Engine:
        return self.host.engine

    def start_workers(self) -> None:
        """Start the workers (a supervised worker process, or this process when ``in_process``;
        their slots run jobs in threads)."""
        if self.pool is None:
            self.pool = self.host.workers(
                concurrency=self._workers, in_process=self._in_process
            ).start()

    def stop_workers(self) -> None:
        """Stop claiming; running jobs reach a safe point."""
        if self.pool is not None:
            self.pool.stop(grace_s=5.0)
            self.pool = None

    def run_script(
        self, source: str, *, in_job: bool, timeout_s: float
    ) -> tuple[RunResult, str | None]:
        """Run ``source``; as a RUN_SCRIPT job when ``in_job`` (its id is returned)."""
        if not in_job:
            return self.host.run(source, timeout_s=timeout_s), None
        job = self.host.start_script_job(source, label="Run a sample", timeout_s=timeout_s)
        ended = self.engine.wait(job.id, DONE_STATUSES, timeout_s + 60)
        return self._result_of(ended), job.id

    def _result_of(self, job: Job) -> RunResult:
        """The job's run as a :class:`RunResult`: its log lines, value or error."""
        results = job.results or {}
        error = results.get("error")
        headline = f"{error['code']}: {error['message']}" if error else None
        entries = sorted(self.engine.logs(job.id, {}), key=lambda e: (e.timestamp, e.id))
        lines = [e.message for e in entries if not (e.level == "ERROR" and e.message == headline)]
        if error is None and str(job.status) == "FINISHED":
            return RunResult(Outcome.OK, results.get("value"), lines)
        failure = ScriptError(
            code=(error or {}).get("code") or str(job.status),
            name="Error",
            message=(error or {}).get("message") or f"the job ended {job.status}",
        )
        return RunResult(Outcome.ERROR, None, lines, error=failure)

    @contextmanager
    def workers_paused(self) -> Iterator[None]:
        """No job is claimed while inside (a job started meanwhile stays PENDING); on the
        way out the workers claim it at once. The workers keep running, paused: no worker
        process to stop and start again (a fresh interpreter importing the stack each time).
        """
        pool = self.pool
        if pool is None:
            yield
            return
        pool.pause()
        try:
            yield
        finally:
            pool.resume()

    def settle(self) -> None:
        """Until no job is active and the app's listeners have seen every transition (the
        background pump paused meanwhile: no round of it half done beside ours)."""
        with self._events.held() as pump:
            settle(self.engine, pump)

    def close(self) -> None:
        """Let started jobs end first: a handler thread outliving its database is a leak."""
        if self.pool is not None:
            self.settle()
        self.stop_workers()
        self._events.stop()
        self.host.close()


@contextmanager
def open_demo_host(
    url: str, *, app_dir: Path | None = None, workers: int = 2, in_process: bool = False
) -> Iterator[DemoHost]:
    """A :class:`DemoHost` with its workers started, closed on exit."""
    host = DemoHost(url, app_dir=app_dir, workers=workers, in_process=in_process)
    try:
        host.start_workers()
        yield host
    finally:
        host.close()
