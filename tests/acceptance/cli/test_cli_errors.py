"""Every CLI error is one ``code: message`` line on stderr and a non-zero exit — no traceback.

The message names the CLI's flag or argument (``--start-from``, ``ID``), not the API
parameter behind it (``startFrom``, ``jobId``), and says which values are allowed.
"""

from __future__ import annotations

import pytest

from tests.acceptance.cli.conftest import Cli

MISSING = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("jobs", "show", "nope"), "badRequest: Invalid value 'nope' for argument 'ID'"),
        (("jobs", "show", MISSING), f"notFound: Job {MISSING} not found"),
        (("jobs", "logs", MISSING), f"notFound: Job {MISSING} not found"),
        (
            ("jobs", "ls", "--status", "DONE"),
            "badRequest: Invalid value 'DONE' for option '--status'",
        ),
        (
            ("jobs", "ls", "--start-from", "yesterday"),
            "badRequest: Invalid value 'yesterday' for option '--start-from'",
        ),
        (("jobs", "logs", MISSING, "--level", "DEBUG"), f"notFound: Job {MISSING} not found"),
        (("jobs", "stop", MISSING), f"notFound: Job {MISSING} not found"),
        (
            ("jobs", "low-priority", MISSING, "maybe"),
            "badRequest: Invalid value 'maybe' for argument 'on|off'. Allowed values: on, off",
        ),
    ],
)
def test_errors_are_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.startswith(expected)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("jobs", "ls", "--create-from", "soon"), "option '--create-from'"),
        (("jobs", "ls", "--create-to", "1e400"), "option '--create-to'"),
        (("jobs", "ls", "--end-from", "NaN"), "option '--end-from'"),
        (("jobs", "ls", "--start-to", "\ud800"), "option '--start-to'"),
        (("jobs", "ls", "--type", "NOPE"), "option '--type'"),
        (("jobs", "ls", "-n", "0"), "option '--size'"),
        (("jobs", "logs", MISSING, "--from", "tomorrow"), "option '--from'"),
        (("jobs", "logs", MISSING, "--to", "x" * 1_000_000), "option '--to'"),
        (("jobs", "logs", MISSING, "--level", "DEBUG"), None),
        (("jobs", "wait", MISSING, "--status", "DONE"), "option '--status'"),
        (("jobs", "wait", "nope", "--status", "FINISHED"), "argument 'ID'"),
        (("jobs", "wait", MISSING, "--status", "FINISHED", "--timeout", "nan"), None),
        (("jobs", "wait", MISSING, "--status", "FINISHED", "--timeout", "-inf"), None),
        (("jobs", "wait", MISSING, "--status", "FINISHED", "--timeout", "inf"), None),
    ],
)
def test_errors_name_the_flag_and_the_allowed_values(
    cli: Cli, args: tuple[str, ...], expected: str | None
) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert len(done.stderr) < 2000
    for api_name in ("createFrom", "createTo", "endFrom", "startTo", "jobId", "_size", "'from'"):
        assert api_name not in done.stderr
    if expected is not None:
        assert f"for {expected}. Allowed values: " in done.stderr


def test_a_bad_database_url_is_one_line(cli: Cli) -> None:
    """End to end: the process a user starts prints the one line, not a traceback."""
    cli.db_url = "mysql://nowhere/db"
    done = cli.process("jobs", "ls")
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: cannot open the database or app: unsupported")
    assert done.stderr.count("\n") == 1


def test_an_unreachable_server_is_one_line(cli: Cli) -> None:
    cli.db_url = "postgresql://nobody@127.0.0.1:1/none"
    done = cli("jobs", "stats")
    assert done.returncode == 2
    assert done.stderr.startswith("databaseError: cannot open postgresql://nobody@127.0.0.1:1/none")
    assert done.stderr.count("\n") == 1


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
