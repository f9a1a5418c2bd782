"""Options every command shares, and the one way the CLI reports an error.

Every command that takes ``--db`` takes a database URL (``sqlite:///path.db`` or
``postgresql://…``): a bare path is refused with a hint before anything is opened.
The engine names the API's parameters in its errors (``createFrom``, ``jobId``); the CLI
speaks of its own flags, so :func:`cli_message` rewrites those names through
:data:`FLAG_OF` — one table, for every command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sysjobs.errors import SysError, code_of

#: How much of a refused value an error quotes.
SHOWN_CHARS = 200


def database_url(value: str | None) -> str | None:
    """``--db``'s check: a URL, not a file path (``demo --db x.db`` once made a folder).
    Which databases are supported is the engine's to say, when it opens the URL."""
    if value is None or "://" in value:
        return value
    plain = value.isprintable() and len(value) <= SHOWN_CHARS
    quoted = repr(value[:SHOWN_CHARS]) + ("…" if len(value) > SHOWN_CHARS else "")
    raise typer.BadParameter(
        f"{quoted} is not a database URL. Allowed values: sqlite:///path.db "
        f"(e.g. sqlite:///{value if plain else 'path.db'}) or postgresql://user@host/db"
    )


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None: in memory, or not SQLite), without opening it."""
    scheme, _, rest = url.partition("://")
    path = rest.removeprefix("/").split("?", 1)[0]
    if not scheme.startswith("sqlite") or path in ("", ":memory:"):
        return None
    return Path(path)


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SYSJOBS_DB",
        callback=database_url,
        help="Database URL: sqlite:///path.db (default ./.sysjobs/sysjobs.db) or postgresql://…",
    ),
]
AppOption = Annotated[
    Path | None,
    typer.Option(
        "--app",
        envvar="SYSJOBS_APP",
        help="App folder, or the key (manifest name) of an app on the database: the app "
        "whose jobs and records the command sees (default: the demo app, key 'default').",
    ),
]


def app_key_given(value: Path | None) -> str | None:
    """The app key ``--app`` names when it is not a folder (None: a folder, or no
    ``--app``); a value that is neither is a ``badRequest`` naming ``--app``."""
    if value is None or value.is_dir():
        return None
    from sysjobs.jobs.apps import KEY_FORM, check_app_key

    try:
        return check_app_key(str(value), "--app")
    except SysError:
        fail("badRequest", f"Invalid value {str(value)[:SHOWN_CHARS]!r} for option '--app': no "
             f"such folder, nor an app key. Allowed values: an app folder, or {KEY_FORM}")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

#: ``sysjobs.worker.pool.DEFAULT_SLOTS``, spelled here so that registering a command imports
#: no worker code (a unit test keeps the two equal).
DEFAULT_SLOTS = 32
#: The most worker processes ``serve`` and ``worker`` start unless told (each holds its own
#: V8 isolates, ``--slots`` jobs and up to 30 PostgreSQL connections): more is a deliberate
#: ``--workers N`` / ``--concurrency N``.
MAX_DEFAULT_PROCESSES = 8


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask (``taskset``, a container's
    cpuset), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def default_processes(cpus: int | None = None) -> int:
    """Worker processes to start by default: one per usable CPU, 1 to
    :data:`MAX_DEFAULT_PROCESSES`.

    Why per CPU: a worker process's slots share one interpreter, and every host call, claim
    and JSON encoding of every slot takes its GIL, so one process keeps about one core busy
    however many slots it has — as with Celery's and Sidekiq's one process per core. The
    slots (``--slots``, 32) are what lets the many jobs that wait on the database or a host
    call overlap within a process.
    """
    return max(1, min(MAX_DEFAULT_PROCESSES, usable_cpus() if cpus is None else cpus))

#: The spec's parameter names as the CLI spells them (the engine's errors name the former).
FLAG_OF: Mapping[str, str] = {
    "jobId": "argument 'ID'",
    "type": "option '--type'",
    "status": "option '--status'",
    "desiredStatus": "option '--status'",
    "startFrom": "option '--start-from'",
    "startTo": "option '--start-to'",
    "endFrom": "option '--end-from'",
    "endTo": "option '--end-to'",
    "createFrom": "option '--create-from'",
    "createTo": "option '--create-to'",
    "hasErrors": "option '--has-errors'",
    "_size": "option '--size'",
    "level": "option '--level'",
    "message": "option '--message'",
    "from": "option '--from'",
    "to": "option '--to'",
    "period": "option '--period'",
    "timeout": "option '--timeout'",
    "maxTimeToWait": "option '--timeout'",
    "window": "option '--window'",
    "query": "option '--query'",
    "root": "option '--root'",
}
_PARAMETER = re.compile(r"parameter '([A-Za-z_]+)'")


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def cli_message(message: str) -> str:
    """``message`` as one line (a control character a value carried, like a newline in a
    job id, is written ``\\n`` / ``\\x07``), each API parameter named by its flag."""
    flat = _CONTROL.sub(_escaped, message)
    return _PARAMETER.sub(lambda m: FLAG_OF.get(m.group(1), m.group(0)), flat)


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def fail(code: str, message: str, exit_code: int = 2) -> NoReturn:
    """Print ``code: message`` on stderr as one line and exit non-zero."""
    typer.echo(f"{code}: {cli_message(message)}", err=True)
    raise typer.Exit(exit_code)


def fail_with(exc: SysError) -> NoReturn:
    """A platform error as the CLI says it: its code, and the flags' names."""
    fail(code_of(exc), exc.message)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Platform errors become one clear line and exit code 2 — never a traceback."""
    try:
        yield
    except SysError as exc:
        fail_with(exc)
