"""A job of an app, and the lines its script logs as it runs, carry the app's key."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from sysjobs.host import Host
from sysjobs.store.schema import job_logs, job_results, jobs
from tests.integration.apps.conftest import app_folder


def test_a_running_jobs_log_lines_carry_its_apps_key(db_url: str, tmp_path: Path) -> None:
    with Host(db_url, app_folder(tmp_path, "alpha"), pool_size=1) as host:
        with host.workers(1, in_process=True):
            job = host.run_in_job("log('from the script'); 42", wait_s=120)
        assert job.status == "FINISHED"
        with host.engine.database.read() as conn:
            lines = conn.execute(sa.select(job_logs.c.app, job_logs.c.message)
                                 .where(job_logs.c.job_id == job.id)).all()
            owner = conn.execute(sa.select(jobs.c.app).where(jobs.c.id == job.id)).scalar_one()
            results = conn.execute(sa.select(job_results.c.app)
                                   .where(job_results.c.job_id == job.id)).scalar_one()
    assert ("alpha", "from the script") in [tuple(line) for line in lines]
    assert {app for app, _ in lines} == {"alpha"}
    assert (owner, results) == ("alpha", "alpha")
