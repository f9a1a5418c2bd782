"""``sysjobs jobs stats``: queue depth, oldest pending age, running, throughput, lost leases.

The figures a person on call wants first: is work piling up (depth, oldest age), is it
moving (running, finished per minute), and are workers dying (leases the reaper recovered).
"""

from __future__ import annotations

from typing import Annotated

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.jobs_base import jobs_app, opened_host
from sysjobs.cli.options import AppOption, DbOption, JsonOption
from sysjobs.jobs.stats import DEFAULT_WINDOW_S, engine_stats
from sysjobs.web.api import MAX_WINDOW_S
from sysjobs.web.views import stats_json


@jobs_app.command("stats")
def stats(
    window: Annotated[
        float, typer.Option(min=1, max=MAX_WINDOW_S, help="Throughput window in seconds.")
    ] = DEFAULT_WINDOW_S,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show queue statistics."""
    with opened_host(db, app_dir) as host:
        figures = engine_stats(host.engine, window)
    if as_json:
        view.print_json(stats_json(figures))
    else:
        view.stats_table(figures)
