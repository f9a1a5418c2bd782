"""Job.data() and Job.results() for jobs the app really ran: the shapes the spec prints for
"Execute action" (one record and many records), read from a script with workers running.

The module's tests share one demo host (its app seeded once, its in-process workers and
event pump running) on the module's database: they only add jobs and read their own, and
nothing they start creates or changes a record the others count. A host per test was most
of the module's time — opening it, and closing it only once its listener jobs have settled.
The two tests that delete the seeded contacts each get a host of their own on a new
database (``own_db_url``), so every other test still counts the seeded records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.cli.demo_host import DemoHost, open_demo_host


@pytest.fixture(scope="module")
def host(module_db_url: str) -> Iterator[DemoHost]:
    """The module's demo host (see the module docstring)."""
    with open_demo_host(module_db_url, in_process=True) as opened:
        yield opened


@pytest.fixture
def own_host(own_db_url: str) -> Iterator[DemoHost]:
    """A demo host of its own on a new database: for a test that deletes seeded records."""
    with open_demo_host(own_db_url, in_process=True) as opened:
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


def _data_and_results(host: DemoHost, job_id: str) -> Any:
    return _run(host, f"""
    sys.jobs.waitForJob('{job_id}', ['FINISHED', 'CANCELED', 'STOPPED'], 50000);
    var j = sys.jobs.findById('{job_id}'); [j.data(), j.results()]
    """)


@pytest.mark.parametrize(
    ("start", "expected_data", "which_host"),
    [
        (lambda app: app.export_records("companies"), {"entityName": "companies"}, "host"),
        (lambda app: app.delete_records("contacts", {}), {"entityName": "contacts"}, "own_host"),
        (lambda app: app.start_app(), {"pushChanges": False, "wakingUp": False}, "host"),
        (lambda app: app.deploy_endpoint("hello"), {"endpointName": "hello"}, "host"),
        (lambda app: app.undeploy_endpoint("hello"), {"endpointName": "hello"}, "host"),
        (lambda app: app.execute_listener("onCompanyCreated"),
         {"listenerName": "onCompanyCreated"}, "host"),
    ],
    ids=["export records", "delete records", "start app", "deploy endpoint",
         "undeploy endpoint", "execute listener"],
)
def test_data_returns_the_documented_parameters_of_each_job_type(
    request: pytest.FixtureRequest, host: DemoHost, start: Any, expected_data: dict[str, Any],
    which_host: str,
) -> None:
    if which_host == "own_host":
        host = request.getfixturevalue("own_host")
    data, _ = _data_and_results(host, start(host.host.app))
    assert data == expected_data


def test_export_records_results_have_file_link_file_id_and_records_exported(
    host: DemoHost,
) -> None:
    _, results = _data_and_results(host, host.host.app.export_records("companies"))
    assert set(results) == {"fileLink", "fileId", "recordsExported"}
    assert results["recordsExported"] == 5


def test_delete_records_results_map_each_record_to_its_status(own_host: DemoHost) -> None:
    contacts = _run(own_host, "sys.data.count('contacts', {})")
    _, results = _data_and_results(own_host, own_host.host.app.delete_records("contacts", {}))
    entries = results["results"]
    assert len(entries) == contacts > 0
    assert all(e == {"status": "ok"} for e in entries.values())
