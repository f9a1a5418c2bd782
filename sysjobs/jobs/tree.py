"""The job tree: who started whom, and the verbs that act on a job with everything below it.

A job created while another job runs is that job's child: ``parent_id`` is the running
job, ``root_id`` the top of the chain (None for a root). Both are resolved once per
enqueue, inside the app: a parent id of another app is ``notFound`` (never linked).

Stop, resume and cancel act on the job named **and every job below it** — for a root, its
whole tree; for a child, its subtree (docs/jobs-api.md, "The job tree"). The job named moves
by the state machine's usual rule (anything else is ``Conflict`` naming its status, and
nothing moves), except that a job already final lets the verb reach the jobs below it; the
jobs below move by :data:`~sysjobs.jobs.status.TREE_TRANSITIONS` (a PENDING child of a
stopped tree is STOPPED, so that it does not run until the tree is resumed).

``childrenJobsCount`` is the number of a job's direct children; ``childrenJobsProcessed``
the number of them in a final status (FINISHED or CANCELED). They are counted when read,
over an index, a page of jobs in one query — never stored on the parent's row, which
would turn every child's end into a write on one hot row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sysjobs.errors import BadRequest, Conflict, NotFound
from sysjobs.jobs.hooks import fire
from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.models import Job
from sysjobs.jobs.parts import EngineParts
from sysjobs.jobs.status import TREE_TRANSITIONS, illegal, paths_for
from sysjobs.jobs.tree_info import JobRef as JobRef  # (its home before ``tree_info``)
from sysjobs.jobs.tree_info import TreeInfo as TreeInfo
from sysjobs.jobs.tree_info import tree_infos
from sysjobs.jobs.values import check_int
from sysjobs.store.tree import TreeMove, TreeStore

#: Most jobs one page of a tree may hold.
MAX_TREE_PAGE = 100_000
#: ``(parent_id, root_id)`` of a new job.
Lineage = tuple[str | None, str | None]


def lineage(parts: EngineParts, parent_id: str | None) -> Lineage:
    """The parent and root a new child of ``parent_id`` records (``notFound`` when the
    parent is not a job of this engine's app)."""
    if parent_id is None:
        return None, None
    parent = parts.require(parent_id, parameter="parentId")
    return parent.id, parent.root_id or parent.id


class Tree:
    """The tree's reads and verbs, over the engine's parts."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts
        self.store = TreeStore(parts.database, parts.clock.now_ms)

    def move(self, verb: str, job_id: str, values: Mapping[str, Mapping[str, Any]]) -> Job:
        """``verb`` (stop, resume, cancel) on the job and every job below it."""
        move = TreeMove(top=paths_for(verb), below=_below(verb), reason=verb, values=values,
                        refused_below=("STOPPING",) if verb == "resume" else ())  # fmt: skip
        moved = self.store.move(check_job_id(job_id), apps=self.parts.apps, move=move)
        if moved.refused_by is not None:
            busy, status = moved.refused_by
            raise Conflict(
                f"Cannot {verb} job {job_id}: job {busy} below it is still {status}. "
                f"Allowed once every job below it has stopped (try again shortly)",
                info={"jobId": busy, "status": status},
            )
        if moved.row is not None:
            job = Job.from_row(moved.row)
            fire(self.parts.hooks, lambda hook: hook.job_changed(job, verb))
            return job
        if moved.refused_status is None:
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        raise illegal(verb, job_id, moved.refused_status)

    def take(self, job_id: str, reason: str) -> Job | None:
        """End a job no worker has claimed — PENDING, and only then — as CANCELED (with
        ``reason``), so that the caller runs its work instead; None when it was not PENDING
        (a worker has it, or it ended). Atomic with the claims: one of them wins."""
        move = TreeMove(top={"PENDING": ("CANCELING", "CANCELED")}, below={}, reason=reason)
        moved = self.store.move(check_job_id(job_id), apps=self.parts.apps, move=move)
        if moved.row is None:
            return None
        job = Job.from_row(moved.row)
        fire(self.parts.hooks, lambda hook: hook.job_changed(job, "cancel"))
        return job

    def info(self, jobs: Sequence[Job]) -> dict[str, TreeInfo]:
        """:class:`TreeInfo` of each job: two queries for the whole page (labels of the
        parents and roots, children counts)."""
        apps = self.parts.apps
        return tree_infos(jobs, lambda ids: self.store.labels(ids, apps=apps),
                          lambda ids: self.store.children_counts(ids, apps=apps))  # fmt: skip

    def of(self, job: Job) -> TreeInfo:
        """:class:`TreeInfo` of one job."""
        return self.info([job])[job.id]

    def jobs(
        self, job_id: str, *, children_only: bool = False, size: int = 50,
        after: tuple[int, str] | None = None,
    ) -> tuple[list[Job], int]:  # fmt: skip
        """A page of the jobs below a job, newest first, and how many there are: every job
        of the tree of a root (``badRequest`` for a job that is not one), or a job's direct
        children with ``children_only``."""
        size = check_int(size, "_size", 1, MAX_TREE_PAGE, f"1 to {MAX_TREE_PAGE}")
        top = self.parts.require(job_id, parameter="jobId" if children_only else "root")
        if not children_only and top.root_id is not None:
            raise BadRequest(
                f"Invalid value '{job_id}' for parameter 'root': job {job_id} is not a root "
                f"job, its root is {top.root_id}. Allowed values: the id of a root job",
                info={"rootId": top.root_id},
            )
        column = "parent_id" if children_only else "root_id"
        apps = self.parts.apps
        rows = self.store.tree_page(column, top.id, apps=apps, after=after, limit=size)
        return [Job.from_row(r) for r in rows], self.store.tree_count(column, top.id, apps=apps)


def _below(verb: str) -> dict[str, tuple[str, ...]]:
    return {a.value: tuple(s.value for s in p) for a, p in TREE_TRANSITIONS[verb].items()}
