"""``sysjobs jobs start …``: one command per public job type of the app.

Each command validates its inputs the way ``sys.data`` does (through the same
:class:`~sysjobs.app.app.App` starters), prints the new job's id — or the job as JSON —
and with ``--wait`` runs in-process workers until the job settles, so a single command
can do the whole thing on a laptop. ``export-records --wait --out FILE`` also downloads
the CSV.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sysjobs.cli import jobs_view as view
from sysjobs.cli.jobs_base import jobs_app, opened_host
from sysjobs.cli.jobs_cmd import job_json
from sysjobs.cli.options import AppOption, DbOption, JsonOption, fail

if TYPE_CHECKING:
    from sysjobs.app.app import App
    from sysjobs.jobs import Job

start_app = typer.Typer(
    name="start", help="Start a public job of the app (one command per job type).",
    no_args_is_help=True, rich_markup_mode=None,
)  # fmt: skip
jobs_app.add_typer(start_app, name="start")

QUERY_HELP = 'Query map as JSON, e.g. \'{"type": "a"}\'.'
QueryOpt = Annotated[str, typer.Option("--query", help=QUERY_HELP)]
LowOpt = Annotated[bool, typer.Option("--low-priority", help="Flag the job as low priority.")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Run workers here until the job ends.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds --wait waits at most.")]


def _json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail("badRequest", f"Invalid JSON for {option}: {exc.msg} (at character {exc.pos})")


def _params(pairs: list[str] | None, params_json: str | None) -> dict[str, Any]:
    """``--param k=v`` (repeatable) merged over ``--params JSON``."""
    params: dict[str, Any] = dict(_json(params_json, "--params")) if params_json else {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail("badRequest", f"Invalid value {pair!r} for --param: expected NAME=VALUE")
        params[name] = value
    return params


def _run(
    db: str | None,
    app_dir: Path | None,
    starter: Callable[[App], str],
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
    after: Callable[[App, Job], None] | None = None,
) -> None:
    """Start a job through ``starter``; with ``wait``, run workers until it settles."""
    from sysjobs.host import DONE_STATUSES

    with opened_host(db, app_dir) as host:
        job_id = starter(host.app)
        if wait:
            with host.workers():
                job = host.engine.wait(job_id, DONE_STATUSES, timeout)
        else:
            job = host.engine.require(job_id)
        if after is not None:
            after(host.app, job)
        tree = host.engine.tree_info([job])[job.id]
    if as_json:
        view.print_json(job_json(job, tree))
    elif wait:
        view.job_detail(job)
    else:
        view.console().print(job.id)


@start_app.command("execute-action")
def execute_action(
    entity: Annotated[str, typer.Argument(help="Entity name; '-' for a global action.")],
    action: Annotated[str, typer.Argument(help="Action name.")],
    query: QueryOpt = "{}",
    param: Annotated[list[str] | None, typer.Option(help="NAME=VALUE; repeat.")] = None,
    params: Annotated[str | None, typer.Option(help="Parameters as JSON.")] = None,
    low_priority: LowOpt = False, wait: WaitOpt = False, timeout: TimeoutOpt = 600.0,
    db: DbOption = None, app_dir: AppOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """EXECUTE_ACTION: run an action over the records matching --query."""
    q, p = _json(query, "--query"), _params(param, params)
    _run(db, app_dir, lambda a: a.execute_action(None if entity == "-" else entity, q, action, p,
                                                 low_priority=low_priority),
         wait=wait, timeout=timeout, as_json=as_json)  # fmt: skip


@start_app.command("delete-records")
def delete_records(
    entity: str, query: QueryOpt = "{}", low_priority: LowOpt = False, wait: WaitOpt = False,
    timeout: TimeoutOpt = 600.0, db: DbOption = None, app_dir: AppOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """DELETE_RECORDS: delete the records matching --query."""
    q = _json(query, "--query")
    _run(db, app_dir, lambda a: a.delete_records(entity, q, low_priority=low_priority),
         wait=wait, timeout=timeout, as_json=as_json)  # fmt: skip


@start_app.command("import-records")
def import_records(
    entity: str, csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    low_priority: LowOpt = False, wait: WaitOpt = False, timeout: TimeoutOpt = 600.0,
    db: DbOption = None, app_dir: AppOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """IMPORT_RECORDS: upload CSV_FILE into the files store and import it into ENTITY."""

    def starter(a: App) -> str:
        file_id = a.files.put(csv_file.name, csv_file.read_bytes())
        return a.import_records(entity, file_id, low_priority=low_priority)

    _run(db, app_dir, starter, wait=wait, timeout=timeout, as_json=as_json)


@start_app.command("export-records")
def export_records(
    entity: str, query: QueryOpt = "{}",
    out: Annotated[Path | None, typer.Option(help="With --wait: write the CSV here.")] = None,
    wait: WaitOpt = False, timeout: TimeoutOpt = 600.0, db: DbOption = None,
    app_dir: AppOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """EXPORT_RECORDS: write the records matching --query to a CSV in the files store."""
    if out is not None and not wait:
        fail("badRequest", "--out needs --wait (the file exists once the job finished)")
    q = _json(query, "--query")
    _run(db, app_dir, lambda a: a.export_records(entity, q), wait=wait, timeout=timeout,
         as_json=as_json, after=None if out is None else _downloader(out))  # fmt: skip


def _downloader(out: Path) -> Callable[[App, Job], None]:
    def download(app: App, job: Job) -> None:
        results = job.results or {}
        if "fileId" not in results:
            fail("badRequest", f"job {job.id} produced no file (status {job.status})")
        out.write_bytes(app.files.get(results["fileId"]).content)

    return download


@start_app.command("execute-listener")
def execute_listener(
    name: str, wait: WaitOpt = False, timeout: TimeoutOpt = 600.0, db: DbOption = None,
    app_dir: AppOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """EXECUTE_LISTENER: run a listener's script as a job."""
    _run(db, app_dir, lambda a: a.execute_listener(name), wait=wait, timeout=timeout,
         as_json=as_json)  # fmt: skip


@start_app.command("import-users")
def import_users(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    notify: Annotated[bool, typer.Option("--notify", help="Notify created users.")] = False,
    wait: WaitOpt = False, timeout: TimeoutOpt = 600.0, db: DbOption = None,
    app_dir: AppOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """IMPORT_USERS: upload CSV_FILE (email,firstName,lastName) and import its users."""

    def starter(a: App) -> str:
        return a.import_users(a.files.put(csv_file.name, csv_file.read_bytes()), notify)

    _run(db, app_dir, starter, wait=wait, timeout=timeout, as_json=as_json)


def _simple(name: str, doc: str, starter: Callable[[App], str]) -> None:
    def command(wait: WaitOpt = False, timeout: TimeoutOpt = 600.0, db: DbOption = None,
                app_dir: AppOption = None, as_json: JsonOption = False) -> None:  # fmt: skip
        _run(db, app_dir, starter, wait=wait, timeout=timeout, as_json=as_json)

    command.__doc__ = doc
    start_app.command(name)(command)


def _endpoint(name: str, doc: str, verb: str) -> None:
    def command(endpoint: str, wait: WaitOpt = False, timeout: TimeoutOpt = 600.0,
                db: DbOption = None, app_dir: AppOption = None,
                as_json: JsonOption = False) -> None:  # fmt: skip
        _run(db, app_dir, lambda a: str(getattr(a, verb)(endpoint)), wait=wait,
             timeout=timeout, as_json=as_json)  # fmt: skip

    command.__doc__ = doc
    start_app.command(name)(command)


_simple(
    "export-users",
    "EXPORT_USERS: write every user to a CSV in the files store.",
    lambda a: a.export_users(),
)
_simple("stop-app", "STOP_APP: hold back the app's jobs until START_APP.", lambda a: a.stop_app())
_endpoint("deploy-endpoint", "DEPLOY_ENDPOINT: DEPLOYING → DEPLOYED.", "deploy_endpoint")
_endpoint("undeploy-endpoint", "UNDEPLOY_ENDPOINT: UNDEPLOYING → UNDEPLOYED.", "undeploy_endpoint")


@start_app.command("start-app")
def start_app_cmd(
    push_changes: Annotated[bool, typer.Option("--push-changes")] = False,
    waking_up: Annotated[bool, typer.Option("--waking-up")] = False,
    wait: WaitOpt = False, timeout: TimeoutOpt = 600.0, db: DbOption = None,
    app_dir: AppOption = None, as_json: JsonOption = False,
) -> None:  # fmt: skip
    """START_APP: let the app's jobs run again."""
    _run(db, app_dir, lambda a: a.start_app(push_changes, waking_up), wait=wait,
         timeout=timeout, as_json=as_json)  # fmt: skip
