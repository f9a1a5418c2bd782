"""Options every command shares, and the one way the CLI reports an error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sysjobs.errors import SysError, code_of

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SYSJOBS_DB",
        help="Database URL: sqlite:///path.db (default ./.sysjobs/sysjobs.db) or postgresql://…",
    ),
]
AppOption = Annotated[
    Path | None,
    typer.Option("--app", envvar="SYSJOBS_APP", help="App folder (default: the demo app)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

#: ``sysjobs.worker.pool.DEFAULT_SLOTS``, spelled here so that registering a command imports
#: no worker code (a unit test keeps the two equal).
DEFAULT_SLOTS = 32


def fail(code: str, message: str, exit_code: int = 2) -> NoReturn:
    """Print ``code: message`` on stderr as one line and exit non-zero."""
    typer.echo(f"{code}: {message}", err=True)
    raise typer.Exit(exit_code)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Platform errors become one clear line and exit code 2 — never a traceback."""
    try:
        yield
    except SysError as exc:
        fail(code_of(exc), exc.message)
