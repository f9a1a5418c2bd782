"""Reading jobs as the engine does, over any store that pages them: ``find``, ``require`` and
``tree_info`` without the engine's write side (``docs/cli-read-path.md``).

:class:`~sysjobs.jobs.engine.Engine` finds jobs with :func:`find`; the CLI's read commands
(``sysjobs jobs ls``/``show``) build a :class:`JobReads` over the SQLite reader
(``sysjobs.store.sqlite.reader``), which runs the store's statements without SQLAlchemy. The
query is parsed by the same :class:`~sysjobs.jobs.queries.FindQuery` (the same errors,
word for word), the rows become the same :class:`~sysjobs.jobs.models.Job` objects, and the
tree the same :class:`~sysjobs.jobs.tree_info.TreeInfo`: only the way to the rows differs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from sysjobs.errors import NotFound
from sysjobs.jobs.cursor import Cursor
from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.models import Job
from sysjobs.jobs.queries import FindQuery
from sysjobs.jobs.tree_info import TreeInfo, tree_infos
from sysjobs.store.filters import JobFilter

#: A row as the store hands it upward.
Row = dict[str, Any]
#: A page of rows matching a filter, after a keyset, at most ``limit``.
Page = Callable[[JobFilter, "tuple[int, str] | None", int], list[Row]]


class Reads(Protocol):
    """What the read commands ask of whatever reads jobs: an engine, or :class:`JobReads`."""

    def find(
        self, query: Mapping[str, Any], *, after: tuple[int, str] | None = None
    ) -> Cursor[Job]: ...

    def require(self, job_id: str, *, parameter: str = "jobId") -> Job: ...

    def tree_info(self, jobs: Sequence[Job]) -> dict[str, TreeInfo]: ...


class ReadStore(Protocol):
    """The store's reads :class:`JobReads` needs (``ListingStore``, ``JobStore``,
    ``TreeStore``'s; ``sysjobs.store.sqlite.reader.SqliteReader`` has them all)."""

    def jobs_page(self, f: JobFilter, after: tuple[int, str] | None, limit: int) -> list[Row]: ...

    def jobs_count(self, f: JobFilter) -> int: ...

    def get_job(self, job_id: str, *, apps: Sequence[str] | None) -> Row | None: ...

    def labels(self, ids: Sequence[str], *, apps: Sequence[str] | None
               ) -> dict[str, str | None]: ...  # fmt: skip

    def children_counts(
        self, ids: Sequence[str], *, apps: Sequence[str] | None
    ) -> dict[str, tuple[int, int]]: ...

    def close(self) -> None: ...


def find(
    query: Mapping[str, Any], job_types: Collection[str], apps: Sequence[str],
    page: Page, count: Callable[[JobFilter], int], after: tuple[int, str] | None = None,
) -> Cursor[Job]:  # fmt: skip
    """Jobs of ``apps`` matching the spec's ``find`` query (``job_types``: the names its
    ``type`` may use), newest first, streamed from ``page``; with ``after`` (a job's
    ``(created ms, id)``) only the older ones, so a reader pages by keyset."""
    q = FindQuery.parse(query, job_types)
    f = JobFilter(q.types, q.statuses, q.created, q.started, q.ended, q.has_errors, apps=apps)
    return Cursor(
        lambda after, limit: page(f, after, limit),
        lambda row: (row["created_ms"], row["id"]),
        Job.from_row,
        lambda: count(f),
        q.size,
        after,
    )


class JobReads:
    """The engine's reads of one app's jobs over a :class:`ReadStore`."""

    def __init__(self, store: ReadStore, app: str) -> None:
        from sysjobs.jobs.registry import Registry

        self.store = store
        self.apps = (app,)
        #: What ``find``'s ``type`` accepts of an engine with no app loaded.
        self.job_types = Registry().queryable()

    def find(
        self, query: Mapping[str, Any], *, after: tuple[int, str] | None = None
    ) -> Cursor[Job]:
        """``Engine.find``."""
        store = self.store
        return find(query, self.job_types, self.apps, store.jobs_page, store.jobs_count, after)

    def require(self, job_id: str, *, parameter: str = "jobId") -> Job:
        """``Engine.require``: the job, or ``NotFound`` (``BadRequest`` for a malformed id)."""
        row = self.store.get_job(check_job_id(job_id, parameter), apps=self.apps)
        if row is None:
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        return Job.from_row(row)

    def close(self) -> None:
        """Release the store."""
        self.store.close()

    def tree_info(self, jobs: Sequence[Job]) -> dict[str, TreeInfo]:
        """``Engine.tree_info``: two reads for the whole page."""
        apps = self.apps
        return tree_infos(jobs, lambda ids: self.store.labels(ids, apps=apps),
                          lambda ids: self.store.children_counts(ids, apps=apps))  # fmt: skip
