"""The engine service: the one place that knows which query does what.

``Engine`` is usable without JavaScript: bindings, the app, the CLI and the workers all call
these verbs; none of them touches the store. Waits share ``waiting.wait_until`` with the
workers' idle loop; hints come from this process's commits and, on PostgreSQL, from LISTEN
(opened by the first wait).

The engine builds its parts once (:class:`~sysjobs.jobs.parts.EngineParts`: database,
backend, stores, settings with caps and clock, registry, hub, hooks) and hands each
collaborator what it uses — the lease verbs, the control verbs, the waits. Nothing below
holds the ``Engine``: its verbs delegate.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from operator import methodcaller
from typing import Any

from sysjobs.errors import BadRequest, Timeout
from sysjobs.jobs import control, reads
from sysjobs.jobs.applogs import AppLogs
from sysjobs.jobs.cursor import Cursor
from sysjobs.jobs.hooks import fire
from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.leases import Leases
from sysjobs.jobs.models import AppLog, Job, JobEvent, JobLog, JobState
from sysjobs.jobs.parts import EngineParts
from sysjobs.jobs.queries import LogsQuery
from sysjobs.jobs.registry import JobType
from sysjobs.jobs.schedules import Scheduler
from sysjobs.jobs.settings import EngineSettings
from sysjobs.jobs.status import check_statuses
from sysjobs.jobs.tree import TreeInfo, lineage
from sysjobs.jobs.values import log_row, shown
from sysjobs.jobs.waiting import wait_all, wait_states, wait_until
from sysjobs.store.app_logs import prune_app_logs
from sysjobs.store.database import Database
from sysjobs.store.listing import LogFilter
from sysjobs.store.retention import PruneCounts, RetentionStore
from sysjobs.store.rows import Row
from sysjobs.store.workers import WorkerStore


class Engine:
    """Durable background jobs on SQLite or PostgreSQL."""

    def __init__(
        self, database: Database, settings: EngineSettings | None = None, *,
        parts: EngineParts | None = None,
    ) -> None:  # fmt: skip
        #: Everything this engine is made of, built once (``sysjobs.jobs.parts``); ``parts``
        #: given: those (another app's engine on the same database, :meth:`for_app`).
        self.parts = parts = parts or EngineParts.build(database, settings or EngineSettings())
        self.database = database
        self.settings = parts.settings
        #: The one clock every stored time comes from (``settings.clock``).
        self.clock = parts.clock
        #: The app whose jobs this engine creates (``settings.app``, ``sysjobs.jobs.apps``).
        self.app = parts.settings.app
        #: The apps whose jobs it sees: its own only (``EngineParts.apps``).
        self.apps = parts.apps
        self.registry = parts.registry
        self.hub = parts.hub
        self.store = parts.store
        self.listing = parts.listing
        #: The engine's contract with the database: enqueue, leases, fenced writes, pages.
        self.backend = parts.backend
        #: Lifecycle hooks (see ``sysjobs.jobs.hooks``), run after each change commits.
        self.hooks = parts.hooks
        self.leases = Leases(
            parts.backend, parts.settings, parts.registry, parts.caps,
            lambda job_id: parts.require(job_id).type,
        )  # fmt: skip
        #: The user verbs (stop, cancel, kill …) that ``Engine`` delegates to.
        self.control = control.Control(parts)
        #: The app's own log (``sys.logs``), apart from every job's log.
        self.app_logs_of = AppLogs(database, parts.settings.app, parts.caps, parts.clock)
        #: The app's cron schedules (``sysjobs.jobs.schedules``): defined by the app, ticked
        #: by every worker pool that serves it.
        self.schedules = Scheduler(parts)
        database.local_sink = self.hub.notify

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

    def for_app(self, key: str, settings: EngineSettings | None = None) -> Engine:
        """An engine of app ``key`` on this engine's database — the same connections,
        wake-ups and backend — with its own registry, hooks and ``settings`` (else these,
        for ``key``). A worker serving several apps runs each app's jobs on its engine.
        It closes with this one (its :meth:`close` closes the shared database)."""
        return Engine(self.database, parts=self.parts.for_app(key, settings))

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

    def table_changes(self, table: str) -> Callable[[], Hashable]:
        """A version of ``table`` for a cache of it (a ``Registry.hold``): it moves with
        every commit of this process that wrote the table and every hint heard from
        another process. From now on this process's writes to ``table`` are announced to
        the others too (``Database.announce_writes``), so theirs move on them."""
        self.database.announce_writes(table)
        database, hub = self.database, self.hub
        return lambda: (database.table_version(table), hub.heard)

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
        """Create a PENDING job; ``data`` is validated by the type's model. ``parent_id``:
        the running job that starts it (its parent in the job tree; a child of a stopping
        or canceling job is created STOPPED or CANCELED)."""
        row = control.new_job_row(
            self.parts, self.registry.require(type), data, label=label, run_by=run_by,
            low_priority=low_priority, queue=queue, lineage=lineage(self.parts, parent_id),
        )  # fmt: skip
        (stored,) = self.backend.insert_jobs([row], reason="enqueued")
        job = Job.from_row({**stored, "results": None})
        fire(self.hooks, lambda hook: hook.job_enqueued(job))
        return job

    def enqueue_many(
        self, type: str, items: Iterable[Mapping[str, Any]], **options: Any
    ) -> list[Job]:
        """Create many PENDING jobs of one type in one transaction (same options for all)."""
        stored = self._insert(type, items, options)
        return [Job.from_row({**row, "results": None}) for row in stored]

    def enqueue_ids(
        self, type: str, items: Iterable[Mapping[str, Any]], **options: Any
    ) -> list[str]:
        """:meth:`enqueue_many`, answering the new jobs' ids only: a ``Job`` is built per row
        only for the hooks, if there are any (a group commit of a script's saved records
        starts a listener job per record, and building each one was a tenth of it)."""
        return [str(row["id"]) for row in self._insert(type, items, options)]

    def _insert(
        self, type: str, items: Iterable[Mapping[str, Any]], options: dict[str, Any]
    ) -> list[Row]:
        job_type = self.registry.require(type)
        options = _enqueue_options(options)
        options["lineage"] = lineage(self.parts, options.pop("parent_id"))  # once for all
        rows = [control.new_job_row(self.parts, job_type, data, **options) for data in items]
        stored = self.backend.insert_jobs(rows, reason="enqueued")
        for row in stored if self.hooks else ():
            job = Job.from_row({**row, "results": None})
            fire(self.hooks, methodcaller("job_enqueued", job))
        return stored

    def get(self, job_id: str, *, parameter: str = "id") -> Job | None:
        """The job, or None; ``BadRequest`` for a malformed id."""
        return self.parts.get(job_id, parameter=parameter)

    def require(self, job_id: str, *, parameter: str = "jobId") -> Job:
        """The job, or ``NotFound``."""
        return self.parts.require(job_id, parameter=parameter)

    def reads_until(self, deadline: float) -> AbstractContextManager[None]:
        """Reads this thread starts inside the block stop at ``deadline`` (a script's, a
        ``time.monotonic()`` value) with ``timeout``, whatever they scan."""
        return self.database.statements_until(deadline)

    def find(
        self, query: Mapping[str, Any], *, after: tuple[int, str] | None = None
    ) -> Cursor[Job]:
        """Jobs matching the spec's ``find`` query, newest first, streamed; with ``after`` (a
        job's ``(created ms, id)``) only the older ones, so a reader pages by keyset."""
        backend = self.backend
        return reads.find(query, self.registry.queryable(), self.apps, backend.jobs_page,
                          backend.jobs_count, after)  # fmt: skip

    def logs(
        self, job_id: str, query: Mapping[str, Any], *, after: tuple[int, int] | None = None
    ) -> Cursor[JobLog]:
        """A job's logs matching the spec's ``logs`` query, oldest first, streamed; with
        ``after`` (a line's ``(timestamp ms, id)``) only the lines past that one, so a
        reader pages through a long log by keyset (``count()`` still counts them all)."""
        self.require(job_id)
        q = LogsQuery.parse(query, self.clock.now_ms())
        f = LogFilter(job_id, q.level, q.message, q.ts, apps=self.apps)
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
        self.control.log(job_id, "INFO", message, additional_info)

    def log_error(self, job_id: str, message: str, additional_info: Any = None) -> None:
        """Append an ERROR line to any job's log (sets ``hasErrors``)."""
        self.control.log(job_id, "ERROR", message, additional_info)

    def log_entry(self, level: str, message: object, info: Any) -> dict[str, Any]:
        """A validated log row (``message`` must be a string), stamped by the engine's clock
        (``sysjobs.jobs.values.log_row``)."""
        return log_row(level, message, info, self.clock.now_ms())

    def app_log(
        self, level: str, message: str, info: Any = None, *, job_id: str | None = None
    ) -> None:
        """Append a line to the app's own log (``sys.logs``): INFO, WARN, ERROR or DEBUG;
        ``job_id`` is the job whose script wrote it, if any."""
        self.app_logs_of.write(level, message, info, job_id=job_id)

    def app_logs(
        self, query: Mapping[str, Any] | None = None, *, after: tuple[int, int] | None = None
    ) -> Cursor[AppLog]:
        """The app's log lines matching a ``logs``-shaped query (``level``, ``message``,
        ``from``/``to``/``period``, ``_size``), oldest first, streamed."""
        return self.app_logs_of.query(query, after=after)

    # ---- the user verbs (``sysjobs.jobs.control.Control``) ----------------------------
    def stop(self, job_id: str) -> Job:
        """Ask a RUNNING job to stop at its next safe point (forced after the grace period)."""
        return self.control.stop(job_id)

    def force_stop(self, job_id: str) -> Job:
        """Stop a RUNNING/STOPPING job now: its worker terminates the execution."""
        return self.control.force_stop(job_id)

    def resume(self, job_id: str) -> Job:
        """Put a STOPPED job back to PENDING; it continues from its checkpoint."""
        return self.control.resume(job_id)

    def cancel(self, job_id: str) -> Job:
        """Cancel for good: at once when not running, else at the worker's next safe point."""
        return self.control.cancel(job_id)

    def kill(self, job_id: str) -> Job:
        """End a job now, for good: CANCELED, with no grace period (see ``Control.kill``)."""
        return self.control.kill(job_id)

    def change_priority(self, job_id: str, flag: bool) -> Job:
        """See ``Control.change_priority`` (the CLI's and the HTTP API's one rule)."""
        return self.control.change_priority(job_id, flag)

    def set_low_priority(self, job_id: str, flag: bool) -> Job:
        """Flag or unflag a job as low priority (matters while it is PENDING)."""
        return self.control.set_low_priority(job_id, flag)

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
            return self.parts.reached(job_id, wanted)

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
        return wait_all(self.parts, job_ids, statuses, timeout_s)

    def states(self, job_ids: Sequence[str]) -> list[JobState]:
        """Status and progress of each job, in order, in one query (``NotFound`` for one
        not there): what a job polling others needs, without their whole rows."""
        return self.parts.states(job_ids)

    def wait_states(
        self, job_ids: Sequence[str], statuses: Sequence[str], timeout_s: float
    ) -> list[JobState] | None:
        """The jobs' states once all are in ``statuses``, or None at the timeout
        (``sysjobs.jobs.waiting.wait_states``: status and progress reads only)."""
        return wait_states(self.parts, job_ids, statuses, timeout_s)

    def results_of(self, job_ids: Sequence[str]) -> dict[str, Any]:
        """{id: results} of those of ``job_ids`` that are this app's jobs, without their
        rows (an owner adding up its finished parts' counts)."""
        ids = [check_job_id(job_id, "jobIds") for job_id in job_ids]
        return self.store.results_of(ids, apps=self.apps)

    def events(self, job_id: str) -> list[JobEvent]:
        """Every transition of the job, oldest first."""
        self.require(job_id)
        events = self.store.events(check_job_id(job_id), apps=self.apps)
        return [JobEvent.from_row(r) for r in events]

    def tree_info(self, jobs: Sequence[Job]) -> dict[str, TreeInfo]:
        """Parent, root and children counts of each job of a page (two queries in all;
        ``sysjobs.jobs.tree``)."""
        return self.control.tree.info(jobs)

    def take_pending(self, job_id: str, reason: str) -> tuple[Job, dict[str, Any]] | None:
        """Take over a PENDING job no worker claimed yet: it ends CANCELED (``reason`` in
        its events) and its last checkpoint is returned, for the caller to go on from; None
        when it was not PENDING (``Tree.take``). ``executeInJob``'s owner takes its parts
        so."""
        job = self.control.tree.take(job_id, reason)
        if job is None:
            return None
        return job, dict(self.store.checkpoint(job.id) or {})

    def tree_jobs(
        self, job_id: str, *, children_only: bool = False, size: int = 50,
        after: tuple[int, str] | None = None,
    ) -> tuple[list[Job], int]:  # fmt: skip
        """A page of the tree of a root job (or a job's direct children), newest first,
        and how many jobs it holds (``Tree.jobs``)."""
        return self.control.tree.jobs(job_id, children_only=children_only, size=size,
                                      after=after)  # fmt: skip

    def prune(
        self, *, jobs_days: float | None = None, logs_days: float | None = None,
        all_apps: bool = False,
    ) -> PruneCounts:  # fmt: skip
        """Apply retention to this engine's app (``all_apps``: to every app on the database,
        an operator's ``sysjobs db prune --all-apps``): drop its ended jobs, job logs and app
        logs (defaults from the settings), and the workers registry's rows of workers gone
        long ago (of every app: a registry row is a process, not an app's)."""
        jobs_days = self.settings.retain_jobs_days if jobs_days is None else jobs_days
        logs_days = self.settings.retain_logs_days if logs_days is None else logs_days
        retention = RetentionStore(self.database)
        now = self.clock.now_ms()
        apps = None if all_apps else self.apps
        jobs = (
            retention.prune_jobs(now - int(jobs_days * 86_400_000), apps=apps)
            if jobs_days is not None else 0
        )  # fmt: skip
        logs = app_logs = 0
        if logs_days is not None:
            cut = now - int(logs_days * 86_400_000)
            logs = retention.prune_logs(cut, apps=apps)
            app_logs = prune_app_logs(self.database, cut, apps=apps)
        workers = WorkerStore(self.database, self.clock.now_ms).prune()
        return PruneCounts(jobs=jobs, logs=logs, app_logs=app_logs, workers=workers)

    def reap(self) -> int:
        """Recover this app's expired leases now (workers call this periodically)."""
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
