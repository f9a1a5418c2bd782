"""``sysjobs demo``: every sample of the spec, run against the demo app, judged, tabulated.

What ``make demo`` shows: a SQLite database under ``./.sysjobs/``, the demo app loaded,
in-process workers, then each run of each sample shipped in the package
(``sysjobs/samples/*.js``, so it works from a wheel in an empty folder) with a progress
bar, its output, and a summary table. It is ``sysjobs samples run`` over those samples:
the exit status is non-zero when any sample does not do what its sidecar says, so the demo
is also a check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import JsonOption, database_url, reported_errors, sqlite_file
from sysjobs.cli.samples_cmd import JunitOption, run_and_report
from sysjobs.samples import SAMPLES_DIR

DEFAULT_DB = "sqlite:///" + str(Path(".sysjobs") / "demo.db")


@app.command("demo")
def demo(
    samples: Annotated[
        Path, typer.Option(help="Folder of samples (default: the spec's, shipped with sysjobs).")
    ] = SAMPLES_DIR,
    db: Annotated[
        str,
        typer.Option(
            callback=database_url,
            help="Database URL, as every --db: sqlite:///path.db (a SQLite file is replaced "
            "if present) or postgresql://…",
        ),
    ] = DEFAULT_DB,
    only: Annotated[str, typer.Option(help="Run only samples whose id contains this.")] = "",
    junit: JunitOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run every documented sample against the demo app and check its outcome."""
    from sysjobs.cli.sample_sources import discover  # YAML, pydantic, the engine: on use

    with reported_errors():
        runs = [r for r in discover([samples]) if only in r.id]
    fresh_sqlite_file(db)
    reports = run_and_report(
        runs, url=db, app_dir=None, title="jsdocs samples", junit=junit,
        as_json=as_json,
    )
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


def fresh_sqlite_file(url: str) -> None:
    """A SQLite demo starts from an empty file (its folder made, an old file removed);
    any other database is used as it is."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
