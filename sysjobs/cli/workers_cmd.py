"""``sysjobs workers``: the workers registry, like ``rq info``'s workers or ``sidekiqmon``.

One row per pool of job slots — a ``sysjobs worker`` process, a ``serve`` worker, an
embedder's in-process pool —: host, pid, slots, busy slots, queues, apps, how long since its
last heartbeat, and whether it is alive or gone (no heartbeat for a few lease periods: it
died; the row is pruned later). By default the workers serving the app of ``--app`` (the
demo app without it); ``--all-apps`` lists every worker of the database. ``--json`` prints
what ``GET /api/workers`` answers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import opened_engine
from sysjobs.cli.options import AppOption, DbOption, JsonOption


class State(StrEnum):
    """``--state``: the workers to keep."""

    alive = "alive"
    gone = "gone"


@app.command("workers")
def workers(
    all_apps: Annotated[
        bool, typer.Option("--all-apps", help="List the workers of every app, not only --app's.")
    ] = False,
    state: Annotated[
        State | None, typer.Option(help="Only the workers in this state (alive, gone).")
    ] = None,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the workers: host, pid, slots, busy, queues, apps, last seen, state."""
    from sysjobs.jobs.workers import list_workers
    from sysjobs.web.views import workers_json

    with opened_engine(db, app_dir) as engine:
        found = list_workers(engine, None if all_apps else engine.app)
        shown = [w for w in found if state is None or w.state == state]
        if as_json:
            view.print_json(workers_json("*" if all_apps else engine.app, shown))
            return
        title = "Workers of every app" if all_apps else f"Workers serving app {engine.app}"
        view.console().print(view.workers_view(shown, title))
