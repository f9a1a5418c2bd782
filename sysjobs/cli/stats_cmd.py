"""``sysjobs jobs stats``: queue depth, oldest pending age, running, throughput, lost leases.

The figures a person on call wants first: is work piling up (depth, oldest age), is it
moving (running, finished per minute), and are workers dying (leases the reaper recovered).
"""

from __future__ import annotations

from typing import Annotated

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.jobs_base import jobs_app, opened_engine
from sysjobs.cli.options import AppOption, DbOption, JsonOption

#: The defaults of ``sysjobs.jobs.stats`` and ``sysjobs.web.api``, spelled here so that
#: registering this command imports neither (a unit test keeps them equal).
DEFAULT_WINDOW_S = 3600.0
MAX_WINDOW_S = 365 * 86_400.0


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
    from sysjobs.jobs.stats import engine_stats
    from sysjobs.web.views import stats_json

    with opened_engine(db, app_dir) as engine:
        figures = engine_stats(engine, window)
    if as_json:
        view.print_json(stats_json(figures))
    else:
        view.stats_table(figures)
