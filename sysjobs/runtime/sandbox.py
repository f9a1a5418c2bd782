"""Run JS source strings in clean, hardened V8 contexts with the ``sys`` global.

Every script starts in a clean context: scripts of different users and jobs never share
globals or see what another put into the realm. A context costs a few milliseconds to
build and bootstrap (mini-racer has no snapshots) but a script in it costs microseconds,
so contexts are *recycled*: a context whose session ended goes back to a LIFO stack that
:meth:`Sandbox.take` serves first, and the next run on it starts, in the same V8 call, with
the bootstrap's ``reset()``: it deletes the globals earlier scripts declared and compares
the whole realm with the record taken after bootstrapping (see ``bootstrap.js``). Only a
context proven identical runs the script; anything else — a polluted prototype, a global
that cannot be deleted — is closed and the script runs in another. A limit event closes
the context at once. Behind the
stack, a small warm pool builds fresh contexts ahead. One job's many units of work (an
action over thousands of records) share one context through a :class:`Session`.

The recycling rules (each answers an attack; the README's security model lists them):

* a context is reused only within one *trust domain* (the ``domain`` a session names: an
  app, or narrower — a user), never across;
* only when its last run was proven idle (the canary ran behind it: no promise chain,
  microtask loop or host call left), no host call ever arrived outside a run, and no
  limit was hit;
* only while the heap it retains after a GC stays within ``max_retained_bytes`` of a fresh
  context's, and within a quarter of the heap limit — state hidden where the proof cannot
  look (private fields stamped onto intrinsics) is bounded by that, and so is the garbage
  the next run inherits (V8's hard limit counts it until a GC takes it);
* only while the process's data size (``RLIMIT_DATA``'s measure) grew by at most
  ``max_grown_bytes`` in all over the context's runs (net of what they freed): ArrayBuffers
  live outside V8's heap, so 128 MiB of them stashed in a private field passed the heap
  check and piled up run after run. Concurrent runs in other threads count too — a
  context is then discarded early, never kept wrongly. Building a context grows it too
  (~11 MiB): builds wait for a moment when no run is measured (``buildgate.py``), and
  one that cannot wait long is counted by the runs it overlaps;
* and only when the proof of cleanliness, run in the same call as the next script,
  finds the realm as the bootstrap left it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sysjobs.runtime import dispatch
from sysjobs.runtime.buildgate import BuildGate
from sysjobs.runtime.isolate import DEFAULT_MAX_GROWN_BYTES, DataMeter, Isolate, build_bootstrap
from sysjobs.runtime.namespace import Namespace
from sysjobs.runtime.result import Limits, RunResult
from sysjobs.runtime.session import Session


class Sandbox:
    """Runs scripts with the given ``sys`` namespaces under :class:`Limits`.

    ``max_recycled`` caps the contexts kept for reuse. The stack only grows to the number
    of scripts that ran at once (a worker's slots), ~2.5 MB each; a cap below that number
    throws contexts away and builds new ones (4 ms each) all the time.
    """

    def __init__(
        self,
        namespaces: Sequence[Namespace],
        limits: Limits | None = None,
        *,
        pool_size: int = 2,
        pin_thread_state: bool = True,
        recycle: bool = True,
        max_runs_per_isolate: int = 1000,
        max_recycled: int = 64,
        max_retained_bytes: int = 16 * 1024 * 1024,
        max_grown_bytes: int = DEFAULT_MAX_GROWN_BYTES,
    ) -> None:
        self.limits = limits or Limits()
        self._pin = pin_thread_state
        self.namespaces = tuple(namespaces)
        self._source = build_bootstrap(self.namespaces)
        self._table = dispatch.operation_table(self.namespaces)
        self._pool: queue.Queue[Isolate] = queue.Queue(maxsize=max(pool_size, 1))
        self._pool_size = pool_size
        self._refill = threading.Event()
        self._closed = False
        self._filler: threading.Thread | None = None
        self._active: dict[str, Session] = {}
        self._recycle = recycle
        self._max_runs = max_runs_per_isolate
        #: Idle contexts for reuse, oldest first, each with the trust domain it served.
        self._recycled: list[Isolate] = []
        self._recycled_lock = threading.Lock()
        self._max_recycled = max_recycled
        self._max_retained = max_retained_bytes
        self._max_grown = max_grown_bytes
        #: Reads the process's data size around each run (see the recycling rules).
        self.data_meter = DataMeter()
        #: Keeps the building of contexts out of the runs' data-growth windows.
        self.build_gate = BuildGate()
        self._retained_limit: int | None = None  # a fresh context's heap + max_retained
        #: What happened to isolates so far: built, reused, and closed after a failed reset.
        self.counts = {"built": 0, "reused": 0, "rejected": 0}

    # ---- pool ---------------------------------------------------------------------
    def _new_isolate(self) -> Isolate:
        with self.build_gate.building():
            iso = Isolate(self._source, self._table, self.limits, pin=self._pin)
        if self._retained_limit is None:  # a fresh context's heap, measured once
            # V8's hard limit counts garbage a GC has not yet taken: a context reused with
            # the last run's garbage would end the next run with ``memoryLimit`` though that
            # run stayed within its limit. Past a quarter of the limit at the last GC the
            # context is not reused, so the next run has at least three quarters of it.
            allowance = min(self._max_retained, self.limits.heap_bytes // 4)
            self._retained_limit = iso.bridge.heap_used_bytes() + allowance
        iso.bridge.set_retained_limit(self._retained_limit)
        iso.max_grown_bytes = self._max_grown
        self.counts["built"] += 1
        return iso

    def take(self, domain: str = "") -> Isolate:
        """A clean isolate for ``domain``: one recycled within that trust domain, else
        from the warm pool, else a new one."""
        with self._recycled_lock:
            for i in range(len(self._recycled) - 1, -1, -1):
                if self._recycled[i].domain == domain:
                    self.counts["reused"] += 1
                    return self._recycled.pop(i)
        return self._take()

    def give_back(self, iso: Isolate) -> None:
        """A session is done with ``iso``: keep it for another script of its trust domain,
        or close it (see the recycling rules above).

        It is proven clean (or closed) by the next run, in the same call as that script.
        """
        keep = self._recycle and not self._closed and iso.runs < self._max_runs
        if keep and iso.reusable():
            with self._recycled_lock:
                if not self._closed:
                    iso.dirty = True
                    self._recycled.append(iso)
                    evicted = self._recycled[: -self._max_recycled]
                    del self._recycled[: -self._max_recycled]
                    for old in evicted:
                        old.close()
                    return
        elif keep:
            self.counts["rejected"] += 1
        iso.close()

    def reject(self, iso: Isolate) -> None:
        """``iso`` failed its proof of cleanliness: it never runs another script."""
        self.counts["rejected"] += 1
        iso.close()

    def _take(self) -> Isolate:
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
    def session(
        self,
        *,
        job_id: str | None = None,
        user: dict[str, Any] | None = None,
        log_sink: Callable[[str], None] | None = None,
        extras: dict[str, Any] | None = None,
        run_id: str | None = None,
        job_log: Callable[[str, str], None] | None = None,
        domain: str = "",
    ) -> Session:
        """Several runs in one isolate — for one job's many units of work (records).

        Runs of a session share globals, so use one only within one job and one script.
        ``run_id`` names the session for :meth:`terminate` (a job id, typically).
        ``domain`` is the trust domain: a context is only ever reused by sessions of the
        same domain (an app, or a user of an app).
        """
        return Session(self, job_id=job_id, user=user, log_sink=log_sink, extras=extras,
                       run_id=run_id, job_log=job_log, domain=domain)  # fmt: skip

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
        job_log: Callable[[str, str], None] | None = None,
        domain: str = "",
        name: str | None = None,
    ) -> RunResult:
        """Run ``source`` once in a clean isolate; never raises for anything the script does.
        ``name`` names the script in its stack frames (a file name, a job's label)."""
        session = Session(self, job_id=job_id, user=user, log_sink=log_sink, extras=extras,
                          run_id=run_id, job_log=job_log, domain=domain)  # fmt: skip
        try:
            return session.run(source, timeout_s=timeout_s, globals=globals, name=name)
        finally:
            session.close()

    def terminate(self, run_id: str) -> bool:
        """Terminate the V8 execution of the run named ``run_id`` (from any thread)."""
        session = self._active.get(run_id)
        return session is not None and session.terminate()

    def close(self) -> None:
        """Discard the warm pool and the recycled isolates."""
        self._closed = True
        with self._recycled_lock:
            recycled, self._recycled = self._recycled, []
        for iso in recycled:
            iso.close()
        self._refill.set()
        if self._filler is not None:
            self._filler.join(timeout=5)
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break
        self.data_meter.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

