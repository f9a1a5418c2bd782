"""Run a JS source string in a fresh, hardened V8 context with the ``sys`` global.

Every run gets its own context, used once and discarded: scripts of different users and
jobs never share globals. Contexts cost a few milliseconds to bootstrap, so a small warm
pool prepares them ahead (mini-racer has no snapshots).

A run is: take a bootstrapped isolate → call the bootstrap's ``run(source, globals)``
under the wall-clock limit (user code and the serialisation of its completion value run
inside that one timed call, so getter traps are covered) → a short *canary* eval that
catches promise chains or microtask loops still running after the script returned →
discard the isolate.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

from sysjobs.runtime import dispatch
from sysjobs.runtime.bridge import (
    Bridge,
    ScriptMemoryLimit,
    ScriptTerminated,
    ScriptTimeout,
)
from sysjobs.runtime.namespace import CallContext, Namespace
from sysjobs.runtime.result import Limits, Outcome, RunResult, ScriptError

_BOOTSTRAP_JS = resources.files("sysjobs.runtime").joinpath("bootstrap.js").read_text("utf-8")
_CANARY_FLOOR_S = 0.05
#: Uncaught RangeErrors that mean "out of memory" rather than a bug in the script.
_ALLOCATION_FAILURES = ("Array buffer allocation failed",)


def build_bootstrap(namespaces: Sequence[Namespace]) -> str:
    """The source whose evaluation yields ``function (cb, bufferBytes) → [sab, run, end]``."""
    specs = ",".join(
        f"{{name:{json.dumps(ns.name)},globalName:{json.dumps(ns.global_name)},"
        f"prelude:({ns.prelude.strip()})}}"
        for ns in namespaces
    )
    return (
        f"(function(){{const boot=\n{_BOOTSTRAP_JS}\n;"
        f"return function(cb,bytes){{return boot(cb,bytes,[{specs}]);}};}})()"
    )


class _Isolate:
    """A bootstrapped context waiting for its one run."""

    def __init__(
        self, source: str, table: dict[str, Any], limits: Limits, *, pin: bool = True
    ) -> None:
        self.ctx = CallContext(deadline=0.0)
        self.bridge = Bridge(heap_limit_bytes=limits.heap_bytes, pin_thread_state=pin)
        try:
            factory = self.bridge.eval(source)
            parts = self.bridge.call(factory, self.bridge.js_callback(), limits.buffer_bytes)
            buffer, self.run_fn, end_fn = parts[0], parts[1], parts[2]
            self.bridge.attach(buffer, self._serve(table), end_fn)
        except BaseException:
            self.bridge.close()
            raise

    def _serve(self, table: dict[str, Any]) -> Callable[[bytes], bytes]:
        def serve(request: bytes) -> bytes:
            text = request.decode("utf-16-le", "surrogatepass")
            reply = dispatch.handle(table, self.ctx, text)
            return reply.encode("utf-16-le", "surrogatepass")

        return serve

    def close(self) -> None:
        self.bridge.close()


class Sandbox:
    """Runs scripts with the given ``sys`` namespaces under :class:`Limits`."""

    def __init__(
        self,
        namespaces: Sequence[Namespace],
        limits: Limits | None = None,
        *,
        pool_size: int = 2,
        pin_thread_state: bool = True,
    ) -> None:
        self.limits = limits or Limits()
        self._pin = pin_thread_state
        self.namespaces = tuple(namespaces)
        self._source = build_bootstrap(self.namespaces)
        self._table = dispatch.operation_table(self.namespaces)
        self._pool: queue.Queue[_Isolate] = queue.Queue(maxsize=max(pool_size, 1))
        self._pool_size = pool_size
        self._refill = threading.Event()
        self._closed = False
        self._filler: threading.Thread | None = None
        self._active: dict[str, _Isolate] = {}

    # ---- pool ---------------------------------------------------------------------
    def _new_isolate(self) -> _Isolate:
        return _Isolate(self._source, self._table, self.limits, pin=self._pin)

    def _take(self) -> _Isolate:
        if self._pool_size <= 0:
            return self._new_isolate()
        self._start_filler()
        try:
            iso = self._pool.get_nowait()
        except queue.Empty:
            iso = self._new_isolate()
        self._refill.set()
        return iso

    def _start_filler(self) -> None:
        if self._filler is None:
            self._filler = threading.Thread(target=self._fill, name="sysjobs-pool", daemon=True)
            self._filler.start()

    def _fill(self) -> None:
        while not self._closed:
            while not self._closed and not self._pool.full():
                iso = self._new_isolate()
                try:
                    self._pool.put_nowait(iso)
                except queue.Full:
                    iso.close()
            self._refill.wait(timeout=1.0)
            self._refill.clear()

    def warm(self) -> None:
        """Fill the pool now (e.g. at worker start), so the first run is warm."""
        while self._pool_size > 0 and not self._pool.full():
            self._pool.put_nowait(self._new_isolate())
        self._start_filler()

    # ---- running ------------------------------------------------------------------
    def run(
        self,
        source: str,
        *,
        timeout_s: float | None = None,
        job_id: str | None = None,
        user: dict[str, Any] | None = None,
        globals: dict[str, Any] | None = None,
        log_sink: Callable[[str], None] | None = None,
        extras: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """Run ``source`` once; never raises for anything the script does.

        ``run_id`` names the run for :meth:`terminate` (a job id, typically).
        """
        started = time.monotonic()
        timeout = timeout_s if timeout_s is not None else self.limits.timeout_s
        logs: list[str] = []
        dropped = [0]

        def sink(line: str) -> None:
            if len(logs) < self.limits.max_log_lines:
                logs.append(line)
            else:
                dropped[0] += 1
            if log_sink is not None:
                log_sink(line)

        iso = self._take()
        iso.ctx = CallContext(
            deadline=started + timeout, job_id=job_id, user=user, log_sink=sink,
            extras=dict(extras or {}),
        )
        if run_id is not None:
            self._active[run_id] = iso
        try:
            outcome, value, error = self._execute(iso, source, globals or {}, timeout)
        finally:
            if run_id is not None:
                self._active.pop(run_id, None)
            iso.close()
            iso.ctx.close()
        elapsed = (time.monotonic() - started) * 1000
        return RunResult(outcome, value, logs, dropped[0], error, round(elapsed, 3))

    def _execute(
        self, iso: _Isolate, source: str, globals: dict[str, Any], timeout: float
    ) -> tuple[Outcome, Any, ScriptError | None]:
        try:
            envelope = iso.bridge.call(iso.run_fn, source, json.dumps(globals), timeout_s=timeout)
            self._canary(iso)
            if iso.bridge.heap_limit_reached():  # work after the return ran out of memory
                return self._memory_limit()
        except ScriptTimeout:
            return self._limit(Outcome.TIMEOUT, f"The script ran longer than {timeout:g} s.")
        except ScriptMemoryLimit:
            return self._memory_limit()
        except ScriptTerminated:
            if iso.bridge.heap_limit_reached():
                return self._memory_limit()
            return self._limit(Outcome.TERMINATED, "The script was terminated (forced stop).")
        except _LeftoverWork:
            return self._limit(
                Outcome.TIMEOUT,
                "The script returned but left asynchronous work (a promise chain or "
                "microtask loop) running past its time limit.",
            )
        return _decode(envelope)

    def _canary(self, iso: _Isolate) -> None:
        remaining = max(_CANARY_FLOOR_S, iso.ctx.remaining())
        try:
            iso.bridge.eval("0", timeout_s=remaining)
        except ScriptTimeout:
            raise _LeftoverWork from None

    def _memory_limit(self) -> tuple[Outcome, Any, ScriptError]:
        mib = self.limits.heap_bytes // (1024 * 1024)
        message = f"The script exceeded its memory limit of {mib} MiB."
        return self._limit(Outcome.MEMORY_LIMIT, message)

    @staticmethod
    def _limit(outcome: Outcome, message: str) -> tuple[Outcome, Any, ScriptError]:
        return outcome, None, ScriptError(code=str(outcome), name="Error", message=message)

    def terminate(self, run_id: str) -> bool:
        """Terminate the V8 execution of the run named ``run_id`` (from any thread)."""
        iso = self._active.get(run_id)
        return iso is not None and iso.bridge.terminate()

    def close(self) -> None:
        """Discard the warm pool."""
        self._closed = True
        self._refill.set()
        if self._filler is not None:
            self._filler.join(timeout=5)
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LeftoverWork(Exception):
    """The canary timed out: work scheduled by the script is still running."""


def _decode(envelope: Any) -> tuple[Outcome, Any, ScriptError | None]:
    try:
        data = json.loads(envelope) if isinstance(envelope, str) else {}
    except RecursionError:  # V8 serialised it, Python's decoder cannot nest that deep
        message = "The script's completion value is nested too deeply to be returned."
        return Outcome.ERROR, None, ScriptError(None, "RangeError", message)
    if not isinstance(data, dict):
        data = {}
    if data.get("ok"):
        return Outcome.OK, data.get("value"), None
    err = data.get("error") or {}
    if err.get("name") == "RangeError" and err.get("message") in _ALLOCATION_FAILURES:
        message = f"The script could not allocate memory: {err.get('message')}."
        return Outcome.MEMORY_LIMIT, None, ScriptError("memoryLimit", "Error", message)
    error = ScriptError(
        code=err.get("code"),
        name=str(err.get("name") or "Error"),
        message=str(err.get("message") or ""),
        stack=err.get("stack"),
        info=err.get("info"),
    )
    return Outcome.ERROR, None, error
