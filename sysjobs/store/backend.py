"""The backend contract: what the engine (``sysjobs/jobs``) needs from a database.

Two complete implementations, one per folder: ``sysjobs/store/sqlite`` (statements in a
write transaction under SQLite's write lock) and ``sysjobs/store/postgres`` (the lease path
as one call of a versioned server function, ``sysjobs/store/postgres/sql``). The engine gets
its backend from one factory, :meth:`sysjobs.store.database.Database.backend`, and never
asks which database it is. ``tests/integration/store/test_backend_contract.py`` runs the
same expectations against both; ``docs/contracts.md`` describes each verb.

The verbs are the engine's hot path and its fences — enqueue, claim, end-and-claim,
heartbeat, the lease holder's fenced writes, the find/logs pages, recovery of lost leases,
and wake-ups. User-driven transitions, statistics and retention are one plain SQLAlchemy Core
query each, identical on both databases; they stay in the shared stores (``jobstore.py``,
``stats.py``, ``retention.py``) and are not part of this seam.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sysjobs.store.dialect import HintSink
from sysjobs.store.listing import JobFilter, LogFilter
from sysjobs.store.rows import Apps, Row
from sysjobs.store.workers import WorkerBeat

__all__ = ["ClaimSpec", "FinishSpec", "Finished", "JobBackend", "LeaseKey", "Recovery"]


@dataclass(frozen=True)
class ClaimSpec:
    """What a claimer can take: its queues, the types it knows, how many, whether low too,
    and the apps whose jobs it runs.

    ``apps`` are also the order in which they take turns: a claim takes each app's oldest
    jobs in rounds, each app up to an equal share of the slots left, so one app's backlog
    never starves another (``store/leases.py``, :func:`~sysjobs.store.leases.fair_rounds`).
    The claimer rotates the order from one claim to the next. No apps: nothing is claimed.
    ``app_types`` gives an app its own types instead of ``types`` (an app whose jobs are
    held, say, claims fewer).

    Concurrency limits, across every claimer on the database: ``queue_caps[app][queue]`` is
    the most jobs of that app's queue leased at once, ``app_caps[app]`` the most of that
    app's jobs in all. A claim that meets a limit counts the app's leased jobs under a lock
    that orders every claim meeting the same limit (SQLite's write lock; on PostgreSQL an
    advisory lock per capped app and per limited queue), and takes no more than the limit
    leaves. Without limits a claim neither locks nor counts.
    """

    owner: str
    queues: Sequence[str]
    types: Sequence[str]
    limit: int
    allow_low: bool
    aged_before_ms: int  # low-priority jobs created before this count as normal (ageing)
    lease_ms: int
    apps: Sequence[str]
    app_types: Mapping[str, Sequence[str]] = field(default_factory=dict)
    queue_caps: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    app_caps: Mapping[str, int] = field(default_factory=dict)

    def types_of(self, app: str) -> Sequence[str]:
        """The types this claim takes of ``app``'s jobs."""
        return self.app_types.get(app, self.types)


@dataclass(frozen=True)
class FinishSpec:
    """One lease to end: its fence, the status map ``{current: next}``, what else to set.

    ``values`` holds ``has_errors`` (only ever True) and ``progress``, nothing else: the
    PostgreSQL function knows those two (its backend refuses anything more).
    """

    job_id: str
    owner: str
    attempt: int
    targets: Mapping[str, str]
    values: Mapping[str, Any]
    reason: str | None = None
    results: Mapping[str, Any] | None = None


#: A recovery decision for one lost job: (new status, reason, log level, log message,
#: the error to add to its results as ``error`` — or None to leave them as they are).
Recovery = tuple[str, str, str, str, Mapping[str, Any] | None]

#: One lease as its holder names it: (job id, owner, attempt) — the fence of its writes.
LeaseKey = tuple[str, str, int]

#: What ``finish`` returns: each end's row (None when fenced off), each claim's rows.
Finished = tuple[list[Row | None], list[list[Row]]]


@runtime_checkable
class JobBackend(Protocol):
    """The engine's seam to one database. Every write reads the clock inside its write
    transaction and clamps what it stores to the job's own earlier times (created ≤ started
    ≤ ended; see ``store/leases.py``)."""

    def insert_jobs(
        self, rows: Sequence[Mapping[str, Any]], *, reason: str | None = None
    ) -> list[Row]:
        """Enqueue: new PENDING jobs, their empty results rows and creation events, in one
        transaction; wakes claimers (``work``). Each row carries its app's key (``app``),
        which its results row and creation event get too. Returns the rows as stored: a
        child of a stopping or canceling job is born STOPPED or CANCELED (the job tree)."""

    def claim(self, spec: ClaimSpec) -> list[Row]:
        """Lease up to ``spec.limit`` pending jobs of ``spec.apps``, fairly across the apps
        and in turn order within each (``store/turns.py``: fair per root job), within the
        spec's concurrency limits: normal (and aged) first, then low priority while slots
        are left. Rows carry ``results`` and ``checkpoint``."""

    def finish(
        self, ends: Sequence[FinishSpec], claims: Sequence[ClaimSpec] = (), *, rows: bool = True
    ) -> Finished:
        """End-and-claim: end ``ends`` (each fenced by owner and attempt and mapped by its
        ``targets``; None when fenced off), then lease for each of ``claims``, at once. The
        claims do not see the ends. ``rows=False``: an ended row is only ``id``/``status``."""

    def give_back(self, leases: Sequence[LeaseKey]) -> list[Row]:
        """Undo claims the claimer must not run (their app was stopped before the claim):
        each job whose lease still holds returns to waiting exactly as before its claim —
        PENDING, attempt not counted, no start left (unless an earlier attempt started
        it), no owner or lease, its turn kept, its claim event gone; a stop or cancel asked
        meanwhile lands it STOPPED or CANCELED. A lease taken back (the reaper) or taken
        over (another claim) is left alone. Returns ``id``/``status`` of each given back;
        wakes claimers (``work``)."""

    def heartbeat(
        self, owner: str, lease_ms: int, *, job_ids: Collection[str] | None = None,
        worker: WorkerBeat | None = None,
    ) -> list[Row]:
        """Extend the leases ``owner`` holds (of ``job_ids`` only, when given); returns
        ``id``/``attempt``/``status``/``force_at_ms`` of each. ``worker``: refresh the
        pool's row in the workers registry in the same transaction (``store/workers.py``)."""

    def lease_status(self, job_id: str, owner: str, attempt: int) -> Row | None:
        """``status`` and ``force_at_ms`` while the lease holds, else None."""

    def set_progress(self, job_id: str, owner: str, attempt: int, progress: int) -> bool:
        """Fenced: write progress; False when the lease no longer holds."""

    def append_log_fenced(self, job_id: str, owner: str, attempt: int, entry: Row) -> bool:
        """Fenced: append a log line (an ERROR sets ``has_errors``); False when fenced off."""

    def write_result_fields(
        self, job_id: str, owner: str, attempt: int, values: Mapping[str, Any]
    ) -> bool:
        """Fenced: set ``results``/``checkpoint``; False when fenced off."""

    def write_chunk(
        self, job_id: str, owner: str, attempt: int, entries: Sequence[Row],
        values: Mapping[str, Any],
    ) -> bool:  # fmt: skip
        """Fenced group commit of a chunk of work: its log lines (an ERROR sets
        ``has_errors``) and ``results``/``checkpoint``, in one transaction; False (nothing
        written) when fenced off."""

    def append_log(self, job_id: str, entry: Row, *, apps: Apps) -> bool:
        """Append a log line from anyone (an ERROR sets ``has_errors``); False: no job of
        ``apps`` (None: of any app)."""

    def jobs_page(self, f: JobFilter, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """``find``: matching jobs newest first, after the keyset ``(created_ms, id)``."""

    def jobs_count(self, f: JobFilter) -> int:
        """How many jobs ``f`` matches."""

    def logs_page(self, f: LogFilter, after: tuple[int, int] | None, limit: int) -> list[Row]:
        """``logs``: a job's matching lines oldest first, after the keyset ``(ts_ms, id)``."""

    def logs_count(self, f: LogFilter) -> int:
        """How many of the job's lines ``f`` matches."""

    def recover(
        self,
        decide: Callable[[Row], Recovery],
        *,
        expired_before_ms: int | None = None,
        owner: str | None = None,
        limit: int = 100,
        apps: Apps = None,
    ) -> list[Row]:
        """Take back leases that expired before ``expired_before_ms`` (or all of one dead
        ``owner``) of jobs of ``apps`` (None: any app's); ``decide`` says where each goes,
        written to the job's log and events (in the job's app)."""

    def listen(self, sink: HintSink) -> None:
        """Wake-ups: feed other processes' hints into ``sink`` (this process's own go to
        ``Database.local_sink`` after each commit)."""

    def poll_interval(self, idle_rounds: int) -> float:
        """Seconds between re-reads when no hint came (the safety net behind wake-ups)."""
