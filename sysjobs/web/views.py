"""The JSON shapes of jobs, logs and stats, shared by the HTTP API and ``sysjobs … --json``.

One function per shape, so the CLI's ``--json`` and the dashboard's API never drift apart.
Keys are camelCase and times are milliseconds since the epoch, as the spec's ``find`` and
``logs`` parameters are; ``data`` never carries the handler's private ``_`` inputs. This
module imports no web framework: the CLI uses it too, and no store (``job_json`` serves the
CLI's read commands, which run without SQLAlchemy on SQLite).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sysjobs.jobs.models import to_ms
from sysjobs.jobs.status import PRIORITY_STATUSES, USER_TRANSITIONS

if TYPE_CHECKING:  # (the stats and workers modules open stores: imported where used)
    from sysjobs.jobs.models import AppLog, Job, JobEvent, JobLog
    from sysjobs.jobs.stats import EngineStats, Series
    from sysjobs.jobs.tree_info import TreeInfo
    from sysjobs.jobs.workers import WorkerInfo

#: Status in which each user verb is allowed (the dashboard enables buttons with these).
VERBS = ("stop", "force_stop", "resume", "cancel")
#: Statuses after which nothing changes any more for a follower.
ENDED = ("FINISHED", "STOPPED", "CANCELED")


def actions_for(status: str) -> dict[str, bool]:
    """Which verbs the state machine allows now; priority matters only before a claim."""
    allowed = {_camel(v): any(s.value == status for s in USER_TRANSITIONS[v]) for v in VERBS}
    allowed["lowPriority"] = status in PRIORITY_STATUSES
    return allowed


def job_json(job: Job, tree: TreeInfo | None = None) -> dict[str, Any]:
    """A job as the API and ``--json`` show it; with its ``tree`` (``Engine.tree_info``, a
    page's in one read), also ``parentJob``/``rootJob`` (``{id, label}`` or null) and
    ``childrenJobsCount``/``childrenJobsProcessed``."""
    shown = {
        "id": job.id,
        "type": job.type,
        "label": job.label,
        "status": str(job.status),
        "progress": job.progress,
        "createdAt": to_ms(job.created_at),
        "startedAt": to_ms(job.started_at),
        "endedAt": to_ms(job.ended_at),
        "waitingMs": job.waiting_ms(),
        "durationMs": job.duration_ms(),
        "hasErrors": job.has_errors,
        "runBy": job.run_by,
        "lowPriority": job.low_priority,
        "queue": job.queue,
        "parentId": job.parent_id,
        "rootId": job.root_id,
        "data": job.public_data(),
        "results": job.results,
        "actions": actions_for(str(job.status)),
    }
    return shown if tree is None else {**shown, **tree.as_json()}


def log_json(entry: JobLog) -> dict[str, Any]:
    """One log line."""
    return {
        "id": entry.id,
        "jobId": entry.job_id,
        "timestamp": to_ms(entry.timestamp),
        "level": entry.level,
        "message": entry.message,
        "additionalInfo": entry.additional_info,
    }


def app_log_json(entry: AppLog) -> dict[str, Any]:
    """One line of the app's own log (``sys.logs``); ``additionalInfo`` holds the line's
    ``exception``, ``jobId`` the job whose script wrote it (or None)."""
    return {
        "id": entry.id,
        "timestamp": to_ms(entry.timestamp),
        "level": entry.level,
        "message": entry.message,
        "additionalInfo": entry.additional_info,
        "jobId": entry.job_id,
    }


def event_json(event: JobEvent) -> dict[str, Any]:
    """One transition of the audit trail."""
    return {
        "at": to_ms(event.at),
        "from": None if event.from_status is None else str(event.from_status),
        "to": str(event.to_status),
        "attempt": event.attempt,
        "reason": event.reason,
    }


def stats_json(stats: EngineStats, workers: list[WorkerInfo] | None = None) -> dict[str, Any]:
    """Queue statistics (the model's fields, camelCased), and the workers serving the app
    when given (``jobs stats``' workers section)."""
    raw = stats.model_dump(mode="json")
    raw["queues"] = [{_camel(k): v for k, v in q.items()} for q in raw["queues"]]
    by_status = raw.pop("by_status")
    shown = {**{_camel(k): v for k, v in raw.items()}, "byStatus": by_status}
    if workers is not None:
        shown["workers"] = [worker_json(w) for w in workers]
    return shown


def series_json(series: Series) -> dict[str, Any]:
    """Throughput and queue depth over time, one list per figure (the charts' columns)."""
    return {_camel(k): v for k, v in series.model_dump(mode="json").items()}


def workers_json(app: str, workers: list[WorkerInfo]) -> dict[str, Any]:
    """The workers registry as ``GET /api/workers`` and ``sysjobs workers --json`` show it
    (``app``: whose workers, ``*`` for every app's)."""
    from sysjobs.jobs.workers import GONE_AFTER_LEASES

    return {"app": app, "goneAfterLeases": GONE_AFTER_LEASES, "count": len(workers),
            "workers": [worker_json(w) for w in workers]}  # fmt: skip


def worker_json(worker: WorkerInfo) -> dict[str, Any]:
    """One entry of the workers registry (times in ms since the epoch)."""
    raw = worker.model_dump(mode="json", exclude={"started_at", "last_seen_at"})
    return {
        **{_camel(k): v for k, v in raw.items()},
        "startedAt": to_ms(worker.started_at),
        "lastSeenAt": to_ms(worker.last_seen_at),
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
