"""``sysjobs run SCRIPT.js``: run a script, print its ``log()`` lines, exit non-zero on error."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.runtime import Limits, RunResult
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory


def _print_result(result: RunResult, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    if result.error is not None:
        typer.echo(result.error.headline(), err=True)


@app.command("run")
def run(
    script: Annotated[Path, typer.Argument(help="The JavaScript file to run.")],
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Seconds.")] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the RunResult as JSON.")] = False,
) -> None:
    """Run SCRIPT in the sandbox: log() lines go to stdout, an uncaught error to stderr."""
    try:
        source = script.read_text("utf-8")
    except OSError as exc:
        typer.echo(f"badRequest: cannot read script '{script}': {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    factory = SandboxFactory("sysjobs.host:core_sandbox", {"timeout_s": timeout})
    echo = None if as_json else (lambda line: typer.echo(line))
    with ProcessSandbox(factory, Limits(timeout_s=timeout)) as sandbox:
        result = sandbox.run(source, timeout_s=timeout, log_sink=echo)
    _print_result(result, as_json)
    sys.stdout.flush()
    raise typer.Exit(0 if result.ok else 1)
