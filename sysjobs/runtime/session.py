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
from collections.abc import Callable, Sequence
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
#: While the host takes an item's report, how often the call's time limit is looked at
#: again (no item runs then: the limit is the next item's, set when the report ends).
_REPORT_POLL_S = 0.05
#: Uncaught RangeErrors that mean "out of memory" rather than a bug in the script.
_ALLOCATION_FAILURES = ("Array buffer allocation failed",)
_KEEPS_ISOLATE = (Outcome.OK, Outcome.ERROR)
#: What ``run`` answers when a recycled context fails its proof of cleanliness.
_DIRTY = '{"dirty":true}'

Verdict = tuple[Outcome, Any, ScriptError | None]
#: Receives one item's result (its index in the items, its outcome) in
#: :meth:`Session.run_each`; False stops the items (the rest are not run).
ItemReport = Callable[[int, RunResult], bool]


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

        iso = self._iso
        if iso is None:  # (the session's first run: nothing to check before taking one)
            iso = self._iso = self._sandbox.take(self._domain)
        else:
            iso = self._isolate()
        ctx = CallContext(
            deadline=started + timeout, job_id=self._job_id, user=self._user, log_sink=sink,
            job_log=self._job_log, extras=dict(self._extras),
            governor=Governor(limits.governance),
        )  # fmt: skip
        try:
            outcome, value, error = self._execute(iso, ctx, source, globals or {}, timeout, name)
            if ctx.flushes:
                outcome, value, error = _flushed(ctx, (outcome, value, error))
        finally:
            ctx.close()
        if outcome not in _KEEPS_ISOLATE:
            self._discard()
        elapsed = round((time.monotonic() - started) * 1000, 3)
        return RunResult(outcome, value, capture.lines, capture.dropped_lines, error, elapsed,
                         capture.dropped_bytes)  # fmt: skip

    def run_each(
        self, source: str, items: Sequence[dict[str, Any]], on_item: ItemReport, *,
        globals: dict[str, Any] | None = None, timeout_s: float | None = None,
        name: str | None = None,
    ) -> RunResult:  # fmt: skip
        """Run ``source`` once per item — ``globals`` with the item's own over them — as
        :meth:`run` would, one run after the other, but in as few V8 calls as the items
        allow: one, unless an item hits a limit.

        Each item is a run of its own: its own time limit (from its start), governance
        budget, pending writes (flushed when it ends) and cleanups, a throw that fails it
        alone. ``on_item`` receives each item's result, in order, before the next item
        starts; False (a stop) ends the items there. An item that hits a limit (timeout,
        memory, a crash) is reported with that outcome, its context discarded, and the
        items after it go on in a fresh one; a terminated item ends them all. Microtasks
        cannot run inside a V8 call: what items leave pending (a ``then``) runs after the
        call's last item, never inside another item's run. The result returned is that
        leftover work's: ``ok``, or the limit it hit (``timeout`` when it outlived the time
        limit). An exception ``on_item`` raises stops the items and is raised here.
        """
        timeout = timeout_s if timeout_s is not None else self._sandbox.limits.timeout_s
        items = list(items)
        tail = RunResult(Outcome.OK)
        start = 0
        while start < len(items):
            each = _Items(self, items, start, on_item, timeout)
            tail, start = self._each_call(each, source, globals or {}, name)
            if each.error is not None:
                raise each.error
            if each.stopped:
                break
        return tail

    def _each_call(
        self, each: _Items, source: str, globals: dict[str, Any], name: str | None
    ) -> tuple[RunResult, int]:
        """One V8 call over the items from ``each.index``: the leftover work's result and
        where the next call starts."""
        iso = self._isolate()
        each.begin(each.index)
        try:
            verdict = self._execute(iso, each.ctx, source, globals, each.timeout, name, each)
        finally:
            if self._iso is not None:
                self._iso.reporter = None
        unfinished = each.index < len(each.items) and not each.stopped
        if not each.returned or (unfinished and verdict[0] is not Outcome.OK):
            each.finish(verdict)  # the item that was running when the call ended
            if verdict[0] is Outcome.TERMINATED:
                each.stopped = True
            if verdict[0] not in _KEEPS_ISOLATE:
                self._discard()
            return RunResult(Outcome.OK), each.index + 1
        tail = each.close_tail(verdict)
        if verdict[0] not in _KEEPS_ISOLATE:
            self._discard()
        return tail, each.index

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
        timeout: float, name: str | None, each: _Items | None = None,
    ) -> Verdict:  # fmt: skip
        """Serve one run in ``iso`` (or, when a recycled one fails its proof, in others)."""
        try:
            return self._serve(iso, ctx, source, globals, timeout, name, each)
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
        timeout: float, name: str | None, each: _Items | None,
    ) -> Verdict:  # fmt: skip
        iso.ctx, iso.domain = ctx, self._domain
        meter = self._sandbox.data_meter
        with self._sandbox.build_gate.window():
            before = meter.read()
            try:
                return self._serve_counted(iso, ctx, source, globals, timeout, name, each)
            finally:
                if self._iso is not None:  # the context that ran it (a limit closed none)
                    self._iso.count_growth(before, meter.read())

    def _serve_counted(
        self, iso: Isolate, ctx: CallContext, source: str, globals: dict[str, Any],
        timeout: float, name: str | None, each: _Items | None,
    ) -> Verdict:  # fmt: skip
        envelope = (iso.run_envelope(source, globals, timeout, name) if each is None
                    else self._envelope(iso, source, globals, timeout, name, each))  # fmt: skip
        while envelope == _DIRTY:  # a recycled context failed its proof: another one
            iso.serving = False
            self._sandbox.reject(iso)
            iso = self._iso = self._sandbox.take(self._domain)
            iso.ctx, iso.domain = ctx, self._domain
            envelope = self._envelope(iso, source, globals, timeout, name, each)
        iso.runs += 1 if each is None else max(1, each.index - each.first)
        if each is not None:
            each.returned = True
            ctx = each.ctx  # what the items left pending runs under the tail's context
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

    @staticmethod
    def _envelope(
        iso: Isolate, source: str, globals: dict[str, Any], timeout: float, name: str | None,
        each: _Items | None,
    ) -> Any:  # fmt: skip
        if each is None:
            return iso.run_envelope(source, globals, timeout, name)
        iso.reporter = each.report
        each.iso = iso
        return iso.run_envelope(source, globals, timeout, name, each=each.pending(),
                                deadline=each.deadline)  # fmt: skip

    def _memory_limit(self) -> Verdict:
        mib = self._sandbox.limits.heap_bytes // (1024 * 1024)
        return _limit(Outcome.MEMORY_LIMIT, f"The script exceeded its memory limit of {mib} MiB.")


class _Items:
    """The items of one V8 call of :meth:`Session.run_each`, and the item running now.

    ``report`` runs on the isolate's thread, inside the bootstrap's report of an item: it
    ends that item's run (its pending writes flushed, its cleanups run), hands its result
    to ``on_item``, and starts the next item's context — a new deadline, budget and log
    capture — or, after the last one, the *tail*'s: the context that what the items left
    pending runs under.
    """

    def __init__(self, session: Session, items: list[dict[str, Any]], first: int,
                 on_item: ItemReport, timeout: float) -> None:  # fmt: skip
        self.session, self.items, self.on_item, self.timeout = session, items, on_item, timeout
        #: The first item of this call, and the item running now (or the tail's index).
        self.first = self.index = first
        self.ctx = CallContext(deadline=0.0)
        self.capture = LogCapture(session._sandbox.limits)
        self.started = 0.0
        self.iso: Isolate | None = None
        #: The V8 call returned (else a limit or a failure cut it short).
        self.returned = False
        #: ``on_item`` said stop (or raised, or an item was terminated): no more items.
        self.stopped = False
        self.error: BaseException | None = None
        #: The host is taking an item's report: no item runs (see :meth:`report`).
        self.reporting = False

    def pending(self) -> list[dict[str, Any]]:
        return self.items[self.first :]

    def deadline(self) -> float:
        """The running item's deadline (the bridge reads it again whenever it passes)."""
        if self.reporting:
            return time.monotonic() + _REPORT_POLL_S
        return self.ctx.deadline

    def begin(self, index: int) -> None:
        """Item ``index``'s run starts now (past the last item: the tail's)."""
        session = self.session
        limits = session._sandbox.limits
        self.index, self.started = index, time.monotonic()
        capture = self.capture = LogCapture(limits)

        def sink(line: str) -> None:
            capture.add(line)
            if session._log_sink is not None:
                session._log_sink(line)

        self.ctx = CallContext(
            deadline=self.started + self.timeout, job_id=session._job_id, user=session._user,
            log_sink=sink, job_log=session._job_log, extras=dict(session._extras),
            governor=Governor(limits.governance),
        )  # fmt: skip
        if self.iso is not None:
            self.iso.ctx = self.ctx

    def report(self, index: int, envelope: str) -> bool:
        """The bootstrap reports item ``first + index``: end it, tell ``on_item``, start
        the next. Never raises (it runs inside a host call).

        The time it takes (the item's writes, the stop check: a loaded database) is no
        item's: while it lasts :meth:`deadline` keeps moving ahead, so the call is not cut
        short for it — else the next item would end with ``timeout`` without having run.
        """
        self.reporting = True
        try:
            if self.first + index != self.index:  # never: the bootstrap reports in order
                raise RuntimeError(f"item {self.first + index} reported, {self.index} running")
            verdict = _decode(envelope)
            if verdict[0] is Outcome.OK and self.iso is not None \
                    and self.iso.bridge.heap_limit_reached():  # fmt: skip
                verdict = self.session._memory_limit()
            go_on = self.finish(verdict)
        except BaseException as exc:
            self.error, go_on = exc, False
        if not go_on:
            self.stopped = True
        try:
            self.begin(self.index + 1)
        finally:
            self.reporting = False  # from here the next item's deadline holds
        return go_on and self.index < len(self.items)

    def finish(self, verdict: Verdict) -> bool:
        """The running item ended with ``verdict``: its writes, cleanups, ``on_item``."""
        ctx = self.ctx
        try:
            verdict = _flushed(ctx, verdict)
        finally:
            ctx.close()
        outcome, value, error = verdict
        elapsed = round((time.monotonic() - self.started) * 1000, 3)
        capture = self.capture
        result = RunResult(outcome, value, capture.lines, capture.dropped_lines, error, elapsed,
                           capture.dropped_bytes)  # fmt: skip
        try:
            return self.on_item(self.index, result)
        except BaseException as exc:
            self.error = exc
            return False

    def close_tail(self, verdict: Verdict) -> RunResult:
        """The call returned and its leftover work ran (or hit ``verdict``'s limit)."""
        ctx = self.ctx
        try:
            outcome, value, error = _flushed(ctx, verdict)
        finally:
            ctx.close()
        elapsed = round((time.monotonic() - self.started) * 1000, 3)
        return RunResult(outcome, None if outcome is Outcome.OK else value, self.capture.lines,
                         self.capture.dropped_lines, error, elapsed,
                         self.capture.dropped_bytes)  # fmt: skip


def _canary_passes(iso: Isolate, ctx: CallContext) -> bool:
    try:  # (the time left to the run's deadline, at least the floor)
        iso.bridge.wait_idle(max(_CANARY_FLOOR_S, ctx.deadline - time.monotonic()))
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
