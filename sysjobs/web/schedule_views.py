"""The JSON shape of an app's schedules, shared by ``GET /api/schedules`` and
``sysjobs schedules --json`` (camelCase keys, times in milliseconds since the epoch, as
``sysjobs.web.views`` writes every other shape). Imports no web framework: the CLI uses it."""

from __future__ import annotations

from typing import Any

from sysjobs.jobs.models import to_ms
from sysjobs.jobs.schedules import ScheduleInfo


def schedules_json(app: str, schedules: list[ScheduleInfo]) -> dict[str, Any]:
    """An app's schedules, by name (removed ones too, ``state: removed``)."""
    return {"app": app, "count": len(schedules),
            "schedules": [schedule_json(s) for s in schedules]}  # fmt: skip


def schedule_json(schedule: ScheduleInfo) -> dict[str, Any]:
    """One schedule: its definition, its next run and its last run (tick, start, job)."""
    status = schedule.last_job_status
    return {
        "name": schedule.name,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "target": schedule.target,
        "enabled": schedule.enabled,
        "state": schedule.state,
        "nextRunAt": to_ms(schedule.next_run_at),
        "lastTickAt": to_ms(schedule.last_tick_at),
        "lastRunAt": to_ms(schedule.last_run_at),
        "lastJobId": schedule.last_job_id,
        "lastJobStatus": None if status is None else str(status),
    }
