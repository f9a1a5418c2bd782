"""A bootstrapped V8 context: the bridge, the bootstrap's ``run`` function, the dispatch.

The bootstrap source is built once per sandbox from its namespaces; each isolate evaluates
it and calls it with the synchronous callback, getting back the transport buffer, the
``run()`` function (which proves a recycled context clean before the script it is for)
and the unpin signal (which releases the pinned thread state when the bridge closes).

An isolate also keeps what the recycling rules need to know about it (see
:meth:`Isolate.reusable`): whether a run is being served, whether the last run was proven
idle (its canary ran), whether a host call ever arrived outside a run (then it is never
reused: code of an ended run is still alive in it), and which trust domain's scripts ran
in it.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import threading
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, Final

from sysjobs.runtime import dispatch
from sysjobs.runtime.bridge import MAX_REQUEST_UNITS, Bridge, Deadline
from sysjobs.runtime.namespace import CallContext, Namespace
from sysjobs.runtime.result import Limits

#: The reply to a host call that arrives when no run is being served: the code making it
#: belongs to a run that has ended, so it gets nothing (and its context is discarded).
_REFUSED = json.dumps(
    {"err": {"code": "terminated", "message": "The run this call belongs to has ended.",
             "info": None}}
).encode("utf-16-le")

def _too_large(units: int) -> bytes:
    """The reply to a host call whose arguments are past the bridge's bound (not kept)."""
    message = (f"The call's arguments are {units} UTF-16 units of JSON, more than a call may "
               f"send ({MAX_REQUEST_UNITS}). Allowed values: smaller arguments (send large "
               "data in parts)")  # fmt: skip
    reply = {"err": {"code": "badRequest", "message": message, "info": None}}
    return json.dumps(reply).encode("utf-16-le")


#: Starts an item's report (the bootstrap's ``run`` over ``each``): ``MARK index MARK
#: envelope``. No host call can start with it: every request a script can make is a JSON
#: object the bootstrap serialised (``{"op": …}``), and only the bootstrap sends reports.
REPORT_MARK = "\x01"
_GO_ON = "1".encode("utf-16-le")
_STOP = "0".encode("utf-16-le")
#: Receives an item's report (index, that item's JSON envelope); False stops the items.
Reporter = Callable[[int, str], bool]

#: What the bootstrap's own stack frames are named; a script's stack leaves them out.
BOOTSTRAP_URL = "sysjobs:bootstrap"
#: A script's name when its runner gives none, and the longest name kept.
DEFAULT_SCRIPT_URL = "script"
MAX_SCRIPT_URL = 200

_BOOTSTRAP_JS = resources.files("sysjobs.runtime").joinpath("bootstrap.js").read_text("utf-8")


def build_bootstrap(namespaces: Sequence[Namespace]) -> str:
    """The source whose evaluation yields ``function (cb, bytes) → [sab, run, end]``."""
    specs = ",".join(
        f"{{name:{json.dumps(ns.name)},globalName:{json.dumps(ns.global_name)},"
        f"prelude:({ns.prelude.strip()})}}"
        for ns in namespaces
    )
    return (
        f"(function(){{const boot=\n{_BOOTSTRAP_JS}\n;"
        f"return function(cb,bytes){{return boot(cb,bytes,[{specs}]);}};}})()"
        f"\n//# sourceURL={BOOTSTRAP_URL}"
    )


def script_url(name: str | None) -> str:
    """``name`` as a script's ``sourceURL`` (what its stack frames are named by).

    The name is often user-given (a job's label), and it ends the script's source as a
    comment, so it is one token V8 accepts: whitespace, line breaks, quotes, control and
    unpaired surrogate characters become ``_``, ``*/`` cannot appear, nor the bootstrap's
    name (whose frames a stack leaves out), and it is at most
    :data:`MAX_SCRIPT_URL` characters. An empty name is :data:`DEFAULT_SCRIPT_URL`.

    Every run asks this of its job's name, and a worker's jobs share a few names (the
    label, the action): the answer is remembered for the name's first
    :data:`MAX_SCRIPT_URL` characters (all it depends on), for the last few hundred names.
    """
    return _sanitised_url((name or "")[:MAX_SCRIPT_URL])


@functools.lru_cache(maxsize=512)
def _sanitised_url(prefix: str) -> str:
    text = "".join(ch if _url_char(ch) else "_" for ch in prefix)
    text = text.replace("*/", "*_").replace(BOOTSTRAP_URL, "sysjobs_bootstrap")
    return text or DEFAULT_SCRIPT_URL


def _url_char(ch: str) -> bool:
    return ch.isprintable() and not ch.isspace() and ch not in "\"'"


#: Default :attr:`Isolate.max_grown_bytes` (``Sandbox(max_grown_bytes=…)``).
DEFAULT_MAX_GROWN_BYTES = 64 * 1024 * 1024
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM_BYTES = 256


def _gil_held_pread() -> Any:
    """libc's ``pread`` called with the GIL kept (``PyDLL``), or None where there is none."""
    try:
        fn = ctypes.PyDLL(None, use_errno=True).pread
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
    fn.restype = ctypes.c_ssize_t
    return fn


#: Called from :class:`DataMeter` (set once at import, never changed).
_GIL_HELD_PREAD: Final[Any] = _gil_held_pread()


class DataMeter:
    """The process's data size — what ``RLIMIT_DATA`` bounds — read from ``/proc/self/statm``
    through a descriptor kept open (~2 µs a read; opening the file each time cost ~30 µs,
    a third of a recycled run). Reads 0 where there is no such file (growth is then never
    seen).

    Every run reads it twice, from every slot's thread at once in a busy worker, so the
    read keeps the GIL: ``os.pread`` lets it go around the system call, and each release
    there was a hand-off to another thread and a wait to get it back — for a read of ~1 µs
    (measured: 4.6 voluntary context switches a JavaScript no-op run with ``os.pread``,
    2.5 without, fa76a45's count; 10.9 and 7.9 on 32 threads). Reading statm never
    sleeps (counters, no lock the reader could wait on), so libc's ``pread`` is called
    through ``PyDLL``, which keeps the GIL. Holding the GIL also serialises the reads of
    the one descriptor (whose kernel side has a mutex of its own), and each thread reads
    into its own buffer, so a read is never another's.
    """

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self._fd = None
        self._buffers = threading.local()

    def read(self) -> int:
        """Data bytes now."""
        fd = self._fd
        if fd is None:
            return 0
        try:
            if _GIL_HELD_PREAD is None:
                statm = os.pread(fd, _STATM_BYTES, 0)
            else:
                buf = getattr(self._buffers, "buf", None)
                if buf is None:
                    buf = self._buffers.buf = ctypes.create_string_buffer(_STATM_BYTES)
                n = _GIL_HELD_PREAD(fd, buf, _STATM_BYTES, 0)
                if n < 0:
                    return 0
                statm = buf.raw[:n]
            return int(statm.split()[5]) * _PAGE_BYTES
        except (OSError, IndexError, ValueError):
            return 0

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class Isolate:
    """A bootstrapped context: runs, each first proving the context clean when recycled."""

    def __init__(
        self, source: str, table: dict[str, Any], limits: Limits, *, pin: bool = True
    ) -> None:
        self.ctx = CallContext(deadline=0.0)
        #: Runs done in this context so far (by every session it served).
        self.runs = 0
        #: Whether another session's scripts ran here since it was last proven clean.
        self.dirty = False
        #: The trust domain whose scripts ran here (None: none ran yet).
        self.domain: str | None = None
        #: A run is being served: from the call that starts it until its canary has run.
        self.serving = False
        #: The last run's canary ran: no microtask, promise chain or host call is left.
        self.proven_idle = True
        #: A host call arrived while no run was served: code of an ended run is alive here.
        self.refused = False
        #: Data bytes the process gained while runs were served here (net, never below 0):
        #: ArrayBuffers live outside V8's heap, where the retained-heap check cannot see.
        self.grown_bytes = 0
        #: Past this many ``grown_bytes`` the context is not reused (the sandbox sets it).
        self.max_grown_bytes = DEFAULT_MAX_GROWN_BYTES
        #: Receives the items' reports of a run over many items (None: reports stop them).
        self.reporter: Reporter | None = None
        self.bridge = Bridge(heap_limit_bytes=limits.heap_bytes, pin_thread_state=pin)
        try:
            factory = self.bridge.eval(source)
            parts = self.bridge.call(factory, self.bridge.js_callback(), limits.buffer_bytes)
            buffer, self.run_fn, unpin_fn = parts[0], parts[1], parts[2]
            self.bridge.attach(buffer, self._serve(table), unpin_fn, _too_large)
        except BaseException:
            self.bridge.close()
            raise

    def _serve(self, table: dict[str, Any]) -> Callable[[bytes | memoryview], bytes]:
        def serve(request: bytes | memoryview) -> bytes:
            if not self.serving:
                self.refused = True
                return _REFUSED
            text = str(request, "utf-16-le", "surrogatepass")
            if text[:1] == REPORT_MARK:
                return _GO_ON if self._report(text) else _STOP
            reply = dispatch.handle(table, self.ctx, text)
            return reply.encode("utf-16-le", "surrogatepass")

        return serve

    def _report(self, text: str) -> bool:
        index, _, envelope = text[1:].partition(REPORT_MARK)
        reporter = self.reporter
        return reporter is not None and reporter(int(index), envelope)

    def run_envelope(
        self, source: str, globals: dict[str, Any], timeout_s: float, name: str | None = None,
        *, each: list[dict[str, Any]] | None = None, deadline: Deadline | None = None,
    ) -> Any:
        """Call the bootstrap's ``run`` for ``source``; its JSON envelope (or a bridge error).

        On a context another session used (``dirty``), ``run`` first proves it clean
        (the bootstrap's ``reset``): the envelope is then ``{"dirty": true}`` when it is
        not, and the script did not run. From this call on the isolate serves host calls
        for this run, until the caller sets :attr:`serving` back (after the canary).

        With ``each`` the script runs once per item, in this one call: the item's globals
        over ``globals``, each item's outcome reported to :attr:`reporter` before the next
        one starts (which answers whether to go on). ``deadline`` then replaces
        ``timeout_s``: the current item's, moved on by the reporter.
        """
        input_: dict[str, Any] = {"source": source, "globals": globals, "reset": self.dirty,
                                  "name": script_url(name)}  # fmt: skip
        if each is not None:
            input_["each"] = each
        payload = json.dumps(input_)
        self.dirty = False
        # Served from here until the caller has seen the canary run (then it clears this).
        self.serving, self.proven_idle = True, False
        return self.bridge.call_with_input(
            self.run_fn, payload, timeout_s=timeout_s, then_canary=True, deadline=deadline
        )

    def count_growth(self, before: int, after: int) -> None:
        """Add one run's change of the process's data size (:class:`DataMeter`)."""
        self.grown_bytes = max(0, self.grown_bytes + after - before)

    def reusable(self) -> bool:
        """Whether another run may use this context (of the same trust domain).

        Only when the last run was proven idle, no call ever arrived outside a run, no
        limit was hit, the heap in use after the last GC stayed under the retained
        limit, and the process's data grew by at most ``max_grown_bytes`` over this
        context's runs: whatever a script hid where the proof cannot look (a private field
        on an intrinsic holds memory, never a readable value) is bounded by those limits —
        the heap by the first, ArrayBuffers (outside V8's heap) by the second.
        """
        bridge = self.bridge
        return (
            self.proven_idle and not self.serving and not self.refused
            and self.grown_bytes <= self.max_grown_bytes
            and not bridge.heap_limit_reached() and not bridge.retained_over_limit()
        )  # fmt: skip

    def close(self) -> None:
        self.bridge.close()
