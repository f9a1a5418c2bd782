"""``sysjobs db upgrade`` / ``sysjobs db prune``: schema migrations and retention.

``upgrade`` creates a database that is not there; ``prune`` refuses one (a mistyped
``--db`` would otherwise be created empty, and "pruned 0 job(s)" said nothing was wrong).
"""

from __future__ import annotations

from typing import Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import opened_engine
from sysjobs.cli.options import DbOption

db_app = typer.Typer(
    help="Database maintenance: migrations and retention.", no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Create the database if needed and apply every pending migration."""
    with opened_engine(db, None, existing=False) as engine:
        typer.echo(f"database is up to date: {engine.url}")


@db_app.command("prune")
def prune(
    db: DbOption = None,
    jobs_days: Annotated[
        float,
        typer.Option("--jobs-days", min=0, help="Remove FINISHED/CANCELED jobs older than this."),
    ] = 30.0,
    logs_days: Annotated[
        float | None, typer.Option("--logs-days", min=0, help="Also remove older log lines.")
    ] = None,
) -> None:
    """Apply retention: delete ended jobs (with logs, results, events) and old log lines."""
    with opened_engine(db, None) as engine:
        counts = engine.prune(jobs_days=jobs_days, logs_days=logs_days)
    typer.echo(f"pruned {counts.jobs} job(s) and {counts.logs} log line(s)")
