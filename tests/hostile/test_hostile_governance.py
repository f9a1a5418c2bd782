"""Governance floods of the catalog, run directly and as jobs on a host with small per-run
limits: each ends with its exact code, the host stays healthy, and what a flood left behind
(jobs, log lines) is bounded by the limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.host import Host
from sysjobs.runtime import Governance
from sysjobs.worker.pool import WorkerPool
from tests.hostile.catalog import FLOOD_GOVERNANCE, GOVERNANCE_FLOODS, Hostile
from tests.hostile.conftest import LIMITS, SETTINGS, assert_host_alive, lines_of, run_job
from tests.hostile.test_hostile_scripts import code_of

GOVERNANCE = Governance(**FLOOD_GOVERNANCE)
IDS = [hostile.name for hostile in GOVERNANCE_FLOODS]


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    path = tmp_path_factory.mktemp("hostile-governance") / "governed.db"
    host = Host(f"sqlite:///{path}", limits=LIMITS, pool_size=1, settings=SETTINGS,
                governance=GOVERNANCE)  # fmt: skip
    pool: WorkerPool = host.workers(concurrency=2, lease_s=5.0, in_process=True)  # see conftest
    pool.start()
    try:
        yield host
    finally:
        pool.stop(grace_s=5.0)
        host.close()


def test_the_floods_have_distinct_names() -> None:
    assert len(set(IDS)) == len(IDS) >= 5


@pytest.mark.parametrize("hostile", GOVERNANCE_FLOODS, ids=IDS)
def test_a_governance_flood_run_directly_ends_with_its_exact_code(
    governed: Host, hostile: Hostile
) -> None:
    result = governed.run(hostile.source, timeout_s=hostile.timeout_s)
    assert code_of(result) == hostile.code, result.error
    if hostile.message is not None:
        assert result.error is not None and hostile.message in result.error.message
    assert_host_alive(governed)


@pytest.mark.parametrize("hostile", GOVERNANCE_FLOODS, ids=IDS)
def test_a_governance_flood_as_a_job_ends_with_its_exact_code_and_a_reason(
    governed: Host, hostile: Hostile
) -> None:
    job = run_job(governed, hostile.source, hostile.timeout_s)
    results: dict[str, Any] = job.results or {}
    code = hostile.job_code or hostile.code
    assert job.status == "FINISHED" and results["error"]["code"] == code, results
    assert ("ERROR", f"{code}: {results['error']['message']}") in lines_of(governed, job.id)
    assert_host_alive(governed)


def test_a_job_start_flood_creates_exactly_the_limit_of_jobs(governed: Host) -> None:
    job = run_job(governed, GOVERNANCE_FLOODS[0].source, 30.0)
    children = [c for c in governed.engine.find({"_size": 1000}) if c.parent_id == job.id]
    assert len(children) == GOVERNANCE.max_jobs_started


def test_a_multi_byte_log_flood_is_counted_in_utf8_bytes(governed: Host) -> None:
    result = governed.run("var s = '\\u20ac'.repeat(1 << 18); for (;;) log(s)", timeout_s=30.0)
    line_bytes = 3 << 18  # 768 KiB per line of 256 Ki euro signs
    assert len(result.logs) + result.logs_dropped == GOVERNANCE.max_log_bytes // line_bytes
