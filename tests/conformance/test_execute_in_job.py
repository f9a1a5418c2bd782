"""executeInJob(items, queue, callback, step) — issue 20, read in docs/jobs-api.md.

One test per sentence of that page, on SQLite and PostgreSQL (the ``db_url`` fixture): a
real Host with the demo app and in-process workers runs the EXECUTE_IN_JOB jobs; what the
callback did is read back from the app's own log (``sys.logs``). The module's tests share
that Host; its database is emptied before each of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.host import Host
from sysjobs.jobs import Job

SAMPLE_ITEMS = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"
LOG_ITEM = "function(item) { sys.logs.info('Processing item: ' + item); }"


@pytest.fixture(scope="module")
def shared_host(module_db_url: str) -> Iterator[Host]:
    with Host(module_db_url, pool_size=0) as opened:
        yield opened


@pytest.fixture
def host(db_url: str, shared_host: Host) -> Host:
    """The module's Host, on its database emptied for this test (``conftest.py``): no job,
    no log line and no record of an earlier test is left — not even the demo app's seed
    records, which no test here reads."""
    return shared_host


def start(host: Host, source: str) -> str:
    """Run ``source`` (which returns executeInJob's id) outside any job; the id."""
    result = host.run(source)
    assert result.ok, result.error
    job_id = result.value
    assert isinstance(job_id, str)
    return job_id


def run_to_end(host: Host, job_id: str) -> Job:
    with host.workers(2, in_process=True):
        return host.engine.wait(job_id, ["FINISHED"], 60)


def app_messages(host: Host, **query: Any) -> list[str]:
    return [e.message for e in host.engine.app_logs(query)]


def refused(host: Host, source: str) -> str:
    result = host.run(source)
    assert not result.ok and result.error is not None, "expected badRequest"
    assert result.error.code == "badRequest", result.error
    return result.error.message


def test_returns_the_id_of_the_job_that_owns_the_work(host: Host) -> None:
    job_id = start(host, f"sys.jobs.executeInJob({SAMPLE_ITEMS}, 'default', {LOG_ITEM}, 2)")
    job = host.engine.require(job_id)
    assert job.type == "EXECUTE_IN_JOB" and str(job.status) == "PENDING"
    assert job.data["itemsCount"] == 10 and job.data["step"] == 2


def test_runs_the_callback_once_for_every_item_in_order(host: Host) -> None:
    job_id = start(host, f"sys.jobs.executeInJob({SAMPLE_ITEMS}, 'default', {LOG_ITEM}, 3)")
    job = run_to_end(host, job_id)
    assert app_messages(host) == [f"Processing item: {n}" for n in range(1, 11)]
    assert job.results == {"itemsCount": 10, "itemsProcessed": 10, "itemsFailed": 0,
                           "chunks": 4}  # fmt: skip


def test_items_are_json_values_and_reach_the_callback_as_they_were(host: Host) -> None:
    items = "[{a: 1, b: [true, null]}, 'text', 2.5, -7, ['x']]"
    callback = "function (item) { sys.logs.info(JSON.stringify(item)); }"
    run_to_end(host, start(host, f"sys.jobs.executeInJob({items}, 'default', {callback})"))
    assert app_messages(host) == ['{"a":1,"b":[true,null]}', '"text"', "2.5", "-7", '["x"]']


def test_default_is_the_apps_default_queue(host: Host) -> None:
    job_id = start(host, f"sys.jobs.executeInJob([1], 'default', {LOG_ITEM})")
    assert host.engine.require(job_id).queue == "mix"


@pytest.mark.parametrize("queue", ["mix", "light", "heavy", "system"])
def test_the_job_runs_in_the_named_queue(host: Host, queue: str) -> None:
    job_id = start(host, f"sys.jobs.executeInJob([1], '{queue}', {LOG_ITEM})")
    assert host.engine.require(job_id).queue == queue
    run_to_end(host, job_id)
    assert app_messages(host) == ["Processing item: 1"]


def test_an_unknown_queue_is_bad_request_listing_the_queues(host: Host) -> None:
    message = refused(host, f"sys.jobs.executeInJob([1], 'fast', {LOG_ITEM})")
    assert "'queue'" in message and "default, mix, light, heavy, system" in message


def test_no_queue_is_bad_request(host: Host) -> None:
    assert "queue" in refused(host, f"sys.jobs.executeInJob([1], undefined, {LOG_ITEM})")


@pytest.mark.parametrize(("step", "chunks"), [(1, 10), (2, 5), (3, 4), (10, 1), (100, 1)])
def test_with_step_items_go_in_chunks_of_that_size(host: Host, step: int, chunks: int) -> None:
    job_id = start(host, f"sys.jobs.executeInJob({SAMPLE_ITEMS}, 'default', {LOG_ITEM}, {step})")
    assert run_to_end(host, job_id).results["chunks"] == chunks  # type: ignore[index]


@pytest.mark.parametrize(("count", "chunks"), [(1, 1), (10, 10), (95, 10), (2500, 25)])
def test_without_step_chunking_follows_the_item_count(host: Host, count: int, chunks: int) -> None:
    source = f"var a = []; for (var i = 0; i < {count}; i++) a.push(i); " \
             "sys.jobs.executeInJob(a, 'default', function (item) {})"
    results = run_to_end(host, start(host, source)).results
    assert results == {"itemsCount": count, "itemsProcessed": count, "itemsFailed": 0,
                       "chunks": chunks}  # fmt: skip


@pytest.mark.parametrize("step", ["0", "-1", "1.5", "'2'", "NaN", "Infinity", "true", "-0.5",
                                  "2**64"])  # fmt: skip
def test_a_step_that_is_not_a_positive_integer_is_bad_request(host: Host, step: str) -> None:
    message = refused(host, f"sys.jobs.executeInJob([1], 'default', {LOG_ITEM}, {step})")
    assert "step" in message


@pytest.mark.parametrize(("callback", "kind"), [
    ("undefined", "got undefined"), ("'function (i) {}'", "got string"), ("null", "got null"),
    ("{}", "got object"), ("Math.max", "native or bound"),
    ("(function (i) {}).bind(null)", "native or bound"), ("class A {}", "a class"),
    ("async function (i) {}", "an async function"), ("function* (i) {}", "a generator"),
    ("async function* (i) {}", "an async generator"), ("({m(i) {}}).m", "a method"),
    ("Object.getOwnPropertyDescriptor({get g() { return 1; }}, 'g').get", "a method"),
    ("new Proxy(function () {}, {})", "native or bound"),
    ("new Proxy(function () {}, {getPrototypeOf() { throw new Error('no'); }})",
     "source cannot be read"),
])  # fmt: skip
def test_a_callback_that_is_not_a_plain_function_is_bad_request_naming_callback(
    host: Host, callback: str, kind: str
) -> None:
    message = refused(host, f"sys.jobs.executeInJob([1], 'default', {callback})")
    assert "'callback'" in message and kind in message
    assert host.engine.find({"type": "EXECUTE_IN_JOB"}).count() == 0


def test_an_arrow_function_is_a_plain_function(host: Host) -> None:
    source = "sys.jobs.executeInJob([1, 2], 'default', (item) => sys.logs.info('arrow ' + item))"
    run_to_end(host, start(host, source))
    assert app_messages(host) == ["arrow 1", "arrow 2"]


@pytest.mark.parametrize("items", [
    "5", "'abc'", "{length: 1, 0: 1}", "null", "[NaN]", "[Infinity]", "[-Infinity]", "[1n]",
    "[{a: NaN}]", "(function () { var a = []; a.push(a); return a; })()",
    "['\\ud800']", "[{'\\udc00': 1}]",
    "(function () { var v = 1; for (var i = 0; i < 80; i++) v = [v]; return [v]; })()",
    "new Array(10001).fill(0)",
])  # fmt: skip
def test_items_that_are_not_an_array_of_json_values_are_bad_request(host: Host, items: str) -> None:
    message = refused(host, f"sys.jobs.executeInJob({items}, 'default', {LOG_ITEM})")
    assert "'items'" in message or "items" in message
    assert host.engine.find({"type": "EXECUTE_IN_JOB"}).count() == 0


def test_the_callback_does_not_see_the_callers_variables(host: Host) -> None:
    source = ("var prefix = 'item '; "
              "sys.jobs.executeInJob([1], 'default', function (item) { sys.logs.info(prefix + item); })")  # fmt: skip
    job = run_to_end(host, start(host, source))
    logs = [(str(e.level), e.message) for e in host.engine.logs(job.id, {})]
    assert logs == [("ERROR", "Item 0: ReferenceError: prefix is not defined")]
    assert job.has_errors and app_messages(host) == []


def test_an_item_that_throws_is_an_error_line_and_the_others_go_on(host: Host) -> None:
    callback = "function (item) { if (item % 2) throw new TypeError('odd ' + item); " \
               "sys.logs.info('even ' + item); }"
    job = run_to_end(host, start(host, f"sys.jobs.executeInJob([1, 2, 3, 4], 'default', {callback}, 3)"))
    errors = [e.message for e in host.engine.logs(job.id, {"level": "ERROR"})]
    assert errors == ["Item 0: TypeError: odd 1", "Item 2: TypeError: odd 3"]
    assert app_messages(host) == ["even 2", "even 4"]
    assert job.results["itemsFailed"] == 2  # type: ignore[index]


def test_progress_is_items_done_over_items(host: Host) -> None:
    job = run_to_end(host, start(host, f"sys.jobs.executeInJob({SAMPLE_ITEMS}, 'default', {LOG_ITEM}, 4)"))
    assert job.progress == 100


def test_data_shows_the_count_step_and_queue_not_the_items_or_the_callback(host: Host) -> None:
    job_id = start(host, f"sys.jobs.executeInJob([1, 2], 'default', {LOG_ITEM}, 1)")
    data = host.run(f"sys.jobs.findById('{job_id}').data()").value
    assert data == {"itemsCount": 2, "step": 1, "queue": "default"}


def test_a_job_started_from_a_job_is_its_child(host: Host) -> None:
    with host.workers(2, in_process=True):
        parent = host.run_in_job(f"log(sys.jobs.executeInJob([1], 'default', {LOG_ITEM}))")
    (child_id,) = [e.message for e in host.engine.logs(parent.id, {})]
    assert host.engine.require(child_id).parent_id == parent.id


def test_a_one_megabyte_item_reaches_the_callback_whole(host: Host) -> None:
    source = "sys.jobs.executeInJob(['\\u00e9'.repeat(1000000), 'ok'], 'default', " \
             "function (item) { sys.logs.info(String(item.length)); })"
    run_to_end(host, start(host, source))
    assert app_messages(host) == ["1000000", "2"]


def test_a_callback_longer_than_the_limit_is_bad_request(host: Host) -> None:
    body = "var x = 0;" * 12_000  # 120,000 characters of source
    message = refused(host, f"sys.jobs.executeInJob([1], 'default', function (i) {{ {body} }})")
    assert "'callback'" in message and "100000" in message


def test_each_call_counts_as_a_job_started(db_url: str) -> None:
    from sysjobs.runtime import Governance

    with Host(db_url, pool_size=0, governance=Governance(max_jobs_started=2)) as governed:
        result = governed.run(f"for (var i = 0; i < 3; i++) sys.jobs.executeInJob([i], 'default', {LOG_ITEM})")
        assert result.error is not None and result.error.code == "limitExceeded"
        assert governed.engine.find({"type": "EXECUTE_IN_JOB"}).count() == 2
