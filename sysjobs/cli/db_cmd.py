"""``sysjobs db upgrade`` / ``sysjobs db prune``: schema migrations and retention."""

from __future__ import annotations

from typing import Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import DbOption

db_app = typer.Typer(
    help="Database maintenance: migrations and retention.", no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Apply every pending migration (the engine's and the app's)."""
    from sysjobs.jobs import Engine

    engine = Engine.open(db, migrate=True)
    typer.echo(f"database is up to date: {engine.url}")
    engine.close()


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
    from sysjobs.jobs import Engine

    engine = Engine.open(db)
    try:
        counts = engine.prune(jobs_days=jobs_days, logs_days=logs_days)
    finally:
        engine.close()
    typer.echo(f"pruned {counts.jobs} job(s) and {counts.logs} log line(s)")
