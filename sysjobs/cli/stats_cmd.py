"""``sysjobs jobs stats``: queue depth, oldest pending age, running, throughput, lost leases,
and the workers serving the app (``sysjobs workers`` lists them on their own).

The figures a person on call wants first: is work piling up (depth, oldest age), is it
moving (running, finished per minute), and are workers dying (leases the reaper recovered).
``--watch`` redraws them every ``--interval`` seconds until Ctrl-C (or ``--count``
refreshes): in place on a terminal (rich ``Live``), one frame after another when piped,
one JSON document per line with ``--json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.jobs_base import jobs_app, opened_engine
from sysjobs.cli.options import AppOption, DbOption, JsonOption

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sysjobs.jobs import Engine

#: The defaults of ``sysjobs.jobs.stats`` and ``sysjobs.web.api``, spelled here so that
#: registering this command imports neither (a unit test keeps them equal).
DEFAULT_WINDOW_S = 3600.0
MAX_WINDOW_S = 365 * 86_400.0


def pause(seconds: float) -> None:
    """The wait between two refreshes of ``--watch`` (tests put their own in its place)."""
    time.sleep(seconds)


@jobs_app.command("stats")
def stats(
    window: Annotated[
        float, typer.Option(min=1, max=MAX_WINDOW_S, help="Throughput window in seconds.")
    ] = DEFAULT_WINDOW_S,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Redraw every --interval seconds until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, max=86_400, help="Seconds between two refreshes.")
    ] = 2.0,
    count: Annotated[
        int | None, typer.Option(min=1, help="With --watch: stop after this many refreshes.")
    ] = None,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show queue statistics (--watch: keep them up to date)."""
    with opened_engine(db, app_dir) as engine:
        if not watch:
            _show_once(engine, window, as_json)
            return
        try:
            refresh(engine, window, interval, count or None, as_json)
        except KeyboardInterrupt:  # Ctrl-C is how watching ends
            return


def _show_once(engine: Engine, window: float, as_json: bool) -> None:
    from sysjobs.jobs.stats import engine_stats
    from sysjobs.jobs.workers import list_workers
    from sysjobs.web.views import stats_json

    figures, workers = engine_stats(engine, window), list_workers(engine, engine.app)
    if as_json:
        view.print_json(stats_json(figures, workers))
    else:
        view.stats_table(figures, workers)


def refresh(
    engine: Engine, window: float, interval: float, count: int | None, as_json: bool
) -> None:
    """Draw ``count`` times (None: until interrupted), :func:`pause` between two draws."""
    if as_json:
        _repeat(lambda: _show_once(engine, window, True), interval, count)
        return
    console = view.console()
    if not console.is_terminal:  # piped: each frame after the last, nothing to redraw
        _repeat(lambda: console.print(_frame(engine, window, interval)), interval, count)
        return
    from rich.live import Live

    with Live(console=console, auto_refresh=False, transient=False) as live:
        _repeat(lambda: live.update(_frame(engine, window, interval), refresh=True),
                interval, count)  # fmt: skip


def _repeat(draw: Callable[[], None], interval: float, count: int | None) -> None:
    done = 0
    while True:
        draw()
        done += 1
        if count is not None and done >= count:
            return
        pause(interval)


def _frame(engine: Engine, window: float, interval: float) -> RenderableType:
    from sysjobs.jobs.stats import engine_stats
    from sysjobs.jobs.workers import list_workers

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    heading = f"[dim]{now} · every {interval:g}s · Ctrl-C to stop[/]"
    figures, workers = engine_stats(engine, window), list_workers(engine, engine.app)
    return view.stats_view(figures, heading, workers)
