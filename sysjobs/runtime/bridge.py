"""The native edge: the only module that touches mini-racer's internals.

mini-racer's public ``wrap_py_function`` only makes *async* JS functions (a Promise per
call). Scripts need ``var job = sys.jobs.findById(id)`` to return the job in the same
statement, so this module uses the library's internal synchronous callback:
``mr_make_js_callback(ctx, id)`` makes a JS function that, when called, invokes the
context's ``handle_callback_from_v8(id, raw_handle)`` *on the isolate's thread while the JS
caller waits*. We install our own handler for our own id on that context (every other id
goes to the original — evals hang otherwise), free the argument handle without reading it
(reading would re-enter the busy isolate and deadlock), and exchange requests and replies
as bytes in a fixed-size ``SharedArrayBuffer`` that only the bootstrap closure holds.

Thread state pinning: CPython creates and destroys a thread state each time a foreign
thread enters Python, ~15 µs per call. On the first callback (the bootstrap ends with one)
we take one extra ``PyGILState_Ensure`` on the isolate thread so the thread state survives
between calls (~3 µs per call), task results included; :meth:`Bridge.close` releases it
on that thread through the bootstrap's unpin callback.

Pinned: mini-racer 0.14.1 exactly (see pyproject.toml). ``tests/unit/runtime/
test_bridge_contract.py`` fails loudly if an upgrade changes any internal used here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import struct
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from py_mini_racer import JSUndefined
from py_mini_racer._exc import (
    JSEvalException,
    JSOOMException,
    JSTerminatedException,
    JSTimeoutException,
)
from py_mini_racer._mini_racer import _make_context

log = logging.getLogger(__name__)

KIND_CALL, KIND_PART, KIND_MORE, KIND_END, KIND_PIN = 1, 2, 3, 4, 5
REPLY_DONE, REPLY_PART = 1, 2
HEADER_BYTES = 16
DEFAULT_BUFFER_BYTES = 256 * 1024

_pythonapi: Any = ctypes.pythonapi
_pythonapi.PyGILState_Ensure.restype = ctypes.c_int
_pythonapi.PyGILState_Release.argtypes = [ctypes.c_int]


class BridgeError(Exception):
    """Base of the errors this module raises instead of mini-racer's own."""


class ScriptTimeout(BridgeError):
    """The evaluation ran past its time limit and was terminated."""


class ScriptMemoryLimit(BridgeError):
    """The isolate reached its heap limit."""


class ScriptTerminated(BridgeError):
    """The evaluation was terminated (the isolate is no longer usable)."""


class ScriptEvalError(BridgeError):
    """The source could not be evaluated (e.g. a syntax error in trusted code)."""


class ReentrancyError(BridgeError):
    """A host handler tried to evaluate JS in the isolate that is waiting for it."""


#: V8's first isolate initialises process-wide allocator pools; two threads creating the
#: first contexts at once hit a fatal "IsConfigurablePoolInitialized" check (seen when the
#: warm pool's filler raced the first run). Context creation is serialised.
_CREATE_LOCK = threading.Lock()

Dispatch = Callable[[bytes | memoryview], bytes]
#: Answers a request larger than :data:`MAX_REQUEST_UNITS` (given its size in UTF-16
#: units), which is not kept: the reply the script gets instead of a dispatch.
Refuse = Callable[[int], bytes]
#: The longest request (UTF-16 units of its JSON) a host call may make: 32 Mi units, 64 MiB
#: in the buffer. A script repeats a string at no cost of its own, and the host would hold
#: every chunk, then copies, a decoded text and a parse of the whole — several times its
#: size — before any handler looked at it.
MAX_REQUEST_UNITS = 32 * 1024 * 1024
"""Takes a request as UTF-16-LE JSON bytes and returns the reply as UTF-16-LE bytes.

A one-chunk request arrives as a view of the transport buffer: it must be decoded before
the dispatch returns (the reply overwrites it)."""
_HEADER = struct.Struct("<III")
#: A ``time.monotonic()`` value, read when a wait reaches it (it may move on meanwhile).
Deadline = Callable[[], float]


#: Trusted sources this short (the per-run canary) keep their V8 value between evals.
_KEPT_SOURCE_CHARS = 16
#: What :meth:`Bridge.wait_idle` evaluates: anything, it only has to run.
CANARY_SOURCE = "0"
#: After cancelling a task, how long to wait for its (terminated) result to arrive.
_CANCEL_WAIT_S = 2.0


class _Task:
    """One mini-racer task (an eval or a function call) waited for synchronously."""

    __slots__ = ("arrived", "callback_id", "done", "handle", "reason", "task_id")

    def __init__(self, callback_id: int) -> None:
        self.callback_id = callback_id
        self.task_id = 0
        self.done = False
        #: Released once, by the result callback: a bare lock wakes the waiting thread
        #: directly (an Event's condition costs a lock, a waiter list and a notify_all).
        self.arrived = threading.Lock()
        self.arrived.acquire()
        self.handle: Any = None
        #: Why the task was cancelled: "timeout", "terminated", or None.
        self.reason: str | None = None


#: Entry points that only post a task or touch a mutex-guarded registry, never waiting for the
#: isolate thread: called through a ``PyDLL`` view of the library they keep the GIL, so a
#: busy worker does not hand the GIL to another thread and wait to get it back around
#: each of them (ten per script run). Anything that waits for the isolate thread (heap
#: stats, object items, making callbacks, freeing a context) must stay on mini-racer's
#: ``CDLL``, which releases the GIL: the isolate thread may need the GIL to finish.
_GIL_HELD_CALLS = (
    "mr_eval", "mr_call_function", "mr_cancel_task", "mr_free_value", "mr_alloc_int_val",
    "mr_alloc_double_val", "mr_alloc_string_val", "mr_hard_memory_limit_reached",
    "mr_soft_memory_limit_reached",
)  # fmt: skip


class _GilHeldDll:
    """mini-racer's library handle with :data:`_GIL_HELD_CALLS` bound through ``PyDLL``."""

    _shared: dict[str, _GilHeldDll] = {}

    def __init__(self, dll: Any) -> None:
        self._dll = dll
        held = ctypes.PyDLL(dll._name, handle=dll._handle)
        for name in _GIL_HELD_CALLS:
            slow, quick = getattr(dll, name), getattr(held, name)
            quick.argtypes, quick.restype = slow.argtypes, slow.restype
            setattr(self, name, quick)

    @classmethod
    def of(cls, dll: Any) -> _GilHeldDll:
        """The one view of ``dll`` (mini-racer loads its library once per process)."""
        if isinstance(dll, cls):
            return dll
        view = cls._shared.get(dll._name)
        if view is None or view._dll is not dll:
            view = cls._shared[dll._name] = cls(dll)
        return view

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dll, name)


class _EventLoop:
    """One asyncio loop thread per process serves every context's async plumbing.

    mini-racer would otherwise start a loop thread per context; contexts are one-shot
    here, so that thread would be created and joined for every script.
    """

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    _pid: int = 0

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        import os

        with cls._lock:
            if cls._loop is None or cls._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="sysjobs-v8-loop", daemon=True
                ).start()
                cls._loop, cls._pid = loop, os.getpid()
            return cls._loop


class Bridge:
    """One V8 context with the synchronous host callback and its transport buffer."""

    def __init__(
        self, *, heap_limit_bytes: int | None = None, pin_thread_state: bool = True
    ) -> None:
        self._cm: AbstractContextManager[Any] = _make_context(_EventLoop.get())
        with _CREATE_LOCK:
            ctx = self._cm.__enter__()
        self._ctx: Any = ctx
        if heap_limit_bytes:
            ctx.set_hard_memory_limit(heap_limit_bytes)
        self._callback_id: int = next(ctx._next_async_callback_id)
        self._original = ctx.handle_callback_from_v8
        object.__setattr__(ctx, "handle_callback_from_v8", self._on_callback)
        self._dispatch: Dispatch | None = None
        self._buf: memoryview | None = None
        self._capacity = 0
        self._request = bytearray()
        #: The request being received is past MAX_REQUEST_UNITS: its chunks are dropped.
        self._oversized = False
        self._refuse: Refuse | None = None
        self._reply_rest = b""
        self._pinned: int | None = None
        self._pin = pin_thread_state
        #: The thread serving a host call right now (the isolate's thread), else None.
        self._callback_thread: int | None = None
        self._closed = False
        #: A cancelled task's result never arrived: a microtask loop holds the isolate
        #: thread, and nothing queued behind it runs until the context is freed.
        self._wedged = False
        self._unpin_fn: Any = None
        self._dll: Any = _GilHeldDll.of(ctx._dll)
        object.__setattr__(ctx, "_dll", self._dll)
        self._tasks: dict[int, _Task] = {}
        self._running: _Task | None = None
        self._argv: Any = None  # reused for calls with arguments (setup only)
        self._no_args: Any = None  # the empty arguments array, kept for every other call
        self._undefined: Any = None  # the ``this`` of every call
        self._sources: dict[str, Any] = {}  # handles of short trusted sources (the canary)
        self._canary: _Task | None = None  # queued behind the last call (then_canary)

    # ---- setup ------------------------------------------------------------------
    def js_callback(self) -> Any:
        """The JS function that calls back into this bridge synchronously."""
        raw = self._ctx._dll.mr_make_js_callback(self._ctx._ctx, self._callback_id)
        return self._ctx._value_handle_to_python(self._ctx._wrap_raw_handle(raw))

    def attach(self, buffer: Any, dispatch: Dispatch, unpin_fn: Any,
               refuse: Refuse | None = None) -> None:  # fmt: skip
        """Start serving calls: ``buffer`` is the bootstrap's SharedArrayBuffer view;
        ``refuse`` answers a request past :data:`MAX_REQUEST_UNITS` (without it, such a
        request is dispatched as it is)."""
        if not isinstance(buffer, memoryview):
            raise BridgeError("bootstrap did not return the transport buffer")
        self._buf = buffer
        self._capacity = (len(buffer) - HEADER_BYTES) // 2
        self._dispatch = dispatch
        self._refuse = refuse
        self._unpin_fn = unpin_fn

    # ---- evaluation --------------------------------------------------------------
    def eval(self, source: str, timeout_s: float | None = None) -> Any:
        """Evaluate trusted source; mini-racer's errors become this module's."""
        self._check_usable()
        code = self._code(source)
        return self._run_task(lambda cid: self._dll.mr_eval(self._ctx._ctx, code.raw, cid),
                              timeout_s)  # fmt: skip

    def _code(self, source: str) -> Any:
        code = self._sources.get(source)
        if code is None:
            code = self._ctx._python_to_value_handle(source)
            if len(source) <= _KEPT_SOURCE_CHARS:
                self._sources[source] = code
        return code

    def call(
        self, fn: Any, *args: Any, timeout_s: float | None = None, then_canary: bool = False,
        deadline: Deadline | None = None,
    ) -> Any:
        """Call a JS function handle obtained from a trusted evaluation.

        The call can be cut short from another thread with :meth:`terminate`. With
        ``then_canary`` a canary eval is queued right behind it, for :meth:`wait_idle`.
        ``deadline`` (instead of ``timeout_s``) is read again whenever it passes: a call
        that runs many units of work, each with its own time limit, moves it on as each
        unit starts (the host call that ends one unit and starts the next).
        """
        self._check_usable()
        return self._call(fn, args, timeout_s, then_canary, deadline)

    def _call(
        self, fn: Any, args: tuple[Any, ...], timeout_s: float | None, then_canary: bool,
        deadline: Deadline | None,
    ) -> Any:  # fmt: skip
        """:meth:`call`, once the bridge was found usable."""
        ctx = self._ctx
        argv = self._arguments(args)
        func = ctx._python_to_value_handle(fn)
        this = self._undefined
        if this is None:
            this = self._undefined = ctx._python_to_value_handle(JSUndefined)
        return self._run_task(
            lambda cid: self._dll.mr_call_function(ctx._ctx, func.raw, this.raw, argv.raw, cid),
            timeout_s, then_canary=then_canary, deadline=deadline,
        )  # fmt: skip

    def call_with_input(
        self, fn: Any, payload: str, *, timeout_s: float | None = None, then_canary: bool = False,
        deadline: Deadline | None = None,
    ) -> Any:
        """Call ``fn()`` with ``payload`` waiting in the transport buffer as a reply.

        The bootstrap's ``run`` reads its input this way: one write into shared memory
        instead of a synchronous V8 round trip per argument.
        """
        self._check_usable()
        self._send(payload.encode("utf-16-le", "surrogatepass"))
        return self._call(fn, (), timeout_s, then_canary, deadline)

    def wait_idle(self, timeout_s: float) -> None:
        """Return once the isolate has run everything queued before now, including the
        microtasks left by the last call: a canary eval queued behind that call
        (``then_canary``), or a new one. ``ScriptTimeout`` when it has not run within
        ``timeout_s`` — a promise chain or microtask loop still running — and the canary is
        then cancelled.

        Queued together with the call, the canary is usually done by the time the caller
        has read the call's result: one wake-up of the waiting thread per run instead of
        two (a tenth less CPU per job in a busy worker).
        """
        self._check_usable()
        task, self._canary = self._canary, None
        if task is None:
            task = self._post_canary()
        # A canary that did not run means a microtask loop holds the isolate: cancelling
        # a queued eval cannot stop it, so its result is not waited for (the caller
        # discards the context, which ends the loop).
        self._to_python(self._wait(task, timeout_s, cancel_wait_s=0.0))

    def _post_canary(self) -> _Task:
        code = self._code(CANARY_SOURCE)
        return self._post(lambda cid: self._dll.mr_eval(self._ctx._ctx, code.raw, cid))

    def terminate(self) -> bool:
        """Terminate the running :meth:`call` (thread-safe); False when none is running."""
        task = self._running
        if task is None or task.done:
            return False
        task.reason = "terminated"
        self._dll.mr_cancel_task(self._ctx._ctx, task.task_id)
        return True

    def _arguments(self, args: tuple[Any, ...]) -> Any:
        """The reused argument array, holding ``args`` (one synchronous set per item)."""
        ctx = self._ctx
        if not args and self._no_args is not None:
            return ctx._python_to_value_handle(self._no_args)
        if self._argv is None:
            code = ctx._python_to_value_handle("[]")
            start = lambda cid: self._dll.mr_eval(ctx._ctx, code.raw, cid)  # noqa: E731
            self._argv = self._run_task(start, None)
        for key, value in enumerate(args):
            self._set_item(key, value)
        self._set_item("length", len(args))
        if not args:
            self._no_args, self._argv = self._argv, None
            return ctx._python_to_value_handle(self._no_args)
        return ctx._python_to_value_handle(self._argv)

    def _set_item(self, key: Any, value: Any) -> None:
        ctx = self._ctx
        argv = ctx._python_to_value_handle(self._argv)
        k, v = ctx._python_to_value_handle(key), ctx._python_to_value_handle(value)
        raw = self._dll.mr_set_object_item(ctx._ctx, argv.raw, k.raw, v.raw)
        ctx._value_handle_to_python(ctx._wrap_raw_handle(raw))

    def _run_task(
        self, start: Callable[[int], int], timeout_s: float | None, *, then_canary: bool = False,
        deadline: Deadline | None = None,
    ) -> Any:
        """Start a mini-racer task and wait for its result on this thread.

        mini-racer's own path hops through its asyncio loop twice per task (~0.3 ms); here
        the result callback, which runs on the isolate thread, hands the value handle over
        and releases the task's lock. A timeout or :meth:`terminate` cancels the task, which
        makes V8 terminate the execution; the terminated result still arrives and is
        discarded.
        """
        task = self._post(start)
        # A canary queued earlier ran before this task: it proves nothing about it.
        self._canary = self._post_canary() if then_canary else None
        return self._to_python(self._wait(task, timeout_s, deadline=deadline))

    def _post(self, start: Callable[[int], int]) -> _Task:
        task = _Task(next(self._ctx._next_async_callback_id))
        self._tasks[task.callback_id] = task
        task.task_id = start(task.callback_id)
        return task

    def _wait(
        self, task: _Task, timeout_s: float | None, *, cancel_wait_s: float = _CANCEL_WAIT_S,
        deadline: Deadline | None = None,
    ) -> Any:
        """``task``'s value handle; cancels it after ``timeout_s`` or once ``deadline()``
        has passed (``ScriptTimeout``), or when :meth:`terminate` was called meanwhile
        (``ScriptTerminated``)."""
        self._running = task
        try:
            if deadline is None:  # (one call fewer for a run: _arrives's first case)
                arrived = task.arrived.acquire(timeout=-1 if timeout_s is None else timeout_s)
            else:
                arrived = _arrives(task, timeout_s, deadline)
            if not arrived:
                task.reason = task.reason or "timeout"
                self._dll.mr_cancel_task(self._ctx._ctx, task.task_id)
                if not task.arrived.acquire(timeout=cancel_wait_s):
                    self._wedged = True
        finally:
            self._running = None
            self._tasks.pop(task.callback_id, None)
        if task.reason == "timeout":
            raise ScriptTimeout("JavaScript was terminated by timeout")
        if task.reason == "terminated":
            raise ScriptTerminated("JavaScript was terminated from outside")
        return task.handle

    def heap_limit_reached(self) -> bool:
        return bool(self._ctx.was_hard_memory_limit_reached())

    def heap_used_bytes(self) -> int:
        """V8's ``used_heap_size`` now (~0.4 ms: a task on the isolate thread; only call
        it while the isolate is idle)."""
        return int(json.loads(self._ctx.heap_stats())["used_heap_size"])

    def set_retained_limit(self, limit_bytes: int) -> None:
        """After each GC, V8 compares the heap in use with ``limit_bytes``
        (:meth:`retained_over_limit` reads the verdict of the last GC, ~2 µs)."""
        self._ctx.set_soft_memory_limit(limit_bytes)

    def retained_over_limit(self) -> bool:
        """Whether the heap in use after the last GC exceeded :meth:`set_retained_limit`."""
        return bool(self._ctx.was_soft_memory_limit_reached())

    def _check_usable(self) -> None:
        # Only the isolate's own thread, inside a host call, would deadlock; any other
        # thread may queue work behind the call (it runs when the call returns).
        if self._callback_thread == threading.get_ident():
            raise ReentrancyError("a host handler cannot evaluate JS in the calling isolate")
        if self._closed:
            raise BridgeError("the bridge is closed")

    def _to_python(self, handle: Any) -> Any:
        """A task's result as Python; mini-racer's errors become this module's."""
        try:
            return self._ctx._value_handle_to_python(handle)
        except JSTimeoutException as e:
            raise ScriptTimeout(str(e)) from None
        except JSOOMException as e:
            raise ScriptMemoryLimit(str(e)) from None
        except JSTerminatedException as e:
            raise ScriptTerminated(str(e)) from None
        except JSEvalException as e:
            if self.heap_limit_reached():
                raise ScriptMemoryLimit(str(e)) from None
            raise ScriptEvalError(str(e)) from None

    # ---- the callback (runs on the isolate thread) --------------------------------
    def _on_callback(self, callback_id: int, raw: Any) -> None:
        task = self._tasks.pop(callback_id, None)  # (a dropped canary leaves nothing behind)
        if task is not None:  # a task's result: hand it to the waiting thread
            task.handle = self._ctx._wrap_raw_handle(raw)
            task.done = True
            task.arrived.release()
            return
        if callback_id != self._callback_id:
            # RuntimeError: the shared loop is gone at interpreter exit.
            with contextlib.suppress(RuntimeError):
                self._original(callback_id, raw)
            return
        # Any exception escaping here would be swallowed by ctypes and JS would read a
        # stale buffer: everything is caught.
        self._callback_thread = threading.get_ident()
        try:
            self._dll.mr_free_value(self._ctx._ctx, raw)
            if self._pinned is None and self._pin:
                self._pinned = _pythonapi.PyGILState_Ensure()
            if self._buf is not None:  # before attach(), only the bootstrap's pin arrives
                self._serve()
        except BaseException:
            log.exception("sysjobs bridge: transport failure")
            with contextlib.suppress(BaseException):
                self._write_reply(b'{\x00}\x00', 0)
        finally:
            self._callback_thread = None

    def _serve(self) -> None:
        buf = self._buf
        if buf is None or self._dispatch is None:  # closed meanwhile: nothing to answer
            return
        kind, units, total = _HEADER.unpack_from(buf, 0)
        if kind == KIND_END:
            self._unpin()
        elif kind == KIND_PIN:
            pass  # pinned above
        elif kind == KIND_PART:
            if self._refuse is not None and total > MAX_REQUEST_UNITS:
                self._oversized, self._request = True, bytearray()  # nothing of it is kept
            elif not self._oversized:
                self._request += buf[HEADER_BYTES : HEADER_BYTES + 2 * units]
        elif kind == KIND_CALL:
            refuse = self._refuse
            if refuse is not None and (self._oversized or total > MAX_REQUEST_UNITS):
                self._oversized, self._request = False, bytearray()
                self._send(refuse(total))
                return
            request: bytes | memoryview = buf[HEADER_BYTES : HEADER_BYTES + 2 * units]
            if self._request:  # the last chunk of a long request
                self._request += request
                request, self._request = bytes(self._request), bytearray()
            self._send(self._dispatch(request))
        elif kind == KIND_MORE:
            self._send(self._reply_rest)

    def _send(self, reply: bytes) -> None:
        limit = 2 * self._capacity
        if len(reply) <= limit:
            self._reply_rest = b""
            self._write_reply(reply, REPLY_DONE)
            return
        self._reply_rest = reply[limit:]
        self._write_reply(reply[:limit], REPLY_PART)

    def _write_reply(self, chunk: bytes, kind: int) -> None:
        buf = self._buf
        if buf is None:  # the bridge was closed while the call ran: nobody reads a reply
            return
        _HEADER.pack_into(buf, 0, kind, len(chunk) // 2, 0)
        buf[HEADER_BYTES : HEADER_BYTES + len(chunk)] = chunk

    def _unpin(self) -> None:
        if self._pinned is not None:
            state, self._pinned = self._pinned, None
            _pythonapi.PyGILState_Release(state)

    # ---- teardown -----------------------------------------------------------------
    def close(self) -> None:
        """Free the context. Releases the pinned thread state first when still held.

        Not when the isolate is wedged (a microtask loop left running past the run's
        deadline): the release is a call queued behind that loop, which runs only when
        the loop ends — and only freeing the context ends it (mini-racer terminates the
        execution, then disposes of the isolate and joins its thread). Nothing cancelled
        by a task stops it: the loop runs between tasks. Waiting for the release would
        only burn a core; the thread state (a few KB) dies with the process.
        """
        if self._closed:
            return
        if self._pinned is not None and self._unpin_fn is not None and not self._wedged:
            try:
                self._mr_call_quietly(self._unpin_fn)
            except Exception:
                # Only after a limit event; the thread state (a few KB) dies with the process.
                log.debug("sysjobs bridge: could not release a pinned thread state")
        self._closed = True
        self._buf = None
        self._unpin_fn = None
        self._sources.clear()
        self._canary = None  # (its result, if it still comes, is dropped by the callback)
        self._undefined = self._argv = self._no_args = None  # their values die with the context
        self._cm.__exit__(None, None, None)

    def _mr_call_quietly(self, fn: Any) -> None:
        self.call(fn, timeout_s=0.5)


def _arrives(task: _Task, timeout_s: float | None, deadline: Deadline | None) -> bool:
    """Wait for ``task``'s result until ``timeout_s`` — or ``deadline()``, read again each
    time the wait reaches it (it may have moved on meanwhile). False when time ran out."""
    if deadline is None:
        return task.arrived.acquire(timeout=-1 if timeout_s is None else timeout_s)
    while True:
        left = deadline() - time.monotonic()
        if left <= 0:
            return task.arrived.acquire(blocking=False)
        if task.arrived.acquire(timeout=left):
            return True


def configure_v8(*, max_old_space_mb: int | None = None) -> bool:
    """Set process-wide V8 flags; only effective before the first context of the process.

    A cap on the old space makes a runaway single allocation hit V8's (fatal) limit
    quickly instead of thrashing the GC up to ~1.6 GB; used in child processes, where
    that fatal error is an outcome, not a host crash. Returns False when V8 was already
    initialised with other flags.
    """
    from py_mini_racer._dll import DEFAULT_V8_FLAGS, init_mini_racer
    from py_mini_racer._exc import MiniRacerBaseException

    flags = list(DEFAULT_V8_FLAGS)
    if max_old_space_mb:
        flags.append(f"--max-old-space-size={max_old_space_mb}")
    try:
        init_mini_racer(flags=flags)
    except MiniRacerBaseException:
        return False
    return True


def raw_callback_seconds(calls: int, *, pin_thread_state: bool) -> float:
    """Seconds for ``calls`` JS→Python calls of a bare synchronous callback (no transport).

    The floor the bridge is measured against in ``bench/``: the handler only frees the
    argument handle, as every synchronous call must.
    """
    bridge = Bridge(pin_thread_state=pin_thread_state)
    ctx = bridge._ctx
    state: dict[str, int | None] = {"pinned": None}

    def handler(callback_id: int, raw: Any) -> None:
        if callback_id != bridge._callback_id:  # task results and the library's own ids
            bridge._on_callback(callback_id, raw)
            return
        ctx._free(raw)
        if pin_thread_state and state["pinned"] is None:
            state["pinned"] = _pythonapi.PyGILState_Ensure()

    object.__setattr__(ctx, "handle_callback_from_v8", handler)
    try:
        loop = bridge.eval(
            "(function (cb, n) { const t = Date.now(); for (let i = 0; i < n; i++) cb(); "
            "cb.done = true; return Date.now() - t; })"
        )
        started = time.perf_counter()
        bridge.call(loop, bridge.js_callback(), calls)
        elapsed = time.perf_counter() - started
        if state["pinned"] is not None:
            unpin = bridge.eval("(function (cb) { cb(); })")
            state_value = state["pinned"]
            state["pinned"] = None

            def release(callback_id: int, raw: Any) -> None:
                if callback_id != bridge._callback_id:
                    bridge._on_callback(callback_id, raw)
                    return
                ctx._free(raw)
                _pythonapi.PyGILState_Release(state_value)

            object.__setattr__(ctx, "handle_callback_from_v8", release)
            bridge.call(unpin, bridge.js_callback())
        return elapsed
    finally:
        bridge.close()


def context_count() -> int:
    """How many V8 contexts are alive in this process (for leak checks in tests)."""
    from py_mini_racer._context import context_count as _count

    return int(_count())
