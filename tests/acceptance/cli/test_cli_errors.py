"""Every CLI error is one ``code: message`` line on stderr and a non-zero exit — no traceback.

The message names the CLI's flag or argument (``--start-from``, ``ID``), not the API
parameter behind it (``startFrom``, ``jobId``), and says which values are allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.cli.conftest import Cli

MISSING = "0123456789abcdef01234567"


#: The command lines refused before the database is opened (their parameter is read first:
#: times, counts, on|off): decided alike on either database, they run on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

#: Refused once the database is open (an id, a status, an unknown job): on both databases.
ONE_LINE = [
    (("jobs", "show", "nope"), "badRequest: Invalid value 'nope' for argument 'ID'"),
    (("jobs", "show", MISSING), f"notFound: Job {MISSING} not found"),
    (("jobs", "logs", MISSING), f"notFound: Job {MISSING} not found"),
    (("jobs", "ls", "--status", "DONE"), "badRequest: Invalid value 'DONE' for option '--status'"),
    (("jobs", "logs", MISSING, "--level", "DEBUG"), f"notFound: Job {MISSING} not found"),
    (("jobs", "stop", MISSING), f"notFound: Job {MISSING} not found"),
]
ONE_LINE_BEFORE_THE_DATABASE = [
    (
        ("jobs", "ls", "--start-from", "yesterday"),
        "badRequest: Invalid value 'yesterday' for option '--start-from'",
    ),
    (
        ("jobs", "low-priority", MISSING, "maybe"),
        "badRequest: Invalid value 'maybe' for argument 'on|off'. Allowed values: on, off",
    ),
]


@pytest.mark.parametrize(("args", "expected"), ONE_LINE)
def test_errors_are_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    assert_one_line(cli, args, expected)


@SQLITE_ONLY
@pytest.mark.parametrize(("args", "expected"), ONE_LINE_BEFORE_THE_DATABASE)
def test_errors_before_the_database_is_opened_are_one_line(
    cli: Cli, args: tuple[str, ...], expected: str
) -> None:
    assert_one_line(cli, args, expected)


def assert_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.startswith(expected)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


#: Refused once the database is open (the app's types, a job's existence): on both databases.
NAMED = [
    (("jobs", "ls", "--type", "NOPE"), "option '--type'"),
    (("jobs", "ls", "-n", "0"), "option '--size'"),
    (("jobs", "logs", MISSING, "--level", "DEBUG"), None),
    (("jobs", "wait", MISSING, "--status", "DONE"), "option '--status'"),
    (("jobs", "wait", "nope", "--status", "FINISHED"), "argument 'ID'"),
]
NAMED_BEFORE_THE_DATABASE = [
    (("jobs", "ls", "--create-from", "soon"), "option '--create-from'"),
    (("jobs", "ls", "--create-to", "1e400"), "option '--create-to'"),
    (("jobs", "ls", "--end-from", "NaN"), "option '--end-from'"),
    (("jobs", "ls", "--start-to", "\ud800"), "option '--start-to'"),
    (("jobs", "logs", MISSING, "--from", "tomorrow"), "option '--from'"),
    (("jobs", "logs", MISSING, "--to", "x" * 1_000_000), "option '--to'"),
    (("jobs", "wait", MISSING, "--status", "FINISHED", "--timeout", "nan"), None),
    (("jobs", "wait", MISSING, "--status", "FINISHED", "--timeout", "-inf"), None),
    (("jobs", "wait", MISSING, "--status", "FINISHED", "--timeout", "inf"), None),
]


@pytest.mark.parametrize(("args", "expected"), NAMED)
def test_errors_name_the_flag_and_the_allowed_values(
    cli: Cli, args: tuple[str, ...], expected: str | None
) -> None:
    assert_names_the_flag(cli, args, expected)


@SQLITE_ONLY
@pytest.mark.parametrize(("args", "expected"), NAMED_BEFORE_THE_DATABASE)
def test_errors_before_the_database_is_opened_name_the_flag_and_the_allowed_values(
    cli: Cli, args: tuple[str, ...], expected: str | None
) -> None:
    assert_names_the_flag(cli, args, expected)


def assert_names_the_flag(cli: Cli, args: tuple[str, ...], expected: str | None) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert len(done.stderr) < 2000
    for api_name in ("createFrom", "createTo", "endFrom", "startTo", "jobId", "_size", "'from'"):
        assert api_name not in done.stderr
    if expected is not None:
        assert f"for {expected}. Allowed values: " in done.stderr


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    """End to end: the process a user starts prints the one line, not a traceback. (No
    database of the test's: the URL is refused before any is opened.)"""
    done = Cli("mysql://nowhere/db", tmp_path).process("jobs", "ls")
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: cannot open the database or app: unsupported")
    assert done.stderr.count("\n") == 1


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    done = Cli("postgresql://nobody@127.0.0.1:1/none", tmp_path)("jobs", "stats")
    assert done.returncode == 2
    assert done.stderr.startswith("databaseError: cannot open postgresql://nobody@127.0.0.1:1/none")
    assert done.stderr.count("\n") == 1


def test_a_fault_of_sysjobs_while_opening_is_a_system_exception_not_the_databases(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug met while the database opens must not send the user to debug their database.
    from sysjobs.jobs import Engine

    def broken(*_args: object, **_kwargs: object) -> None:
        raise TypeError("open() got an unexpected keyword argument 'x'")

    monkeypatch.setattr(Engine, "open", broken)
    done = cli("jobs", "stats")
    assert done.returncode == 2
    assert done.stderr == ("systemException: TypeError: open() got an unexpected keyword "
                           "argument 'x' (SYSJOBS_DEBUG=1 shows the traceback)\n")  # fmt: skip


def test_an_unexpected_failure_is_one_line_unless_debugging(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sysjobs.cli import jobs_view

    def broken(*_args: object) -> None:
        raise RuntimeError("table broke\nsecond line")

    monkeypatch.setattr(jobs_view, "jobs_table", broken)
    done = cli("jobs", "ls")
    assert done.returncode == 2
    assert done.stderr == (
        "systemException: RuntimeError: table broke (SYSJOBS_DEBUG=1 shows the traceback)\n"
    )
    monkeypatch.setenv("SYSJOBS_DEBUG", "1")
    with pytest.raises(RuntimeError, match="table broke"):
        cli("jobs", "ls")
