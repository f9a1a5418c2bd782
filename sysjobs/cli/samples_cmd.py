"""``sysjobs samples run PATH…``: your own docs' JavaScript samples, run and judged.

Each PATH is a folder of ``.js`` samples, one ``.js`` file, or a Markdown/text page; what
each sample must do comes from its sidecar, its expectation comments, or else only that it
runs without an uncaught error (:mod:`sysjobs.cli.sample_sources`). The samples run against
an app (``--app``, the demo app by default) on a database (``--db``; by default a fresh
SQLite file removed afterwards) with in-process workers. ``--junit FILE`` writes JUnit XML,
``--json`` prints a JSON report instead of the text one. Exit status: 0 when every run
passed, 1 when one failed, 2 when a path, page or sidecar cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sysjobs.cli.app import app
from sysjobs.cli.options import AppOption, JsonOption, database_url, fail, reported_errors

if TYPE_CHECKING:  # imported in the commands: every other command would pay for them
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sysjobs.cli.sample_checks import SampleRun
    from sysjobs.cli.sample_runner import Report

samples_app = typer.Typer(
    help="Run the JavaScript samples of your docs and check what they do.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(samples_app, name="samples")

SamplesDbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        callback=database_url,
        help="Database URL (sqlite:///path.db or postgresql://…); "
        "default: a fresh SQLite file, removed afterwards.",
    ),
]
JunitOption = Annotated[
    Path | None, typer.Option("--junit", help="Also write a JUnit XML report to this file.")
]
OnlyOption = Annotated[str, typer.Option(help="Run only samples whose id contains this.")]


@samples_app.command("run")
def run(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Folders of .js samples, .js files, or Markdown/text pages."),
    ],
    app_dir: AppOption = None,
    db: SamplesDbOption = None,
    junit: JunitOption = None,
    as_json: JsonOption = False,
    only: OnlyOption = "",
) -> None:
    """Run every sample found in PATHs and check each does what it says."""
    from sysjobs.cli.sample_sources import discover

    with reported_errors():
        runs = [r for r in discover(paths) if only in r.id]
    with _database(db) as url:
        reports = run_and_report(
            runs, url=url, app_dir=app_dir, title="samples", junit=junit, as_json=as_json,
            app_label=str(app_dir) if app_dir else "demo",
        )
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@contextmanager
def _database(db: str | None) -> Iterator[str]:
    if db:
        yield db
        return
    import tempfile  # random and shutil: for `samples` alone

    with tempfile.TemporaryDirectory(prefix="sysjobs-samples-") as folder:
        yield f"sqlite:///{Path(folder) / 'samples.db'}"


def run_and_report(
    runs: Sequence[SampleRun],
    *,
    url: str,
    app_dir: Path | None,
    title: str,
    junit: Path | None,
    as_json: bool,
    app_label: str = "demo",
) -> list[Report]:
    """Run ``runs`` on one host and report them: text (or JSON) on stdout, JUnit if asked.

    Shared by ``sysjobs samples run`` and ``sysjobs demo``, so both judge and show the same.
    """
    from rich.console import Console

    from sysjobs.cli.demo_host import open_demo_host
    from sysjobs.cli.sample_reports import json_report, junit_xml
    from sysjobs.cli.sample_runner import judge

    console = Console(quiet=as_json)
    if not runs:
        fail("badRequest", "no samples to run (check the paths and --only)")
    console.print(
        f"database: {url}  ·  app: {app_label}  ·  {len(runs)} sample runs",
        markup=False, highlight=False,
    )
    with reported_errors(), open_demo_host(url, app_dir=app_dir) as host:
        reports = _run_all(runs, lambda run: judge(run, host), console)
    console.print(_summary(reports, title))
    failed = sum(not r.ok for r in reports)
    console.print(f"{len(reports) - failed} passed, {failed} failed")
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml(reports, suite=title), "utf-8")
    if as_json:
        typer.echo(json.dumps(json_report(reports), ensure_ascii=True))
    return reports


def _run_all(
    runs: Sequence[SampleRun], execute_one: Callable[[SampleRun], Report], console: Console
) -> list[Report]:
    from rich.markup import escape

    reports: list[Report] = []
    with _progress(console) as progress:
        task = progress.add_task("samples", total=len(runs))
        for run in runs:
            progress.update(task, description=escape(run.id))
            report = execute_one(run)
            reports.append(report)
            _print_report(progress.console, report)
            progress.advance(task)
    return reports


def _progress(console: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console.quiet,
    )


def _print_report(console: Console, report: Report) -> None:
    from rich.markup import escape

    mark = "[green]PASS[/green]" if report.ok else "[red]FAIL[/red]"
    console.rule(f"{mark} {escape(report.run.id)}  ({report.ms:.0f} ms)")
    for line in report.logs:
        console.print(line, markup=False, highlight=False)
    if report.error:
        console.print(f"error: {report.error}", style="yellow", markup=False)
    for problem in report.problems:
        console.print(f"✗ {problem}", style="red", markup=False)


def _summary(reports: Sequence[Report], title: str) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    table.add_column("sample")
    table.add_column("run")
    table.add_column("outcome")
    table.add_column("ms", justify="right")
    for r in reports:
        outcome = "[green]pass[/green]" if r.ok else "[red]fail[/red]"
        table.add_row(escape(r.run.sample), escape(r.run.name), outcome, f"{r.ms:.0f}")
    return table
