"""``sysjobs run SCRIPT.js``: run a script, print its ``log()`` lines, exit non-zero on error.

By default everything is embedded: the SQLite file under ``./.sysjobs/``, the demo app, and
one supervised worker process, so a job the script starts (``executeAction`` then
``waitForJob``) really runs. The script itself runs in a child process
(:class:`~sysjobs.runtime.process.ProcessSandbox`); with ``--in-job`` it is a RUN_SCRIPT job
that the worker process runs. Either way a fatal V8 error is reported, not fatal to this
command. ``--no-worker`` leaves the jobs to a separate ``sysjobs worker`` fleet;
``--in-process-workers`` runs them in this process's threads (trusted code only).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import AppOption, DbOption, JsonOption, fail, reported_errors
from sysjobs.host import Host
from sysjobs.jobs import Job
from sysjobs.runtime import Limits, RunResult
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
from sysjobs.worker.pool import Workers


def _emit(result: RunResult, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    if result.error is not None:
        typer.echo(result.error.headline(), err=True)


def _run_direct(host: Host, source: str, args: dict[str, Any], as_json: bool) -> bool:
    factory = SandboxFactory(
        "sysjobs.host:host_sandbox",
        {"db_url": host.engine.url, "app_dir": args["app"], "timeout_s": args["timeout"]},
    )
    echo = None if as_json else typer.echo
    with ProcessSandbox(factory, Limits(timeout_s=args["timeout"])) as sandbox:
        result = sandbox.run(source, timeout_s=args["timeout"], log_sink=echo)
    _emit(result, as_json)
    return result.ok


def _run_in_job(host: Host, source: str, args: dict[str, Any], as_json: bool) -> bool:
    job = host.start_script_job(source, label=args["label"], timeout_s=args["timeout"])
    ended: Job = host.engine.wait(job.id, ("FINISHED", "STOPPED", "CANCELED"), args["timeout"] + 60)
    results = ended.results or {}
    error = results.get("error")
    headline = f"{error['code']}: {error['message']}" if error else _no_result(host, ended)
    if as_json:
        typer.echo(json.dumps(ended.model_dump(mode="json"), ensure_ascii=False, default=str))
    else:
        entries = sorted(host.engine.logs(ended.id, {"_size": 100_000}), key=lambda e: e.timestamp)
        for entry in entries:
            if entry.message != headline:  # the error goes to stderr below
                typer.echo(entry.message)
    if headline:
        typer.echo(headline, err=True)
    return headline is None and ended.status == "FINISHED"


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
    script: Annotated[Path, typer.Argument(help="The JavaScript file to run.")],
    db: DbOption = None,
    app_dir: AppOption = None,
    in_job: Annotated[
        bool, typer.Option("--in-job", help="Run the script itself as a job.")
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
    with reported_errors(), Host(db, app_dir, limits=Limits(timeout_s=timeout)) as host:
        pool = None if no_worker else _workers(host, in_process)
        try:
            runner = _run_in_job if in_job else _run_direct
            ok = runner(host, source, args, as_json)
        finally:
            if pool is not None:
                pool.stop()
    raise typer.Exit(0 if ok else 1)
