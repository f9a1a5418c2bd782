"""Apps on one database, through ``sys.jobs`` and the engine's verbs: app B reaches nothing
of app A's jobs. A's job ids are ``notFound`` in B (``null`` for ``findById``), A's jobs are
never in B's ``find``, B cannot wait on, log into, re-prioritise, stop, cancel or kill
them, and B's statistics and retention neither count nor remove them. Every call is tried
both ways round where it matters, and A's job is checked unchanged afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sysjobs.errors import NotFound
from sysjobs.host import Host
from sysjobs.jobs import Engine
from sysjobs.jobs.stats import engine_stats
from tests.integration.apps.conftest import app_folder, code_of, js


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``)."""
    return reused_db_url


@pytest.fixture
def two(two_reseeded: tuple[Host, Host]) -> tuple[Host, Host]:
    """Two Hosts of two apps (``alpha``, ``beta``) on the module's database, emptied and
    written again as opening them on a new one writes it (``two_reseeded``)."""
    return two_reseeded


def a_job(host: Host, label: str = "alpha's job") -> str:
    """A PENDING job of ``host``'s app with one log line (no worker runs it)."""
    job = host.start_script_job("1", label=label)
    host.engine.log_info(job.id, "a line of its own")
    return job.id


def _unchanged(host: Host, job_id: str) -> None:
    job = host.engine.require(job_id)
    assert (job.status, job.low_priority, job.has_errors) == ("PENDING", False, False)
    assert [line.message for line in host.engine.logs(job_id, {})] == ["a line of its own"]


def test_find_by_id_of_another_apps_job_is_null(two: tuple[Host, Host]) -> None:
    a, b = two
    job_id = a_job(a)
    assert js(a, f"sys.jobs.findById('{job_id}').label()") == "alpha's job"
    assert js(b, f"sys.jobs.findById('{job_id}')") is None


def test_find_never_lists_another_apps_jobs(two: tuple[Host, Host]) -> None:
    a, b = two
    job_id = a_job(a)
    mine = a_job(b, "beta's job")
    found = js(b, """var ids = [], rs = sys.jobs.find({});
                     while (rs.hasNext()) { ids.push(rs.next().id()); } [ids, rs.count()]""")
    assert found == [[mine], 1]
    for query in ("{status: 'PENDING'}", "{type: 'RUN_SCRIPT'}", "{hasErrors: false}",
                  f"{{createFrom: 0, createTo: {2**52}}}", "{_size: 1000}"):  # fmt: skip
        assert js(b, f"sys.jobs.find({query}).count()") == 1
    assert js(a, "sys.jobs.find({}).count()") == 1
    assert job_id != mine


@pytest.mark.parametrize(
    "call",
    [
        "sys.jobs.logs('{id}', {{}})",
        "sys.jobs.logInfo('{id}', 'from beta')",
        "sys.jobs.logError('{id}', 'from beta')",
        "sys.jobs.waitForJob('{id}', 'FINISHED', 1)",
        "sys.jobs.waitForJob('{id}', ['PENDING'], 0)",
        "sys.jobs.waitForJobs(['{id}'], 'FINISHED', 1)",
        "sys.jobs.waitForJobs(['{id}'], 'PENDING', 0)",
        "sys.jobs.setLowPriority('{id}')",
        "sys.jobs.removeLowPriority('{id}')",
    ],
)
def test_every_sys_jobs_call_on_another_apps_job_is_not_found(
    two: tuple[Host, Host], call: str
) -> None:
    a, b = two
    job_id = a_job(a)
    assert code_of(b, call.format(id=job_id)) == "code:notFound"
    _unchanged(a, job_id)


def test_waiting_on_a_mix_of_own_and_foreign_jobs_is_not_found(two: tuple[Host, Host]) -> None:
    a, b = two
    foreign, mine = a_job(a), a_job(b, "beta's job")
    call = f"sys.jobs.waitForJobs({json.dumps([mine, foreign])}, 'PENDING', 0)"
    assert code_of(b, call) == "code:notFound"
    assert code_of(b, f"sys.jobs.waitForJobs({json.dumps([mine])}, 'PENDING', 0)") is None


@pytest.mark.parametrize(
    "verb",
    ["stop", "force_stop", "resume", "cancel", "kill", "events", "require"],
)
def test_the_engines_verbs_on_another_apps_job_are_not_found(
    two: tuple[Host, Host], verb: str
) -> None:
    a, b = two
    job_id = a_job(a)
    with pytest.raises(NotFound):
        getattr(b.engine, verb)(job_id)
    _unchanged(a, job_id)


def test_the_engines_reads_and_writes_of_another_apps_job_find_nothing(
    two: tuple[Host, Host],
) -> None:
    a, b = two
    job_id = a_job(a)
    engine: Engine = b.engine
    assert engine.get(job_id) is None
    for call in (
        lambda: engine.logs(job_id, {}),
        lambda: engine.log_info(job_id, "from beta"),
        lambda: engine.log_error(job_id, "from beta"),
        lambda: engine.set_low_priority(job_id, True),
        lambda: engine.change_priority(job_id, True),
        lambda: engine.wait(job_id, "FINISHED", 0),
        lambda: engine.wait_all([job_id], "FINISHED", 0),
    ):
        with pytest.raises(NotFound):
            call()
    assert [j.id for j in engine.find({})] == []
    _unchanged(a, job_id)


def test_statistics_count_only_the_apps_own_jobs(two: tuple[Host, Host]) -> None:
    a, b = two
    for _ in range(3):
        a_job(a)
    a_job(b, "beta's job")
    assert engine_stats(a.engine).by_status["PENDING"] == 3
    assert engine_stats(b.engine).by_status["PENDING"] == 1


def test_retention_prunes_only_the_apps_own_jobs(two: tuple[Host, Host]) -> None:
    a, b = two
    a_ids = [a_job(a) for _ in range(2)]
    b_ids = [a_job(b, "beta's job") for _ in range(2)]
    for host, ids in ((a, a_ids), (b, b_ids)):
        for job_id in ids:
            host.engine.cancel(job_id)
    counts = b.engine.prune(jobs_days=-1, logs_days=-1)
    assert (counts.jobs, counts.logs) == (2, 0)  # its lines went with its jobs
    assert all(a.engine.get(job_id) is not None for job_id in a_ids)
    assert all(b.engine.get(job_id) is None for job_id in b_ids)
    assert [line.message for line in a.engine.logs(a_ids[0], {})] == ["a line of its own"]


def test_each_of_ten_apps_finds_only_its_own_jobs(db_url: str, tmp_path: Path) -> None:
    names = [f"app{i}" for i in range(10)]
    hosts = [Host(db_url, app_folder(tmp_path, name), pool_size=1) for name in names]
    try:
        ids = {host.app_key: {a_job(host, f"{host.app_key} #{i}") for i in range(2)}
               for host in hosts}  # fmt: skip
        for host in hosts:
            found = {j.id for j in host.engine.find({})}
            assert found == ids[host.app_key]
            stranger = next(iter(ids[names[(names.index(host.app_key) + 1) % 10]]))
            assert host.engine.get(stranger) is None
            assert js(host, "sys.jobs.find({}).count()") == 2
            assert code_of(host, f"sys.jobs.logs('{stranger}', {{}})") == "code:notFound"
    finally:
        for host in hosts:
            host.close()
