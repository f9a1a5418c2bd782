"""``sysjobs jobs logs ID [--follow]``: a job's log, filtered by the spec's ``logs`` parameters.

``--follow`` keeps printing new lines under a progress bar of the job's progress until the
job ends (FINISHED, STOPPED or CANCELED). It re-reads from the last timestamp it printed
and skips lines it already showed, so it works the same across processes and machines:
the engine's ``wait`` wakes it early on a hint and polls behind it.

Every stored text is printed through ``jobs_view`` (``plain``/``print_json``), which writes a
lone UTF-16 surrogate as ``\\udXXX`` instead of failing on stdout's encoding.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.jobs_base import TIME_HELP, IdArg, TimeOpt, jobs_app, opened_engine
from sysjobs.cli.options import AppOption, DbOption, JsonOption
from sysjobs.errors import Timeout

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from sysjobs.jobs import Engine, JobLog

#: Seconds between re-reads while following (a hint wakes it sooner).
FOLLOW_POLL_S = 0.5


class LogTail:
    """Reads a job's log in order, each line once, however often it is asked."""

    def __init__(self, engine: Engine, job_id: str, query: dict[str, Any]) -> None:
        self.engine, self.job_id, self.query = engine, job_id, query
        self.last: tuple[int, int] | None = None

    def new_lines(self) -> list[JobLog]:
        """Lines after the last one returned (the first call honours the whole query)."""
        query = dict(self.query)
        if self.last is not None:
            query.pop("period", None)
            query["from"] = max(self.last[0], query.get("from") or 0)
            query.pop("_size", None)
        entries = [e for e in self.engine.logs(self.job_id, query) if self._is_new(e)]
        if entries:
            last = entries[-1]
            self.last = (int(last.timestamp.timestamp() * 1000), last.id)
        return entries

    def _is_new(self, entry: JobLog) -> bool:
        key = (int(entry.timestamp.timestamp() * 1000), entry.id)
        return self.last is None or key > self.last


@jobs_app.command("logs")
def logs(
    job_id: IdArg,
    level: Annotated[str | None, typer.Option(help="INFO or ERROR.")] = None,
    message: Annotated[str | None, typer.Option(help="Text the message contains.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help=TIME_HELP)] = None,
    to: TimeOpt = None,
    period: Annotated[
        str | None, typer.Option(help="today, yesterday, or a duration like '2h 30m'.")
    ] = None,
    size: Annotated[int | None, typer.Option("--size", "-n", help="At most this many.")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Stream new lines until the job ends.")
    ] = False,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a job's log, oldest first; --follow streams it with a progress bar."""
    query = {
        "level": level, "message": message, "from": view.parse_time(from_, "from"),
        "to": view.parse_time(to, "to"), "period": period, "_size": size,
    }  # fmt: skip
    query = {k: v for k, v in query.items() if v is not None}
    with opened_engine(db, app_dir) as engine:
        tail = LogTail(engine, job_id, query)
        if follow:
            try:
                _follow(engine, job_id, tail, as_json)
            except KeyboardInterrupt:  # Ctrl-C ends following, not the job
                raise typer.Exit(130) from None
        else:
            _print(tail.new_lines(), as_json)


def _print(entries: list[JobLog], as_json: bool) -> None:
    from sysjobs.web.views import log_json

    for entry in entries:
        if as_json:
            view.print_json(log_json(entry))
        else:
            view.console().print(view.log_line(entry))


def _follow(engine: Engine, job_id: str, tail: LogTail, as_json: bool) -> None:
    """Stream lines; people get a progress bar, programs get one JSON object per line."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if as_json:
        while not _step(engine, job_id, tail, lambda e: _print(e, True)):
            pass
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=view.console(), transient=False) as bar:
        task = bar.add_task(job_id, total=100)

        def show(entries: list[JobLog]) -> None:
            for entry in entries:
                bar.console.print(view.log_line(entry))

        while not _step(engine, job_id, tail, show, bar, task):
            pass


def _step(engine: Engine, job_id: str, tail: LogTail, show: Any,
          bar: Progress | None = None, task: TaskID | None = None) -> bool:  # fmt: skip
    """Print what is new and update the bar; True once the job has ended."""
    from sysjobs.web.views import ENDED

    job = engine.require(job_id)
    show(tail.new_lines())
    if bar is not None and task is not None:
        description = view.plain(f"{job.label} {job.status}")
        bar.update(task, completed=job.progress, description=description)
    if job.status in ENDED:
        show(tail.new_lines())
        return True
    with contextlib.suppress(Timeout):
        engine.wait(job_id, ENDED, FOLLOW_POLL_S)
    return False
