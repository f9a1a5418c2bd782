"""``sysjobs jobs start …``: every public job type from the command line.

``--wait`` runs the workers of the command: a supervised worker process, as the first test
shows. The other tests check what each job type does and what the command prints, not the
process: their workers run in the test's own process (``workers_here``) — a worker process
per test was most of their CPU (its interpreter, imports and V8), and worker processes have
tests of their own (``tests/acceptance/worker``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sysjobs.cli import app as cli
from sysjobs.host import Host
from sysjobs.worker.pool import DEFAULT_SLOTS, Workers

runner = CliRunner()


@pytest.fixture
def workers_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's workers run in this process (``Host.workers(in_process=True)``)."""
    real = Host.workers

    def in_process(self: Host, concurrency: int = DEFAULT_SLOTS, **kw: Any) -> Workers:
        workers: Workers = real(self, concurrency, **{**kw, "in_process": True})
        return workers

    monkeypatch.setattr(Host, "workers", in_process)


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): each command
    opens and closes its own Host (and its workers: in this process, or the one
    supervised worker process, ended before the command returns), so a test needs only an
    empty migrated database; taking a new one from the pool cost more than the command."""
    return reused_db_url


def start(db: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["jobs", "start", *args, "--db", db])
    return result.exit_code, result.output


def started(db: str, *args: str) -> dict[str, object]:
    code, out = start(db, *args, "--wait", "--json", "--timeout", "120")
    assert code == 0, out
    job: dict[str, object] = json.loads(out)
    assert job["status"] == "FINISHED", job
    return job


def test_execute_action_waits_and_prints_the_job(app_url: str) -> None:
    job = started(app_url, "execute-action", "companies", "logSomething",
                  "--query", '{"type": "a"}', "--param", "param1=a", "--param", "param2=b")
    assert job["data"] == {"entityName": "companies", "actionName": "logSomething"}
    results = job["results"]
    assert isinstance(results, dict) and len(results["results"]) == 2


def test_global_action_and_job_id_without_wait(app_url: str) -> None:
    code, out = start(app_url, "execute-action", "-", "quickAdd", "--param", "name=Newco")
    assert code == 0 and len(out.strip()) == 24


def test_import_and_export_records_through_files(
    app_url: str, tmp_path: Path, workers_here: None
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("name,type\nAlpha,a\nBeta,zz\n")
    job = started(app_url, "import-records", "companies", str(source))
    assert job["results"] == {"rowsImported": 1, "rowsWithErrors": 1}
    assert job["hasErrors"] is True
    out = tmp_path / "out.csv"
    job = started(app_url, "export-records", "companies", "--query", '{"name": "Alpha"}',
                  "--out", str(out))
    assert isinstance(job["results"], dict) and job["results"]["recordsExported"] == 1
    assert out.read_text().splitlines()[1].split(",")[1] == "Alpha"


@pytest.mark.parametrize("args", [
    ("delete-records", "companies", "--query", '{"type": "c"}'),
    ("execute-listener", "onCompanyCreated"),
    ("export-users",),
    ("stop-app",),
    ("start-app", "--push-changes"),
    ("deploy-endpoint", "hello"),
    ("undeploy-endpoint", "hello"),
])
def test_other_job_types_start_and_settle(
    app_url: str, args: tuple[str, ...], workers_here: None
) -> None:
    code, out = start(app_url, *args, "--wait", "--json", "--timeout", "120")
    assert code == 0, out
    assert json.loads(out)["status"] == "FINISHED"


def test_import_users_from_a_csv(app_url: str, tmp_path: Path, workers_here: None) -> None:
    users = tmp_path / "users.csv"
    users.write_text("email,firstName,lastName\nnew@example.com,New,User\n")
    job = started(app_url, "import-users", str(users), "--notify")
    assert job["data"] == {"fileName": "users.csv", "notifyUsers": True}
    assert job["results"] == {"usersImported": 1, "usersWithErrors": 0}


@pytest.mark.parametrize(("args", "expected"), [
    (("execute-action", "nope", "logSomething"), "badRequest: Invalid value 'nope'"),
    (("delete-records", "companies", "--query", '{"colour": "red"}'),
     "badRequest: Invalid field 'colour'"),
    (("deploy-endpoint", "nope"), "badRequest: Invalid value 'nope' for parameter"),
])
def test_bad_input_is_one_line_and_exit_code_2(
    app_url: str, args: tuple[str, ...], expected: str
) -> None:
    code, out = start(app_url, *args)
    assert code == 2 and out.strip().startswith(expected), out


@pytest.mark.parametrize(("args", "expected"), [
    (("execute-action", "companies", "logSomething", "--query", "{type"),
     "badRequest: Invalid JSON for --query"),
    (("execute-action", "companies", "logSomething", "--param", "oops"),
     "badRequest: Invalid value 'oops' for --param"),
    (("export-records", "companies", "--out", "x.csv"), "badRequest: --out needs --wait"),
])
def test_bad_arguments_are_one_line_and_exit_code_2_before_the_database_is_opened(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    """Refused while the command reads its arguments: no database is opened — the SQLite
    file named is not even created — so these run on SQLite only (on PostgreSQL the same
    code refuses them before the same first access)."""
    db = tmp_path / "never.db"
    code, out = start(f"sqlite:///{db}", *args)
    assert code == 2 and out.strip().startswith(expected), out
    assert not db.exists()
