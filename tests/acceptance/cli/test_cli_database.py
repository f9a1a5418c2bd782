"""``--db`` is a URL everywhere, and a command about existing jobs never creates a database.

A mistyped ``--db sqlite:////nonexistent/x.db`` once printed ``0 of 0 jobs`` (and made the
file); ``demo --db sqlite:///x.db`` made a folder named ``sqlite:``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.inprocess import sysjobs_in_process

ID = "0123456789abcdef01234567"
READS = [
    ("jobs", "ls"), ("jobs", "show", ID), ("jobs", "logs", ID), ("jobs", "stats"),
    ("jobs", "wait", ID, "--status", "FINISHED"), ("jobs", "cancel", ID),
    ("jobs", "low-priority", ID, "on"), ("jobs", "kill", ID), ("db", "prune"),
]  # fmt: skip


@pytest.mark.parametrize("args", READS, ids=lambda a: "-".join(a[:2]))
def test_commands_about_jobs_refuse_a_missing_database_file(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "typo" / "x.db"
    done = sysjobs_in_process(*args, "--db", f"sqlite:///{missing}", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"notFound: No database at '{missing}' (--db sqlite:///{missing}). Commands that "
        "start jobs, 'sysjobs worker' and 'sysjobs db upgrade' create one.\n"
    )
    assert not missing.parent.exists()


def test_the_default_database_is_not_created_by_a_read(tmp_path: Path) -> None:
    done = sysjobs_in_process("jobs", "ls", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("notFound: No database at '.sysjobs/sysjobs.db'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("jobs", "ls"), ("demo",), ("samples", "run", "x.js"),
                                     ("worker",), ("db", "upgrade"), ("run", "x.js")])  # fmt: skip
def test_a_bare_path_for_db_is_refused_with_the_url_to_use(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = sysjobs_in_process(*command, "--db", "x.db", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value for '--db'")
    assert "'x.db' is not a database URL. Allowed values: sqlite:///path.db (e.g. " \
           "sqlite:///x.db) or postgresql://user@host/db" in done.stderr
    assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_demo_takes_a_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'out' / 'demo.db'}"
    done = sysjobs_in_process("demo", "--only", "get_current_job_id", "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "demo.db").is_file()
    assert not (tmp_path / "sqlite:").exists()


def test_db_upgrade_creates_the_database_the_others_need(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'x.db'}"
    created = sysjobs_in_process("db", "upgrade", "--db", url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    listed = sysjobs_in_process("jobs", "ls", "--db", url, cwd=tmp_path)
    assert (listed.returncode, listed.stderr) == (0, "")
    assert "0 of 0 jobs" in listed.stdout


@pytest.mark.parametrize("command", [("db", "upgrade"), ("db", "prune"), ("worker",)])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://x/y", "badRequest: cannot open the database or app: unsupported database URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "databaseError: cannot open postgresql://"),
    ],
)
def test_db_and_worker_report_a_bad_database_in_one_line(
    tmp_path: Path, command: tuple[str, ...], url: str, expected: str
) -> None:
    done = sysjobs_in_process(*command, "--db", url, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(expected) and done.stderr.count("\n") == 1


@pytest.mark.parametrize("value", ["\ud800", "x" * 1_000_000, "a\nb", "NaN", "\x00"])
def test_a_hostile_db_value_is_one_short_line(tmp_path: Path, value: str) -> None:
    done = sysjobs_in_process("jobs", "ls", "--db", value, cwd=tmp_path)
    assert done.returncode == 2
    assert "is not a database URL" in done.stderr
    assert done.stderr.count("\n") == 1 and len(done.stderr) < 800
