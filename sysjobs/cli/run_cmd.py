"""``sysjobs run SCRIPT.js``: run a script, print its ``log()`` lines, exit non-zero on error.

By default everything is embedded: the SQLite file under ``./.sysjobs/``, the demo app, and
one supervised worker process, so a job the script starts (``executeAction`` then
``waitForJob``) really runs. The script itself runs in a child process
(:class:`~sysjobs.runtime.process.ProcessSandbox`); with ``--in-job`` it is a RUN_SCRIPT job
that the worker process runs. Either way a fatal V8 error is reported, not fatal to this
command. ``--no-worker`` leaves the jobs to a separate ``sysjobs worker`` fleet;
``--in-process-workers`` runs them in this process's threads (trusted code only).

Without ``--in-job`` this process opens nothing itself: the child is started at once and
opens the database and the app, and the worker process (with the host it needs here) is
started only when the child says the script enqueued a job — a one-line script costs one
child process, not three processes that each load the engine. A job already pending when
the script only waits for it is left to a worker fleet, as with ``--no-worker``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import AppOption, DbOption, JsonOption, fail, reported_errors

if TYPE_CHECKING:
    # The sandbox's parent side is imported by ``sysjobs run`` alone, on use: every other
    # command registers this one and never runs a script.
    from sysjobs.host import Host
    from sysjobs.jobs import Job, JobLog
    from sysjobs.runtime.launcher import Launcher
    from sysjobs.runtime.process import StartedChild
    from sysjobs.runtime.result import RunResult
    from sysjobs.worker.pool import Workers

#: What the script's child process builds (the module is imported in the child only).
CHILD_SANDBOX = "sysjobs.script_child:script_sandbox"


def prestart(argv: list[str], *, launcher: Launcher | None = None) -> StartedChild | None:
    """For ``sysjobs run`` (not ``--in-job``, not ``--help``): the script's child, started
    before this process parses its arguments — typer's parsing alone costs about as much as
    the child's start, and the two run on two cores. Handed to the command as ``ctx.obj``.
    Forked when this process holds nothing yet (:func:`~sysjobs.runtime.process.may_fork`),
    else a fresh interpreter — or forked by ``launcher`` when one is given.
    """
    if argv[:1] != ["run"] or {"--in-job", "--help"} & set(argv):
        return None
    # Parsing the arguments needs pydantic's models and adapters (typer's), and so does the
    # child (the bindings' and the manifest's models): the child is forked from this
    # process (nothing is open yet) once they are imported, so they load once, not twice
    # (``importlib.metadata``: pydantic's plugin loader reads entry points with it, on both).
    import importlib.metadata  # noqa: F401

    from pydantic import BaseModel, TypeAdapter, types  # noqa: F401

    from sysjobs.runtime.process import SandboxFactory, StartedChild
    from sysjobs.runtime.result import Limits

    return StartedChild.start((SandboxFactory(CHILD_SANDBOX).module,), limits=Limits(),
                              fork=True, launcher=launcher)  # fmt: skip


def exit_now(code: int) -> NoReturn:
    """End ``sysjobs run`` once its output is out: everything it opened is closed by then,
    and the interpreter's teardown of the modules typer loaded took ~50 ms (more on a busy
    machine) after the last line — for a one-line script, a tenth of the command."""
    import logging
    import os
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _emit(result: RunResult, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    if result.error is not None:
        typer.echo(result.error.headline(), err=True)


class LazyWorkers:
    """The host and worker process of ``sysjobs run``, opened on the child's first
    ``jobEnqueued`` event (or never), and closed with the command."""

    def __init__(self, db: str | None, args: dict[str, Any], in_process: bool) -> None:
        self.db, self.args, self.in_process = db, args, in_process
        self.host: Host | None = None
        self.pool: Workers | None = None

    def on_event(self, name: str) -> None:
        """Start the workers when the script enqueued its first job."""
        if self.host is None:
            from sysjobs.host import Host  # the engine, the app, the worker code: on use
            from sysjobs.runtime.result import Limits

            self.host = Host(self.db, self.args["app"],
                             limits=Limits(timeout_s=self.args["timeout"]))  # fmt: skip
            self.pool = _workers(self.host, self.in_process)

    def close(self) -> None:
        try:
            if self.pool is not None:
                self.pool.stop()
        finally:
            if self.host is not None:
                self.host.close()


def _run_direct(db: str | None, source: str, args: dict[str, Any], opts: dict[str, Any]) -> bool:
    """The child starts first; this process only relays its lines and, when asked, starts
    the worker process."""
    from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
    from sysjobs.runtime.result import Limits

    factory = SandboxFactory(
        CHILD_SANDBOX,
        {"db_url": db, "app_dir": args["app"], "timeout_s": args["timeout"]},
        events=not opts["no_worker"],
    )
    echo = None if opts["as_json"] else typer.echo
    workers = LazyWorkers(db, args, opts["in_process"])
    sandbox = ProcessSandbox(factory, Limits(timeout_s=args["timeout"]), child=opts["child"])
    sandbox.start()
    try:
        result = sandbox.run(source, timeout_s=args["timeout"], log_sink=echo,
                             on_event=workers.on_event, name=args["label"])  # fmt: skip
    finally:
        sandbox.close()
        workers.close()
    _emit(result, opts["as_json"])
    return result.ok


def _run_in_job(db: str | None, source: str, args: dict[str, Any], opts: dict[str, Any]) -> bool:
    from sysjobs.host import Host
    from sysjobs.runtime.result import Limits

    with Host(db, args["app"], limits=Limits(timeout_s=args["timeout"])) as host:
        pool = None if opts["no_worker"] else _workers(host, opts["in_process"])
        try:
            return _in_job(host, source, args, opts["as_json"])
        finally:
            if pool is not None:
                pool.stop()


def _in_job(host: Host, source: str, args: dict[str, Any], as_json: bool) -> bool:
    """Start the job, say its id at once (stderr's first line: stdout stays the script's
    output), wait for it, then print its log — or, with ``--json``, the job and its log in
    the HTTP API's shapes."""
    job = host.start_script_job(source, label=args["label"], timeout_s=args["timeout"])
    if not as_json:
        typer.echo(f"job {job.id}", err=True)
    ended: Job = host.engine.wait(job.id, ("FINISHED", "STOPPED", "CANCELED"), args["timeout"] + 60)
    results = ended.results or {}
    error = results.get("error")
    headline = _headline(error) if error else _no_result(host, ended)
    entries = sorted(host.engine.logs(ended.id, {"_size": 100_000}), key=lambda e: e.timestamp)
    if as_json:
        _print_job_json(ended, entries, host)
    else:
        said = {headline, error and error.get("message")}
        for entry in entries:
            if entry.message not in said:  # the error goes to stderr below
                typer.echo(entry.message)
    if headline:
        typer.echo(headline, err=True)
    return headline is None and ended.status == "FINISHED"


def _headline(error: dict[str, Any]) -> str:
    """The error's line for stderr: ``code: message``, or the message alone when it names
    its code already (a lost job's line: ``Job lost: … memoryLimit: …``)."""
    code, message = str(error.get("code")), str(error.get("message"))
    return message if code in message else f"{code}: {message}"


def _print_job_json(job: Job, entries: list[JobLog], host: Host) -> None:
    from sysjobs.cli.jobs_view import print_json
    from sysjobs.web.views import job_json, log_json

    shown = job_json(job, host.engine.tree_info([job])[job.id])
    print_json({"job": shown, "logs": [log_json(entry) for entry in entries]})


def _no_result(host: Host, ended: Job) -> str | None:
    """Why a job that ended without its script's outcome failed: the last ERROR line (e.g.
    its worker process died: ``memoryLimit`` / ``crashed``), or None when it has one."""
    if ended.results and "value" in ended.results:
        return None
    if ended.status != "FINISHED":
        return f"{ended.status}: the job ended before its script did"
    errors = host.engine.logs(ended.id, {"level": "ERROR", "_size": 1000})
    latest = max(errors, key=lambda e: e.timestamp, default=None)
    return latest.message if latest is not None else "the job ended without a result"


def _workers(host: Host, in_process: bool) -> Workers:
    """One worker process whose crash report stays out of this command's stderr: a job it
    ends says why in its log, which is what ``--in-job`` prints."""
    logging.getLogger("sysjobs.worker.processes").setLevel(logging.ERROR)
    return host.workers(in_process=in_process, relay_stderr=False).start()


@app.command("run")
def run(
    ctx: typer.Context,
    script: Annotated[Path, typer.Argument(help="The JavaScript file to run.")],
    db: DbOption = None,
    app_dir: AppOption = None,
    in_job: Annotated[
        bool,
        typer.Option(
            "--in-job",
            help="Run the script itself as a job; its id is stderr's first line "
            "(in the JSON with --json).",
        ),
    ] = False,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Leave jobs to a separate worker fleet.")
    ] = False,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process-workers",
            help="Run jobs in threads of this process, not a worker process (trusted code only).",
        ),
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Seconds.")] = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Run SCRIPT in the sandbox: log() lines go to stdout, an uncaught error to stderr."""
    try:
        source = script.read_text("utf-8")
    except OSError as exc:
        fail("badRequest", f"cannot read script '{script}': {exc.strerror}")
    args = {"app": str(app_dir) if app_dir else None, "timeout": timeout, "label": script.name}
    from sysjobs.runtime.process import StartedChild

    child = ctx.obj if isinstance(ctx.obj, StartedChild) and not in_job else None
    opts = {"no_worker": no_worker, "in_process": in_process, "as_json": as_json, "child": child}
    with reported_errors():
        ok = _run_in_job(db, source, args, opts) if in_job else _run_direct(db, source, args, opts)
    raise typer.Exit(0 if ok else 1)
