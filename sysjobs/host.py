"""The public Python API: one object that wires the layers together.

A :class:`Host` opens the database (migrating it), loads an app (the demo app unless told
otherwise), registers the app's public job types and the RUN_SCRIPT type, and builds the
sandbox whose ``sys`` global has ``jobs``, ``data``, ``commons``, ``exceptions`` and ``log``
— plus any namespaces the embedding platform adds. It runs scripts directly
(:meth:`Host.run`) or as jobs (:meth:`Host.run_in_job`), and starts workers
(:meth:`Host.workers`): supervised worker processes by default, so that no job script can
end or wedge the process hosting the Host; an in-process pool only when asked, for trusted
code. The CLI, the dashboard and worker processes are built on it.
Async code (an ASGI app) uses the twins :meth:`Host.arun`, :meth:`Host.wait_for_job` and
:meth:`Host.arun_in_job`, which never block the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from sysjobs.app.app import HELD_WHEN_STOPPED, App
from sysjobs.app.definition import load_app, load_demo_app
from sysjobs.app.jobtypes import register_app_job_types
from sysjobs.bindings import core_namespaces
from sysjobs.bindings.data import data_namespace
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.bindings.logs import logs_namespace
from sysjobs.errors import BadRequest
from sysjobs.jobs import Engine, EngineSettings, Job, JobType
from sysjobs.jobs.apps import DEFAULT_APP, check_app_key
from sysjobs.runtime import Governance, Limits, Namespace, RunResult, Sandbox
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker.loader import Extensions
from sysjobs.worker.pool import DEFAULT_SLOTS, WorkerPool, Workers
from sysjobs.worker.processes import WorkerConfig, WorkerProcesses, settings_to_json
from sysjobs.worker.scripts import (
    RecycleScope,
    SandboxScriptRunner,
    TrustDomains,
    script_job_type,
)

T = TypeVar("T")

#: The statuses after which a script job has nothing more to say.
DONE_STATUSES = ("FINISHED", "STOPPED", "CANCELED")
#: The hooks every worker process of a Host (and of ``sysjobs worker``) is built with.
WORKER_SETUP = "sysjobs.host:worker_setup"
WORKER_RUNNER = "sysjobs.host:worker_runner"


class Host:
    """Database + app + sandbox + workers, ready to run platform JavaScript.

    ``namespaces`` and ``job_types`` are objects or import paths (``"mypkg.ns:greeter"``,
    naming the object or a function returning it). Worker processes — the default of
    :meth:`workers` — build their own from the import paths; objects serve
    :meth:`run` and in-process workers only.
    """

    def __init__(
        self,
        db_url: str | None = None,
        app_dir: str | Path | None = None,
        *,
        limits: Limits | None = None,
        namespaces: Sequence[Namespace | str] = (),
        job_types: Sequence[JobType | str] = (),
        pool_size: int = 2,
        engine: Engine | None = None,
        governance: Governance | None = None,
        settings: EngineSettings | None = None,
        recycle_scope: RecycleScope = "app",
        launcher: Launcher | None = None,
    ) -> None:
        """``governance`` (default: ``limits.governance``) bounds each script run; the app's
        manifest may tighten it. ``settings`` configure the engine this Host opens (caps,
        leases, retention); an ``engine`` passed in keeps its own. ``recycle_scope`` is the
        trust domain within which V8 contexts are recycled: ``"app"``, or ``"user"`` (only
        between runs of one user: a job's ``runBy``, :meth:`run`'s ``user``). ``launcher``
        (its owner's; the Host does not close it) forks :meth:`workers`' processes ready-imported
        (:mod:`sysjobs.runtime.launcher`).

        Many Hosts may share one database: each reads and writes only its app's rows, keyed
        by the app's manifest ``name`` (:data:`~sysjobs.jobs.apps.DEFAULT_APP` without an
        app folder); see docs/many-apps.md."""
        if recycle_scope not in ("app", "user"):
            raise BadRequest(f"Invalid value {recycle_scope!r} for parameter 'recycle_scope'. "
                             "Allowed values: app, user")  # fmt: skip
        if engine is not None and settings is not None:
            raise BadRequest("Host: pass settings to the engine you pass in, not to the Host.")
        self.extensions = Extensions.of(namespaces, job_types)
        self.app_dir = str(Path(app_dir).resolve()) if app_dir is not None else None
        self._pool_size = pool_size
        self.launcher = launcher
        self._owns_engine = engine is None
        definition = load_app(app_dir) if app_dir is not None else load_demo_app()
        #: The key of this Host's app on the shared database.
        self.app_key = app_key_of(definition.name if app_dir is not None else None)
        if engine is None:  # the app's own retention and caps (manifest ``jobs:``)
            settings = definition.engine_settings(settings or EngineSettings())
        self.engine = _engine_for(self.app_key, db_url, engine, settings)
        try:
            limits = governed(limits or Limits(), governance, definition.governance_limits())
            self.app = App.open(self.engine, definition)
            register_app_job_types(self.engine, self.app)
            # The app's status is cached per claim until app_state is written or another
            # process is heard from: a busy worker does not read it per job.
            self.engine.registry.hold(
                self.app.held_job_types, version=self.engine.table_changes("app_state"),
                within=HELD_WHEN_STOPPED,
            )
            self.engine.register(script_job_type())
            for job_type in self.extensions.job_types:
                self.engine.register(job_type)
            self.sandbox = Sandbox(
                [*core_namespaces(), jobs_namespace(self.engine), data_namespace(self.app),
                 logs_namespace(self.engine),
                 *self.extensions.namespaces],
                limits,
                pool_size=pool_size,
            )  # fmt: skip
        except BaseException:
            if self._owns_engine:
                self.engine.close()
            raise
        self.domains = TrustDomains(self.app.definition.name, recycle_scope)
        self.runner = SandboxScriptRunner(self.sandbox, self._job_log, domains=self.domains)

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
        """Run ``source`` now, in this process, outside any job (``getCurrentJobId()`` is
        null). For trusted code: untrusted scripts belong in jobs, which worker processes
        run, or in a :class:`~sysjobs.runtime.process.ProcessSandbox` (``sysjobs run``)."""
        return self.sandbox.run(source, timeout_s=timeout_s, user=user, log_sink=log_sink,
                                domain=self.domains.of(user))  # fmt: skip

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

    # ---- from async code ----------------------------------------------------------
    # Each call runs its blocking part in a thread of its own, never on the event loop nor
    # in the loop's default executor (long waits would starve it). The thread ends when
    # the call does, which its timeout bounds: cancelling the awaiting task stops a script
    # at once (it is terminated) and abandons a wait, whose thread ends at its timeout.
    async def arun(
        self,
        source: str,
        *,
        timeout_s: float | None = None,
        user: dict[str, Any] | None = None,
        log_sink: Callable[[str], None] | None = None,
        name: str | None = None,
    ) -> RunResult:
        """:meth:`run` for async code: the event loop keeps running while the script does.

        ``log_sink`` is called in the script's thread (hand lines to the loop with
        ``loop.call_soon_threadsafe``). Cancelling the awaiting task terminates the script.
        ``name`` names the script in its stack frames.
        """
        run_id = f"async-run-{uuid.uuid4().hex}"
        call = partial(
            self.sandbox.run, source, timeout_s=timeout_s, user=user, log_sink=log_sink,
            domain=self.domains.of(user), run_id=run_id, name=name,
        )  # fmt: skip
        try:
            return await _in_thread(call)
        except asyncio.CancelledError:
            self.sandbox.terminate(run_id)
            raise

    async def wait_for_job(
        self, job_id: str, statuses: Sequence[str] | str = DONE_STATUSES, *, timeout_s: float
    ) -> Job:
        """The job once it is in one of ``statuses``, for async code; ``Timeout`` if not
        within ``timeout_s`` (required: it bounds the waiting thread, even when the awaiting
        task is cancelled). The thread sleeps on the engine's wake-ups for that job, as
        :meth:`Engine.wait` does; the event loop does not poll."""
        return await _in_thread(partial(self.engine.wait, job_id, statuses, timeout_s))

    async def arun_in_job(
        self, source: str, *, label: str = "Script", timeout_s: float | None = None,
        wait_s: float = 3600.0,
    ) -> Job:  # fmt: skip
        """:meth:`run_in_job` for async code: enqueue ``source`` as a job, await its end."""
        job = await _in_thread(
            partial(self.start_script_job, source, label=label, timeout_s=timeout_s)
        )
        return await self.wait_for_job(job.id, DONE_STATUSES, timeout_s=wait_s)

    # ---- workers ------------------------------------------------------------------
    @overload
    def workers(
        self, concurrency: int = ..., *, processes: int = ..., in_process: Literal[True],
        queues: Mapping[str, int] | None = ..., lease_s: float | None = ...,
        shutdown_grace_s: float = ..., data_limit_mb: int | None = ...,
        relay_stderr: bool = ..., other_apps: Mapping[str, str] | None = ...,
    ) -> WorkerPool: ...  # fmt: skip

    @overload
    def workers(
        self, concurrency: int = ..., *, processes: int = ..., in_process: Literal[False] = ...,
        queues: Mapping[str, int] | None = ..., lease_s: float | None = ...,
        shutdown_grace_s: float = ..., data_limit_mb: int | None = ...,
        relay_stderr: bool = ..., other_apps: Mapping[str, str] | None = ...,
    ) -> WorkerProcesses: ...  # fmt: skip

    @overload
    def workers(
        self, concurrency: int = ..., *, processes: int = ..., in_process: bool,
        queues: Mapping[str, int] | None = ..., lease_s: float | None = ...,
        shutdown_grace_s: float = ..., data_limit_mb: int | None = ...,
        relay_stderr: bool = ..., other_apps: Mapping[str, str] | None = ...,
    ) -> Workers: ...  # fmt: skip

    def workers(
        self,
        concurrency: int = DEFAULT_SLOTS,
        *,
        processes: int = 1,
        in_process: bool = False,
        queues: Mapping[str, int] | None = None,
        lease_s: float | None = None,
        shutdown_grace_s: float = 10.0,
        data_limit_mb: int | None = None,
        relay_stderr: bool = True,
        other_apps: Mapping[str, str] | None = None,
    ) -> Workers:
        """Workers running this host's jobs, ``concurrency`` at once per process (start them,
        or use as a context manager).

        By default ``processes`` supervised worker processes, each with a data limit
        (``data_limit_mb``, default ``SYSJOBS_WORKER_DATA_LIMIT_MB`` or 4096): a script that
        exhausts memory or crashes V8 ends its process, whose jobs end with the reason
        (``memoryLimit`` / ``crashed``), and the process is replaced — this one never
        notices. ``in_process=True`` runs jobs in threads of this process instead: for
        trusted code only (a fatal V8 error then ends this process). ``relay_stderr=False``
        keeps the worker processes' stderr to themselves (see :class:`WorkerProcesses`).
        ``other_apps`` (app key -> folder) are served by the same worker processes besides
        this host's app, fairly (docs/many-apps.md); not in-process.
        """
        if other_apps and in_process:
            raise BadRequest("Invalid value for parameter 'other_apps': in-process workers "
                             "serve this host's app only. Allowed values: none")  # fmt: skip
        if in_process:
            return WorkerPool(
                self.engine, concurrency=concurrency, queues=queues, lease_s=lease_s,
                script_runner=self.runner, shutdown_grace_s=shutdown_grace_s,
            )  # fmt: skip
        self._check_spawnable(processes, data_limit_mb)
        config = WorkerConfig(
            self.engine.url, concurrency=concurrency, queues=_queue_spec(queues),
            lease_s=lease_s or self.engine.settings.lease_s,
            stop_grace_s=self.engine.settings.stop_grace_s, shutdown_grace_s=shutdown_grace_s,
            engine_settings=settings_to_json(self.engine.settings),
            setup=WORKER_SETUP, setup_args=self._worker_args(data_limit_mb),
            runner_factory=WORKER_RUNNER,
            apps={self.app_key: self.app_dir, **other_apps} if other_apps else {},
        )  # fmt: skip
        return WorkerProcesses(config, processes, engine=self.engine, relay_stderr=relay_stderr,
                               launcher=self.launcher)  # fmt: skip

    def _check_spawnable(self, processes: int, data_limit_mb: int | None) -> None:
        """Worker processes must open the same database and build the same namespaces."""
        hint = (
            "or run jobs in this process, for trusted code only (workers(in_process=True), "
            "--in-process-workers)"
        )
        check_worker_env()
        if processes < 1:
            raise BadRequest(f"Invalid value {processes} for parameter 'processes'. "
                             "Allowed values: 1 or more")  # fmt: skip
        if data_limit_mb is not None and (isinstance(data_limit_mb, bool) or data_limit_mb < 0):
            raise BadRequest(f"Invalid value {data_limit_mb!r} for parameter 'data_limit_mb'. "
                             "Allowed values: MiB as an integer >= 0 (0: no limit)")  # fmt: skip
        if not self.engine.database.shared_by_processes:
            raise BadRequest("Invalid value for parameter 'db_url': worker processes cannot "
                             "open an in-memory SQLite database. Allowed values: a SQLite "
                             f"file or a PostgreSQL URL, {hint}")  # fmt: skip
        self.extensions.require_importable(hint)

    def _worker_args(self, data_limit_mb: int | None) -> dict[str, Any]:
        """What :func:`worker_setup` needs to build this host again in a worker process."""
        return {
            "app_dir": self.app_dir, "limits": limits_to_json(self.sandbox.limits),
            "namespaces": list(self.extensions.namespace_paths),
            "job_types": list(self.extensions.job_type_paths),
            "pool_size": self._pool_size, "data_limit_mb": data_limit_mb,
            "recycle_scope": self.domains.scope,
        }  # fmt: skip

    def close(self) -> None:
        """Discard the sandbox pool and close the database (when this host opened it)."""
        self.sandbox.close()
        if self._owns_engine:
            self.engine.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _in_thread(call: Callable[[], T]) -> T:
    """``call()`` in a thread of its own; its result (or exception) for the awaiting task.

    The outcome reaches the loop through ``call_soon_threadsafe``; when the awaiting task
    was cancelled, or the loop closed meanwhile, the outcome is dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def work() -> None:
        try:
            value = call()
        except BaseException as exc:  # delivered to the awaiting task, not lost here
            error = exc
            _deliver(loop, lambda: settle(lambda: future.set_exception(error)))
        else:
            _deliver(loop, lambda: settle(lambda: future.set_result(value)))

    threading.Thread(target=work, name="sysjobs-async", daemon=True).start()
    return await future


def _deliver(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed: nobody awaits any more
        loop.call_soon_threadsafe(callback)


def app_key_of(manifest_name: str | None) -> str:
    """The app key of an app named ``manifest_name`` (None: no app folder, the default)."""
    return DEFAULT_APP if manifest_name is None else check_app_key(manifest_name)


def app_key_of_folder(app_dir: str | Path | None) -> str:
    """The app key of the app in ``app_dir`` (None: the default key)."""
    return app_key_of(None if app_dir is None else load_app(app_dir).name)


def _engine_for(
    key: str, db_url: str | None, engine: Engine | None, settings: EngineSettings | None
) -> Engine:
    """The engine of app ``key``: the one passed in (which must serve that app), or a new
    one with ``settings`` for that app."""
    if engine is not None:
        if engine.app != key:
            raise BadRequest(f"Invalid value '{engine.app}' for parameter 'app' of the engine: "
                             f"this Host's app is '{key}'. Allowed values: '{key}'")  # fmt: skip
        return engine
    settings = settings or EngineSettings()
    if settings.app not in (DEFAULT_APP, key):
        raise BadRequest(f"Invalid value '{settings.app}' for parameter 'app' of the settings: "
                         f"this Host's app is '{key}'. Allowed values: '{key}'")  # fmt: skip
    return Engine.open(db_url, settings=replace(settings, app=key))


def _queue_spec(queues: Mapping[str, int] | None) -> str | None:
    """``{"mix": 4, "heavy": 1}`` as ``sysjobs worker --queues`` spells it."""
    return ",".join(f"{name}={limit}" for name, limit in queues.items()) if queues else None


def governed(limits: Limits, governance: Governance | None, app: dict[str, int]) -> Limits:
    """``limits`` under ``governance`` (or their own), each limit lowered where the app's
    manifest is stricter."""
    return replace(limits, governance=(governance or limits.governance).stricter(**app))


def limits_to_json(limits: Limits) -> dict[str, Any]:
    """``limits`` as plain data, for a worker process (:func:`limits_from_json`)."""
    return asdict(limits)


def limits_from_json(raw: Mapping[str, Any]) -> Limits:
    """The :class:`Limits` that :func:`limits_to_json` wrote, governance included."""
    return Limits(**{**raw, "governance": Governance(**raw.get("governance", {}))})


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
# Worker processes receive import paths, not objects: the setup hook builds the process's
# one Host on the engine the worker opened, and the runner factory hands out its runner.
_process_host: Host | None = None


#: Data limit of a worker process (MiB), from ``SYSJOBS_WORKER_DATA_LIMIT_MB``; 0 = none.
WORKER_DATA_LIMIT_MB = 4096
#: When set, the V8 heap limit (MiB) of job scripts in worker processes, whatever the
#: host's ``Limits.heap_bytes``: the commands (``serve``, ``run``) have no option for it.
WORKER_HEAP_ENV = "SYSJOBS_WORKER_HEAP_MB"
WORKER_DATA_LIMIT_ENV = "SYSJOBS_WORKER_DATA_LIMIT_MB"


def env_mib(name: str, default: int | None) -> int | None:
    """A MiB figure from the environment variable ``name`` (``default`` when unset or
    empty). Read in the parent before any worker process starts, so a typo is a clear
    error there instead of worker processes that die at start and jobs that wait forever."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise BadRequest(f"Invalid value {raw[:40]!r} for environment variable {name!r}. "
                         "Allowed values: MiB as a whole number from 0 to 999999999 "
                         "(0: no limit)")  # fmt: skip
    return int(raw)


def check_worker_env() -> None:
    """Refuse a malformed ``SYSJOBS_WORKER_DATA_LIMIT_MB`` / ``SYSJOBS_WORKER_HEAP_MB``."""
    env_mib(WORKER_DATA_LIMIT_ENV, WORKER_DATA_LIMIT_MB)
    heap = env_mib(WORKER_HEAP_ENV, None)
    if heap == 0:
        raise BadRequest(f"Invalid value '0' for environment variable {WORKER_HEAP_ENV!r}. "
                         "Allowed values: MiB as a whole number from 1 to 999999999")  # fmt: skip


def worker_setup(
    engine: Engine,
    *,
    app_dir: str | None = None,
    namespaces: Sequence[str] = (),
    job_types: Sequence[str] = (),
    limits: Mapping[str, Any] | None = None,
    pool_size: int = 2,
    data_limit_mb: int | None = None,
    recycle_scope: RecycleScope = "app",
) -> Engine:
    """Worker-process hook: limit the process's memory, load the app (``app_dir``, else
    ``SYSJOBS_APP``, else the demo), its job types and the embedder's namespaces. Returns
    the engine the app's jobs run on: ``engine``, or one of its app with the retention and
    caps the manifest sets (``Engine.for_app``).

    A worker process is where job scripts run, so it is their process sandbox: its data
    limit (``RLIMIT_DATA``, never ``RLIMIT_AS``) makes an ArrayBuffer bomb fail to allocate
    instead of exhausting the machine, and a capped V8 old space makes one huge allocation
    end the process quickly — the supervisor then recovers its jobs and replaces it.
    """
    global _process_host
    import resource

    from sysjobs.runtime.bridge import configure_v8

    check_worker_env()
    if data_limit_mb is None:
        data_limit_mb = env_mib(WORKER_DATA_LIMIT_ENV, WORKER_DATA_LIMIT_MB) or 0
    if data_limit_mb > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit_mb << 20, data_limit_mb << 20))
    run_limits = limits_from_json(limits) if limits else Limits()
    if heap_mb := env_mib(WORKER_HEAP_ENV, None):
        run_limits = replace(run_limits, heap_bytes=heap_mb << 20)
    configure_v8(max_old_space_mb=max(64, 2 * run_limits.heap_bytes // (1024 * 1024)))
    folder = app_dir or os.environ.get("SYSJOBS_APP") or None
    definition = load_app(folder) if folder is not None else load_demo_app()
    tuned = definition.engine_settings(engine.settings)
    if tuned != engine.settings:  # the app's own retention and caps (manifest ``jobs:``)
        engine = engine.for_app(engine.app, tuned)
    _process_host = Host(
        engine=engine, app_dir=folder, limits=run_limits, namespaces=namespaces,
        job_types=job_types, pool_size=pool_size, recycle_scope=recycle_scope,
    )  # fmt: skip
    return engine


def worker_runner() -> SandboxScriptRunner:
    """Worker-process hook: the script runner of the host :func:`worker_setup` built."""
    if _process_host is None:
        raise RuntimeError("worker_setup must run before worker_runner")
    return _process_host.runner
