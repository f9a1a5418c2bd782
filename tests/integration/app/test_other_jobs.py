"""EXECUTE_LISTENER, IMPORT_USERS/EXPORT_USERS, START_APP/STOP_APP, DEPLOY/UNDEPLOY_ENDPOINT."""

from __future__ import annotations

import pytest

from sysjobs.app.records import Record
from sysjobs.app.status import AppStatus, EndpointStatus
from sysjobs.errors import BadRequest
from tests.integration.app.conftest import AppEnv, make_env


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): each test opens
    its app and workers (``env``) and closes them, the workers stopped and their threads
    joined, so it needs only an empty migrated database; taking a new one from the pool
    cost more than several of these tests."""
    return reused_db_url


def test_record_created_fires_the_background_listener_as_a_job(env: AppEnv) -> None:
    saved = env.app.records.save(Record("companies", {"name": "Newco", "type": "a"}))
    [job] = env.jobs.of_type("EXECUTE_LISTENER")
    assert job.public_data() == {"listenerName": "onCompanyCreated"}
    assert job.status == "FINISHED" and not job.has_errors
    assert ("INFO", f"company created: Newco ({saved.id})") in job.logs


def test_record_changes_and_deletes_do_not_fire_a_created_listener(env: AppEnv) -> None:
    acme = env.app.records.find_one("companies", {"name": "Acme"})
    assert acme is not None
    env.app.records.save(Record("companies", {**acme.fields, "employees": 1}, acme.id))
    env.app.records.remove("companies", acme.id)
    assert env.engine.find({"type": "EXECUTE_LISTENER"}).count() == 0


def test_job_event_fires_the_job_listener_with_the_event(env: AppEnv) -> None:
    env.app.listeners.on_job("EXECUTE_ACTION", "finished", "a" * 24)
    env.app.listeners.on_job("EXECUTE_ACTION", "started", "a" * 24)  # not listened to
    env.app.listeners.on_job("EXECUTE_LISTENER", "finished", "b" * 24)  # never loops
    [job] = env.jobs.of_type("EXECUTE_LISTENER")
    assert job.data["_event"] == {"type": "JOB", "jobType": "EXECUTE_ACTION",
                                  "jobEvent": "finished", "jobId": "a" * 24}
    assert ("INFO", f"job {'a' * 24} of type EXECUTE_ACTION finished") in job.logs


def test_execute_listener_reports_a_failing_script_as_an_error_log(env: AppEnv) -> None:
    job = env.jobs.run(env.app.execute_listener("onCompanyCreated"))  # no record: throws
    assert job.has_errors and job.errors()[0].startswith("Listener onCompanyCreated failed:")


def test_import_users_counts_good_and_bad_rows(env: AppEnv) -> None:
    csv_text = ("email,firstName,lastName\n"
                "new@example.com,New,User\n"
                "not-an-email,Bad,Row\n"
                "ada@example.com,Ada,Again\n")
    file_id = env.app.files.put("users.csv", csv_text.encode())
    job = env.jobs.run(env.app.import_users(file_id, notify_users=True))
    assert job.public_data() == {"fileName": "users.csv", "notifyUsers": True}
    assert job.results == {"usersImported": 1, "usersWithErrors": 2}
    assert job.errors()[0].startswith("Line 3: column 'email'")
    assert job.errors()[1].startswith("Line 4:") and "already a user" in job.errors()[1]
    assert ("INFO", "User new@example.com notified") in job.logs
    assert len(env.app.users.all()) == 4


def test_export_users_writes_a_csv_with_a_link(env: AppEnv) -> None:
    job = env.jobs.run(env.app.export_users())
    assert job.public_data() == {}
    assert job.results is not None
    assert set(job.results) == {"fileLink", "fileId", "usersExported"}
    assert job.results["usersExported"] == 3
    assert job.results["fileLink"] == f"/api/files/{job.results['fileId']}/download"
    content = env.app.files.get(job.results["fileId"]).content.decode()
    assert content.splitlines()[0] == "email,firstName,lastName"
    assert "ada@example.com,Ada,Lovelace" in content


def test_stop_and_start_app(env: AppEnv) -> None:
    assert env.app.is_running()
    job = env.jobs.run(env.app.stop_app())
    assert job.public_data() == {} and env.app.status.app() is AppStatus.STOPPED
    assert not env.app.is_running()
    job = env.jobs.run(env.app.start_app(push_changes=True))
    assert job.public_data() == {"pushChanges": True, "wakingUp": False}
    assert env.app.is_running()


def test_deploy_and_undeploy_endpoint_walk_through_their_statuses(app_url: str) -> None:
    # Workers start only after each starter's status is read: a live pool could otherwise
    # run the job before the test sees DEPLOYING/UNDEPLOYING.
    env = make_env(app_url, workers=False)
    try:
        assert env.app.status.endpoint("hello") is EndpointStatus.UNDEPLOYED
        job_id = env.app.deploy_endpoint("hello")
        assert env.app.status.endpoint("hello") is EndpointStatus.DEPLOYING
        env.start_workers()
        job = env.jobs.run(job_id)
        assert job.public_data() == {"endpointName": "hello"}
        assert env.app.status.endpoint("hello") is EndpointStatus.DEPLOYED
        assert env.pool is not None
        env.pool.stop(grace_s=5)
        env.pool = None
        job_id = env.app.undeploy_endpoint("hello")
        assert env.app.status.endpoint("hello") is EndpointStatus.UNDEPLOYING
        env.start_workers()
        env.jobs.run(job_id)
        assert env.app.status.endpoint("hello") is EndpointStatus.UNDEPLOYED
        with pytest.raises(BadRequest, match="'endpointName'"):
            env.app.deploy_endpoint("nope")
    finally:
        env.close()
