"""Where a job is in its tree, as a job shows it: :class:`TreeInfo`, and how a page of jobs
gets theirs from two reads (the labels of their parents and roots, their children counts).

Apart from ``sysjobs.jobs.tree`` (the verbs, over the engine's parts and stores) so that a
reader without the engine — the CLI's read commands (``docs/cli-read-path.md``) — builds
the same objects the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from sysjobs.jobs.models import Job


class JobRef(BaseModel):
    """Another job as a job shows it: its id and label (None if it is gone, pruned)."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str | None


class TreeInfo(BaseModel):
    """Where a job is in its tree."""

    model_config = ConfigDict(frozen=True)

    #: The job that was running when this one was created, or None.
    parent: JobRef | None
    #: The top of that chain, or None (for a root job).
    root: JobRef | None
    #: Direct children created so far.
    children: int
    #: Direct children in a final status (FINISHED or CANCELED).
    children_processed: int

    def as_json(self) -> dict[str, Any]:
        """The shape scripts, the HTTP API and the CLI show."""
        return {
            "parentJob": _ref(self.parent),
            "rootJob": _ref(self.root),
            "childrenJobsCount": self.children,
            "childrenJobsProcessed": self.children_processed,
        }


def _ref(ref: JobRef | None) -> dict[str, Any] | None:
    return None if ref is None else {"id": ref.id, "label": ref.label}


#: ``{id: label}`` of the jobs among the ids given that exist.
Labels = Callable[[Sequence[str]], dict[str, str | None]]
#: ``{id: (children, children in a final status)}`` of the ids given.
Counts = Callable[[Sequence[str]], dict[str, tuple[int, int]]]


def tree_infos(jobs: Sequence[Job], labels: Labels, counts: Counts) -> dict[str, TreeInfo]:
    """:class:`TreeInfo` of each job: two reads for the whole page (``labels`` of the
    parents and roots, children ``counts``)."""
    others = {i for j in jobs for i in (j.parent_id, j.root_id) if i is not None}
    named = labels(sorted(others))
    counted = counts([j.id for j in jobs])

    def ref(job_id: str | None) -> JobRef | None:
        return None if job_id is None else JobRef(id=job_id, label=named.get(job_id))

    return {
        j.id: TreeInfo(parent=ref(j.parent_id), root=ref(j.root_id),
                       children=counted.get(j.id, (0, 0))[0],
                       children_processed=counted.get(j.id, (0, 0))[1])
        for j in jobs
    }  # fmt: skip
