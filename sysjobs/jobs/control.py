"""The user verbs that move jobs: stop, force_stop, resume, cancel, kill, low priority; and
the shape of a new job row.

Stop and cancel of a running job are requests: the status says STOPPING/CANCELING, the
worker sees it at the next safe point (or forces it once ``force_at`` passes). A job that is
not running is canceled at once. Anything the transition table does not allow raises
``Conflict`` naming the status the job is in.

:class:`Control` holds the engine's parts it needs (``sysjobs.jobs.parts``), not the engine:
``Engine``'s verbs delegate to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from sysjobs.errors import BadRequest, Conflict, NotFound
from sysjobs.jobs.hooks import fire
from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.models import Job
from sysjobs.jobs.parts import EngineParts
from sysjobs.jobs.registry import JobType
from sysjobs.jobs.status import PRIORITY_STATUSES, illegal, paths_for
from sysjobs.jobs.tree import Lineage, Tree
from sysjobs.jobs.values import log_row, shown


class Control:
    """The transitions users ask for, and the log lines anyone may add to a job."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts
        self.settings = parts.settings
        self.store = parts.store
        #: The verbs that act on a job's tree (stop, resume, cancel) and the tree's reads.
        self.tree = Tree(parts)

    def stop(self, job_id: str) -> Job:
        """Ask a RUNNING job to stop at its next safe point (forced after the grace period),
        with every job below it (``sysjobs.jobs.tree``)."""
        grace = self.settings.clock.now_ms() + int(self.settings.stop_grace_s * 1000)
        return self.tree.move("stop", job_id, {"STOPPING": {"force_at_ms": grace}})

    def force_stop(self, job_id: str) -> Job:
        """Stop a RUNNING/STOPPING job now: its worker terminates the execution."""
        now = self.settings.clock.now_ms()
        return self._move("force_stop", job_id, {"STOPPING": {"force_at_ms": now}})

    def resume(self, job_id: str) -> Job:
        """Put a STOPPED job back to PENDING, with the stopped jobs below it; it continues
        from its checkpoint."""
        return self.tree.move("resume", job_id, {"PENDING": {"ended_ms": None}})

    def cancel(self, job_id: str) -> Job:
        """Cancel for good: at once when not running, else at the worker's next safe point.

        With every job below it. (The end date of a job canceled at once is the store's:
        read under the row lock.)"""
        grace = self.settings.clock.now_ms() + int(self.settings.stop_grace_s * 1000)
        values = {"CANCELING": {"force_at_ms": grace}}
        return self.tree.move("cancel", job_id, values)

    def kill(self, job_id: str) -> Job:
        """End a job now, for good: CANCELED, with no grace period.

        A running job lands in CANCELING with its force time set to now, so the worker that
        holds its lease terminates the V8 execution at its next heartbeat (brought forward by
        the kill's ``stop:<id>`` hint: ``sysjobs.worker.beats``) and ends it
        CANCELED (the state machine's only forced end that is final). A job not running is
        CANCELED at once. The transitions carry the reason ``kill`` and the job's log says
        who ended it. FINISHED or CANCELED jobs raise ``Conflict``.
        """
        now = self.settings.clock.now_ms()
        values = {"CANCELED": {"ended_ms": now}, "CANCELING": {"force_at_ms": now}}
        job = self._move("kill", job_id, values)
        self.log(job.id, "INFO", "Killed: its execution is ended now, without a grace period.")
        return job

    def log(self, job_id: str, level: str, message: str, info: Any = None) -> None:
        """Append a line to any job's log, under the job's caps (``NotFound`` if no job)."""
        entry = log_row(level, message, info, self.settings.clock.now_ms())
        capped = self.parts.caps.capped_entry(check_job_id(job_id), entry)
        if capped is None:  # over the job's log cap: dropped (the job's log says so)
            return
        if not self.parts.backend.append_log(job_id, capped, apps=self.parts.apps):
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        self.parts.hub.notify([f"job:{job_id}"])

    def set_low_priority(self, job_id: str, flag: bool) -> Job:
        """Flag or unflag a job as low priority (matters while it is PENDING)."""
        row = self.store.set_low_priority(check_job_id(job_id), bool(flag), apps=self.parts.apps)
        if row is None:
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        return Job.from_row(row)

    def change_priority(self, job_id: str, flag: bool) -> Job:
        """The user verb ``low-priority`` — one rule for the dashboard, its HTTP API and the
        CLI: allowed while no worker holds the job (PENDING, STOPPED), else ``Conflict``.
        (A script's ``setLowPriority`` is the spec's and takes any status.)"""
        current = self.parts.require(job_id)
        if str(current.status) not in PRIORITY_STATUSES:
            raise Conflict(
                f"Cannot change the priority of job {job_id}: its status is {current.status}. "
                f"Allowed only when the status is: {', '.join(PRIORITY_STATUSES)}",
                info={"status": str(current.status)},
            )
        return self.set_low_priority(job_id, flag)

    def _move(self, verb: str, job_id: str, values: Mapping[str, Mapping[str, Any]]) -> Job:
        row, current = self.store.transition(
            check_job_id(job_id), apps=self.parts.apps, paths=paths_for(verb), reason=verb,
            values=values,
        )  # fmt: skip
        if row is not None:
            job = Job.from_row(row)
            fire(self.parts.hooks, lambda hook: hook.job_changed(job, verb))
            return job
        if current is None:
            raise NotFound(f"Job {job_id} not found", info={"jobId": job_id})
        raise illegal(verb, job_id, current)


def new_job_row(
    parts: EngineParts,
    job_type: JobType,
    data: Mapping[str, Any],
    *,
    label: str | None,
    run_by: Mapping[str, Any] | None,
    low_priority: bool,
    queue: str | None,
    lineage: Lineage,
) -> dict[str, Any]:
    """The ``jobs`` row of a new PENDING job (validated data; ``lineage``: its parent and
    root, resolved by ``sysjobs.jobs.tree.lineage``)."""
    _validate_data(job_type, data)
    queue = parts.registry.require_queue(job_type.queue if queue is None else queue)
    parent_id, root_id = lineage
    created = parts.clock.now_ms()
    return {
        "id": parts.ids.new(created),
        "app": parts.settings.app,
        "type": job_type.name,
        "label": label if label is not None else job_type.name,
        "status": "PENDING",
        "queue": queue,
        "low_priority": bool(low_priority),
        "progress": 0,
        "has_errors": False,
        "created_ms": created,
        "run_by_id": None if run_by is None else str(run_by.get("id") or ""),
        "run_by_name": None if run_by is None else str(run_by.get("name") or ""),
        "parent_id": parent_id,
        "root_id": root_id,
        "data": dict(data),
        "attempt": 0,
        "lost_count": 0,
        "max_retries": job_type.max_retries,
        "started_ms": None,
        "ended_ms": None,
        "owner": None,
        "lease_expires_ms": None,
        "force_at_ms": None,
    }


def _validate_data(job_type: JobType, data: object) -> None:
    if not isinstance(data, Mapping):
        raise BadRequest(
            f"Invalid value {shown(data)} for parameter 'data'. Allowed values: an object"
        )
    try:
        job_type.data_model.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"'{'.'.join(str(p) for p in e['loc']) or 'data'}': {e['msg']}" for e in exc.errors()
        )
        raise BadRequest(f"Invalid data for job type {job_type.name}: {problems}") from exc
