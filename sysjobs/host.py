"""The public Python API: one object that wires the layers together.

A :class:`Host` opens the database (migrating it), loads an app (the demo app unless told
otherwise), registers the app's public job types and the RUN_SCRIPT type, and builds the
sandbox whose ``sys`` global has ``jobs``, ``data``, ``commons``, ``exceptions`` and ``log``
— plus any namespaces the embedding platform adds. It runs scripts directly
(:meth:`Host.run`) or as jobs (:meth:`Host.run_in_job`), and starts in-process worker
pools (:meth:`Host.workers`). The CLI, the dashboard and worker processes are built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sysjobs.app.app import App
from sysjobs.app.definition import load_app, load_demo_app
from sysjobs.app.jobtypes import register_app_job_types
from sysjobs.bindings import core_namespaces
from sysjobs.bindings.data import data_namespace
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.errors import BadRequest
from sysjobs.jobs import Engine, EngineSettings, Job, JobType
from sysjobs.runtime import Governance, Limits, Namespace, RunResult, Sandbox
from sysjobs.worker.pool import DEFAULT_SLOTS, WorkerPool
from sysjobs.worker.scripts import SandboxScriptRunner, script_job_type

#: The statuses after which a script job has nothing more to say.
DONE_STATUSES = ("FINISHED", "STOPPED", "CANCELED")


class Host:
    """Database + app + sandbox + workers, ready to run platform JavaScript."""

    def __init__(
        self,
        db_url: str | None = None,
        app_dir: str | Path | None = None,
        *,
        limits: Limits | None = None,
        namespaces: Sequence[Namespace] = (),
        job_types: Sequence[JobType] = (),
        pool_size: int = 2,
        engine: Engine | None = None,
        governance: Governance | None = None,
        settings: EngineSettings | None = None,
    ) -> None:
        """``governance`` (default: ``limits.governance``) bounds each script run; the app's
        manifest may tighten it. ``settings`` configure the engine this Host opens (caps,
        leases, retention); an ``engine`` passed in keeps its own."""
        if engine is not None and settings is not None:
            raise BadRequest("Host: pass settings to the engine you pass in, not to the Host.")
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else Engine.open(db_url, settings=settings)
        try:
            definition = load_app(app_dir) if app_dir is not None else load_demo_app()
            limits = governed(limits or Limits(), governance, definition.governance_limits())
            self.app = App.open(self.engine, definition)
            register_app_job_types(self.engine, self.app)
            self.engine.registry.hold(self.app.held_job_types)
            self.engine.register(script_job_type())
            for job_type in job_types:
                self.engine.register(job_type)
            self.sandbox = Sandbox(
                [*core_namespaces(), jobs_namespace(self.engine), data_namespace(self.app),
                 *namespaces],
                limits,
                pool_size=pool_size,
            )  # fmt: skip
        except BaseException:
            if self._owns_engine:
                self.engine.close()
            raise
        self.runner = SandboxScriptRunner(self.sandbox, self._job_log)

    def _job_log(self, job_id: str, line: str) -> None:
        self.engine.log_info(job_id, line)

    # ---- scripts ------------------------------------------------------------------
    def run(
        self,
        source: str,
        *,
        timeout_s: float | None = None,
        user: dict[str, Any] | None = None,
        log_sink: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Run ``source`` now, outside any job (``getCurrentJobId()`` is null)."""
        return self.sandbox.run(source, timeout_s=timeout_s, user=user, log_sink=log_sink)

    def start_script_job(
        self, source: str, *, label: str = "Script", timeout_s: float | None = None,
        run_by: dict[str, Any] | None = None,
    ) -> Job:  # fmt: skip
        """Enqueue ``source`` as a RUN_SCRIPT job; a worker runs it."""
        data = {"_source": source, "_timeout_s": timeout_s or self.sandbox.limits.timeout_s}
        return self.engine.enqueue("RUN_SCRIPT", data, label=label, run_by=run_by)

    def run_in_job(
        self, source: str, *, label: str = "Script", timeout_s: float | None = None,
        wait_s: float = 3600.0,
    ) -> Job:  # fmt: skip
        """Run ``source`` as a job and wait for it to end; returns the ended job."""
        job = self.start_script_job(source, label=label, timeout_s=timeout_s)
        return self.engine.wait(job.id, DONE_STATUSES, wait_s)

    # ---- workers ------------------------------------------------------------------
    def workers(self, concurrency: int = DEFAULT_SLOTS, **options: Any) -> WorkerPool:
        """An in-process worker pool running this host's jobs (use as a context manager)."""
        return WorkerPool(
            self.engine, concurrency=concurrency, script_runner=self.runner, **options
        )

    def close(self) -> None:
        """Discard the sandbox pool and close the database (when this host opened it)."""
        self.sandbox.close()
        if self._owns_engine:
            self.engine.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def governed(limits: Limits, governance: Governance | None, app: dict[str, int]) -> Limits:
    """``limits`` under ``governance`` (or their own), each limit lowered where the app's
    manifest is stricter."""
    return replace(limits, governance=(governance or limits.governance).stricter(**app))


def core_sandbox(timeout_s: float | None = None, pool_size: int = 1) -> Sandbox:
    """A sandbox with only the core namespaces (no database)."""
    limits = Limits(timeout_s=timeout_s) if timeout_s is not None else Limits()
    return Sandbox(core_namespaces(), limits, pool_size=pool_size)


def host_sandbox(db_url: str | None = None, app_dir: str | None = None,
                 timeout_s: float | None = None) -> Sandbox:  # fmt: skip
    """The sandbox of a full :class:`Host` (for a :class:`ProcessSandbox` child)."""
    limits = Limits(timeout_s=timeout_s) if timeout_s is not None else None
    return Host(db_url, app_dir, limits=limits, pool_size=1).sandbox


# ---- worker processes ------------------------------------------------------------------
# `sysjobs worker` spawns processes that receive import paths, not objects: the setup hook
# builds this process's one Host on the engine the worker opened, and the runner factory
# hands out its script runner.
_process_host: Host | None = None


#: Data limit of a worker process (MiB), from ``SYSJOBS_WORKER_DATA_LIMIT_MB``; 0 = none.
WORKER_DATA_LIMIT_MB = 4096


def worker_setup(engine: Engine) -> None:
    """Worker-process hook: limit the process's memory, load the app (``SYSJOBS_APP`` or the
    demo) and its job types.

    A worker process is where job scripts run, so it is their process sandbox: its data
    limit (``RLIMIT_DATA``, never ``RLIMIT_AS``) makes an ArrayBuffer bomb fail to allocate
    instead of exhausting the machine, and a capped V8 old space makes one huge allocation
    end the process quickly — the supervisor then recovers its jobs and replaces it.
    """
    global _process_host
    import os
    import resource

    from sysjobs.runtime.bridge import configure_v8

    limit_mb = int(os.environ.get("SYSJOBS_WORKER_DATA_LIMIT_MB", WORKER_DATA_LIMIT_MB))
    if limit_mb > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (limit_mb << 20, limit_mb << 20))
    configure_v8(max_old_space_mb=2 * Limits().heap_bytes // (1024 * 1024))
    _process_host = Host(engine=engine, app_dir=os.environ.get("SYSJOBS_APP") or None)


def worker_runner() -> SandboxScriptRunner:
    """Worker-process hook: the script runner of the host :func:`worker_setup` built."""
    if _process_host is None:
        raise RuntimeError("worker_setup must run before worker_runner")
    return _process_host.runner
