"""Job.data() and Job.results() for jobs the app really ran: the shapes the spec prints for
"Execute action" (one record and many records), read from a script with workers running."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.cli.demo_host import DemoHost, open_demo_host


@pytest.fixture
def host(db_url: str) -> Iterator[DemoHost]:
    with open_demo_host(db_url) as opened:
        yield opened


def _run(host: DemoHost, source: str) -> Any:
    result, _ = host.run_script(source, in_job=False, timeout_s=60)
    assert result.ok, result.error
    return result.value


_ONE = """
var id = sys.data.executeAction('companies', {name: 'Acme'}, 'logSomething', {param1: 'x', param2: 'y'});
sys.jobs.waitForJob(id, 'FINISHED', 50000);
var job = sys.jobs.findById(id);
[job.type(), job.data(), job.results(), sys.data.findOne('companies', {name: 'Acme'}).id()]
"""


def test_execute_action_data_has_entity_name_and_action_name(host: DemoHost) -> None:
    job_type, data, _, _ = _run(host, _ONE)
    assert job_type == "EXECUTE_ACTION"
    assert data == {"entityName": "companies", "actionName": "logSomething"}


def test_execute_action_one_record_results_map_by_record_id(host: DemoHost) -> None:
    _, _, results, acme = _run(host, _ONE)
    assert results == {"results": {acme: {"status": "ok", "response": "logged Acme with x/y"}}}


def test_execute_action_many_records_results_have_status_and_response(host: DemoHost) -> None:
    src = """
    var id = sys.data.executeAction('companies', {type: 'a'}, 'countByType', {});
    sys.jobs.waitForJob(id, 'FINISHED', 50000);
    sys.jobs.findById(id).results()
    """
    results = _run(host, src)
    assert set(results) == {"results"}
    assert results["results"]["status"] == "ok" and "response" in results["results"]


def test_progress_of_a_finished_job_is_100(host: DemoHost) -> None:
    src = """
    var id = sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'});
    sys.jobs.waitForJob(id, 'FINISHED', 50000);
    var j = sys.jobs.findById(id);
    [j.progress(), j.startDate() <= j.endDate(), j.duration() >= 0, j.waiting() >= 0]
    """
    assert _run(host, src) == [100, True, True, True]
