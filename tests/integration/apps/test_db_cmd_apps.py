"""``sysjobs db upgrade`` and ``sysjobs db prune`` take ``--app`` like every command (issue
18): ``upgrade --app`` hands the rows an upgrade left unowned to that app, ``prune --app``
prunes that app only and ``prune --all-apps`` every app. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.jobs import Engine, EngineSettings, Outcome, new_owner
from tests.acceptance.inprocess import sysjobs_in_process
from tests.integration.apps.conftest import app_folder
from tests.integration.apps.test_upgrade import _apps_of, url_before_keys
from tests.integration.engine.helpers import ManualClock
from tests.integration.engine.jobtypes import register

__all__ = ["url_before_keys"]  # the fixture, used here too

#: A day before now, in the clock of the jobs the tests end (the CLI prunes by the wall clock).
LONG_AGO_MS = 1_600_000_000_000


def test_db_upgrade_with_app_gives_that_app_the_rows_left_unowned(
    url_before_keys: str, tmp_path: Path
) -> None:
    plain = sysjobs_in_process("db", "upgrade", "--db", url_before_keys, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "unowned" not in plain.stdout
    assert set().union(*_apps_of(url_before_keys).values()) == {""}
    given = sysjobs_in_process("db", "upgrade", "--db", url_before_keys, "--app", "old",
                               cwd=tmp_path)  # fmt: skip
    assert given.returncode == 0, given.stderr
    assert given.stdout.splitlines()[-1] == "the rows the upgrade left unowned now belong to app old"
    assert all(found == {"old"} for found in _apps_of(url_before_keys).values())
    again = sysjobs_in_process("db", "upgrade", "--db", url_before_keys, "--app",
                               str(app_folder(tmp_path, "newcomer")), cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "unowned" not in again.stdout
    assert all(found == {"old"} for found in _apps_of(url_before_keys).values())


@pytest.fixture
def ended_jobs(db_url: str) -> Iterator[dict[str, str]]:
    """One job of each of apps ``alpha`` and ``beta`` (and the default app), ended long ago."""
    base = Engine.open(db_url, settings=EngineSettings(clock=ManualClock(LONG_AGO_MS)))
    ended = {}
    try:
        for key in ("alpha", "beta", "default"):
            engine = base.for_app(key)
            register(engine)
            job = engine.enqueue("NOOP", {})
            (claimed,) = engine.leases.claim(new_owner(), limit=1)
            engine.leases.finish(claimed.lease, Outcome.COMPLETED)
            ended[key] = job.id
        yield ended
    finally:
        base.close()


def _left(db_url: str, ended: dict[str, str]) -> set[str]:
    """The apps whose ended job is still there."""
    with Engine.open(db_url, migrate=False) as base:
        return {key for key, job_id in ended.items() if base.for_app(key).get(job_id)}


def test_db_prune_with_app_prunes_that_app_only(
    db_url: str, ended_jobs: dict[str, str], tmp_path: Path
) -> None:
    by_key = sysjobs_in_process("db", "prune", "--db", db_url, "--app", "alpha", cwd=tmp_path)
    assert (by_key.returncode, by_key.stdout.strip()) == (0, "pruned 1 job(s) and 0 log line(s)")
    assert _left(db_url, ended_jobs) == {"beta", "default"}
    folder = str(app_folder(tmp_path, "beta"))
    by_folder = sysjobs_in_process("db", "prune", "--db", db_url, "--app", folder, cwd=tmp_path)
    assert by_folder.returncode == 0, by_folder.stderr
    assert _left(db_url, ended_jobs) == {"default"}


def test_db_prune_with_all_apps_prunes_every_app(
    db_url: str, ended_jobs: dict[str, str], tmp_path: Path
) -> None:
    done = sysjobs_in_process("db", "prune", "--db", db_url, "--all-apps", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "pruned 3 job(s) and 0 log line(s)")
    assert _left(db_url, ended_jobs) == set()


def test_db_prune_refuses_app_with_all_apps_and_a_bad_app(db_url: str, tmp_path: Path) -> None:
    both = sysjobs_in_process("db", "prune", "--db", db_url, "--app", "alpha", "--all-apps",
                              cwd=tmp_path)  # fmt: skip
    assert both.returncode == 2
    assert both.stderr.startswith("badRequest: Invalid value for option '--all-apps'")
    bad = sysjobs_in_process("db", "upgrade", "--db", db_url, "--app", "no such/app",
                             cwd=tmp_path)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("badRequest: Invalid value 'no such/app")
    assert "Traceback" not in bad.stderr
