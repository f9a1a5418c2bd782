"""Runs in one isolate, and what a run's outcome is.

A run is: call the bootstrap's ``run(source, globals)`` under the wall-clock limit (user
code and the serialisation of its completion value run inside that one timed call, so
getter traps are covered) → a short *canary* eval, queued right behind that call, that
catches promise chains or microtask loops still running after the script returned. Any
limit event discards the isolate; the next run of the session takes a fresh one. When the
session closes, its isolate goes back to the sandbox; the next run on it first proves it
clean, and a context that fails is closed and the run goes to another.

A run is *served* from its first call until its canary has run: host calls arriving in
that window belong to it (a ``then`` after the return may still log). After it, nothing
of the run can still execute — there are no timers — so a host call arriving then is
refused and the context is never reused. Nothing that goes wrong inside the runtime (a
bridge error, a call arriving late) reaches the caller: the run ends with an outcome and
its context is discarded.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sysjobs.runtime.bridge import (
    BridgeError,
    ScriptMemoryLimit,
    ScriptTerminated,
    ScriptTimeout,
)
from sysjobs.runtime.dispatch import error_reply
from sysjobs.runtime.governor import Governor
from sysjobs.runtime.isolate import Isolate
from sysjobs.runtime.namespace import CallContext
from sysjobs.runtime.result import LogCapture, Outcome, RunResult, ScriptError

if TYPE_CHECKING:
    from sysjobs.runtime.sandbox import Sandbox

log = logging.getLogger("sysjobs.runtime")

_CANARY_FLOOR_S = 0.05
#: Uncaught RangeErrors that mean "out of memory" rather than a bug in the script.
_ALLOCATION_FAILURES = ("Array buffer allocation failed",)
_KEEPS_ISOLATE = (Outcome.OK, Outcome.ERROR)
#: What ``run`` answers when a recycled context fails its proof of cleanliness.
_DIRTY = '{"dirty":true}'

Verdict = tuple[Outcome, Any, ScriptError | None]


class Session:
    """One or more runs for the same job and user, in one isolate while it stays healthy."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        job_id: str | None,
        user: dict[str, Any] | None,
        log_sink: Callable[[str], None] | None,
        extras: dict[str, Any] | None,
        run_id: str | None,
        job_log: Callable[[str, str], None] | None = None,
        domain: str = "",
    ) -> None:
        self._sandbox = sandbox
        self._domain = domain
        self._job_id, self._user, self._log_sink = job_id, user, log_sink
        self._job_log = job_log
        self._extras = dict(extras or {})
        self._run_id = run_id
        self._iso: Isolate | None = None
        if run_id is not None:
            sandbox._active[run_id] = self

    def run(
        self, source: str, *, timeout_s: float | None = None, globals: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> RunResult:  # fmt: skip
        """Run ``source``; never raises for anything the script does. ``name`` names the
        script in its stack frames (``NAME:line:column``; see ``isolate.script_url``)."""
        limits = self._sandbox.limits
        started = time.monotonic()
        timeout = timeout_s if timeout_s is not None else limits.timeout_s
        capture = LogCapture(limits)  # bounded: never holds more than limits allow

        def sink(line: str) -> None:
            capture.add(line)
            if self._log_sink is not None:
                self._log_sink(line)

        iso = self._isolate()
        ctx = CallContext(
            deadline=started + timeout, job_id=self._job_id, user=self._user, log_sink=sink,
            job_log=self._job_log, extras=dict(self._extras),
            governor=Governor(limits.governance),
        )  # fmt: skip
        try:
            outcome, value, error = self._execute(iso, ctx, source, globals or {}, timeout, name)
            outcome, value, error = _flushed(ctx, (outcome, value, error))
        finally:
            ctx.close()
        if outcome not in _KEEPS_ISOLATE:
            self._discard()
        elapsed = round((time.monotonic() - started) * 1000, 3)
        return RunResult(outcome, value, capture.lines, capture.dropped_lines, error, elapsed,
                         capture.dropped_bytes)  # fmt: skip

    def terminate(self) -> bool:
        """Terminate the running script (from any thread); False when none runs."""
        iso = self._iso
        return iso is not None and iso.bridge.terminate()

    def close(self) -> None:
        """Give the isolate back (it is reset, or closed) and forget the run id."""
        if self._run_id is not None:
            self._sandbox._active.pop(self._run_id, None)
        iso, self._iso = self._iso, None
        if iso is not None:
            self._sandbox.give_back(iso)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one run --------------------------------------------------------------------
    def _isolate(self) -> Isolate:
        """The session's isolate, unless a call arrived in it between two runs."""
        iso = self._iso
        if iso is not None and not iso.reusable():
            self._discard()
            iso = None
        if iso is None:
            iso = self._iso = self._sandbox.take(self._domain)
        return iso

    def _discard(self) -> None:
        iso, self._iso = self._iso, None
        if iso is not None:
            iso.close()

    def _execute(
        self, iso: Isolate, ctx: CallContext, source: str, globals: dict[str, Any],
        timeout: float, name: str | None,
    ) -> Verdict:  # fmt: skip
        """Serve one run in ``iso`` (or, when a recycled one fails its proof, in others)."""
        try:
            return self._serve(iso, ctx, source, globals, timeout, name)
        except ScriptTimeout:
            return _limit(Outcome.TIMEOUT, f"The script ran longer than {timeout:g} s.")
        except ScriptMemoryLimit:
            return self._memory_limit()
        except ScriptTerminated:
            if self._iso is not None and self._iso.bridge.heap_limit_reached():
                return self._memory_limit()
            return _limit(Outcome.TERMINATED, "The script was terminated (forced stop).")
        except BridgeError:  # the context failed under us: the run ends, the host goes on
            log.exception("sysjobs runtime: a context failed during a run")
            return _limit(Outcome.CRASHED, "The script's context failed; it was discarded.")
        finally:
            if self._iso is not None:
                self._iso.serving = False

    def _serve(
        self, iso: Isolate, ctx: CallContext, source: str, globals: dict[str, Any],
        timeout: float, name: str | None,
    ) -> Verdict:  # fmt: skip
        iso.ctx, iso.domain = ctx, self._domain
        meter = self._sandbox.data_meter
        before = meter.read()
        try:
            return self._serve_counted(iso, ctx, source, globals, timeout, name)
        finally:
            if self._iso is not None:  # the context that ran it (a limit closed none)
                self._iso.count_growth(before, meter.read())

    def _serve_counted(
        self, iso: Isolate, ctx: CallContext, source: str, globals: dict[str, Any],
        timeout: float, name: str | None,
    ) -> Verdict:  # fmt: skip
        envelope = iso.run_envelope(source, globals, timeout, name)
        while envelope == _DIRTY:  # a recycled context failed its proof: another one
            iso.serving = False
            self._sandbox.reject(iso)
            iso = self._iso = self._sandbox.take(self._domain)
            iso.ctx, iso.domain = ctx, self._domain
            envelope = iso.run_envelope(source, globals, timeout, name)
        iso.runs += 1
        if not _canary_passes(iso, ctx):
            return _limit(
                Outcome.TIMEOUT,
                "The script returned but left asynchronous work (a promise chain or "
                "microtask loop) running past its time limit.",
            )
        iso.proven_idle = True
        if iso.bridge.heap_limit_reached():  # work after the return ran out of memory
            return self._memory_limit()
        return _decode(envelope)

    def _memory_limit(self) -> Verdict:
        mib = self._sandbox.limits.heap_bytes // (1024 * 1024)
        return _limit(Outcome.MEMORY_LIMIT, f"The script exceeded its memory limit of {mib} MiB.")


def _canary_passes(iso: Isolate, ctx: CallContext) -> bool:
    try:
        iso.bridge.wait_idle(max(_CANARY_FLOOR_S, ctx.remaining()))
    except ScriptTimeout:
        return False
    return True


def _flushed(ctx: CallContext, verdict: Verdict) -> Verdict:
    """The run's pending writes go out as it ends, whatever the outcome (the script was
    told they were done); when they fail, a run that succeeded ends with their error."""
    if not ctx.flushes:
        return verdict
    try:
        ctx.flush()
    except Exception as exc:
        err = error_reply(exc)["err"]
        if verdict[0] is Outcome.OK:
            return Outcome.ERROR, None, ScriptError(err["code"], "Error", err["message"])
        log.error("pending writes of a run that ended with %s failed: %s", verdict[0],
                  err["message"])  # fmt: skip
    return verdict


def _limit(outcome: Outcome, message: str) -> Verdict:
    return outcome, None, ScriptError(code=str(outcome), name="Error", message=message)


def _decode(envelope: Any) -> Verdict:
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
