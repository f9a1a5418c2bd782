"""The ``sysjobs`` command line (typer + rich).

Each command group lives in its own module and registers itself on :data:`app` when
imported here.
"""

import sysjobs.cli.app_cmd  # registers `sysjobs jobs start …`
import sysjobs.cli.db_cmd  # registers `sysjobs db upgrade|prune`
import sysjobs.cli.demo_cmd
import sysjobs.cli.jobs_cmd
import sysjobs.cli.serve_cmd  # registers `sysjobs serve`
import sysjobs.cli.worker_cmd  # noqa: F401  (registers `sysjobs worker`)
from sysjobs.cli import run_cmd  # noqa: F401  (registers `sysjobs run`)
from sysjobs.cli.app import app


def main() -> None:
    """Entry point of the ``sysjobs`` console script."""
    app()
