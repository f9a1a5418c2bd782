"""``sysjobs logs app``: the app's own log (``sys.logs``), filtered by level, text and period.

Oldest first, like a job's log; ``--json`` prints one object per line. The app is the one
``--app`` names (the default app without it), on the database ``--db`` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import TIME_HELP, TimeOpt, opened_engine
from sysjobs.cli.options import AppOption, DbOption, JsonOption

if TYPE_CHECKING:
    from sysjobs.jobs import AppLog

logs_app = typer.Typer(
    name="logs", help="Read the app's own log (sys.logs).", no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(logs_app, name="logs")

_LEVEL_STYLE = {"ERROR": "[red]ERROR[/]", "WARN": "[yellow]WARN [/]", "INFO": "INFO ",
                "DEBUG": "[dim]DEBUG[/]"}  # fmt: skip


def app_log_line(entry: AppLog) -> str:
    """``2026-12-06 10:00:00 WARN  message`` (the job that wrote it, if any, after it)."""
    job = f" [dim]({entry.job_id})[/]" if entry.job_id else ""
    return f"[dim]{view.when(entry.timestamp)}[/] {_LEVEL_STYLE[entry.level]} " \
           f"{view.plain(entry.message)}{job}"


@logs_app.command("app")
def app_logs(
    level: Annotated[str | None, typer.Option(help="INFO, WARN, ERROR or DEBUG.")] = None,
    contains: Annotated[
        str | None, typer.Option("--contains", "--message", help="Text the message contains.")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help=TIME_HELP)] = None,
    to: TimeOpt = None,
    period: Annotated[
        str | None, typer.Option(help="today, yesterday, or a duration like '2h 30m'.")
    ] = None,
    size: Annotated[int | None, typer.Option("--size", "-n", help="At most this many.")] = None,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the app's own log (sys.logs), oldest first."""
    query = {
        "level": level, "message": contains, "from": view.parse_time(from_, "from"),
        "to": view.parse_time(to, "to"), "period": period, "_size": size,
    }  # fmt: skip
    query = {k: v for k, v in query.items() if v is not None}
    from sysjobs.web.views import app_log_json

    with opened_engine(db, app_dir) as engine:
        for entry in engine.app_logs(query):
            if as_json:
                view.print_json(app_log_json(entry))
            else:
                view.console().print(app_log_line(entry))
