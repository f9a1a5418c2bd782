"""The ``sysjobs`` command run inside the test process, through the console script's entry point.

A subprocess per CLI call costs an interpreter start and the imports of the whole stack
(SQLAlchemy, Alembic, pydantic, typer, rich) — most of a CLI test's time. In-process, the
same ``sysjobs.cli.main`` a user's ``sysjobs`` runs is called with ``sys.argv`` set and
stdin/stdout/stderr swapped for buffers (click's ``CliRunner`` isolation), so usage errors,
exit codes and the ``code: message`` lines are the user's. stdout is strict UTF-8, so text
that a terminal could not print (a lone surrogate) still fails here as it would there.

A few tests per command family still run the real process (``python -m sysjobs.cli``):
those check what only a process shows (its start-up, signals, stdout's own encoding).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

import sysjobs.cli
from sysjobs.runtime.launcher import Launcher


@dataclass(frozen=True)
class Ran:
    """What a finished ``sysjobs`` call left: the names match ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def sysjobs_in_process(
    *args: str, cwd: Path, env: Mapping[str, str | None] | None = None,
    launcher: Launcher | None = None,
) -> Ran:  # fmt: skip
    """Run ``sysjobs ARGS`` in ``cwd`` as the console script would, and collect its output
    (``sysjobs run``'s script child forked by ``launcher``: this process may not fork it)."""
    runner = CliRunner()
    with _chdir(cwd), _logging_kept(), runner.isolation(env={"COLUMNS": "200", **(env or {})}) as (
        out,
        err,
        _mixed,
    ):
        code = _exit_code_of(args, launcher)
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def _exit_code_of(args: tuple[str, ...], launcher: Launcher | None) -> int:
    saved = sys.argv
    sys.argv = ["sysjobs", *args]
    try:
        sysjobs.cli.main(fast_exit=False, launcher=launcher)
    except SystemExit as exited:
        return _code(exited.code)
    finally:
        sys.argv = saved
    return 0


def _code(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


@contextmanager
def _chdir(cwd: Path) -> Iterator[None]:
    """``./.sysjobs/`` (the embedded default database) is relative to where the user stands."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def _logging_kept() -> Iterator[None]:
    """Commands tune loggers for a one-shot process; the test process keeps its own setup."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
