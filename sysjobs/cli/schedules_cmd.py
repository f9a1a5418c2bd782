"""``sysjobs schedules``: an app's cron schedules — when each runs next, and how its last
run went (the tick, when its job started, the job's id and status).

The app of ``--app`` (the demo app without it): with an app folder, its manifest's schedules
are written to the database first, as a worker serving it would; with an app key, the
database's rows as the app's workers last wrote them. Schedules removed from the manifest
stay listed as ``removed``. ``--json`` prints what ``GET /api/schedules`` answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sysjobs.cli import jobs_view as view
from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import opened_engine
from sysjobs.cli.options import AppOption, DbOption, JsonOption

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sysjobs.jobs.schedules import ScheduleInfo


@app.command("schedules")
def schedules(db: DbOption = None, app_dir: AppOption = None, as_json: JsonOption = False) -> None:
    """List the app's schedules: cron, time zone, target, state, next run, last run."""
    from sysjobs.jobs.schedules import list_schedules
    from sysjobs.web.schedule_views import schedules_json

    with opened_engine(db, app_dir) as engine:
        found = list_schedules(engine.parts)
        if as_json:
            view.print_json(schedules_json(engine.app, found))
            return
        view.console().print(_table(engine.app, found))


def _table(app_key: str, found: list[ScheduleInfo]) -> RenderableType:
    from rich.table import Table

    table = Table(title=f"Schedules of app {view.plain(app_key)} ({len(found)})",
                  title_justify="left")  # fmt: skip
    for column in ("NAME", "CRON", "TIMEZONE", "TARGET", "STATE", "NEXT RUN", "LAST RUN"):
        table.add_column(column, overflow="fold")
    for s in found:
        table.add_row(
            view.plain(s.name), view.plain(s.cron), view.plain(s.timezone),
            view.plain(s.target), s.state, _local(s.next_run_at, s.timezone), _last(s),
        )  # fmt: skip
    return table


def _last(s: ScheduleInfo) -> str:
    """The last run: its tick, its job and the job's status now."""
    if s.last_job_id is None:
        return "-"
    status = "pruned" if s.last_job_status is None else str(s.last_job_status)
    return f"{_local(s.last_tick_at, s.timezone)} {s.last_job_id} {status}"


def _local(when: datetime | None, zone: str) -> str:
    """A time in the schedule's own zone, with its offset (unambiguous in an overlap)."""
    if when is None:
        return "-"
    return when.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")
