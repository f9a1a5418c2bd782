"""What every ``sysjobs jobs …`` command shares: the sub-app, argument types, opening a host.

Opening the host is where a wrong ``--db`` shows up (a bad URL, a server that refuses the
connection): it becomes one ``code: message`` line, like every other error of the CLI.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import click
import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import app_key_given, fail, reported_errors, sqlite_file
from sysjobs.errors import NotFound, SysError

if TYPE_CHECKING:
    from sysjobs.host import Host
    from sysjobs.jobs import Engine
    from sysjobs.jobs.reads import JobReads, Reads
    from sysjobs.runtime.launcher import Launcher

jobs_app = typer.Typer(
    name="jobs", help="List, inspect, follow and control background jobs.", no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(jobs_app, name="jobs")

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The job's id (24 hex characters).")]
IdsArg = Annotated[
    list[str], typer.Argument(metavar="ID", help="One or more job ids (24 hex characters).")
]
TIME_HELP = "Milliseconds since the epoch, or an ISO date (UTC unless it says)."
TimeOpt = Annotated[str | None, typer.Option(help=TIME_HELP)]
CsvOpt = Annotated[list[str] | None, typer.Option(help="Repeat, or separate with commas.")]


class Switch(StrEnum):
    """``on`` / ``off`` for ``jobs low-priority``."""

    on = "on"
    off = "off"


@contextmanager
def opened_host(
    db: str | None, app_dir: Path | None, *, existing: bool = False,
    launcher: Launcher | None = None,
) -> Iterator[Host]:  # fmt: skip
    """The host of ``--db``/``--app``; any failure, opening or later, is one line.
    ``existing``: the database must be there already (a command about jobs that exist);
    ``launcher``: the Host's (:class:`~sysjobs.host.Host`), the caller's to close."""
    from sysjobs.host import Host  # the engine, the app and the sandbox: on use only

    key = app_key_given(app_dir)
    if key is not None:
        fail("badRequest", f"Invalid value '{key}' for option '--app': this command runs the "
             "app's scripts, so it needs the app's folder. Allowed values: an app folder")
    with reported_errors():
        if existing:
            require_database(db)
        host = open_or_fail(lambda: Host(db, app_dir, launcher=launcher), db)
        with host:
            yield from _one_line_errors(host)


@contextmanager
def opened_engine(
    db: str | None, app_dir: Path | None, *, existing: bool = True, by_key: bool = False
) -> Iterator[Engine]:
    """The engine of ``--db``, for the commands that only read jobs, scoped to the app of
    ``--app``: without it (the demo app's key) or with an app key no app is loaded and no
    sandbox built (about a sixth of such a command's cost); with an app folder the host's,
    so that a wrong app is reported as before. A database file that
    is not there is refused (:func:`require_database`), not created empty — unless not
    ``existing`` (``db upgrade`` creates the database). ``by_key``: an app folder stands
    for its key only (the ``db`` commands: no app loaded, seeded or checked)."""
    key = app_key_given(app_dir)
    if app_dir is not None and key is None and by_key:
        key = folder_app_key(app_dir)
    elif app_dir is not None and key is None:
        with opened_host(db, app_dir, existing=existing) as host:
            yield host.engine
        return
    from sysjobs.jobs import Engine, EngineSettings

    settings = EngineSettings() if key is None else EngineSettings(app=key)
    with reported_errors():
        if existing:
            require_database(db)
        engine = open_or_fail(lambda: Engine.open(db, settings=settings), db)
        with engine:
            yield from _one_line_errors(engine)


@contextmanager
def opened_reads(db: str | None, app_dir: Path | None) -> Iterator[Reads]:
    """What ``jobs ls`` and ``jobs show`` read jobs with: on a plain SQLite file at the
    shipped revisions, scoped to the demo app or an app key, the store's statements run
    through ``sqlite3`` (``sysjobs.jobs.reads.JobReads`` over
    ``sysjobs.store.sqlite.reader``: no SQLAlchemy, no engine — ``docs/cli-read-path.md``);
    anything else — PostgreSQL, an app folder, a database to migrate or that cannot be
    read — the engine of :func:`opened_engine`, as before. Both give the same output and
    the same errors."""
    reads = _quick_reads(db, app_dir)
    if reads is None:
        with opened_engine(db, app_dir) as engine:
            yield engine
        return
    with reported_errors():
        try:
            yield from _one_line_errors(reads)
        finally:
            reads.close()


def _quick_reads(db: str | None, app_dir: Path | None) -> JobReads | None:
    """The read path without the engine, when it serves ``db`` (see :func:`opened_reads`)."""
    from sysjobs.store.read_path import quick_reader
    from sysjobs.store.urls import DEFAULT_URL

    key = app_key_given(app_dir)
    if app_dir is not None and key is None:
        return None  # an app folder: the host's path
    with reported_errors():
        require_database(db)
    reader = quick_reader(db or DEFAULT_URL)
    if reader is None:
        return None
    from sysjobs.jobs.apps import DEFAULT_APP
    from sysjobs.jobs.reads import JobReads

    return JobReads(reader, key or DEFAULT_APP)


T = TypeVar("T")


def folder_app_key(app_dir: Path) -> str:
    """The key of the app in ``app_dir`` (its manifest's name); a bad manifest is one line."""
    from sysjobs.host import app_key_of_folder

    with reported_errors():
        return app_key_of_folder(app_dir)


def require_database(db: str | None) -> None:
    """Refuse a SQLite URL whose file does not exist: opening it would create an empty
    database — a mistyped ``--db`` then answered ``0 of 0 jobs`` and left a file behind."""
    missing = missing_sqlite_file(db)
    if missing is not None:
        raise NotFound(
            f"No database at '{missing}' (--db {db or 'default'}). Commands that start "
            "jobs, 'sysjobs worker' and 'sysjobs db upgrade' create one."
        )


def missing_sqlite_file(db: str | None) -> Path | None:
    """The file of a SQLite URL when it does not exist (None: there, in memory, or not SQLite)."""
    from sysjobs.store.urls import DEFAULT_URL

    path = sqlite_file(db or DEFAULT_URL)
    return None if path is None or path.exists() else path


def _one_line_errors(opened: T) -> Iterator[T]:
    try:
        yield opened
    except (SysError, typer.Exit, typer.Abort, click.exceptions.Exit, click.ClickException):
        raise
    except Exception as exc:  # e.g. the database went away mid-command
        fail("systemException", f"{type(exc).__name__}: {_first(exc)}")


def open_or_fail(opener: Callable[[], T], db: str | None) -> T:
    """What ``opener`` opens on ``db``; a bad URL or an unreachable server is one line."""
    try:
        return opener()
    except SysError:
        raise
    except (ValueError, OSError) as exc:
        fail("badRequest", f"cannot open the database or app: {exc}")
    except Exception as exc:
        if not _from_the_database(exc):
            raise  # a fault of sysjobs' own: systemException, with its type (cli.main)
        fail("databaseError", f"cannot open {db or 'the default database'}: {_first(exc)}")


def _from_the_database(exc: Exception) -> bool:
    """Whether ``exc`` came from the database, its driver or its migrations — the server
    refused the connection, a file is not a database… — which ``databaseError`` names; any
    other exception is a fault of sysjobs' own code and must not read as the user's database.
    The modules are looked up, not imported: an error of one never imported cannot be here."""
    kinds = [
        getattr(sys.modules.get(name), attr, None)
        for name, attr in (("sqlalchemy.exc", "SQLAlchemyError"), ("sqlite3", "Error"),
                           ("psycopg", "Error"), ("alembic.util.exc", "CommandError"))
    ]  # fmt: skip
    return isinstance(exc, tuple(kind for kind in kinds if isinstance(kind, type)))


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
