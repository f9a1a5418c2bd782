"""``sysjobs worker``: a supervisor and N worker processes sharing one database.

Children are started with the ``spawn`` method — never ``fork``: a V8 isolate inherited
across ``fork`` hangs, and a forked child would inherit the parent's connections. Each child
opens its own engine, registers job types through the ``setup`` hook, builds its script
runner through ``runner_factory`` (both import paths, resolved in the child), and runs a
:class:`WorkerPool` under an owner id chosen by the supervisor. When a child dies, the
supervisor knows whose leases to take back and says why in each job's log — no need to wait
for the leases to expire; a replacement is started. SIGTERM stops gracefully.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import threading
from dataclasses import dataclass, replace
from types import FrameType

from sysjobs.jobs import Engine, EngineSettings, new_owner
from sysjobs.worker.loader import load
from sysjobs.worker.pool import DEFAULT_SLOTS, WorkerPool
from sysjobs.worker.queues import parse_queues

log = logging.getLogger(__name__)
SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs; plain data, so it crosses ``spawn``."""

    url: str | None
    concurrency: int = DEFAULT_SLOTS
    queues: str | None = None
    lease_s: float = 30.0
    stop_grace_s: float = 30.0
    shutdown_grace_s: float = 10.0
    #: ``module:function(engine)`` registering the job types this worker runs.
    setup: str | None = None
    #: ``module:function() -> ScriptRunner`` called in the child after start (or None).
    runner_factory: str | None = None
    owner: str = ""
    #: The supervisor's pid: a worker that finds another parent was orphaned and stops.
    supervisor_pid: int = 0


def child_main(config: WorkerConfig) -> None:
    """Entry point of a worker process: build everything here, then serve until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
    settings = EngineSettings(lease_s=config.lease_s, stop_grace_s=config.stop_grace_s)
    engine = Engine.open(config.url, migrate=False, settings=settings)
    try:
        if config.setup:
            load(config.setup)(engine)
        runner = load(config.runner_factory)() if config.runner_factory else None
        pool = WorkerPool(
            engine, concurrency=config.concurrency,
            queues=parse_queues(config.queues, config.concurrency), lease_s=config.lease_s,
            script_runner=runner, shutdown_grace_s=config.shutdown_grace_s, owner=config.owner,
        )  # fmt: skip
        pool.start()
        while _supervised(config) and not stop.wait(0.5):
            pass  # an orphaned worker (its supervisor was killed) stops too
        pool.stop()
    finally:
        engine.close()


def _supervised(config: WorkerConfig) -> bool:
    """Whether the supervisor that spawned us is still our parent (always, when unknown)."""
    return not config.supervisor_pid or os.getppid() == config.supervisor_pid


def describe_exit(code: int | None) -> str:
    """``killed by SIGKILL`` / ``exit code 3``: what a job's log says about its worker."""
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class WorkerProcesses:
    """Start, watch and replace ``processes`` worker processes."""

    def __init__(self, config: WorkerConfig, processes: int = 2) -> None:
        self.config = config
        self.processes = processes
        self.engine = Engine.open(config.url, settings=EngineSettings(lease_s=config.lease_s))
        self.children: dict[str, multiprocessing.process.BaseProcess] = {}
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> WorkerProcesses:
        """Spawn the children and a thread that replaces the ones that die."""
        for _ in range(self.processes):
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="sysjobs-supervise", daemon=True)
        self._watcher.start()
        return self

    def pids(self) -> list[int]:
        """Process ids of the current children."""
        return [p.pid for p in self.children.values() if p.pid is not None]

    def _spawn(self) -> None:
        owner = new_owner()
        config = replace(self.config, owner=owner, supervisor_pid=os.getpid())
        child = SPAWN.Process(
            target=child_main, args=(config,), name=f"sysjobs-worker-{owner}", daemon=False
        )
        child.start()
        self.children[owner] = child

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            for owner, child in list(self.children.items()):
                if child.is_alive() or self._stopping.is_set():
                    continue
                cause = f"worker process {child.pid} died ({describe_exit(child.exitcode)})"
                log.warning("sysjobs: %s; recovering its jobs and starting another", cause)
                self.engine.leases.release_owner(owner, cause)
                del self.children[owner]
                self._spawn()

    def stop(self, timeout_s: float | None = None) -> None:
        """SIGTERM every child, wait for them, kill stragglers and take back their jobs."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        for child in self.children.values():
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)
        wait = timeout_s if timeout_s is not None else self.config.shutdown_grace_s + 10
        for owner, child in self.children.items():
            child.join(wait)
            if child.is_alive():
                child.kill()
                child.join()
            self.engine.leases.release_owner(owner, f"worker process {child.pid} was stopped")
        self.children.clear()
        self.engine.close()

    def serve_forever(self) -> None:
        """Run until SIGTERM/SIGINT (the ``sysjobs worker`` command)."""
        done = threading.Event()

        def _on_signal(_sig: int, _frame: FrameType | None) -> None:
            done.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        while not done.wait(0.5):
            pass
        self.stop()
