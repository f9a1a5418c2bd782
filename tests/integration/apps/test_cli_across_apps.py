"""The command line on a database of two apps: ``--app`` (an app folder or an app key)
scopes every ``jobs`` command to that app — another app's jobs are not listed, not shown,
their logs not read, not changed (``notFound``) — and a bad ``--app`` is one
``badRequest`` line naming the option."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.host import Host
from tests.acceptance.inprocess import Ran, sysjobs_in_process
from tests.integration.app.harness import write_as_opened
from tests.integration.apps.conftest import app_folder


class TwoApps:
    """Hosts of apps alpha and beta on one database, two jobs of each (the first with a log
    line); the command line runs in ``home``."""

    def __init__(self, db_url: str, root: Path) -> None:
        self.db_url, self.home = db_url, root
        self.folders = {name: app_folder(root, name) for name in ("alpha", "beta")}
        self.hosts = {name: Host(db_url, folder, pool_size=1)
                      for name, folder in self.folders.items()}  # fmt: skip
        self.jobs: dict[str, list[str]] = {}

    def add_jobs(self) -> None:
        self.jobs = {name: [host.start_script_job("1", label=f"{name} job").id for _ in range(2)]
                     for name, host in self.hosts.items()}  # fmt: skip
        for name, host in self.hosts.items():
            host.engine.log_info(self.jobs[name][0], f"a line of {name}")

    def cli(self, *args: str) -> Ran:
        return sysjobs_in_process(*args, "--db", self.db_url, cwd=self.home,
                                  env={"HOME": str(self.home), "SYSJOBS_APP": None})  # fmt: skip

    def close(self) -> None:
        for host in self.hosts.values():
            host.close()


@pytest.fixture(scope="module")
def shared_two(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoApps]:
    """The two apps' Hosts for the module's tests: opening them per test was most of a
    test's CPU (see ``two``)."""
    opened = TwoApps(module_db_url, tmp_path_factory.mktemp("two"))
    yield opened
    opened.close()


@pytest.fixture
def two(reused_db_url: str, shared_two: TwoApps, tmp_path: Path) -> Iterator[TwoApps]:
    """``shared_two`` on the module's database emptied (``tests/emptying.py``), written
    again as opening alpha then beta on a new one writes it, with two new jobs of each; the
    command line runs in this test's own folder."""
    for host in shared_two.hosts.values():
        write_as_opened(host.app)
    shared_two.home = tmp_path
    shared_two.add_jobs()
    yield shared_two
    shared_two.home = shared_two.folders["alpha"].parent


def _listed(done: Ran) -> list[str]:
    assert done.returncode == 0, done.stderr
    return sorted(job["id"] for job in json.loads(done.stdout)["jobs"])


@pytest.mark.parametrize("by", ["key", "folder"])
def test_jobs_ls_lists_only_the_apps_jobs(two: TwoApps, by: str) -> None:
    for name in ("alpha", "beta"):
        app = name if by == "key" else str(two.folders[name])
        assert _listed(two.cli("jobs", "ls", "--app", app, "--json")) == sorted(two.jobs[name])


def test_without_app_the_default_app_is_listed_and_not_the_others(two: TwoApps) -> None:
    assert _listed(two.cli("jobs", "ls", "--json")) == []


@pytest.mark.parametrize(
    "command",
    [("jobs", "show"), ("jobs", "logs"), ("jobs", "wait")],
)
def test_reading_another_apps_job_is_not_found(two: TwoApps, command: tuple[str, ...]) -> None:
    stranger = two.jobs["beta"][0]
    extra = ("--status", "FINISHED", "--timeout", "0") if command[-1] == "wait" else ()
    done = two.cli(*command, stranger, *extra, "--app", "alpha")
    assert done.returncode != 0
    assert "notFound" in done.stderr and "a line of beta" not in done.stdout
    mine = two.cli("jobs", "logs", two.jobs["beta"][0], "--app", "beta")
    assert mine.returncode == 0 and "a line of beta" in mine.stdout


@pytest.mark.parametrize("verb", ["cancel", "stop", "kill", "resume"])
def test_changing_another_apps_job_is_not_found(two: TwoApps, verb: str) -> None:
    stranger = two.jobs["beta"][0]
    done = two.cli("jobs", verb, stranger, "--app", str(two.folders["alpha"]))
    assert done.returncode != 0 and "notFound" in done.stderr
    assert two.hosts["beta"].engine.require(stranger).status == "PENDING"


def test_jobs_stats_count_only_the_apps_jobs(two: TwoApps) -> None:
    two.hosts["beta"].start_script_job("1")
    for name, pending in (("alpha", 2), ("beta", 3)):
        done = two.cli("jobs", "stats", "--app", name, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["pending"] == pending


def test_an_app_key_where_the_command_runs_scripts_asks_for_the_folder(two: TwoApps) -> None:
    done = two.cli("jobs", "cancel", two.jobs["alpha"][0], "--app", "alpha")
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value 'alpha' for option '--app'")
    assert "folder" in done.stderr


@pytest.mark.parametrize("value", ["not a key", "-x", "a" * 65, "\ud800", "é"])
def test_a_bad_app_is_one_bad_request_line(two: TwoApps, value: str) -> None:
    done = two.cli("jobs", "ls", "--app", value)
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value") and "'--app'" in done.stderr
    assert "Traceback" not in done.stderr
