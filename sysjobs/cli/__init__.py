"""The ``sysjobs`` command line (typer + rich).

Each command group lives in its own module and registers itself on :data:`app` when
imported here.
"""

import typer

import sysjobs.cli.app_cmd  # registers `sysjobs jobs start …`
import sysjobs.cli.db_cmd  # registers `sysjobs db upgrade|prune`
import sysjobs.cli.demo_cmd
import sysjobs.cli.jobs_cmd
import sysjobs.cli.samples_cmd  # registers `sysjobs samples run`
import sysjobs.cli.serve_cmd  # registers `sysjobs serve`
import sysjobs.cli.worker_cmd  # noqa: F401  (registers `sysjobs worker`)
from sysjobs.cli import run_cmd  # noqa: F401  (registers `sysjobs run`)
from sysjobs.cli.app import app


def main() -> None:
    """Entry point of the ``sysjobs`` console script.

    Usage errors (a missing argument, an unknown option or value) are one
    ``badRequest: …`` line with exit code 2, like every other error of the CLI.
    """
    import sys

    from typer.exceptions import TyperException

    try:
        code = app(standalone_mode=False)
    except TyperException as exc:  # typer's (vendored click) usage errors
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print(f"badRequest: {_usage_message(exc)}{hint}", file=sys.stderr)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _usage_message(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    return str(format_message() if callable(format_message) else exc)
