"""``sysjobs run SCRIPT.js``: run a script, print its ``log()`` lines, exit non-zero on error.

By default everything is embedded: the SQLite file under ``./.sysjobs/``, the demo app, and
an in-process worker pool, so a job the script starts (``executeAction`` then
``waitForJob``) really runs. The script itself runs in a child process
(:class:`~sysjobs.runtime.process.ProcessSandbox`), so a fatal V8 error is reported, not
fatal. ``--no-worker`` leaves the jobs to a separate ``sysjobs worker`` fleet;
``--in-job`` runs the script itself as a RUN_SCRIPT job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import AppOption, DbOption, JsonOption, fail, reported_errors
from sysjobs.host import Host
from sysjobs.jobs import Job
from sysjobs.runtime import Limits, RunResult
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory


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
    error = (ended.results or {}).get("error")
    headline = f"{error['code']}: {error['message']}" if error else None
    if as_json:
        typer.echo(json.dumps(ended.model_dump(mode="json"), ensure_ascii=False, default=str))
    else:
        entries = sorted(host.engine.logs(ended.id, {"_size": 100_000}), key=lambda e: e.timestamp)
        for entry in entries:
            if entry.message != headline:  # the error goes to stderr below
                typer.echo(entry.message)
    if headline:
        typer.echo(headline, err=True)
    return not error and ended.status == "FINISHED"


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
        pool = None if no_worker else host.workers().start()
        try:
            runner = _run_in_job if in_job else _run_direct
            ok = runner(host, source, args, as_json)
        finally:
            if pool is not None:
                pool.stop()
    raise typer.Exit(0 if ok else 1)
