"""Per-app job settings (manifest ``jobs:``): each app on a shared database keeps its own
retention and caps — in its Host's engine and in a worker that serves it among others —
and a bad value is a ``badRequest`` naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysjobs.app.definition import load_app
from sysjobs.errors import BadRequest
from sysjobs.host import Host, worker_setup
from sysjobs.jobs import Engine, EngineSettings
from tests.integration.apps.conftest import app_folder

JOBS = """
jobs:
  retainJobsDays: 0
  retainLogsDays: 2.5
  maxLogLines: 3
  maxMessageChars: 10
  maxResultBytes: 2048
"""


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine, pool and Host they open; taking
    a new one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


def with_jobs(root: Path, name: str, jobs: str = JOBS) -> Path:
    folder = app_folder(root, name)
    manifest = folder / "app.yaml"
    manifest.write_text(manifest.read_text("utf-8") + jobs, "utf-8")
    return folder


def test_a_hosts_engine_has_its_apps_retention_and_caps(db_url: str, tmp_path: Path) -> None:
    tight = Host(db_url, with_jobs(tmp_path, "tight"), pool_size=1)
    plain = Host(db_url, app_folder(tmp_path, "plain"), pool_size=1)
    try:
        settings = tight.engine.settings
        assert (settings.retain_jobs_days, settings.retain_logs_days) == (0, 2.5)
        assert (settings.caps.max_log_lines, settings.caps.max_message_chars,
                settings.caps.max_result_bytes) == (3, 10, 2048)  # fmt: skip
        assert plain.engine.settings.caps == EngineSettings().caps
        assert plain.engine.settings.retain_jobs_days == EngineSettings().retain_jobs_days
    finally:
        plain.close()
        tight.close()


def test_each_app_caps_its_own_jobs_logs(db_url: str, tmp_path: Path) -> None:
    tight = Host(db_url, with_jobs(tmp_path, "tight"), pool_size=1)
    plain = Host(db_url, app_folder(tmp_path, "plain"), pool_size=1)
    try:
        jobs = {host.app_key: host.start_script_job("1") for host in (tight, plain)}
        for host in (tight, plain):
            for n in range(6):
                host.engine.log_info(jobs[host.app_key].id, f"line {n} of a long message")
        lines = {key: [line.message for line in host.engine.logs(jobs[key].id, {})]
                 for key, host in (("tight", tight), ("plain", plain))}  # fmt: skip
        cut = [f"line {n} of… [14 more characters cut]" for n in range(3)]
        assert lines["tight"][:3] == [c.replace("of…", "of …") for c in cut]
        assert len(lines["tight"]) == 4 and lines["tight"][3].startswith("Log limit reached")
        assert lines["plain"] == [f"line {n} of a long message" for n in range(6)]
    finally:
        plain.close()
        tight.close()


def test_each_app_prunes_by_its_own_retention(db_url: str, tmp_path: Path) -> None:
    tight = Host(db_url, with_jobs(tmp_path, "tight"), pool_size=1)
    plain = Host(db_url, app_folder(tmp_path, "plain"), pool_size=1)
    try:
        ended = {}
        for host in (tight, plain):
            ended[host.app_key] = host.engine.cancel(host.start_script_job("1").id).id
        assert tight.engine.prune().jobs == 1  # retainJobsDays: 0
        assert plain.engine.prune().jobs == 0  # the default 30 days
        assert tight.engine.get(ended["tight"]) is None
        assert plain.engine.get(ended["plain"]) is not None
    finally:
        plain.close()
        tight.close()


def test_a_worker_runs_an_app_on_an_engine_with_its_settings(db_url: str, tmp_path: Path) -> None:
    with Engine.open(db_url, settings=EngineSettings(app="tight")) as engine:
        made = worker_setup(engine, app_dir=str(with_jobs(tmp_path, "tight")), data_limit_mb=0)
        assert made is not engine and made.app == "tight"
        assert made.database is engine.database
        assert made.settings.caps.max_log_lines == 3
        assert "RUN_SCRIPT" in made.registry.claimable()
        plain = engine.for_app("plain")
        assert worker_setup(plain, app_dir=str(app_folder(tmp_path, "plain")),
                            data_limit_mb=0) is plain  # fmt: skip


@pytest.mark.parametrize(
    ("jobs", "key"),
    [
        ("jobs:\n  maxLogLines: 0\n", "jobs.maxLogLines"),
        ("jobs:\n  maxLogLines: '10'\n", "jobs.maxLogLines"),
        ("jobs:\n  maxResultBytes: 1.5\n", "jobs.maxResultBytes"),
        ("jobs:\n  retainJobsDays: -1\n", "jobs.retainJobsDays"),
        ("jobs:\n  retainJobsDays: .nan\n", "jobs.retainJobsDays"),
        ("jobs:\n  retainLogsDays: .inf\n", "jobs.retainLogsDays"),
        ("jobs:\n  retainJobDays: 3\n", "jobs.retainJobDays"),
    ],
)
def test_a_bad_jobs_setting_is_a_bad_request_naming_the_key(
    tmp_path: Path, jobs: str, key: str
) -> None:
    with pytest.raises(BadRequest, match=key.replace(".", r"\.")):
        load_app(with_jobs(tmp_path, "bad", jobs))
