"""``sysjobs worker`` and a Host's default workers: a supervisor and N worker processes.

Children are fresh interpreters (``python -c``, never ``fork``: a V8 isolate inherited
across ``fork`` hangs, and a forked child would inherit the parent's connections), started
without re-importing the embedder's ``__main__`` — so a script that builds a Host at its top
level needs no ``if __name__ == "__main__"`` guard. Each child receives its
:class:`WorkerConfig` as JSON on stdin (with the parent's ``sys.path``), opens its own
engine, registers job types through the ``setup`` hook, builds its script runner through
``runner_factory`` (both import paths, resolved in the child), and runs a
:class:`WorkerPool` under an owner id chosen by the supervisor.

Given a :class:`~sysjobs.runtime.launcher.Launcher` (``sysjobs worker`` and ``sysjobs
serve`` start one for their lifetime), a child is forked from it instead: an interpreter that
has imported :data:`LAUNCH_PRELOAD` already — everything a child imports but what loads V8 —,
so a child or a replacement starts without ~0.6 s of imports. The config then travels as
data with the request, the control socket and the stderr pipe's end as descriptors. When the
launcher is gone, the child is a fresh interpreter as without one: no child is ever lost to
it. Such a child's parent is the launcher, not the supervisor: every child stops when its
control socket ends (the supervisor closed it or died), rather than by watching its parent.

A child's stderr passes through the supervisor, which keeps its last lines: when a child
dies, the supervisor knows whose leases to take back and why (``memoryLimit`` when V8 or
the allocator reported running out of memory, ``crashed`` otherwise), says so in each of
its jobs' logs and results (``error: {code, message}``) — no need to wait for the leases to
expire —, shows it gone in the workers registry at once, and starts a replacement.
SIGTERM stops gracefully.

Each child also gets a control socket (one end of a socket pair, passed by descriptor): the
supervisor writes ``pause`` or ``resume`` on a line, the child pauses or resumes its pool's
claims (``WorkerPool.pause``) and answers ``ok`` once done — so a pause holds, with no claim
under way, when :meth:`WorkerProcesses.pause` returns. A child started while paused (a
replacement) starts paused. A child says ``up`` there first, once its start-up is built: one
that dies before saying it counts towards the restart backoff, one that dies after does not.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from types import FrameType
from typing import Any

from sysjobs.jobs import Engine, EngineSettings, new_owner
from sysjobs.jobs.settings import Caps
from sysjobs.jobs.workers import mark_gone
from sysjobs.runtime.launcher import LOST_STATUS, LaunchedChild, Launcher, LauncherUnavailable
from sysjobs.runtime.process import ran_out_of_memory
from sysjobs.worker.joblines import log_jobs
from sysjobs.worker.loader import load
from sysjobs.worker.pool import DEFAULT_SLOTS, WorkerPool
from sysjobs.worker.queues import merged_queues, parse_queues
from sysjobs.worker.served import ServedApp

log = logging.getLogger(__name__)
#: What a child runs: read the config, take the parent's import path, serve.
CHILD_CODE = (  # the collector is off until the start-up is built (``_freeze_start_up``)
    "import gc; gc.disable(); "
    "import json, sys; config = json.load(sys.stdin); sys.path[:] = config.pop('sys_path'); "
    "from sysjobs.worker.processes import child_entry; child_entry(config)"
)
#: What a :class:`~sysjobs.runtime.launcher.Launcher` serving worker processes imports ahead:
#: what a child imports (SQLAlchemy and its dialects, pydantic, the engine, the app, the
#: bindings' argument models) but for the modules that import ``py_mini_racer`` (the sandbox,
#: the pool that runs it) — those ~50 ms are imported by the child after the fork.
LAUNCH_PRELOAD = (
    "sqlalchemy.dialects.sqlite.pysqlite", "sqlalchemy.dialects.postgresql.psycopg",
    "sysjobs.jobs.engine", "sysjobs.jobs.reaping", "sysjobs.jobs.workers",
    "sysjobs.store.migrate", "sysjobs.store.sqlite.dialect", "sysjobs.store.postgres.dialect",
    "sysjobs.app.app", "sysjobs.app.jobtypes.actions", "sysjobs.app.jobtypes.bulk",
    "sysjobs.app.jobtypes.in_job", "sysjobs.app.jobtypes.loop", "sysjobs.app.jobtypes.system",
    "sysjobs.app.listeners", "sysjobs.app.schedules", "sysjobs.app.users", "sysjobs.cron",
    "sysjobs.bindings.commons", "sysjobs.bindings.data", "sysjobs.bindings.exceptions",
    "sysjobs.bindings.jobs", "sysjobs.bindings.log", "sysjobs.bindings.logs",
    "sysjobs.runtime.dispatch", "sysjobs.runtime.governor", "sysjobs.runtime.process",
)  # fmt: skip
#: Bytes of a child's stderr kept to tell why it died.
TAIL_BYTES = 16_384
#: A child that dies sooner than this after its start counts towards the restart backoff.
QUICK_DEATH_S = 5.0
#: How long a pause or resume waits for the children's answers: a pause waits for a claim
#: under way, which a database outage may stretch; past this a child is taken as hung.
COMMAND_TIMEOUT_S = 30.0
#: Longest pause before restarting a child that keeps dying at start (seconds).
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs; plain data, so it crosses to the child as JSON."""

    url: str | None
    concurrency: int = DEFAULT_SLOTS
    queues: str | None = None
    lease_s: float = 30.0
    stop_grace_s: float = 30.0
    shutdown_grace_s: float = 10.0
    #: ``module:function(engine, **setup_args)`` registering the job types this worker runs
    #: (it may return the engine it registered them on instead: ``Engine.for_app``).
    setup: str | None = None
    #: Keyword arguments for ``setup`` (JSON values: e.g. the app folder, namespace paths).
    setup_args: dict[str, Any] = field(default_factory=dict)
    #: ``module:function() -> ScriptRunner`` called in the child after start (or None).
    runner_factory: str | None = None
    #: The child engine's :class:`EngineSettings` (caps, retention …) as plain data
    #: (:func:`settings_to_json`); ``lease_s`` and ``stop_grace_s`` above take precedence.
    engine_settings: dict[str, Any] = field(default_factory=dict)
    owner: str = ""
    #: The supervisor's pid: a worker that finds another parent was orphaned and stops.
    supervisor_pid: int = 0
    #: Log a line per job start and end (``sysjobs worker -v``).
    verbose: bool = False
    #: The apps this worker serves: app key -> its folder (None: none, e.g. the demo app),
    #: each set up with ``setup`` (``app_dir``: its folder, when it has one) on an engine
    #: of its own app. Empty: the one app of ``engine_settings`` as ``setup_args`` say.
    apps: dict[str, str | None] = field(default_factory=dict)
    #: The descriptor of the child's end of its control socket (-1: none).
    control_fd: int = -1
    #: Start with claiming paused (the supervisor's workers are paused).
    paused: bool = False


def child_entry(raw: dict[str, Any]) -> None:
    """What :data:`CHILD_CODE` calls with the decoded config."""
    child_main(WorkerConfig(**raw))


def launched_entry(fds: list[int], raw: dict[str, Any]) -> None:
    """What a child forked by the launcher calls: ``fds`` holds its control socket."""
    child_main(WorkerConfig(**{**raw, "control_fd": fds[0]}))


def child_main(config: WorkerConfig) -> None:
    """Entry point of a worker process: build everything here, then serve until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
    settings = replace(
        settings_from_json(config.engine_settings),
        lease_s=config.lease_s, stop_grace_s=config.stop_grace_s,
    )  # fmt: skip
    engine = Engine.open(config.url, migrate=False, settings=settings)
    if config.verbose:
        log_jobs(engine)
    try:
        served = _set_up(engine, config)
        for app in served.values() if config.verbose else ():
            if app.engine is not engine:
                log_jobs(app.engine)
        pool = WorkerPool(
            engine, concurrency=config.concurrency,
            queues=parse_queues(config.queues, config.concurrency, merged_queues(
                a.engine.registry.queues() for a in served.values())),
            lease_s=config.lease_s,
            shutdown_grace_s=config.shutdown_grace_s, owner=config.owner, apps=served,
        )  # fmt: skip
        _freeze_start_up()
        if config.paused:
            pool.pause()
        if config.control_fd >= 0:
            _obey(config.control_fd, pool, stop)
        pool.start()
        while _supervised(config) and not stop.wait(0.5):
            pass  # an orphaned worker (its supervisor was killed) stops too
        pool.stop()
    finally:
        engine.close()


def _obey(fd: int, pool: WorkerPool, stop: threading.Event) -> None:
    """Say ``up`` (the start-up is built), then carry out the supervisor's ``pause`` /
    ``resume`` lines on ``pool``, answering ``ok`` to each once done, in a thread that ends
    with the socket — and then ``stop``s the
    worker: the supervisor closed its end, or died (a child forked by a launcher is not the
    supervisor's child, so its parent says nothing)."""
    control = socket.socket(fileno=fd)

    def serve() -> None:
        try:
            with control, control.makefile("rwb") as stream:
                stream.write(b"up\n")  # set up: a death from now on is not a failed start
                stream.flush()
                for line in stream:
                    command = line.strip()
                    if command == b"pause":
                        pool.pause()
                    elif command == b"resume":
                        pool.resume()
                    stream.write(b"ok\n")
                    stream.flush()
        except OSError:  # the supervisor is gone (a closed pipe): as at the end of its lines
            pass
        finally:
            stop.set()

    threading.Thread(target=serve, name="sysjobs-control", daemon=True).start()


def _freeze_start_up() -> None:
    """Move everything the start-up built (modules, engine, registry, sandbox pool) out of
    the garbage collector's sight: it lives as long as the process, and each collection
    would otherwise walk it again while the jobs allocate. A no-op job's worker CPU fell
    8-15 % with this (bench/README.md, "Eleventh round"); objects made later are collected
    as before. A fresh interpreter built all that with the collector off
    (:data:`CHILD_CODE`): each collection while importing walked every module object made
    so far, ~10 % of the imports' CPU."""
    gc.enable()
    gc.collect()
    gc.freeze()


def _set_up(engine: Engine, config: WorkerConfig) -> dict[str, ServedApp]:
    """Each app this worker serves, set up by the ``setup`` hook on an engine of its own
    (``Engine.for_app``: same database, that app's registry) with its script runner."""
    wanted = config.apps or {engine.app: config.setup_args.get("app_dir")}
    served: dict[str, ServedApp] = {}
    for key, folder in wanted.items():
        app_engine = engine if key == engine.app else engine.for_app(key)
        if config.setup:
            args = dict(config.setup_args)
            if folder is not None:
                args["app_dir"] = folder
            made = load(config.setup)(app_engine, **args)
            if isinstance(made, Engine):  # the hook set the app up on an engine of its own
                app_engine = made
        runner = load(config.runner_factory)() if config.runner_factory else None
        served[key] = ServedApp(app_engine, runner)
    return served


def settings_to_json(settings: EngineSettings) -> dict[str, Any]:
    """An engine's settings as plain data, so a worker process's engine gets the same —
    except the clock: a clock object cannot cross processes, and a worker process reads
    the system clock (each write's time is clamped to the job's earlier times anyway)."""
    return {
        f.name: _plain(getattr(settings, f.name)) for f in fields(settings) if f.name != "clock"
    }


def _plain(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else value


def settings_from_json(raw: dict[str, Any]) -> EngineSettings:
    """The :class:`EngineSettings` that :func:`settings_to_json` wrote (defaults if empty)."""
    return EngineSettings(**{**raw, "caps": Caps(**raw.get("caps", {}))})


def _supervised(config: WorkerConfig) -> bool:
    """Whether the supervisor that spawned us is still our parent (always, when unknown)."""
    return not config.supervisor_pid or os.getppid() == config.supervisor_pid


def describe_exit(code: int | None) -> str:
    """``killed by SIGKILL`` / ``exit code 3``: what a job's log says about its worker."""
    if code is None:
        return "still running"
    if code == LOST_STATUS:
        return "how: unknown, its launcher died before it"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def death_code(code: int | None, stderr_tail: str) -> str:
    """The outcome code of a worker process's death (its exit ``code``, ``-N`` for a
    signal N): ``memoryLimit`` or ``crashed``."""
    return "memoryLimit" if ran_out_of_memory(code, stderr_tail) else "crashed"


def death_cause(pid: int, code: int | None, stderr_tail: str) -> str:
    """Why a worker process's jobs ended: its exit, then ``memoryLimit`` or ``crashed``."""
    how = f"worker process {pid} died ({describe_exit(code)})"
    if ran_out_of_memory(code, stderr_tail):
        return f"{how}; memoryLimit: a script it ran exhausted its memory"
    return f"{how}; crashed"


def _write_stderr(chunk: bytes) -> None:
    """Pass a child's bytes on to this process's stderr, as if it had inherited it."""
    try:
        while chunk:
            chunk = chunk[os.write(2, chunk) :]
    except OSError:
        pass  # nowhere to relay to: the tail is still kept


class _Child:
    """One worker process, and the thread relaying its stderr (whose tail it keeps)."""

    def __init__(
        self, config: WorkerConfig, *, relay: bool = True, launcher: Launcher | None = None
    ) -> None:
        self.owner = config.owner
        self.relay = relay
        self.started = time.monotonic()
        self.control, theirs = socket.socketpair()
        stderr, their_stderr = os.pipe()
        try:
            with theirs:
                self.proc = _start(config, theirs.fileno(), their_stderr, launcher)
        except BaseException:  # no process to be had: nothing of this one is left open
            os.close(stderr)
            self.control.close()
            raise
        finally:
            os.close(their_stderr)
        self._replies = self.control.makefile("rb")
        #: The child said ``up``: its start-up was built (see :meth:`came_up`).
        self.up = False
        self._tail = b""
        self._relay = threading.Thread(
            target=self._relay_stderr, args=(stderr,), name=f"sysjobs-stderr-{self.proc.pid}",
            daemon=True,
        )  # fmt: skip
        self._relay.start()

    def _relay_stderr(self, fd: int) -> None:
        with open(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65_536):
                self._tail = (self._tail + chunk)[-TAIL_BYTES:]
                if self.relay:
                    _write_stderr(chunk)

    def send(self, word: str) -> bool:
        """Send ``word`` (``pause`` / ``resume``); False when the child is gone already."""
        try:
            self.control.sendall(word.encode("ascii") + b"\n")
        except (OSError, ValueError):  # (ValueError: buried, its socket closed, meanwhile)
            return False
        return True

    def await_reply(self, deadline: float) -> None:
        """Wait until the child carried out the word sent — or died (a dead child claims
        nothing; the supervisor replaces it). A child that does not answer by ``deadline``
        (stopped, hung) is killed: left alone it would hold every later pause, and the
        spawn of every replacement, for as long as it hangs."""
        try:
            self.control.settimeout(max(0.001, deadline - time.monotonic()))
            while self._replies.readline() == b"up\n":  # then ``ok``, or b"" once it is gone
                self.up = True
        except TimeoutError:
            log.warning("sysjobs: worker process %s did not answer; ending it", self.proc.pid)
            self.proc.kill()  # the supervisor takes back its jobs and starts another
        except (OSError, ValueError):
            pass

    def came_up(self) -> bool:
        """Whether this child, now dead, had said ``up`` — built its start-up — before it
        died: the lines it wrote are still in the socket (its end closed with it)."""
        try:
            self.control.settimeout(0.05)
            while not self.up and (line := self._replies.readline()):
                self.up = line == b"up\n"
        except (OSError, ValueError):  # (a timeout: nothing more came; ValueError: closed)
            pass
        return self.up

    def close_control(self) -> None:
        """Close this end of the control socket (the child sees the end of its commands)."""
        self._replies.close()
        self.control.close()

    def stderr_tail(self) -> str:
        """The last lines the child wrote to stderr (all of them, once it has died)."""
        self._relay.join(timeout=5.0)
        return self._tail.decode("utf-8", "replace")

    def end(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for it to exit; kill it if it does not."""
        try:
            self.proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._relay.join(timeout=5.0)
        self.close_control()


def _start(
    config: WorkerConfig, control: int, stderr: int, launcher: Launcher | None
) -> subprocess.Popen[bytes] | LaunchedChild:
    """A worker process forked by ``launcher``, else (none, or gone) a fresh interpreter
    that reads its config on stdin; its stderr is ``stderr``, its control socket ``control``."""
    if launcher is not None:
        try:
            return launcher.launch("sysjobs.worker.processes:launched_entry",
                                   asdict(replace(config, supervisor_pid=0)), (control,),
                                   stderr=stderr)  # fmt: skip
        except LauncherUnavailable as exc:
            log.warning("sysjobs: %s; starting a worker process without it", exc)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_CODE], stdin=subprocess.PIPE, stderr=stderr,
        pass_fds=(control,),
        start_new_session=True,  # a terminal's Ctrl-C goes to the supervisor alone
    )  # fmt: skip
    config = replace(config, control_fd=control)
    payload = {**asdict(config), "sys_path": [p for p in sys.path if isinstance(p, str)]}
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps(payload).encode("utf-8"))
        proc.stdin.close()
    except OSError:  # it died at once; the supervisor sees that and says why
        pass
    return proc


class WorkerProcesses:
    """Start, watch and replace ``processes`` worker processes.

    ``engine`` (the host's own, optional) takes back the jobs of a child that died; without
    it the supervisor opens one on ``config.url`` and closes it on :meth:`stop`. ``launcher``
    (its owner's: it is not closed here) forks the children ready-imported. With
    ``relay_stderr`` false, the children's stderr is only kept (its last lines say why one
    died), not passed on: a command whose user reads its stderr (``sysjobs run``) shows the
    job's outcome, not V8's crash report.
    """

    def __init__(
        self, config: WorkerConfig, processes: int = 2, *, engine: Engine | None = None,
        relay_stderr: bool = True, command_timeout_s: float = COMMAND_TIMEOUT_S,
        launcher: Launcher | None = None,
    ) -> None:  # fmt: skip
        self.config = config
        self.launcher = launcher
        self.command_timeout_s = command_timeout_s
        self.processes = processes
        self.relay_stderr = relay_stderr
        self._owns_engine = engine is None
        self.engine = engine or Engine.open(
            config.url, settings=EngineSettings(lease_s=config.lease_s)
        )
        self.children: dict[str, _Child] = {}
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._quick_deaths = 0
        self._paused = False
        self._control = threading.Lock()  # a pause and a child's spawn happen one at a time
        #: Children started so far, replacements included (:meth:`wait_spawned`).
        self.spawned = 0
        self._spawn_seen = threading.Condition()

    def start(self) -> WorkerProcesses:
        """Spawn the children and a thread that replaces the ones that die."""
        for _ in range(self.processes):
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="sysjobs-supervise", daemon=True)
        self._watcher.start()
        return self

    def __enter__(self) -> WorkerProcesses:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        """Process ids of the current children."""
        return [child.proc.pid for child in list(self.children.values())]

    def pause(self) -> None:
        """Every child stops claiming (running jobs go on); returns once each one paused,
        with no claim under way (``WorkerPool.pause``) — or, silent for ``command_timeout_s``,
        was ended (its replacement starts paused). A child started meanwhile starts paused.
        Pausing twice is harmless."""
        self._tell_children("pause", paused=True)

    def resume(self) -> None:
        """Every child claims again, at once. Harmless when not paused."""
        self._tell_children("resume", paused=False)

    def _tell_children(self, word: str, *, paused: bool) -> None:
        """Tell every child at once, then wait for their answers (``command_timeout_s`` in
        all; a child that does not answer by then is ended and replaced)."""
        with self._control:
            self._paused = paused
            told = [child for child in list(self.children.values()) if child.send(word)]
            deadline = time.monotonic() + self.command_timeout_s
            for child in told:
                child.await_reply(deadline)

    def _spawn(self) -> None:
        owner = new_owner()
        with self._control:
            config = replace(
                self.config, owner=owner, supervisor_pid=os.getpid(), paused=self._paused
            )
            self.children[owner] = _Child(config, relay=self.relay_stderr, launcher=self.launcher)
        with self._spawn_seen:
            self.spawned += 1
            self._spawn_seen.notify_all()

    def wait_spawned(self, beyond: int, timeout_s: float) -> bool:
        """Wait until more than ``beyond`` children were started in all (a replacement of
        one that died or was ended); False after ``timeout_s``."""
        with self._spawn_seen:
            return self._spawn_seen.wait_for(lambda: self.spawned > beyond, timeout_s)

    def _watch(self) -> None:
        """Every 0.2 s: take back the jobs of children that died, then start replacements
        (after a pause while children keep dying at start). A failure — the database away,
        no process to be had — is logged and tried again next round."""
        spawn_at = 0.0
        while not self._stopping.wait(0.2):
            for owner, child in list(self.children.items()):
                if child.proc.poll() is None or self._stopping.is_set():
                    continue
                child.came_up()  # (read before burying it closes the control socket)
                try:
                    self._bury(owner, child)
                except Exception:
                    log.exception("sysjobs: recovering the jobs of a dead worker failed")
                    continue
                spawn_at = time.monotonic() + self._backoff(child)
            if len(self.children) < self.processes and time.monotonic() >= spawn_at:
                try:
                    self._spawn()
                except Exception:
                    log.exception("sysjobs: starting a worker process failed")

    def _bury(self, owner: str, child: _Child) -> None:
        """Take back a dead child's jobs, each ended (or retried) with the reason."""
        tail = child.stderr_tail()
        cause = death_cause(child.proc.pid, child.proc.returncode, tail)
        log.warning("sysjobs: %s; recovering its jobs and starting another", cause)
        self.engine.leases.release_owner(owner, cause, death_code(child.proc.returncode, tail))
        mark_gone(self.engine, owner)
        child.close_control()
        del self.children[owner]

    def _backoff(self, child: _Child) -> float:
        """No pause after a child that built its start-up or ran a while; a growing one while
        children die at start (a setup hook that fails would otherwise restart in a tight
        loop). A child killed once it was up — by a job's memory bomb, by an operator, by the
        kernel — is no failed start: counting it let scripts that end their worker processes
        on purpose slow every replacement of the fleet to one in 30 s."""
        if child.came_up() or time.monotonic() - child.started >= QUICK_DEATH_S:
            self._quick_deaths = 0
            return 0.0
        self._quick_deaths += 1
        return float(min(MAX_BACKOFF_S, 0.25 * 2 ** (self._quick_deaths - 1)))

    def stop(self, grace_s: float | None = None, *, timeout_s: float | None = None) -> None:
        """SIGTERM every child, wait for them, kill stragglers and take back their jobs.

        The children's running jobs get ``config.shutdown_grace_s`` to reach a safe point;
        the supervisor waits ``timeout_s`` (default: that grace, or ``grace_s``, plus 10 s).
        """
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        for child in self.children.values():
            if child.proc.poll() is None:
                child.proc.terminate()
        grace = self.config.shutdown_grace_s if grace_s is None else grace_s
        wait = timeout_s if timeout_s is not None else grace + 10
        for owner, child in self.children.items():
            child.end(wait)
            self.engine.leases.release_owner(owner, f"worker process {child.proc.pid} was stopped")
            mark_gone(self.engine, owner)  # a child that stopped cleanly removed its row
        self.children.clear()
        if self._owns_engine:
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
