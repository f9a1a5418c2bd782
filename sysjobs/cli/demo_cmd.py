"""``sysjobs demo``: every sample of the spec, run against the demo app, judged, tabulated.

What ``make demo`` shows on a fresh clone: a SQLite database under ``./.sysjobs/``, the
demo app loaded, in-process workers, then each run of each ``jsdocs_samples/*.js`` with
a progress bar, its output, and a summary table. The exit status is non-zero when any
sample does not do what its sidecar says, so the demo is also a check.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sysjobs.cli.app import app

if TYPE_CHECKING:  # imported in the command: every other command would pay for them
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sysjobs.cli.sample_runner import Report

DEFAULT_SAMPLES = Path("jsdocs_samples")
DEFAULT_DB = Path(".sysjobs") / "demo.db"


@app.command("demo")
def demo(
    samples: Annotated[Path, typer.Option(help="Folder of samples with sidecars.")] = (
        DEFAULT_SAMPLES
    ),
    db: Annotated[Path, typer.Option(help="SQLite file to create (replaced if present).")] = (
        DEFAULT_DB
    ),
    only: Annotated[str, typer.Option(help="Run only samples whose name contains this.")] = "",
) -> None:
    """Run every documented sample against the demo app and check its outcome."""
    from rich.console import Console

    from sysjobs.cli.demo_host import open_demo_host
    from sysjobs.cli.sample_checks import load_runs
    from sysjobs.cli.sample_runner import execute

    console = Console()
    runs = [r for r in load_runs(samples) if only in r.sample]
    if not runs:
        console.print(f"[red]no samples found in {samples}[/red]")
        raise typer.Exit(2)
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    console.print(f"database: sqlite:///{db}  ·  app: demo  ·  {len(runs)} sample runs")
    reports: list[Report] = []
    with open_demo_host(f"sqlite:///{db}") as host, _progress(console) as progress:
        task = progress.add_task("samples", total=len(runs))
        for run in runs:
            progress.update(task, description=run.id)
            report = execute(run, host)
            reports.append(report)
            _print_report(progress.console, report)
            progress.advance(task)
    console.print(_summary(reports))
    failed = sum(not r.ok for r in reports)
    console.print(f"{len(reports) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _progress(console: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _print_report(console: Console, report: Report) -> None:
    mark = "[green]PASS[/green]" if report.ok else "[red]FAIL[/red]"
    console.rule(f"{mark} {report.run.id}  ({report.ms:.0f} ms)")
    for line in report.logs:
        console.print(line, markup=False, highlight=False)
    if report.error:
        console.print(f"error: {report.error}", style="yellow", markup=False)
    for problem in report.problems:
        console.print(f"✗ {problem}", style="red", markup=False)


def _summary(reports: list[Report]) -> Table:
    from rich.table import Table

    table = Table(title="jsdocs samples")
    table.add_column("sample")
    table.add_column("run")
    table.add_column("outcome")
    table.add_column("ms", justify="right")
    for r in reports:
        outcome = "[green]pass[/green]" if r.ok else "[red]fail[/red]"
        table.add_row(r.run.sample, r.run.name, outcome, f"{r.ms:.0f}")
    return table
