"""Every CLI error is one ``code: message`` line on stderr and a non-zero exit — no traceback."""

from __future__ import annotations

import pytest

from tests.acceptance.cli.conftest import Cli

MISSING = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("jobs", "show", "nope"), "badRequest: Invalid value 'nope' for parameter 'jobId'"),
        (("jobs", "show", MISSING), f"notFound: Job {MISSING} not found"),
        (("jobs", "logs", MISSING), f"notFound: Job {MISSING} not found"),
        (
            ("jobs", "ls", "--status", "DONE"),
            "badRequest: Invalid value 'DONE' for parameter 'status'",
        ),
        (
            ("jobs", "ls", "--start-from", "yesterday"),
            "badRequest: Invalid value 'yesterday' for parameter 'startFrom'",
        ),
        (("jobs", "logs", MISSING, "--level", "DEBUG"), f"notFound: Job {MISSING} not found"),
        (("jobs", "stop", MISSING), f"notFound: Job {MISSING} not found"),
        (
            ("jobs", "low-priority", MISSING, "maybe"),
            "badRequest: Invalid value 'maybe' for 'switch'",
        ),
    ],
)
def test_errors_are_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.startswith(expected)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


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
