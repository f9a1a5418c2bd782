"""Run untrusted scripts in a child process, so a fatal V8 error cannot take the host down.

Some failures cannot be caught inside a process: one huge allocation hits V8's fatal
out-of-memory handler (``abort``), and the V8 heap limit does not count ArrayBuffers. So
the script runs in a child process — a fresh interpreter, as multiprocessing's *spawn*
start method makes (a MiniRacer inherited across ``fork()`` hangs, so isolates are only
ever created after the child starts) — with ``RLIMIT_DATA`` set (never ``RLIMIT_AS``: V8
reserves ~1.5 TB of address space). The child is started with :mod:`subprocess` and
talks over a socket pair through multiprocessing's
:class:`~multiprocessing.connection.Connection`: unlike ``spawn`` it does not re-import
the parent's ``__main__`` (for the ``sysjobs`` console script, the whole command line) nor
start a resource-tracker process, which was a third of a one-line script's cost; it gets
the parent's ``sys.path`` as ``spawn`` does. A parent that holds nothing yet — one thread,
no V8, no open file but its standard streams, as ``sysjobs run`` when it starts — may
``fork()`` the child instead (:class:`StartedChild`, ``fork=True``), which then starts with
the modules the parent has imported. The parent maps the child's death to an
outcome (``memoryLimit`` when V8 reported running out of memory, ``crashed`` otherwise),
then starts a fresh child for the next run. Given a
:class:`~sysjobs.runtime.launcher.Launcher` (``ProcessSandbox(…, launcher=…)``), the child is
forked from it instead, already past the imports (``sysjobs serve``'s console): the same
isolation, and a fresh interpreter when the launcher is gone.

The child builds its :class:`~sysjobs.runtime.sandbox.Sandbox` from a *factory*: an
importable ``"module:function"`` plus keyword arguments, so it opens its own database
connections and bindings after the start. The child is started as soon as the
:class:`ProcessSandbox` is made (:meth:`ProcessSandbox.start`), so its imports and set-up —
most of a short script's cost — overlap with whatever the parent does meanwhile. A factory
built with ``events=True`` also receives a function that sends a named event to the parent
(``run(on_event=…)`` receives it): ``sysjobs run`` starts its worker process only once the
script enqueues a job. A factory that fails reports its error's code and message, and
:meth:`ProcessSandbox.run` raises it as that :class:`~sysjobs.errors.SysError`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from sysjobs.errors import ERROR_CODES, SysError, SystemException, code_of
from sysjobs.runtime.launcher import LOST_STATUS, Launcher, LauncherUnavailable
from sysjobs.runtime.result import Limits, LogCapture, Outcome, RunResult, ScriptError

#: Extra seconds the parent waits past the script's own limit before killing the child.
GRACE_S = 10.0
#: What :meth:`ProcessSandbox._receive` returns once the child closed its end.
_CLOSED = object()
_OOM_MARKERS = ("out of memory", "Out of memory", "Array buffer allocation failed")
#: Default data limit (``RLIMIT_DATA``) of a script's child process.
DATA_LIMIT_BYTES = 1024**3
#: What the child interpreter runs: the parent's ``sys.path``, then :func:`serve_child`.
_CHILD_ENTRY = (  # the collector waits until the imports are done (:func:`serve_child`)
    "import gc; gc.disable(); import json, sys; sys.path[:] = json.loads(sys.argv[2]); "
    "from sysjobs.runtime.process import serve_child; "
    "serve_child(int(sys.argv[1]), *json.loads(sys.argv[3]))"
)


@dataclass(frozen=True)
class SandboxFactory:
    """How a child process builds its sandbox: ``target`` is ``"module:function"``."""

    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: Pass the function ``events(name)`` that sends an event to the parent's ``on_event``.
    events: bool = False

    @property
    def module(self) -> str:
        """The module the child imports to build the sandbox."""
        return self.target.partition(":")[0]

    def build(self, events: Callable[[str], None] | None = None) -> Any:
        module, _, name = self.target.partition(":")
        extra = {"events": events} if self.events else {}
        return getattr(importlib.import_module(module), name)(**self.kwargs, **extra)


def reported_out_of_memory(stderr_tail: str) -> bool:
    """Whether V8 or the allocator said, in a process's last stderr lines, that it ran out
    of memory (a fatal V8 OOM, a failed ArrayBuffer allocation under ``RLIMIT_DATA``)."""
    return any(marker in stderr_tail for marker in _OOM_MARKERS)


def trapped_silently(exitcode: int | None, stderr_tail: str) -> bool:
    """Whether the process died by a trap (SIGTRAP) that no report of V8's came before:
    the native allocator's out-of-memory crash.

    V8 reports each of its own fatal errors before it traps — ``# Fatal JavaScript out of
    memory: …``, ``# Fatal process out of memory: …``, ``# Fatal error in …`` for a failed
    check. The allocator under it (PartitionAlloc) does not: when a native allocation
    fails (the process is at its ``RLIMIT_DATA``) it traps at once, without a line. Seen
    in about one in twenty array bombs on a loaded machine, where a garbage collection's
    own allocation failed before V8's heap limit did; the kernel's trap line placed the
    trap in ``partition_alloc::internal::OnNoMemoryInternal`` of ``libmini_racer.so``
    (mini-racer 0.14.1), and every trap that V8 reported in ``v8::base::OS::Abort``.
    """
    trapped = exitcode in (-signal.SIGTRAP, 128 + signal.SIGTRAP)
    return trapped and "# Fatal" not in stderr_tail


def ran_out_of_memory(exitcode: int | None, stderr_tail: str) -> bool:
    """Whether a process that ran V8 died of running out of memory, from what it said
    (:func:`reported_out_of_memory`) or how it trapped (:func:`trapped_silently`)."""
    return reported_out_of_memory(stderr_tail) or trapped_silently(exitcode, stderr_tail)


def classify_exit(exitcode: int | None, stderr_tail: str) -> Outcome:
    """``memoryLimit`` when V8 or the allocator said so (or trapped as only the allocator
    does), else ``crashed``.

    V8's fatal errors end in a trap (SIGTRAP/SIGILL, rc 133/132) or ``abort()``
    (SIGABRT, rc 134); a native fault is SIGSEGV (rc 139). The signal alone cannot tell
    an out-of-memory from a bug, so the child's last stderr lines decide.
    """
    if ran_out_of_memory(exitcode, stderr_tail):
        return Outcome.MEMORY_LIMIT
    if exitcode in (-signal.SIGKILL, 137):  # the kernel's OOM killer
        return Outcome.MEMORY_LIMIT
    return Outcome.CRASHED


class ChildProcess(Protocol):
    """What :class:`ProcessSandbox` needs of its child: :class:`subprocess.Popen`'s
    ``poll``/``wait``/``kill``/``returncode`` (``-N`` for a death by signal N)."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class ForkedChild:
    """A child made by ``os.fork()``, with the part of :class:`subprocess.Popen` a
    :class:`ProcessSandbox` uses; waits with a timeout on a pidfd (no polling loop)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._reaped(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if timeout is not None and not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout)
            self._reaped(os.waitpid(self.pid, 0)[1])
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:  # not reaped yet: the pid is still this child's
            os.kill(self.pid, signal.SIGKILL)

    def _reaped(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)
        os.close(self._pidfd)


def may_fork() -> bool:
    """Whether this process may start a script's child with ``os.fork()``: one thread, no
    V8 loaded (a MiniRacer inherited across a fork hangs), and no descriptor this process
    opened itself (Python opens every one non-inheritable; those it inherited from its own
    parent are inheritable, and the child closes them as ``subprocess`` does) — so the
    child inherits no lock, no isolate, no connection and no file."""
    if threading.active_count() != 1 or "py_mini_racer" in sys.modules:
        return False
    if not hasattr(os, "pidfd_open"):  # pragma: no cover  (Linux 5.3+)
        return False
    try:
        descriptors = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:  # pragma: no cover  (no /proc)
        return False
    for fd in descriptors:
        try:
            if fd > 2 and not os.get_inheritable(fd):
                return False
        except OSError:  # the listing's own descriptor, closed since
            continue
    return True


@dataclass(frozen=True)
class StartedChild:
    """A child interpreter started ahead of its set-up, importing ``preload`` meanwhile.

    Starting it before the parent has parsed its own arguments overlaps the two
    interpreters' start-up on two cores. Given ``limits`` (and ``data_limit_bytes``), it
    also sets its data limit and initialises V8 with those limits' flags ahead — a sandbox
    with other limits does not use it. Nothing of the script's runs before the set-up
    arrives: the sandbox is built after it.

    ``fork=True`` makes it with ``os.fork()`` when :func:`may_fork` allows (else a fresh
    interpreter, as without it): the child starts with the modules the parent has already
    imported instead of importing them again — for ``sysjobs run``, the interpreter's
    start, pydantic and this module, about a fifth of the command's CPU. It gets the same
    isolation as a fresh interpreter: its own data limit, V8 initialised in it only, stdin
    from ``/dev/null``, no descriptor of the parent's but the standard streams, and it
    never returns into the parent's code (it ends with ``os._exit``).

    ``launcher`` forks it from that pre-imported launcher (``preload`` is then imported after
    the fork, if the launcher has not already); when the launcher cannot, as without it.
    """

    proc: ChildProcess
    conn: Connection
    #: ``(heap_bytes, data_limit_bytes)`` the child was set up with ahead, or None.
    configured: tuple[int, int] | None = None

    @classmethod
    def start(
        cls, preload: Sequence[str] = (), *, limits: Limits | None = None,
        data_limit_bytes: int = DATA_LIMIT_BYTES, fork: bool = False,
        launcher: Launcher | None = None,
    ) -> StartedChild:  # fmt: skip
        configured = None if limits is None else (limits.heap_bytes, data_limit_bytes)
        forking = fork and may_fork()
        parent, child = socket.socketpair()
        with child:
            fd = child.fileno()
            launched = _launch(launcher, fd, preload, configured)
            if launched is not None:
                proc: ChildProcess = launched
            elif forking:
                proc = _fork(parent, fd, preload, configured)
            else:
                command = [sys.executable, "-c", _CHILD_ENTRY, str(fd), json.dumps(sys.path),
                           json.dumps([list(preload), configured])]  # fmt: skip
                proc = subprocess.Popen(command, pass_fds=(fd,), stdin=subprocess.DEVNULL)
        return cls(proc, Connection(parent.detach()), configured)

    def fits(self, limits: Limits, data_limit_bytes: int) -> bool:
        """Whether a sandbox with these limits may use this child."""
        return self.configured in (None, (limits.heap_bytes, data_limit_bytes))

    def close(self) -> None:
        """End the child if it is still there (one never used has run nothing: it is
        killed rather than waited for while it imports)."""
        self.conn.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _launch(
    launcher: Launcher | None, fd: int, preload: Sequence[str], configured: tuple[int, int] | None
) -> ChildProcess | None:
    """The child forked by ``launcher``; None without one, or when it cannot."""
    if launcher is None:
        return None
    try:
        return launcher.launch(
            "sysjobs.runtime.process:launched_child", [list(preload), configured], (fd,)
        )
    except LauncherUnavailable:
        return None


def launched_child(fds: list[int], payload: list[Any]) -> None:
    """What a child forked by a launcher calls: ``fds`` holds its socket to the parent."""
    preload, configured = payload
    serve_child(fds[0], preload, configured)


def _fork(
    parent: socket.socket, fd: int, preload: Sequence[str], configured: tuple[int, int] | None
) -> ForkedChild:
    """Fork the child (see :class:`StartedChild`); in the child, serve until the end."""
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    pid = os.fork()
    if pid:
        return ForkedChild(pid)
    try:
        parent.close()
        for other in {int(n) for n in os.listdir("/proc/self/fd")} - {0, 1, 2, fd}:
            with contextlib.suppress(OSError):  # what this process inherited: not the script's
                os.close(other)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        serve_child(fd, preload, configured)  # ends the process itself
    except BaseException:  # a broken child says why on stderr, as a fresh interpreter would
        import traceback

        with contextlib.suppress(Exception):
            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(1)


def _collect_from_now_on() -> None:
    """Turn the garbage collector back on once a child has imported, and keep it off what
    the imports made. A fresh interpreter imports with it off (:data:`_CHILD_ENTRY`): each
    collection while importing walked every module object made so far, ~10 % of the
    imports' CPU; a child forked by the launcher has it on and frozen already."""
    gc.enable()
    gc.freeze()


def serve_child(
    fd: int, preload: Sequence[str] = (), configured: Sequence[int] | None = None
) -> None:
    """The child's entry point: import ``preload``, set the limits it was ``configured``
    with (heap bytes, data limit bytes), then wait for the set-up on ``fd``."""
    conn = Connection(fd)
    for name in preload:
        with contextlib.suppress(Exception):  # the factory's build reports a broken module
            importlib.import_module(name)
    _collect_from_now_on()
    if configured is not None:
        heap_bytes, data_limit = configured
        _limit_process(heap_bytes, data_limit)
    try:
        factory, limits, data_limit, stderr_path = conn.recv()
    except EOFError:
        os._exit(0)
    _child_main(conn, factory, limits, data_limit, stderr_path)
    # Nothing is left to clean up (every reply is sent, every write committed): ending
    # without the interpreter's and V8's teardown spares the parent ~60 ms of waiting.
    sys.stderr.flush()
    os._exit(0)


def _child_main(
    conn: Connection, factory: SandboxFactory, limits: Limits, data_limit: int, stderr_path: str
) -> None:
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    _limit_process(limits.heap_bytes, data_limit)  # again if set ahead: the same values
    try:
        sandbox = factory.build(lambda name: conn.send(("event", name)))
    except SysError as exc:
        conn.send(("failed", (code_of(exc), exc.message)))
        return
    except Exception:  # the traceback goes to the stderr file, the parent gets one line
        import traceback

        traceback.print_exc()
        conn.send(("failed", (SystemException.code, "The script's sandbox could not be set up.")))
        return
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        source, kwargs = request
        result = sandbox.run(source, log_sink=lambda line: conn.send(("log", line)), **kwargs)
        conn.send(("result", result))


def _limit_process(heap_bytes: int, data_limit: int) -> None:
    """The child's data limit and V8's flags (V8 takes them once, before its first
    context: set again with the same values, they change nothing)."""
    if data_limit > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
    from sysjobs.runtime.bridge import configure_v8  # V8 is loaded in the child only

    configure_v8(max_old_space_mb=max(64, 2 * heap_bytes // (1024 * 1024)))


class ProcessSandbox:
    """A :class:`Sandbox` in a replaceable child process; same ``run`` signature."""

    def __init__(
        self,
        factory: SandboxFactory,
        limits: Limits | None = None,
        *,
        data_limit_bytes: int = DATA_LIMIT_BYTES,
        child: StartedChild | None = None,
        launcher: Launcher | None = None,
    ) -> None:
        """``child``: an interpreter started ahead (:meth:`StartedChild.start`) to use for
        the first run if it fits these limits; this sandbox owns it from now on.
        ``launcher`` (its owner's; not closed here) forks every child ready-imported."""
        self.factory = factory
        self.launcher = launcher
        self.limits = limits or Limits()
        self.data_limit_bytes = data_limit_bytes
        self._spare = child
        self._proc: ChildProcess | None = None
        self._conn: Connection | None = None
        fd, self._stderr_path = tempfile.mkstemp(prefix="sysjobs-sandbox-", suffix=".log")
        os.close(fd)

    def start(self) -> ProcessSandbox:
        """Start the child now (``run`` would start it anyway): it imports and builds its
        sandbox while the caller goes on."""
        self._ensure_child()
        return self

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before the first start, or once it died)."""
        return self._proc.pid if self._proc is not None else None

    def _ensure_child(self) -> Connection:
        if self._proc is None or self._proc.poll() is not None:
            if self._conn is not None:
                self._conn.close()
            spare, self._spare = self._spare, None
            if spare is not None and not spare.fits(self.limits, self.data_limit_bytes):
                spare.close()
                spare = None
            started = spare or StartedChild.start((self.factory.module,), launcher=self.launcher)
            self._proc, self._conn = started.proc, started.conn
            self._conn.send((self.factory, self.limits, self.data_limit_bytes, self._stderr_path))
        assert self._conn is not None
        return self._conn

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _join(self, timeout: float) -> int | None:
        """The child's exit code (``-N`` for signal N) once it ended, None if still running."""
        assert self._proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout)
        return self._proc.returncode

    def run(
        self,
        source: str,
        *,
        timeout_s: float | None = None,
        log_sink: Callable[[str], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> RunResult:
        """Run ``source`` in the child; a dead or hung child becomes an outcome, a factory
        that failed is raised as its :class:`~sysjobs.errors.SysError`."""
        started = time.monotonic()
        timeout = timeout_s if timeout_s is not None else self.limits.timeout_s
        conn = self._ensure_child()
        conn.send((source, {"timeout_s": timeout, **kwargs}))
        # The lines a dead child's result reports, bounded as the child's own capture is:
        # a script flooding ``log()`` must not grow the parent (it is the host).
        logs = LogCapture(self.limits)
        deadline = started + timeout + GRACE_S
        while True:
            message = self._receive(conn, deadline)
            if message is _CLOSED:  # the child is ending: its exit status comes just after
                self._join(GRACE_S)  # (seen as a hang before, when read too early)
            if message is None or message is _CLOSED:
                return self._child_failed(started, logs, hung=self._alive())
            kind, payload = message
            if kind == "result":
                return payload  # type: ignore[no-any-return]
            if kind == "failed":
                self._join(5)
                self._kill()
                self._proc = None
                raise _error(*payload)
            if kind == "event":
                if on_event is not None:
                    on_event(payload)
                continue
            logs.add(payload)
            if log_sink is not None:
                log_sink(payload)

    @staticmethod
    def _receive(conn: Connection, deadline: float) -> Any:
        """The next message; None when the deadline passed first, :data:`_CLOSED` when the
        child closed its end (it is exiting)."""
        try:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                return None
            return conn.recv()
        except (EOFError, OSError):
            return _CLOSED

    def _child_failed(self, started: float, logs: LogCapture, *, hung: bool) -> RunResult:
        if hung and not self._oom_reported():
            self._kill()
            outcome, message = Outcome.TIMEOUT, "The script's process stopped answering."
        else:
            exitcode = self._join(1)
            outcome = classify_exit(exitcode, self._stderr_tail())
            message = _death_message(outcome, exitcode)
        self._proc = None
        elapsed = round((time.monotonic() - started) * 1000, 3)
        error = ScriptError(code=str(outcome), name="Error", message=message)
        return RunResult(outcome, None, logs.lines, logs.dropped_lines, error, elapsed,
                         logs.dropped_bytes)  # fmt: skip

    def _oom_reported(self) -> bool:
        """V8 may still be dumping its fatal report when the deadline passes."""
        if classify_exit(None, self._stderr_tail()) is Outcome.MEMORY_LIMIT:
            self._join(GRACE_S)
            self._kill()
            return True
        return False

    def _stderr_tail(self) -> str:
        with open(self._stderr_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 8192))
            return fh.read().decode("utf-8", "replace")

    def _kill(self) -> None:
        if self._proc is not None and self._alive():
            self._proc.kill()
            self._join(5)

    def close(self) -> None:
        """Stop the child and remove its stderr file."""
        if self._conn is not None and self._alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._join(5)
        self._kill()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        with contextlib.suppress(OSError):
            os.unlink(self._stderr_path)

    def __enter__(self) -> ProcessSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error(code: str, message: str) -> SysError:
    """The platform error a child's factory failed with, rebuilt from its code."""
    cls = next((c for c, known in ERROR_CODES.items() if known == code), SystemException)
    return cls(message)


def _death_message(outcome: Outcome, exitcode: int | None) -> str:
    signalled = exitcode is not None and exitcode < 0
    how = f"signal {-exitcode}" if signalled and exitcode else f"exit code {exitcode}"
    if exitcode == LOST_STATUS:
        how = "how: unknown, its launcher died before it"
    if outcome is Outcome.MEMORY_LIMIT:
        return f"The script ran out of memory and its process was ended ({how})."
    return f"The script's process crashed ({how}); the host replaced it."


if sys.platform != "linux":  # pragma: no cover
    raise ImportError("ProcessSandbox relies on Linux resource limits")
