"""Group commit of job ends: the jobs of one pool that finish together share a transaction.

Each finishing job thread hands its :class:`~sysjobs.jobs.FinishRequest` to the pool's
:class:`GroupFinisher` and waits until it is written — nothing is acknowledged before it
is durable. If no write is under way the thread writes at once, alone (no added latency
when the pool is quiet); if one is, it waits, and the first waiter to find the writer gone
writes everything that queued up meanwhile in one transaction (Leases.finish_many: one
read, one UPDATE per shape, one events insert, one claim for all the freed slots). Under
load a pool of N slots thus writes about N job ends per transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from sysjobs.jobs import Claimed, FinishRequest, Job

Ended = tuple[Job | None, list[Claimed]]


class _Waiting:
    """One thread's end, and the lock it sleeps on until it is written or must write."""

    __slots__ = ("done", "error", "request", "result", "wake")

    def __init__(self, request: FinishRequest) -> None:
        self.request = request
        self.done = False
        self.result: Ended | None = None
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        self.wake.acquire()  # released once: written (done) or promoted to write


class GroupFinisher:
    """Writes the ends handed to :meth:`finish`, batching those that arrive together.

    Each waiting thread sleeps on its own lock and is woken once: when its end is written,
    or when it is first in line after a write and writes the next batch. (A shared
    condition woke every waiting thread at each commit, and all but one went back to
    sleep.)
    """

    def __init__(self, write: Callable[[Sequence[FinishRequest]], list[Ended]]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False

    def finish(self, request: FinishRequest) -> Ended:
        """Write ``request`` (with whatever else is queued); its result once committed.

        A failed transaction raises its error in every thread whose end it carried; each
        retries on its own (see ``execution._finish``).
        """
        mine = _Waiting(request)
        with self._lock:
            self._queue.append(mine)
            leads = not self._writing
            if leads:
                self._writing = True
                batch, self._queue = self._queue, []
        if not leads:
            mine.wake.acquire()
            if not mine.done:  # first in line after a write: this thread writes next
                with self._lock:
                    batch, self._queue = self._queue, []
        if not mine.done:
            self._write_batch(batch)
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    def _write_batch(self, batch: list[_Waiting]) -> None:
        try:
            results = self._write([w.request for w in batch])
            for waiting, result in zip(batch, results, strict=True):
                waiting.result = result
        except BaseException as exc:
            for waiting in batch:
                waiting.error = exc
        finally:
            with self._lock:
                for waiting in batch:
                    waiting.done = True
                following = self._queue[0] if self._queue else None
                self._writing = following is not None
            for waiting in batch:  # (the writer's own lock too: held, so releasing is harmless)
                waiting.wake.release()
            if following is not None:
                following.wake.release()
