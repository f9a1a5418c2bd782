"""``jobs ls`` / ``jobs show`` print the same bytes, and fail with the same lines and exit
codes, whether they read through the quick path (their command line read by
``sysjobs.cli.read_argv``, the jobs by ``sysjobs.store.sqlite.reader`` without SQLAlchemy)
or as before (typer's parse, the engine's SQLAlchemy store): every filter option of
``jobs ls``, ``jobs show`` of jobs with logs, results, errors, children and a parent, and
bad input. On PostgreSQL the quick reader does not apply (the engine reads, as before):
the same comparison shows that nothing changed there either.

The clock of ``waiting``/``duration`` is held still, so two runs a moment apart print the
same figures.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

import sysjobs.cli.jobs_base
import sysjobs.cli.read_argv
import sysjobs.jobs.models
from sysjobs.host import Host
from sysjobs.jobs import JobType
from tests.acceptance.cli.conftest import STEPS
from tests.acceptance.inprocess import Ran, sysjobs_in_process

NOW_MS = 1_900_000_000_000
#: Jobs of the second app: more than one page of the store's reads (200 rows).
OTHER_APP_JOBS = 230


class Empty(BaseModel):
    """No input."""


NOOP = JobType("NOOP", Empty, lambda ctx, data: None)


@pytest.fixture(scope="module")
def jobs(module_db_url: str) -> Iterator[dict[str, str]]:
    """A database with a finished job (results, logs, an error), a pending one with hostile
    text, a tree (root, child, grandchild), a canceled one, and another app's many jobs."""
    with Host(module_db_url, job_types=[STEPS]) as host:
        engine = host.engine
        done = engine.enqueue("STEPS", {"steps": 2, "step_s": 0.0, "_secret": "s"},
                              label="Nightly report", run_by={"id": "u1", "name": "Ann"})  # fmt: skip
        with host.workers(1, in_process=True):
            engine.wait(done.id, "FINISHED", 60)
        engine.log_error(done.id, "Disk full")
        odd = engine.enqueue("STEPS", {"steps": 1, "note": "[red]x[/] \x1b[2J \u200f"},
                             label="[bold]odd[/] \x07 \u00e9\u4e2d", low_priority=True)  # fmt: skip
        root = engine.enqueue("STEPS", {"steps": 1}, label="Root job").id
        child = engine.enqueue("STEPS", {"steps": 1}, label="Child job", parent_id=root).id
        grandchild = engine.enqueue("STEPS", {"steps": 1}, parent_id=child).id
        canceled = engine.enqueue("STEPS", {"steps": 1}, label="Gone").id
        engine.cancel(canceled)
        other = engine.for_app("other")
        other.register(NOOP)
        other.enqueue_many("NOOP", [{}] * OTHER_APP_JOBS, label="many")
        script = host.start_script_job("log(1)", label="a script").id
        yield {"done": done.id, "odd": odd.id, "root": root, "child": child,
               "grandchild": grandchild, "canceled": canceled, "script": script}  # fmt: skip


@pytest.fixture
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysjobs.jobs.models, "now_ms", lambda: NOW_MS)


def both_ways(monkeypatch: pytest.MonkeyPatch, db_url: str, cwd: Path, *args: str
              ) -> tuple[Ran, Ran]:  # fmt: skip
    """``sysjobs ARGS --db URL`` on the quick path, then as before."""
    quick = sysjobs_in_process(*args, "--db", db_url, cwd=cwd)
    with monkeypatch.context() as before:
        before.setattr(sysjobs.cli.read_argv, "read_command", lambda argv: None)
        before.setattr(sysjobs.cli.jobs_base, "_quick_reads", lambda db, app_dir: None)
        engine = sysjobs_in_process(*args, "--db", db_url, cwd=cwd)
    return quick, engine


def ls_lines(ids: dict[str, str]) -> list[tuple[str, ...]]:
    """Every option of ``jobs ls``, alone and combined, as a user writes them."""
    future, past = "2100-01-01T00:00", "2000-01-01"
    return [
        (), ("--json",), ("--status", "PENDING,"), ("--type", "RUN_SCRIPT"), ("--type", "EXECUTE_ACTION,RUN_SCRIPT", "--json"),
        ("--type", "RUN_SCRIPT", "--type", "START_APP"), ("--status", "PENDING"),
        ("--status", "FINISHED,CANCELED", "--json"), ("--status", "PENDING", "--status", "CANCELED"),
        ("--start-from", past), ("--start-to", future), ("--end-from", "0"),
        ("--end-to", str(NOW_MS)), ("--create-from", past), ("--create-to", future, "--json"),
        ("--start-from", past, "--start-to", future, "--end-from", past, "--end-to", future),
        ("--create-from", future), ("--has-errors",), ("--no-errors", "--json"),
        ("--size", "2"), ("-n", "1", "--json"), ("--size=3",), ("--status=PENDING", "-n", "2"),
        ("--type", "RUN_SCRIPT", "--status", "PENDING", "--no-errors", "--create-from", past, "-n", "3"),
        ("--root", ids["root"]), ("--tree", ids["root"], "--json"), ("--root", ids["root"], "-n", "1"),
        ("--app", "other", "-n", "210"), ("--app", "other", "--size", "230", "--json"),
        ("--app", "other", "--status", "PENDING", "-n", "205"), ("--app", "nobody"),
    ]  # fmt: skip


#: Refused once the database is open (statuses, the app's types, sizes, roots): both databases.
BAD_LS: list[tuple[str, ...]] = [
    ("--status", "BOGUS"), ("--type", "NOPE"), ("--type", ","),
    ("--type", "STEPS"), ("--app", "other", "--type", "NOOP"),
    ("--create-from", "5", "--create-to", "1"), ("--size", "0"),
    ("--size", "-1"), ("--size", "1" * 25),
    ("--root", "nope"), ("--root", "f" * 24),
    ("--type", "\ud800"), ("--status", "x" * 10_000),
]  # fmt: skip
#: Refused while the command line is read, before any database is opened (times, a size
#: that is no number, unknown options and arguments, options that exclude each other):
#: the same on either database, so on SQLite only.
BAD_LS_BEFORE_THE_DATABASE: list[tuple[str, ...]] = [
    ("--start-from", "yesterday"), ("--end-to", "1e20"), ("--start-from", "99999999999999999999"),
    ("--size", "abc"), ("--bogus",), ("extra",), ("--status", "PENDING", "--root", "f" * 24),
    ("--app", "Bad Key!"), ("--type",), ("--", "x"), ("--json=1",),
]  # fmt: skip
#: Command lines the quick path leaves to typer although they are not errors.
UNUSUAL_LS: list[tuple[str, ...]] = [
    ("--json", "--json"), ("--has-errors", "--no-errors"),
    ("--size", "1", "--size", "2"), ("--size", "007"),
]  # fmt: skip
UNUSUAL_LS_BEFORE_THE_DATABASE: list[tuple[str, ...]] = [("--help",)]


def test_ls_prints_the_same_bytes_for_every_option(
    monkeypatch: pytest.MonkeyPatch, module_db_url: str, tmp_path: Path,
    jobs: dict[str, str], still_clock: None,
) -> None:  # fmt: skip
    for args in ls_lines(jobs):
        quick, engine = both_ways(monkeypatch, module_db_url, tmp_path, "jobs", "ls", *args)
        assert engine.returncode == 0, (args, engine.stderr)
        assert quick == engine, args


def test_ls_refuses_bad_input_with_the_same_line_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, module_db_url: str, tmp_path: Path,
    jobs: dict[str, str], still_clock: None,
) -> None:  # fmt: skip
    for args in BAD_LS + UNUSUAL_LS:
        quick, engine = both_ways(monkeypatch, module_db_url, tmp_path, "jobs", "ls", *args)
        assert engine.returncode == (2 if args in BAD_LS else 0), (args, engine)
        assert quick == engine, args


def test_ls_refuses_bad_input_before_the_database_with_the_same_line_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, sqlite_template: Path, tmp_path: Path, still_clock: None
) -> None:  # fmt: skip
    db_url = f"sqlite:///{tmp_path / 'sysjobs.db'}"
    shutil.copyfile(sqlite_template, tmp_path / "sysjobs.db")
    for args in BAD_LS_BEFORE_THE_DATABASE + UNUSUAL_LS_BEFORE_THE_DATABASE:
        quick, engine = both_ways(monkeypatch, db_url, tmp_path, "jobs", "ls", *args)
        assert engine.returncode == (2 if args in BAD_LS_BEFORE_THE_DATABASE else 0), (args, engine)
        assert quick == engine, args


def show_lines(ids: dict[str, str]) -> list[tuple[str, ...]]:
    """``jobs show`` of every kind of job, one or many, text and JSON, and bad ids."""
    every = [ids[k] for k in ("done", "odd", "root", "child", "grandchild", "canceled", "script")]
    return [
        *((i,) for i in every), *((i, "--json") for i in every), tuple(every),
        (*every, "--json"), (ids["done"], "f" * 24, ids["odd"]), ("f" * 24,),
        ("f" * 24, "--json"), ("nope",), ("A" * 24, "--json"), ("\ud800" * 24,),
        (ids["done"], "--app", "other"), (ids["done"], "--app", "default"), (),
        (ids["done"], "--bogus"), ("--json",), ("0" * 100_000,),
    ]  # fmt: skip


def test_show_prints_the_same_bytes_and_errors(
    monkeypatch: pytest.MonkeyPatch, module_db_url: str, tmp_path: Path,
    jobs: dict[str, str], still_clock: None,
) -> None:  # fmt: skip
    for args in show_lines(jobs):
        quick, engine = both_ways(monkeypatch, module_db_url, tmp_path, "jobs", "show", *args)
        assert quick == engine, args[:3]


def test_the_quick_reader_serves_sqlite_only_and_leaves_postgresql_to_the_engine(
    module_db_url: str, jobs: dict[str, str]
) -> None:
    quick = sysjobs.cli.jobs_base._quick_reads(module_db_url, None)
    if module_db_url.startswith("sqlite"):
        assert quick is not None
        quick.close()
    else:
        assert quick is None


def test_a_missing_database_file_or_a_path_for_a_url_is_refused_as_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    for url, first in ((missing, "notFound: No database at"), ("x.db", "badRequest: ")):
        for args in (("jobs", "ls"), ("jobs", "show", "f" * 24)):
            quick, engine = both_ways(monkeypatch, url, tmp_path, *args)
            assert quick.returncode == 2 and quick.stderr.startswith(first), quick
            assert quick == engine
    assert not (tmp_path / "missing.db").exists()


def outdated(folder: Path) -> str:
    """A database migrated to the revision before the heads, with a job in it."""
    import sqlalchemy as sa

    from sysjobs.store import migrate

    url = f"sqlite:///{folder / 'old.db'}"
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(engine, "0017")
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO jobs (id, app, type, label, status, queue, low_priority, progress,"
                " has_errors, created_ms, data, attempt, lost_count, max_retries, turn) VALUES"
                " ('0123456789abcdef01234567', 'default', 'STEPS', 'old', 'PENDING', 'mix', 0,"
                " 0, 0, 1000, '{}', 0, 0, 0, 1000)"))  # fmt: skip
    finally:
        engine.dispose()
    return url


def test_an_outdated_database_is_migrated_by_the_engine_as_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, still_clock: None
) -> None:
    from sysjobs.store.revisions import shipped_heads
    from sysjobs.store.sqlite.reader import SqliteReader

    assert "0017" not in (shipped_heads() or set())
    for name, args in (("ls", ("jobs", "ls")), ("show", ("jobs", "show", "0123456789abcdef01234567"))):
        folder = tmp_path / name
        folder.mkdir()
        url = outdated(folder)
        assert SqliteReader.open(folder / "old.db") is None  # not at the heads: the engine's
        quick = sysjobs_in_process(*args, "--db", url, cwd=folder)
        assert quick.returncode == 0 and "old" in quick.stdout, quick
        reader = SqliteReader.open(folder / "old.db")  # migrated by that command
        assert reader is not None
        reader.close()
        _, engine = both_ways(monkeypatch, url, folder, *args)
        assert quick == engine


def test_a_file_that_is_not_a_database_is_reported_as_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    url = f"sqlite:///{tmp_path / 'junk.db'}"
    quick, engine = both_ways(monkeypatch, url, tmp_path, "jobs", "ls")
    assert quick.returncode == 2 and quick == engine

