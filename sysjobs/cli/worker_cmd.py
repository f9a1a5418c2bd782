"""``sysjobs worker``: run a pool of worker processes until SIGTERM/Ctrl-C.

Any number of ``sysjobs worker`` commands, on any number of machines, may share one
PostgreSQL database; on SQLite they share the file on one machine.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.jobs_base import open_or_fail
from sysjobs.cli.options import (
    DEFAULT_SLOTS,
    MAX_DEFAULT_PROCESSES,
    DbOption,
    default_processes,
    fail,
    reported_errors,
)
from sysjobs.errors import SysError

if TYPE_CHECKING:
    from sysjobs.jobs.queues import QueueDef

#: The host's hooks (``sysjobs.host.WORKER_SETUP`` / ``WORKER_RUNNER``, spelled here so that
#: registering this command imports no engine; a unit test keeps them equal): load the app
#: and its job types, and hand out its script runner.
DEFAULT_SETUP = "sysjobs.host:worker_setup"
DEFAULT_RUNNER = "sysjobs.host:worker_runner"


@app.command("worker")
def worker(
    db: DbOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-c", min=1,
            help=f"Worker processes to start (default: one per usable CPU, at most "
            f"{MAX_DEFAULT_PROCESSES}).",
        ),
    ] = None,
    slots: Annotated[
        int, typer.Option("--slots", min=1, help="Jobs per process at once.")
    ] = DEFAULT_SLOTS,
    queues: Annotated[
        str | None,
        typer.Option("--queues", "-q", help="Queues to serve, with optional limits: mix,heavy=1"),
    ] = None,
    lease: Annotated[float, typer.Option("--lease", help="Lease length in seconds.")] = 30.0,
    setup: Annotated[
        str, typer.Option("--setup", help="module:function(engine) registering job types.")
    ] = DEFAULT_SETUP,
    runner: Annotated[
        str, typer.Option("--runner", help="module:function() building the script runner.")
    ] = DEFAULT_RUNNER,
    namespaces: Annotated[
        list[str] | None,
        typer.Option(
            "--namespace",
            help="module:name of a sys.* namespace to add (or a function returning one); "
            "repeat for more. For the default --setup.",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log a line per job start and end.")
    ] = False,
    app_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--app",
            help="App folder to serve, or a folder of app folders; repeat for more "
            "(default: SYSJOBS_APP, else the demo app).",
        ),
    ] = None,
) -> None:
    """Run worker processes that claim and execute background jobs."""
    from sysjobs.runtime import Namespace
    from sysjobs.runtime.launcher import Launcher
    from sysjobs.worker import WorkerConfig, WorkerProcesses
    from sysjobs.worker.loader import load_object
    from sysjobs.worker.processes import LAUNCH_PRELOAD
    from sysjobs.worker.queues import parse_queues

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations: quiet unless wrong
    for path in namespaces or ():  # a wrong path fails here, not in every child
        try:
            load_object(path, Namespace, "--namespace")
        except SysError as exc:
            fail("badRequest", exc.message)
    served = served_app_folders(app_dirs or [])
    try:
        parse_queues(queues, slots, _app_queues(served))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--queues") from exc
    config = WorkerConfig(
        db, concurrency=slots, queues=queues, lease_s=lease, setup=setup or None,
        setup_args={"namespaces": namespaces} if namespaces else {},
        runner_factory=runner or None, verbose=verbose,
        engine_settings={"app": next(iter(served), None) or _app_key()}, apps=served,
    )  # fmt: skip
    processes = default_processes() if concurrency is None else concurrency
    # Forks the worker processes, and every replacement, ready-imported; it imports while
    # the supervisor opens its engine.
    launcher = Launcher.start(LAUNCH_PRELOAD)
    try:
        with reported_errors():
            if setup == DEFAULT_SETUP:  # its limits' variables: a typo fails here, not in a child
                from sysjobs.host import check_worker_env

                check_worker_env()
            supervisor = open_or_fail(
                lambda: WorkerProcesses(config, processes=processes, launcher=launcher), db
            )
        where = supervisor.engine.database.url.render_as_string(hide_password=True)
        typer.echo(f"sysjobs worker: {processes} process(es), {slots} slot(s) each, on {where}"
                   + (f", serving {', '.join(served)}" if served else ""))  # fmt: skip
        supervisor.serve_forever()
    finally:
        launcher.close()


def _app_queues(served: dict[str, str | None]) -> list[QueueDef]:
    """The own queues of the apps a worker serves (their manifests' ``queues:``), which
    ``--queues`` may name too; none when the queues name only built-in ones."""
    import os

    from sysjobs.app.definition import load_app
    from sysjobs.worker.queues import merged_queues

    folders = [f for f in served.values() if f] or [os.environ.get("SYSJOBS_APP") or ""]
    per_app: list[tuple[QueueDef, ...]] = []
    for folder in (f for f in folders if f):
        try:
            per_app.append(load_app(folder).manifest.queue_defs())
        except SysError as exc:
            fail("badRequest", exc.message)
    return merged_queues(per_app)


def _app_key() -> str:
    """The key of the app the default setup loads (``SYSJOBS_APP``, else the demo's)."""
    import os

    from sysjobs.host import app_key_of_folder

    try:
        return app_key_of_folder(os.environ.get("SYSJOBS_APP") or None)
    except SysError as exc:
        fail("badRequest", exc.message)


def served_app_folders(folders: list[Path]) -> dict[str, str | None]:
    """``--app`` values as the apps to serve: app key -> folder. A folder with an
    ``app.yaml`` is one app; a folder without one, every app folder directly in it."""
    from sysjobs.host import app_key_of_folder

    served: dict[str, str | None] = {}
    for folder in folders:
        found = [folder] if (folder / "app.yaml").is_file() else _apps_in(folder)
        for app_dir in found:
            try:
                key = app_key_of_folder(app_dir)
            except SysError as exc:
                fail("badRequest", exc.message)
            if key in served and served[key] != str(app_dir):
                fail("badRequest", f"Invalid value '{app_dir}' for option '--app': the app "
                     f"'{key}' is already served from {served[key]}. Allowed values: "
                     "folders of apps with different names")  # fmt: skip
            served[key] = str(app_dir)
    return served


def _apps_in(folder: Path) -> list[Path]:
    """The app folders directly in ``folder`` (``badRequest`` when it holds none)."""
    inside = sorted(folder.iterdir()) if folder.is_dir() else []
    found = [p for p in inside if (p / "app.yaml").is_file()]
    if not found:
        fail("badRequest", f"Invalid value '{folder}' for option '--app': no app.yaml in it "
             "nor in a folder in it. Allowed values: an app folder or a folder of app folders")
    return found
