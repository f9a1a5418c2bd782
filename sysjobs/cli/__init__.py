"""The ``sysjobs`` command line (typer + rich).

Each command group lives in its own module and registers itself on :data:`app` when
imported here.
"""

import errno
import sys
from typing import TYPE_CHECKING

import typer

import sysjobs.cli.app_cmd  # registers `sysjobs jobs start …`
import sysjobs.cli.db_cmd  # registers `sysjobs db upgrade|prune`
import sysjobs.cli.demo_cmd
import sysjobs.cli.jobs_cmd
import sysjobs.cli.samples_cmd  # registers `sysjobs samples run`
import sysjobs.cli.schedules_cmd  # registers `sysjobs schedules`
import sysjobs.cli.serve_cmd  # registers `sysjobs serve`
import sysjobs.cli.worker_cmd  # registers `sysjobs worker`
import sysjobs.cli.workers_cmd  # noqa: F401  (registers `sysjobs workers`)
from sysjobs.cli import read_argv, run_cmd  # run_cmd registers `sysjobs run`
from sysjobs.cli.app import app, for_argv

if TYPE_CHECKING:
    from sysjobs.runtime.launcher import Launcher


def main(*, fast_exit: bool = True, launcher: "Launcher | None" = None) -> None:
    """Entry point of the ``sysjobs`` console script.

    ``sysjobs run`` ends its process without the interpreter's teardown once its output is
    out (``fast_exit``); a caller that runs the CLI inside its own process (tests) passes
    ``fast_exit=False`` and gets ``SystemExit`` instead; such a caller, which may not fork
    ``sysjobs run``'s script child itself, may pass a ``launcher`` to fork it from
    (:mod:`sysjobs.runtime.launcher`).

    Usage errors (a missing argument, an unknown option or value) are one
    ``badRequest: …`` line with exit code 2, like every other error of the CLI; so is a
    platform error a command did not report itself, and anything unexpected is one
    ``systemException: …`` line (``SYSJOBS_DEBUG=1`` lets its traceback through).
    """
    import os
    import sys

    from typer.exceptions import TyperException

    from sysjobs.cli.options import cli_message
    from sysjobs.errors import SysError, code_of

    early = run_cmd.prestart(sys.argv[1:], launcher=launcher)
    try:
        code = _run(sys.argv[1:], early)
    except TyperException as exc:  # typer's (vendored click) usage errors
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print(f"badRequest: {_usage_message(exc)}{hint}", file=sys.stderr)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except SysError as exc:  # raised outside a command's own reporting (parsing a value)
        print(f"{code_of(exc)}: {cli_message(exc.message)}", file=sys.stderr)
        raise SystemExit(2) from None
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # a bug or an environment fault: one line, not a traceback
        if os.environ.get("SYSJOBS_DEBUG"):
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:500]
        print(f"systemException: {type(exc).__name__}: {cli_message(first)} "
              "(SYSJOBS_DEBUG=1 shows the traceback)", file=sys.stderr)  # fmt: skip
        raise SystemExit(2) from None
    finally:
        if early is not None:  # not used (a usage error, a missing script): end it
            early.close()
    code = code if isinstance(code, int) else 0
    if early is not None and fast_exit:
        run_cmd.exit_now(code)
    raise SystemExit(code)


def _run(argv: list[str], early: object) -> object:
    """Run the command ``argv`` names: a plain ``jobs ls`` / ``jobs show`` line directly
    with the arguments typer would give it (``read_argv``: typer's parse costs those
    commands a third of their time), anything else through typer."""
    read = read_argv.read_command(argv)
    if read is None:
        return for_argv(app, argv)(standalone_mode=False, obj=early)
    try:
        return read()
    except typer.Exit as exc:  # (what typer answers for these without standalone mode)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a closed pipe (``| head``): quiet, exit code 1, as typer does
        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        raise SystemExit(1) from None


def _usage_message(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    return str(format_message() if callable(format_message) else exc)
