"""``sysjobs db upgrade`` / ``sysjobs db prune``: schema migrations and retention.

``upgrade`` creates a database that is not there; ``prune`` refuses one (a mistyped
``--db`` would otherwise be created empty, and "pruned 0 job(s)" said nothing was wrong).
Both take ``--app`` like every command (a folder or an app key; only the key matters, so
no app is loaded): ``upgrade --app`` gives that app the rows an upgrade from a single-app
database left unowned (docs/many-apps.md), ``prune --app`` prunes that app's jobs and logs
and ``prune --all-apps`` every app's.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import opened_engine
from sysjobs.cli.options import AppOption, DbOption, fail

db_app = typer.Typer(
    help="Database maintenance: migrations and retention.", no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(db: DbOption = None, app_dir: AppOption = None) -> None:
    """Create the database if needed and apply every pending migration; with --app, that
    app takes the rows an upgrade from a single-app database left unowned."""
    from sysjobs.app.app import App

    with opened_engine(db, app_dir, existing=False, by_key=True) as engine:
        typer.echo(f"database is up to date: {engine.url}")
        if app_dir is not None and App.claim_unowned(engine):
            typer.echo(f"the rows the upgrade left unowned now belong to app {engine.app}")


@db_app.command("prune")
def prune(
    db: DbOption = None,
    app_dir: AppOption = None,
    all_apps: Annotated[
        bool, typer.Option("--all-apps", help="Prune every app's jobs and logs, not only --app's."),
    ] = False,
    jobs_days: Annotated[
        float,
        typer.Option("--jobs-days", min=0, help="Remove FINISHED/CANCELED jobs older than this."),
    ] = 30.0,
    logs_days: Annotated[
        float | None, typer.Option("--logs-days", min=0, help="Also remove older log lines.")
    ] = None,
) -> None:
    """Apply retention to the app of --app (or every app): delete ended jobs (with logs,
    results, events) and old log lines."""
    if all_apps and app_dir is not None:
        fail("badRequest", "Invalid value for option '--all-apps': it prunes every app, so it "
             "takes no --app. Allowed values: --app or --all-apps")  # fmt: skip
    with opened_engine(db, app_dir, by_key=True) as engine:
        counts = engine.prune(jobs_days=jobs_days, logs_days=logs_days, all_apps=all_apps)
    typer.echo(f"pruned {counts.jobs} job(s) and {counts.logs} log line(s)")
