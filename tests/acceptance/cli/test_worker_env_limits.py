"""A malformed worker-limit variable is one clear error where the command starts.

``SYSJOBS_WORKER_DATA_LIMIT_MB`` and ``SYSJOBS_WORKER_HEAP_MB`` are read by every worker
process at its start; a typo used to end each of them there (a ``ValueError`` in a child's
set-up) while the command waited for jobs that never ran. The parent now checks them first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sysjobs.errors import BadRequest
from sysjobs.host import check_worker_env, env_mib
from tests.acceptance.inprocess import sysjobs_in_process

HOSTILE = ["abc", "-1", "1.5", "1e3", "0x10", "١٢", "9" * 10, "12 MB", "\udcff"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_malformed_mib_variable_is_a_bad_request_naming_it_and_the_allowed_values(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSJOBS_WORKER_HEAP_MB", raw)
    with pytest.raises(BadRequest) as refused:
        check_worker_env()
    assert "'SYSJOBS_WORKER_HEAP_MB'" in refused.value.message
    assert "Allowed values: MiB as a whole number" in refused.value.message


def test_an_unset_or_empty_variable_is_the_default_and_a_number_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SYSJOBS_WORKER_DATA_LIMIT_MB", raising=False)
    assert env_mib("SYSJOBS_WORKER_DATA_LIMIT_MB", 4096) == 4096
    monkeypatch.setenv("SYSJOBS_WORKER_DATA_LIMIT_MB", " ")
    assert env_mib("SYSJOBS_WORKER_DATA_LIMIT_MB", 4096) == 4096
    monkeypatch.setenv("SYSJOBS_WORKER_DATA_LIMIT_MB", "0")
    assert env_mib("SYSJOBS_WORKER_DATA_LIMIT_MB", 4096) == 0


def test_a_zero_heap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSJOBS_WORKER_HEAP_MB", "0")
    with pytest.raises(BadRequest, match="from 1 to"):
        check_worker_env()


@pytest.mark.parametrize("command", [("run", "--in-job"), ("worker",)])
@pytest.mark.parametrize("variable", ["SYSJOBS_WORKER_DATA_LIMIT_MB", "SYSJOBS_WORKER_HEAP_MB"])
def test_a_command_that_starts_worker_processes_refuses_a_malformed_variable_at_once(
    command: tuple[str, ...], variable: str, tmp_path: Path
) -> None:
    (tmp_path / "hi.js").write_text("log('hi')\n")
    args = (*command, "hi.js") if command[0] == "run" else command
    db = f"sqlite:///{tmp_path / 'jobs.db'}"
    ran = sysjobs_in_process(*args, "--db", db, cwd=tmp_path, env={variable: "12 MB"})
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert ran.stderr.strip().splitlines() == [
        f"badRequest: Invalid value '12 MB' for environment variable '{variable}'. "
        "Allowed values: MiB as a whole number from 0 to 999999999 (0: no limit)"
    ]
    assert "Traceback" not in ran.stderr
