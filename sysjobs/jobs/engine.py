"""The engine service: the one place that knows which query does what.

``Engine`` is usable without JavaScript: bindings, the app, the CLI and the workers all call
these verbs; none of them touches the store. Waits share ``waiting.wait_until`` with the
workers' idle loop; hints come from this process's commits and, on PostgreSQL, from LISTEN
(opened by the first wait).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from operator import methodcaller
from typing import Any

from sysjobs.errors import BadRequest, NotFound, Timeout
from sysjobs.jobs import caps, control
from sysjobs.jobs.cursor import Cursor
from sysjobs.jobs.hooks import EngineHooks, fire
from sysjobs.jobs.hub import Hub
from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.leases import Leases
from sysjobs.jobs.models import Job, JobEvent, JobLog
from sysjobs.jobs.queries import FindQuery, LogsQuery
from sysjobs.jobs.registry import JobType, Registry
from sysjobs.jobs.settings import EngineSettings
from sysjobs.jobs.status import check_statuses
from sysjobs.jobs.values import escape_surrogates, escape_surrogates_in, shown
from sysjobs.jobs.waiting import wait_all, wait_until
from sysjobs.store.database import Database
from sysjobs.store.jobstore import JobStore
from sysjobs.store.listing import JobFilter, ListingStore, LogFilter
from sysjobs.store.retention import PruneCounts, RetentionStore
from sysjobs.store.workers import WorkerStore


class Engine(control.ControlVerbs):
    """Durable background jobs on SQLite or PostgreSQL."""

    def __init__(self, database: Database, settings: EngineSettings | None = None) -> None:
        self.database = database
        self.settings = settings or EngineSettings()
        #: The one clock every stored time comes from (``settings.clock``).
        self.clock = self.settings.clock
        #: The app whose jobs this engine creates (``settings.app``, ``sysjobs.jobs.apps``).
        self.app = self.settings.app
        self.registry = Registry()
        self.hub = Hub(on_watch=self._listen)
        self.store = JobStore(database, now=self.clock.now_ms)
        self.listing = ListingStore(database)
        #: The engine's contract with the database: enqueue, leases, fenced writes, pages.
        self.backend = database.backend(self.clock.now_ms)
        self.leases = Leases(self)
        #: Log lines per job, for the caps of ``settings.caps`` (``sysjobs.jobs.caps``).
        self.line_counts = caps.LineCounts()
        #: Lifecycle hooks (see ``sysjobs.jobs.hooks``), run after each change commits.
        self.hooks: list[EngineHooks] = []
        database.local_sink = self.hub.notify

    def _listen(self) -> None:
        """Hear other processes' hints from the first wait on (PostgreSQL ``LISTEN``).

        Only waiters read hints, so an engine that only enqueues and reads (a web app, a
        script, a benchmark's client) never opens the listening connection and never
        receives the notification of every commit of every worker. The listener is up
        before the waiter's first read, so nothing committed after that read is missed.
        """
        self.backend.listen(self.hub.notify)

    @classmethod
    def open(
        cls, url: str | None = None, *, migrate: bool = True, settings: EngineSettings | None = None
    ) -> Engine:
        """Connect to ``url`` (default: ``sqlite:///.sysjobs/sysjobs.db``), migrating first."""
        settings = settings or EngineSettings()
        database = Database(url, hints=settings.hints)
        if migrate:
            database.migrate()
        return cls(database, settings)

    @property
    def url(self) -> str:
        """The database URL, usable to open the same database elsewhere (a child process)."""
        return self.database.url.render_as_string(hide_password=False)

    def close(self) -> None:
        """Stop listening and release connections."""
        self.database.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def register(self, job_type: JobType) -> JobType:
        """Make a job type known to this engine (and to workers built on it)."""
        return self.registry.register(job_type)

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
    ) -> Job:
        """Create a PENDING job; ``data`` is validated by the type's model."""
        row = control.new_job_row(
            self, self.registry.require(type), data, label=label, run_by=run_by,
            low_priority=low_priority, queue=queue, parent_id=parent_id,
        )  # fmt: skip
        self.backend.insert_jobs([row], reason="enqueued")
        job = Job.from_row({**row, "results": None})
        fire(self.hooks, lambda hook: hook.job_enqueued(job))
        return job

    def enqueue_many(
        self, type: str, items: Iterable[Mapping[str, Any]], **options: Any
    ) -> list[Job]:
        """Create many PENDING jobs of one type in one transaction (same options for all)."""
        job_type = self.registry.require(type)
        rows = [
            control.new_job_row(self, job_type, data, **_enqueue_options(options)) for data in items
        ]
        self.backend.insert_jobs(rows, reason="enqueued")
        jobs = [Job.from_row({**row, "results": None}) for row in rows]
        for job in jobs if self.hooks else ():
            fire(self.hooks, methodcaller("job_enqueued", job))
        return jobs

    def get(self, job_id: str, *, parameter: str = "id") -> Job | None:
        """The job, or None; ``BadRequest`` for a malformed id."""
        row = self.store.get_job(check_job_id(job_id, parameter))
        return None if row is None else Job.from_row(row)

    def require(self, job_id: str, *, parameter: str = "jobId") -> Job:
        """The job, or ``NotFound``."""
        job = self.get(job_id, parameter=parameter)
        if job is None:
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        return job

    def reads_until(self, deadline: float) -> AbstractContextManager[None]:
        """Reads this thread starts inside the block stop at ``deadline`` (a script's, a
        ``time.monotonic()`` value) with ``timeout``, whatever they scan."""
        return self.database.statements_until(deadline)

    def find(
        self, query: Mapping[str, Any], *, after: tuple[int, str] | None = None
    ) -> Cursor[Job]:
        """Jobs matching the spec's ``find`` query, newest first, streamed; with ``after`` (a
        job's ``(created ms, id)``) only the older ones, so a reader pages by keyset."""
        q = FindQuery.parse(query, self.registry.queryable())
        f = JobFilter(q.types, q.statuses, q.created, q.started, q.ended, q.has_errors)
        return Cursor(
            lambda after, limit: self.backend.jobs_page(f, after, limit),
            lambda row: (row["created_ms"], row["id"]),
            Job.from_row,
            lambda: self.backend.jobs_count(f),
            q.size,
            after,
        )

    def logs(
        self, job_id: str, query: Mapping[str, Any], *, after: tuple[int, int] | None = None
    ) -> Cursor[JobLog]:
        """A job's logs matching the spec's ``logs`` query, oldest first, streamed; with
        ``after`` (a line's ``(timestamp ms, id)``) only the lines past that one, so a
        reader pages through a long log by keyset (``count()`` still counts them all)."""
        self.require(job_id)
        q = LogsQuery.parse(query, self.clock.now_ms())
        f = LogFilter(job_id, q.level, q.message, q.ts)
        return Cursor(
            lambda after, limit: self.backend.logs_page(f, after, limit),
            lambda row: (row["ts_ms"], row["id"]),
            JobLog.from_row,
            lambda: self.backend.logs_count(f),
            q.size,
            after,
        )

    def log_info(self, job_id: str, message: str, additional_info: Any = None) -> None:
        """Append an INFO line to any job's log."""
        self._log(job_id, "INFO", message, additional_info)

    def log_error(self, job_id: str, message: str, additional_info: Any = None) -> None:
        """Append an ERROR line to any job's log (sets ``hasErrors``)."""
        self._log(job_id, "ERROR", message, additional_info)

    def _log(self, job_id: str, level: str, message: str, info: Any) -> None:
        capped = caps.capped_entry(self, check_job_id(job_id), self.log_entry(level, message, info))
        if capped is None:  # over the job's log cap: dropped (the job's log says so)
            return
        if not self.backend.append_log(job_id, capped):
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        self.hub.notify([f"job:{job_id}"])

    def log_entry(self, level: str, message: object, info: Any) -> dict[str, Any]:
        """A validated log row (``message`` must be a string), stamped by the engine's clock.
        Every line the host writes passes here — a failed script's error, a ``log()`` line —
        so a lone surrogate in it is kept as ``\\udXXX`` text, not an encoder error
        (``sysjobs.jobs.values``)."""
        if not isinstance(message, str):
            raise BadRequest(
                f"Invalid value {shown(message)} for parameter 'message'. Allowed values: a string"
            )
        message, info = escape_surrogates(message), escape_surrogates_in(info)
        return {
            "ts_ms": self.clock.now_ms(), "level": level, "message": message,
            "additional_info": info,
        }  # fmt: skip

    def wait(self, job_id: str, statuses: Sequence[str] | str, timeout_s: float) -> Job:
        """Return once the job is in one of ``statuses``; ``Timeout`` (with its status) if not."""
        wanted = check_statuses(statuses)
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s < 0:
            raise BadRequest(
                f"Invalid value {shown(timeout_s)} for parameter 'maxTimeToWait'. "
                "Allowed values: a number >= 0"
            )
        self.require(job_id)

        def read() -> Job | None:
            job = self.require(job_id)
            return job if job.status in wanted else None

        found = wait_until(
            read, hub=self.hub, keys=[f"job:{job_id}"], timeout_s=timeout_s,
            poll=self.backend.poll_interval,
        )  # fmt: skip
        if found is not None:
            return found
        current = self.require(job_id).status
        raise Timeout(
            f"Job {job_id} did not reach {', '.join(wanted)} within {timeout_s:g}s; "
            f"its status is {current}",
            info={"jobId": job_id, "status": str(current)},
        )

    def wait_all(
        self, job_ids: Sequence[str], statuses: Sequence[str] | str, timeout_s: float
    ) -> list[Job]:
        """``wait`` for several jobs on one watch (``sysjobs.jobs.waiting.wait_all``)."""
        return wait_all(self, job_ids, statuses, timeout_s)

    def events(self, job_id: str) -> list[JobEvent]:
        """Every transition of the job, oldest first."""
        self.require(job_id)
        return [JobEvent.from_row(r) for r in self.store.events(check_job_id(job_id))]

    def prune(
        self, *, jobs_days: float | None = None, logs_days: float | None = None
    ) -> PruneCounts:
        """Apply retention: drop ended jobs / old logs (defaults from the settings), and
        the workers registry's rows of workers gone long ago."""
        jobs_days = self.settings.retain_jobs_days if jobs_days is None else jobs_days
        logs_days = self.settings.retain_logs_days if logs_days is None else logs_days
        retention = RetentionStore(self.database)
        now = self.clock.now_ms()
        jobs = (
            retention.prune_jobs(now - int(jobs_days * 86_400_000)) if jobs_days is not None else 0
        )
        logs = (
            retention.prune_logs(now - int(logs_days * 86_400_000)) if logs_days is not None else 0
        )
        workers = WorkerStore(self.database, self.clock.now_ms).prune()
        return PruneCounts(jobs=jobs, logs=logs, workers=workers)

    def reap(self) -> int:
        """Recover expired leases now (workers call this periodically)."""
        return self.leases.reap()


def _enqueue_options(options: Mapping[str, Any]) -> dict[str, Any]:
    allowed = ("label", "run_by", "low_priority", "queue", "parent_id")
    unknown = set(options) - set(allowed)
    if unknown:
        raise TypeError(f"unknown enqueue options: {sorted(unknown)}")
    return {
        "label": None,
        "run_by": None,
        "low_priority": False,
        "queue": None,
        "parent_id": None,
        **options,
    }
