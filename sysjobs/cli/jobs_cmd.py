"""``sysjobs jobs …``: list, inspect, wait for and control background jobs from a terminal.

Every filter is one of the spec's ``find`` / ``logs`` parameters under a CLI spelling
(``--start-from`` for ``startFrom``), handed to the engine as the same query map a script
would pass, so the CLI accepts and rejects exactly what ``sys.jobs.find`` does. Each read
command has ``--json`` (the dashboard API's shape); every error is one ``code: message``
line on stderr and exit code 2.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sysjobs.cli import app_logs_cmd, logs_cmd, stats_cmd  # noqa: F401  (register commands)
from sysjobs.cli import jobs_view as view
from sysjobs.cli.jobs_base import (
    CsvOpt,
    IdArg,
    IdsArg,
    Switch,
    TimeOpt,
    jobs_app,
    opened_engine,
    opened_host,
    opened_reads,
)  # fmt: skip
from sysjobs.cli.options import AppOption, DbOption, JsonOption, cli_message, fail
from sysjobs.errors import SysError, code_of

if TYPE_CHECKING:
    from sysjobs.jobs import Engine, Job
    from sysjobs.jobs.reads import Reads
    from sysjobs.jobs.tree_info import TreeInfo


#: The longest ``jobs wait --timeout`` (a year): a finite number, never NaN or infinity.
MAX_WAIT_S = 365 * 86_400.0


def job_json(job: Job, tree: TreeInfo | None = None) -> dict[str, Any]:
    """The dashboard API's shape of ``job``, with its ``tree`` when given
    (``sysjobs.web.views`` is imported on use)."""
    from sysjobs.web.views import job_json as shape

    return shape(job, tree)


def _csv(values: list[str] | None) -> str | None:
    return ",".join(values) if values else None


def find_query(options: dict[str, Any]) -> dict[str, Any]:
    """The spec's ``find`` map from the CLI options (unset ones left out)."""
    query: dict[str, Any] = {"type": _csv(options["type"]), "status": _csv(options["status"])}
    for key in ("startFrom", "startTo", "endFrom", "endTo", "createFrom", "createTo"):
        query[key] = view.parse_time(options[key], key)
    query["hasErrors"] = options["has_errors"]
    query["_size"] = options["size"]
    return {k: v for k, v in query.items() if v is not None}


@jobs_app.command("ls")
def ls(
    type: CsvOpt = None,
    status: CsvOpt = None,
    start_from: TimeOpt = None,
    start_to: TimeOpt = None,
    end_from: TimeOpt = None,
    end_to: TimeOpt = None,
    create_from: TimeOpt = None,
    create_to: TimeOpt = None,
    has_errors: Annotated[
        bool | None, typer.Option("--has-errors/--no-errors", help="Only with / without errors.")
    ] = None,
    size: Annotated[int, typer.Option("--size", "-n", help="At most this many jobs.")] = 50,
    root: Annotated[str | None, typer.Option(
        "--root", "--tree", metavar="ID",
        help="The jobs of the tree of this root job (newest first; alone, or with --size).",
    )] = None,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first, filtered by the spec's find parameters — or a root job's
    tree with --root."""
    options = {
        "type": type, "status": status, "startFrom": start_from, "startTo": start_to,
        "endFrom": end_from, "endTo": end_to, "createFrom": create_from,
        "createTo": create_to, "has_errors": has_errors, "size": size,
    }  # fmt: skip
    query = find_query(options)
    if root is not None and set(query) - {"_size"}:
        fail("badRequest", "Option '--root' lists a tree on its own. Allowed with it: "
             f"--size, --json (not {', '.join(sorted(set(query) - {'_size'}))})")  # fmt: skip
    with opened_engine(db, app_dir) if root is not None else opened_reads(db, app_dir) as reads:
        found, total = _listed(reads, query) if root is None else _tree(reads, root, size)
        trees = reads.tree_info(found)
    if as_json:
        view.print_json({"count": total, "jobs": [job_json(j, trees[j.id]) for j in found]})
    else:
        view.jobs_table(found, total)


def _listed(reads: Reads, query: dict[str, Any]) -> tuple[list[Job], int]:
    """The jobs ``ls`` shows, found by the query, and how many match."""
    cursor = reads.find(query)
    return list(cursor), cursor.count()


def _tree(reads: Reads, root: str, size: int) -> tuple[list[Job], int]:
    """A page of ``root``'s tree and how many jobs it holds (the engine's read:
    ``opened_engine``)."""
    tree_jobs: Callable[..., tuple[list[Job], int]] = getattr(reads, "tree_jobs")  # noqa: B009
    return tree_jobs(root, size=size)


@jobs_app.command("show")
def show(job_ids: IdsArg, db: DbOption = None, app_dir: AppOption = None,
         as_json: JsonOption = False) -> None:  # fmt: skip
    """Show jobs: status, progress, times, data (without private inputs) and results."""
    with opened_reads(db, app_dir) as reads:
        detail = _apart(lambda job: view.job_detail(job, reads.tree_info([job])[job.id]))
        for_each(job_ids, reads.require, as_json, detail, reads)


def _apart(show: Callable[[Job], None]) -> Callable[[Job], None]:
    """``show``, with a blank line before every job but the first."""
    shown = itertools.count()

    def each(job: Job) -> None:
        if next(shown):
            view.console().print()
        show(job)

    return each


def for_each(
    job_ids: list[str], act: Callable[[str], Job], as_json: bool, show: Callable[[Job], None],
    reads: Reads,
) -> None:
    """Apply ``act`` to each id in turn, each outcome reported as it comes: the job (a line,
    or a JSON object per line with ``--json``), or its ``code: message`` on stderr — which
    names the id — and, with ``--json``, ``{"id", "error"}`` on stdout too. Every id is
    tried; the exit code is 2 when any of them failed. JSON carries each job's tree."""
    failed = 0
    for job_id in job_ids:
        try:
            job = act(job_id)
        except SysError as exc:
            failed += 1
            _report_error(job_id, exc, as_json)
            continue
        if as_json:
            view.print_json(job_json(job, reads.tree_info([job])[job.id]))
        else:
            show(job)
    if failed:
        raise typer.Exit(2)


def _report_error(job_id: str, exc: SysError, as_json: bool) -> None:
    code, message = code_of(exc), cli_message(exc.message)
    if as_json:
        view.print_json({"id": job_id, "error": {"code": code, "message": message}})
    typer.echo(f"{code}: {message}", err=True)


@jobs_app.command("wait")
def wait(
    job_id: IdArg,
    status: Annotated[list[str], typer.Option(help="Wanted status; repeat or use commas.")],
    timeout: Annotated[
        float, typer.Option(min=0, max=MAX_WAIT_S, help="Seconds to wait at most.")
    ] = 60.0,
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Wait until the job reaches one of the statuses (else exit 2 with a timeout line)."""
    wanted = [s.strip() for item in status for s in item.split(",") if s.strip()]
    with opened_engine(db, app_dir) as engine:
        _report(engine.wait(job_id, wanted, timeout), as_json, engine)


def _report(job: Job, as_json: bool, engine: Engine) -> None:
    if as_json:
        view.print_json(job_json(job, engine.tree_info([job])[job.id]))
    else:
        _status_line(job)


def _status_line(job: Job) -> None:
    view.console().print(f"{job.id} {view.status_text(str(job.status))} {job.progress}%")


def _verb(name: str, doc: str) -> None:
    def command(job_ids: IdsArg, db: DbOption = None, app_dir: AppOption = None,
                as_json: JsonOption = False) -> None:  # fmt: skip
        with opened_host(db, app_dir, existing=True) as host:
            act = getattr(host.engine, name.replace("-", "_"))
            for_each(job_ids, act, as_json, _status_line, host.engine)

    command.__doc__ = doc
    jobs_app.command(name)(command)


_verb("stop", "Ask RUNNING jobs to stop at their next safe point (resumable), with every "
      "job below each (its tree): pending ones are held STOPPED.")
_verb("force-stop", "Stop RUNNING or STOPPING jobs now, terminating their scripts.")
_verb("resume", "Put STOPPED jobs back to PENDING, with the stopped jobs below each; each "
      "continues where it stopped.")
_verb("cancel", "Cancel PENDING, RUNNING or STOPPED jobs for good, with every job below each.")
_verb("kill", "End jobs now, for good: terminate their scripts without a grace period "
      "(CANCELED).")  # fmt: skip


@jobs_app.command("low-priority")
def low_priority(
    job_ids: IdsArg,
    switch: Annotated[str, typer.Argument(metavar="on|off", help="on or off.")],
    db: DbOption = None,
    app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Flag or unflag PENDING or STOPPED jobs as low priority (the API's rule: a job a
    worker holds or that ended keeps its priority)."""
    if switch not in (Switch.on, Switch.off):
        from sysjobs.jobs.values import shown

        fail("badRequest", f"Invalid value {shown(switch)} for argument 'on|off'. "
             "Allowed values: on, off")  # fmt: skip
    flag = switch == Switch.on
    with opened_host(db, app_dir, existing=True) as host:
        for_each(job_ids, lambda job_id: host.engine.change_priority(job_id, flag), as_json,
                 _priority_line, host.engine)  # fmt: skip


def _priority_line(job: Job) -> None:
    view.console().print(f"{job.id} low priority: {'on' if job.low_priority else 'off'}")
