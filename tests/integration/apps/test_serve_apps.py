"""``sysjobs serve --app A --also-app B``: one dashboard over both apps (the switcher's
list, each app's jobs under its own key) and one set of worker processes running the jobs
of both, each with its own app's definition."""

from __future__ import annotations

from pathlib import Path

import httpx

from sysjobs.host import Host
from tests.acceptance.cli.test_serve import serving
from tests.acceptance.inprocess import sysjobs_in_process
from tests.integration.apps.conftest import app_folder

TOKEN = {"Authorization": "Bearer s3cret"}


def test_serve_shows_and_runs_the_jobs_of_every_app_it_serves(tmp_path: Path) -> None:
    alpha, beta = app_folder(tmp_path, "alpha"), app_folder(tmp_path, "beta")
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    args = ("--token", "s3cret", "--app", str(alpha), "--also-app", str(beta))
    with serving(tmp_path, *args, workers=1) as (base, _proc):
        assert httpx.get(base + "/api/apps", headers=TOKEN).json() == {"apps": ["alpha", "beta"]}
        ended = {}
        for folder in (alpha, beta):
            with Host(db, folder, pool_size=1) as host:
                source = "sys.data.count('companies', {})"
                job = host.start_script_job(source, label=f"count of {host.app_key}")
                ended[host.app_key] = host.engine.wait(job.id, ["FINISHED"], 120)
        for key, job in ended.items():
            assert job.results is not None and job.has_errors is False, job
            shown = httpx.get(f"{base}/api/jobs/{job.id}", headers={**TOKEN, "X-Sysjobs-App": key})
            assert shown.status_code == 200 and shown.json()["label"] == f"count of {key}"
            other = "beta" if key == "alpha" else "alpha"
            hidden = httpx.get(f"{base}/api/jobs/{job.id}", headers={**TOKEN, "X-Sysjobs-App": other})
            assert hidden.status_code == 404


def test_also_app_with_in_process_workers_is_a_bad_request(tmp_path: Path) -> None:
    beta = app_folder(tmp_path, "beta")
    done = sysjobs_in_process("serve", "--in-process-workers", "--also-app", str(beta),
                              "--db", f"sqlite:///{tmp_path / 's.db'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value for option '--also-app'")
