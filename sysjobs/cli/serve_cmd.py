"""``sysjobs serve``: the dashboard and its JSON API on one port.

The dashboard always asks for a token. Without ``--token`` / ``SYSJOBS_TOKEN`` a random one
is made and printed with the URL to open (in the fragment, so it stays out of access
logs); ``--read-token`` adds a token that can only look, and ``--read-only`` makes every
token look-only. By default the server also supervises worker processes, like ``sysjobs
worker``, so the jobs it starts (the console's scripts too) make progress while no script can
end or wedge the server — one process per usable CPU unless told
(:func:`~sysjobs.cli.options.default_processes`), ``--slots`` jobs at once in each;
``--workers 0`` leaves them to a ``sysjobs worker`` fleet, and
``--in-process-workers`` runs them in the server's own threads (trusted code only).
"""

from __future__ import annotations

import errno
import os
import socket
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import opened_host
from sysjobs.cli.options import (
    DEFAULT_SLOTS,
    MAX_DEFAULT_PROCESSES,
    DbOption,
    default_processes,
    fail,
)
from sysjobs.cli.worker_cmd import served_app_folders


@app.command("serve")
def serve(
    bind: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(envvar="SYSJOBS_TOKEN", help="Admin bearer token (default: a random one)."),
    ] = None,
    read_token: Annotated[
        str | None,
        typer.Option(envvar="SYSJOBS_READ_TOKEN", help="A second token that can only read."),
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="No token may change jobs or run scripts.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Worker processes (default: one per usable CPU, at most "
            f"{MAX_DEFAULT_PROCESSES}; 0: leave jobs to 'sysjobs worker').",
        ),
    ] = None,
    slots: Annotated[
        int, typer.Option("--slots", min=1, help="Jobs per worker process at once.")
    ] = DEFAULT_SLOTS,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process-workers",
            help="Run jobs in threads of the server itself (one pool of --slots): trusted "
            "code only, since a fatal V8 error then ends the server.",
        ),
    ] = False,
    db: DbOption = None,
    app_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--app",
            help="App folder to serve, or a folder of app folders; repeat for more, as "
            "'sysjobs worker --app'. The first is the dashboard's first app (default: "
            "SYSJOBS_APP, else the demo app).",
        ),
    ] = None,
    more_apps: Annotated[
        list[Path] | None,
        typer.Option(
            "--also-app",
            help="Same as a further --app (the older spelling, kept working).",
        ),
    ] = None,
) -> None:
    """Serve the live dashboard and its JSON API (OpenAPI at /api/openapi.json)."""
    import secrets  # (hashlib, hmac: for `serve` alone, not every command line)

    import uvicorn

    from sysjobs.runtime.launcher import Launcher
    from sysjobs.web.app import create_app
    from sysjobs.web.auth import AuthConfig
    from sysjobs.worker.processes import LAUNCH_PRELOAD

    if token is not None and not token.strip():
        fail("badRequest", "Invalid value '' for parameter '--token'. Allowed values: non-empty")
    processes = default_processes() if workers is None else workers
    chosen = token or secrets.token_urlsafe(18)
    auth = AuthConfig(chosen, read_token or None, read_only)
    app_dir, others = _served(app_dirs or [], more_apps or [])
    if others and in_process:
        flag = "--also-app" if more_apps else "--app"
        fail("badRequest", f"Invalid value for option '{flag}': --in-process-workers serve "
             "one app only. Allowed values: worker processes (the default)")  # fmt: skip
    # Forks the worker processes, their replacements and the console's script children
    # ready-imported, for the command's lifetime.
    with Launcher.start(LAUNCH_PRELOAD) as launcher, opened_host(
        db, app_dir, launcher=launcher
    ) as host, ExitStack() as stack:  # fmt: skip
        others.pop(host.app_key, None)
        extra = [stack.enter_context(opened_host(db, Path(f), launcher=launcher))
                 for f in others.values() if f]  # fmt: skip
        web = create_app(host, auth, db_url=db, app_dir=str(app_dir) if app_dir else None,
                         apps=extra)  # fmt: skip
        listening = stack.enter_context(_listening(bind, port))
        shown = "#token=" + chosen if token is None else ""
        typer.echo(f"sysjobs dashboard on http://{bind}:{listening.getsockname()[1]}/{shown}"
                   + (" (read-only)" if read_only else ""))  # fmt: skip
        pool = (
            host.workers(slots, processes=processes, in_process=in_process,
                         other_apps={k: f for k, f in others.items() if f}).start()
            if processes
            else None
        )
        try:
            uvicorn.Server(uvicorn.Config(web, log_level="warning")).run(sockets=[listening])
        finally:
            if pool is not None:
                pool.stop()


def _listening(bind: str, port: int) -> socket.socket:
    """The server's socket, bound and listening before the dashboard's line is printed: the
    URL printed answers from then on (a connection waits in the backlog until the server
    accepts it), ``--port 0`` prints the port the system chose, and a port that cannot be
    listened on is said instead of the line."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            fail("badRequest", f"Invalid value for '--host': {bind!r} is not an address of "
                 f"this machine ({reason}). Allowed values: an address or name of this machine")
        fail("badRequest", f"Invalid value for '--port': {port} cannot be listened on at {bind} "
             f"({reason}). Allowed values: a free port, 0 for one the system picks")
    return sock


def _served(app_dirs: list[Path], more_apps: list[Path]) -> tuple[Path | None, dict[str, str]]:
    """The dashboard's first app's folder (None: the demo app) and every other app's, by
    key: each ``--app`` (an app folder or a folder of apps; none: ``SYSJOBS_APP``), then
    each ``--also-app``. Without any ``--app`` the demo app comes first."""
    env = os.environ.get("SYSJOBS_APP")
    given = app_dirs or ([Path(env)] if env else [])
    served = served_app_folders([*given, *more_apps])
    first = next(iter(served.values()), None) if given else None
    others = {key: folder for key, folder in served.items() if folder and folder != first}
    return (Path(first) if first else None), others
