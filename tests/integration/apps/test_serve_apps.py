"""``sysjobs serve --app A --app B`` (or ``--app`` a folder of apps, or the older ``--also-app
B``): one dashboard over both apps (the switcher's
list, each app's jobs under its own key) and one set of worker processes running the jobs
of both, each with its own app's definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysjobs.host import Host
from tests.acceptance.cli.test_serve import serving
from tests.acceptance.inprocess import sysjobs_in_process
from tests.integration.apps.conftest import app_folder

TOKEN = {"Authorization": "Bearer s3cret"}


#: The ways to name apps alpha and beta: ``--app`` repeated, or a folder of apps, as ``sysjobs
#: worker --app`` takes them; ``--also-app``, the older spelling, still works.
SPELLINGS = {
    "app-repeated": ("--app", "{alpha}", "--app", "{beta}"),
    "folder-of-apps": ("--app", "{root}"),
    "also-app": ("--app", "{alpha}", "--also-app", "{beta}"),
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_serve_shows_and_runs_the_jobs_of_every_app_it_serves(
    tmp_path: Path, spelling: tuple[str, ...]
) -> None:
    root = tmp_path / "apps"
    alpha, beta = app_folder(root, "alpha"), app_folder(root, "beta")
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    named = [arg.format(alpha=alpha, beta=beta, root=root) for arg in spelling]
    with serving(tmp_path, "--token", "s3cret", *named, workers=1) as served:
        base, http = served.base, served.http
        assert http.get(base + "/api/apps", headers=TOKEN).json() == {"apps": ["alpha", "beta"]}
        ended = {}
        for folder in (alpha, beta):
            with Host(db, folder, pool_size=1) as host:
                source = "sys.data.count('companies', {})"
                job = host.start_script_job(source, label=f"count of {host.app_key}")
                ended[host.app_key] = host.engine.wait(job.id, ["FINISHED"], 120)
        for key, job in ended.items():
            assert job.results is not None and job.has_errors is False, job
            shown = http.get(f"{base}/api/jobs/{job.id}", headers={**TOKEN, "X-Sysjobs-App": key})
            assert shown.status_code == 200 and shown.json()["label"] == f"count of {key}"
            other = "beta" if key == "alpha" else "alpha"
            hidden = http.get(f"{base}/api/jobs/{job.id}", headers={**TOKEN, "X-Sysjobs-App": other})
            assert hidden.status_code == 404


def test_also_app_with_in_process_workers_is_a_bad_request(tmp_path: Path) -> None:
    beta = app_folder(tmp_path, "beta")
    done = sysjobs_in_process("serve", "--in-process-workers", "--also-app", str(beta),
                              "--db", f"sqlite:///{tmp_path / 's.db'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value for option '--also-app'")


def test_several_apps_with_in_process_workers_is_a_bad_request_naming_app(tmp_path: Path) -> None:
    alpha, beta = app_folder(tmp_path, "alpha"), app_folder(tmp_path, "beta")
    done = sysjobs_in_process("serve", "--in-process-workers", "--app", str(alpha), "--app",
                              str(beta), "--db", f"sqlite:///{tmp_path / 's.db'}",
                              cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value for option '--app'")


def test_serve_app_refuses_a_folder_without_apps(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = sysjobs_in_process("serve", "--app", str(tmp_path / "empty"),
                              "--db", f"sqlite:///{tmp_path / 's.db'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"badRequest: Invalid value '{tmp_path / 'empty'}' for "
                                  "option '--app': no app.yaml in it")  # fmt: skip
