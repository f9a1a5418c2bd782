"""Run untrusted scripts in a child process, so a fatal V8 error cannot take the host down.

Some failures cannot be caught inside a process: one huge allocation hits V8's fatal
out-of-memory handler (``abort``), and the V8 heap limit does not count ArrayBuffers. So
the script runs in a child process created with the *spawn* start method (a MiniRacer
inherited across ``fork()`` hangs, so isolates are only ever created after the child
starts), with ``RLIMIT_DATA`` set — never ``RLIMIT_AS``: V8 reserves ~1.5 TB of address
space. The parent maps the child's death to an outcome (``memoryLimit`` when V8 reported
running out of memory, ``crashed`` otherwise), then starts a fresh child for the next run.

The child builds its :class:`~sysjobs.runtime.sandbox.Sandbox` from a *factory*: an
importable ``"module:function"`` plus keyword arguments, so it opens its own database
connections and bindings after the start.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from sysjobs.runtime.bridge import configure_v8
from sysjobs.runtime.result import Limits, Outcome, RunResult, ScriptError

#: Extra seconds the parent waits past the script's own limit before killing the child.
GRACE_S = 10.0
_OOM_MARKERS = ("out of memory", "Out of memory", "Array buffer allocation failed")


@dataclass(frozen=True)
class SandboxFactory:
    """How a child process builds its sandbox: ``target`` is ``"module:function"``."""

    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)(**self.kwargs)


def reported_out_of_memory(stderr_tail: str) -> bool:
    """Whether V8 or the allocator said, in a process's last stderr lines, that it ran out
    of memory (a fatal V8 OOM, a failed ArrayBuffer allocation under ``RLIMIT_DATA``)."""
    return any(marker in stderr_tail for marker in _OOM_MARKERS)


def classify_exit(exitcode: int | None, stderr_tail: str) -> Outcome:
    """``memoryLimit`` when V8 or the allocator said so, else ``crashed``.

    V8's fatal errors end in a trap (SIGTRAP/SIGILL, rc 133/132) or ``abort()``
    (SIGABRT, rc 134); a native fault is SIGSEGV (rc 139). The signal alone cannot tell
    an out-of-memory from a bug, so the child's last stderr lines decide.
    """
    if reported_out_of_memory(stderr_tail):
        return Outcome.MEMORY_LIMIT
    if exitcode in (-signal.SIGKILL, 137):  # the kernel's OOM killer
        return Outcome.MEMORY_LIMIT
    return Outcome.CRASHED


def _child_main(
    conn: Connection, factory: SandboxFactory, limits: Limits, data_limit: int, stderr_path: str
) -> None:
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    if data_limit > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
    configure_v8(max_old_space_mb=max(64, 2 * limits.heap_bytes // (1024 * 1024)))
    sandbox = factory.build()
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


class ProcessSandbox:
    """A :class:`Sandbox` in a replaceable child process; same ``run`` signature."""

    def __init__(
        self,
        factory: SandboxFactory,
        limits: Limits | None = None,
        *,
        data_limit_bytes: int = 1024**3,
    ) -> None:
        self.factory = factory
        self.limits = limits or Limits()
        self.data_limit_bytes = data_limit_bytes
        self._mp = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._conn: Connection | None = None
        fd, self._stderr_path = tempfile.mkstemp(prefix="sysjobs-sandbox-", suffix=".log")
        os.close(fd)

    def _ensure_child(self) -> Connection:
        if self._proc is None or not self._proc.is_alive():
            parent, child = self._mp.Pipe()
            args = (child, self.factory, self.limits, self.data_limit_bytes, self._stderr_path)
            self._proc = self._mp.Process(target=_child_main, args=args, daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        assert self._conn is not None
        return self._conn

    def run(
        self,
        source: str,
        *,
        timeout_s: float | None = None,
        log_sink: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> RunResult:
        """Run ``source`` in the child; a dead or hung child becomes an outcome."""
        started = time.monotonic()
        timeout = timeout_s if timeout_s is not None else self.limits.timeout_s
        conn = self._ensure_child()
        conn.send((source, {"timeout_s": timeout, **kwargs}))
        logs: list[str] = []
        deadline = started + timeout + GRACE_S
        while True:
            message = self._receive(conn, deadline)
            if message is None:
                return self._child_failed(started, logs, hung=self._proc.is_alive())
            kind, payload = message
            if kind == "result":
                return payload  # type: ignore[no-any-return]
            logs.append(payload)
            if log_sink is not None:
                log_sink(payload)

    @staticmethod
    def _receive(conn: Connection, deadline: float) -> Any:
        try:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                return None
            return conn.recv()
        except (EOFError, OSError):
            return None

    def _child_failed(self, started: float, logs: list[str], *, hung: bool) -> RunResult:
        if hung and not self._oom_reported():
            self._kill()
            outcome, message = Outcome.TIMEOUT, "The script's process stopped answering."
        else:
            self._proc.join(timeout=1)
            outcome = classify_exit(self._proc.exitcode, self._stderr_tail())
            message = _death_message(outcome, self._proc.exitcode)
        self._proc = None
        elapsed = round((time.monotonic() - started) * 1000, 3)
        error = ScriptError(code=str(outcome), name="Error", message=message)
        return RunResult(outcome, None, logs, 0, error, elapsed)

    def _oom_reported(self) -> bool:
        """V8 may still be dumping its fatal report when the deadline passes."""
        if classify_exit(None, self._stderr_tail()) is Outcome.MEMORY_LIMIT:
            self._proc.join(timeout=GRACE_S)
            self._kill()
            return True
        return False

    def _stderr_tail(self) -> str:
        with open(self._stderr_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 8192))
            return fh.read().decode("utf-8", "replace")

    def _kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5)

    def close(self) -> None:
        """Stop the child and remove its stderr file."""
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._proc.join(timeout=5)
        self._kill()
        with contextlib.suppress(OSError):
            os.unlink(self._stderr_path)

    def __enter__(self) -> ProcessSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _death_message(outcome: Outcome, exitcode: int | None) -> str:
    signalled = exitcode is not None and exitcode < 0
    how = f"signal {-exitcode}" if signalled and exitcode else f"exit code {exitcode}"
    if outcome is Outcome.MEMORY_LIMIT:
        return f"The script ran out of memory and its process was ended ({how})."
    return f"The script's process crashed ({how}); the host replaced it."


if sys.platform != "linux":  # pragma: no cover
    raise ImportError("ProcessSandbox relies on Linux resource limits")
