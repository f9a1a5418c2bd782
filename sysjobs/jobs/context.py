"""What a running handler sees: its job, fenced writes, and the cooperative stop signal.

Every write goes through the lease (owner + attempt): once the worker has lost the job — the
reaper took it back, a forced stop ended it — writes are refused and :class:`LeaseLost` is
raised so the handler unwinds instead of working on for nobody.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Protocol

from sysjobs.errors import SystemException
from sysjobs.jobs.lease import Lease, check_progress
from sysjobs.jobs.models import Job
from sysjobs.jobs.scripts import ScriptRunner

#: How often ``should_stop`` re-reads the job's status when no signal arrived (seconds).
STOP_POLL_S = 0.1
#: Progress is written at once at most this often (seconds); the heartbeat writes the rest.
PROGRESS_EVERY_S = 0.5
#: Held log lines (:meth:`JobContext.hold_logs`) are written early past this many lines…
HELD_LINES = 1000
#: … or this many characters of messages (memory stays bounded whatever a chunk logs).
HELD_CHARS = 1 << 20


class LeaseWrites(Protocol):
    """The fenced verbs a running job writes through (``sysjobs.jobs.leases.Leases``)."""

    def log(self, lease: Lease, level: str, message: str, info: Any = None) -> bool: ...

    def entry(
        self, lease: Lease, level: str, message: str, info: Any = None
    ) -> dict[str, Any] | None: ...

    def write_chunk(
        self, lease: Lease, entries: Sequence[dict[str, Any]], values: Mapping[str, Any]
    ) -> bool: ...

    def set_progress(self, lease: Lease, pct: int | float) -> bool: ...

    def lease_status(self, lease: Lease) -> tuple[str, int | None] | None: ...

    def save_checkpoint(self, lease: Lease, checkpoint: dict[str, Any]) -> bool: ...

    def set_results(self, lease: Lease, results: Any, *, type_name: str | None = None) -> bool: ...

    def checked_results(
        self, lease: Lease, results: Any, *, type_name: str | None = None
    ) -> dict[str, Any] | None: ...

    @property
    def max_result_bytes(self) -> int:
        """Bytes of JSON a job's results may take (the engine's ``caps``)."""
        ...


class JobsAccess(Protocol):
    """What a running job uses of its engine: the fenced writes and ``enqueue`` (for its
    children). Described here, not imported: the engine depends on this module, never the
    other way round."""

    @property
    def leases(self) -> LeaseWrites: ...

    def enqueue(
        self,
        type: str,
        data: Mapping[str, Any],
        *,
        label: str | None = None,
        run_by: Mapping[str, Any] | None = None,
        low_priority: bool = False,
        queue: str | None = None,
        parent_id: str | None = None,
    ) -> Job: ...


class LeaseLost(SystemException):
    """This job's lease was lost; its writes are refused."""


class Flag:
    """A signal one thread raises and others read: ``threading.Event`` without ``wait``.

    Nobody waits on a job's signals — handlers poll them at safe points — and an Event
    costs a condition and two locks; a busy worker made four per job.
    """

    __slots__ = ("_raised",)

    def __init__(self) -> None:
        self._raised = False

    def set(self) -> None:
        """Raise the signal (it stays raised)."""
        self._raised = True

    def is_set(self) -> bool:
        return self._raised


class RunState:
    """Signals between the worker (heartbeat, shutdown) and the running handler."""

    def __init__(self) -> None:
        #: A stop or cancel was requested (seen by the heartbeat or a status read).
        self.stop_requested = Flag()
        #: The lease is gone: every write would be refused.
        self.lost = Flag()
        #: The worker is shutting down: reach a safe point and return.
        self.shutdown = Flag()
        #: The handler was told to stop (``should_stop`` returned True at least once).
        self.acknowledged = False
        #: Progress as last reported, and as last written (the heartbeat writes the gap).
        self.progress: int | None = None
        self.progress_written: int | None = None
        #: Results to write with the job's end (``set_results(..., at_end=True)``).
        self.results: dict[str, Any] | None = None


class JobContext:
    """The handler's view of its job (one per claim)."""

    def __init__(
        self,
        engine: JobsAccess,
        lease: Lease,
        job: Job,
        *,
        checkpoint: Mapping[str, Any] | None = None,
        script_runner: ScriptRunner | None = None,
        state: RunState | None = None,
    ) -> None:
        self.engine = engine
        self.lease = lease
        self.job = job
        self.script_runner = script_runner
        self.state = state or RunState()
        #: What ``save_checkpoint`` stored last (given back on resume); empty on a first run.
        self.checkpoint: dict[str, Any] = dict(checkpoint or {})
        self._last_poll = float("-inf")
        self._progress_at = float("-inf")
        #: Log lines waiting for the chunk's commit (:meth:`hold_logs`), else None.
        self._held: list[dict[str, Any]] | None = None
        self._held_chars = 0

    def log_info(self, message: str, info: Any = None) -> None:
        """Append an INFO line to this job's log."""
        self._log("INFO", message, info)

    def log_error(self, message: str, info: Any = None) -> None:
        """Append an ERROR line (sets ``hasErrors``)."""
        self._log("ERROR", message, info)

    @contextmanager
    def held_logs(self) -> Iterator[None]:
        """Group commit: from now on this job's log lines wait, in memory, for the next
        :meth:`commit_chunk`, which writes them with the chunk's checkpoint and results in
        one fenced transaction — instead of one transaction per line.

        A run that dies before that commit leaves none of the chunk's lines (the chunk
        runs again from the last checkpoint and writes them then, once). Past
        :data:`HELD_LINES` lines or :data:`HELD_CHARS` characters, the held lines are
        written early (fenced, without a checkpoint): a chunk that re-runs after a crash
        writes those again. Lines still held when the block ends are written then (when it
        ends with an exception too, if the lease still holds).
        """
        if self._held is not None:  # already holding: the outer block writes them
            yield
            return
        self._held = []
        try:
            yield
        except BaseException:
            with suppress(Exception):
                self._write_held()
            raise
        else:
            self._write_held()
        finally:
            self._held, self._held_chars = None, 0

    def _write_held(self) -> None:
        held = self._held
        if held:
            self._held, self._held_chars = [], 0
            self._fenced(self.engine.leases.write_chunk(self.lease, held, {}))

    def commit_chunk(
        self, checkpoint: Mapping[str, Any], results: Mapping[str, Any] | None
    ) -> None:
        """Write the held lines, ``checkpoint`` and ``results`` (None: unchanged) in one
        fenced transaction (all or nothing); :class:`LeaseLost` when the lease is gone — a
        stale owner's chunk is refused whole."""
        values: dict[str, Any] = {"checkpoint": dict(checkpoint)}
        if results is not None:
            kept = self.engine.leases.checked_results(self.lease, results,
                                                      type_name=self.job.type)  # fmt: skip
            self._fenced(kept is not None)
            values["results"] = kept
        held, self._held_chars = self._held or [], 0
        if self._held is not None:
            self._held = []
        self._fenced(self.engine.leases.write_chunk(self.lease, held, values))
        self.checkpoint = dict(checkpoint)

    def _log(self, level: str, message: str, info: Any) -> None:
        held = self._held
        if held is None:
            self._fenced(self.engine.leases.log(self.lease, level, message, info))
            return
        entry = self.engine.leases.entry(self.lease, level, message, info)
        if entry is None:  # over the job's log cap: dropped
            return
        held.append(entry)
        self._held_chars += len(entry["message"])
        if len(held) >= HELD_LINES or self._held_chars >= HELD_CHARS:
            self._write_held()

    def set_progress(self, pct: int) -> None:
        """Report progress 0-100: written at once at most every ``PROGRESS_EVERY_S``; the
        values in between go out with the heartbeat or the job's end (off the hot row)."""
        self.state.progress = check_progress(pct)
        now = time.monotonic()
        if self.state.progress_written is None or now - self._progress_at >= PROGRESS_EVERY_S:
            self._progress_at = now
            self._fenced(self.engine.leases.set_progress(self.lease, self.state.progress))
            self.state.progress_written = self.state.progress

    def should_stop(self) -> bool:
        """Whether to stop at this safe point (stop, cancel, shutdown, or a lost lease)."""
        if not self._signalled() and time.monotonic() - self._last_poll >= STOP_POLL_S:
            self._last_poll = time.monotonic()
            status = self.engine.leases.lease_status(self.lease)
            if status is None:
                self.state.lost.set()
            elif status[0] in ("STOPPING", "CANCELING"):
                self.state.stop_requested.set()
        if self._signalled():
            self.state.acknowledged = True
            return True
        return False

    def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        """Store where the job is, so a resumed (or retried) run continues from there."""
        self.checkpoint = dict(checkpoint)
        self._fenced(self.engine.leases.save_checkpoint(self.lease, self.checkpoint))

    def set_results(self, results: Mapping[str, Any], *, at_end: bool = False) -> None:
        """Store the job's results (validated by the type's results model, if any).

        ``at_end``: for a handler's last act — checked now, written by the worker in the
        same transaction as the job's end (one write less per job).
        """
        if at_end:
            kept = self.engine.leases.checked_results(self.lease, results, type_name=self.job.type)
            self._fenced(kept is not None)
            self.state.results = kept
            return
        self._fenced(self.engine.leases.set_results(self.lease, results, type_name=self.job.type))

    def enqueue(self, type: str, data: Mapping[str, Any], **options: Any) -> Job:
        """Start another job as a child of this one (its parent/root are recorded)."""
        options.setdefault("parent_id", self.job.id)
        return self.engine.enqueue(type, data, **options)

    def _signalled(self) -> bool:
        s = self.state
        return s.stop_requested.is_set() or s.lost.is_set() or s.shutdown.is_set()

    def _fenced(self, accepted: bool) -> None:
        if not accepted:
            self.state.lost.set()
            raise LeaseLost(f"Job {self.job.id} is no longer held by this worker")
