"""The parts one engine is made of, built once and handed down.

``Engine`` builds an :class:`EngineParts` in its constructor and gives each collaborator —
the lease verbs, the control verbs, the caps, the waits — the parts it uses. None of them
holds the ``Engine`` itself: a module that takes the whole engine can call anything back,
and the dependencies stop being readable from the signatures.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from sysjobs.errors import NotFound
from sysjobs.jobs.apps import check_app_key
from sysjobs.jobs.caps import JobCaps
from sysjobs.jobs.clock import Clock
from sysjobs.jobs.hooks import EngineHooks
from sysjobs.jobs.hub import Hub
from sysjobs.jobs.ids import JobIds, check_job_id
from sysjobs.jobs.models import Job, JobState
from sysjobs.jobs.registry import Registry
from sysjobs.jobs.settings import EngineSettings
from sysjobs.store.backend import JobBackend
from sysjobs.store.database import Database
from sysjobs.store.jobstore import JobStore
from sysjobs.store.listing import ListingStore, LogFilter


@dataclass(frozen=True)
class EngineParts:
    """Database, backend, stores, settings (caps and clock included), registry, hub, hooks."""

    database: Database
    settings: EngineSettings
    #: The engine's contract with the database: enqueue, leases, fenced writes, pages.
    backend: JobBackend
    store: JobStore
    listing: ListingStore
    registry: Registry
    #: Hints from this process's commits and (from the first wait on) other processes'.
    hub: Hub
    #: The caps of ``settings.caps``, with the line counts they keep per job.
    caps: JobCaps
    #: Lifecycle hooks (see ``sysjobs.jobs.hooks``), run after each change commits; the one
    #: list the engine's ``hooks`` attribute is.
    hooks: list[EngineHooks] = field(default_factory=list)
    #: Where new jobs' ids come from (ordered within this engine).
    ids: JobIds = field(default_factory=JobIds)

    @classmethod
    def build(cls, database: Database, settings: EngineSettings) -> EngineParts:
        """Every part once, wired to ``database`` and ``settings``."""
        clock = settings.clock
        backend = database.backend(clock.now_ms)
        listing = ListingStore(database)
        # Only waiters read hints, so an engine that only enqueues and reads (a web app, a
        # script, a client) never opens the listening connection; the listener is up before
        # the first waiter's first read, so nothing committed after that read is missed.
        hub = Hub(on_watch=lambda: backend.listen(hub.notify_heard))
        return cls(
            database=database, settings=settings, backend=backend,
            store=JobStore(database, now=clock.now_ms), listing=listing, registry=Registry(),
            hub=hub, caps=_caps(settings, listing),
        )  # fmt: skip

    def for_app(self, key: str, settings: EngineSettings | None = None) -> EngineParts:
        """The parts of an engine of app ``key`` on the same database: the same backend,
        stores, wake-ups and id sequence; its own settings (``settings``, else these, for
        ``key``), registry, caps and hooks."""
        settings = replace(settings or self.settings, app=check_app_key(key))
        return replace(
            self, settings=settings, registry=Registry(), hooks=[],
            caps=_caps(settings, self.listing),
        )  # fmt: skip

    @property
    def clock(self) -> Clock:
        """The one clock every stored time comes from (``settings.clock``)."""
        return self.settings.clock

    @property
    def apps(self) -> tuple[str, ...]:
        """The apps whose jobs this engine sees: its own (``settings.app``). Every read and
        write by job id is kept to them, so another app's job is simply not there."""
        return (self.settings.app,)

    def get(self, job_id: str, *, parameter: str = "id") -> Job | None:
        """The job, or None (also when it is another app's); ``BadRequest`` for a
        malformed id."""
        row = self.store.get_job(check_job_id(job_id, parameter), apps=self.apps)
        return None if row is None else Job.from_row(row)

    def reached(
        self, job_id: str, wanted: Collection[str], *, parameter: str = "jobId"
    ) -> Job | None:
        """The job once its status is one of ``wanted``, else None; ``NotFound`` when it
        is not there. Waiters call it on every wake-up, so only the status is read until
        it matches: re-reading the whole row each time made waiting on a long action
        quadratic in its records (its checkpoint and results grow as it goes)."""
        status = self.store.job_status(check_job_id(job_id, parameter), apps=self.apps)
        if status is None:
            self.require(job_id, parameter=parameter)
        if status not in wanted:
            return None
        job = self.require(job_id, parameter=parameter)
        return job if job.status in wanted else None

    def states(self, job_ids: Sequence[str], *, parameter: str = "jobIds") -> list[JobState]:
        """Status and progress of each of ``job_ids``, in their order, in one query (no
        data, checkpoint or results); ``NotFound`` names the first that is not there."""
        ids = [check_job_id(job_id, parameter) for job_id in job_ids]
        found = {row["id"]: row for row in self.store.states(ids, apps=self.apps)}
        for job_id in ids:
            if job_id not in found:
                raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        return [JobState.from_row(found[job_id]) for job_id in ids]

    def require(self, job_id: str, *, parameter: str = "jobId") -> Job:
        """The job, or ``NotFound``."""
        job = self.get(job_id, parameter=parameter)
        if job is None:
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        return job


def _caps(settings: EngineSettings, listing: ListingStore) -> JobCaps:
    """The caps of ``settings`` counting a job's lines in the engine's app only (another
    app's job has none here: a line for it is refused as ``notFound``, never capped)."""
    apps = (settings.app,)
    return JobCaps(settings.caps, lambda i: listing.logs_count(LogFilter(i, apps=apps)))
