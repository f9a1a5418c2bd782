"""Arbitrary JSON thrown at every ``sys.jobs`` query/wait function and every ``sys.data``
function, through the real sandbox: the script only ever sees ``badRequest``, ``notFound``
or ``timeout`` (or a normal result) — never a crash, another code, or a Python traceback.
SQL injection strings in every text filter are inert: tables intact, no extra rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysjobs.host import Host
from sysjobs.runtime import Limits

ALLOWED = {"badRequest", "notFound", "timeout"}
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)  # fmt: skip
#: Arguments: anything, plus near-misses of valid ones (so validation past the type runs).
KEYS = ["status", "type", "_size", "hasErrors", "startFrom", "endTo", "createFrom", "level",
        "message", "from", "to", "period", "name", "id", "_sort", "employees"]  # fmt: skip
queries = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4) | json_values
entities = st.sampled_from(["companies", "contacts", "nope", ""]) | json_values
ids = st.sampled_from(["0123456789abcdef01234567", "zz", ""]) | json_values


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def props_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per module and backend (examples share it; they only read or fail)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('props') / 'props.db'}"
        return
    server = request.getfixturevalue("pg_server")
    admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
    name = f"props_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "sysjobs_template"'))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def host(props_url: str) -> Iterator[Host]:
    with Host(props_url, limits=Limits(timeout_s=1.0), pool_size=2) as opened:
        job = opened.engine.enqueue("RUN_SCRIPT", {"_source": "1"})
        opened.engine.log_info(job.id, "a line")
        yield opened


def js(value: object) -> str:
    return json.dumps(value)


def outcome(host: Host, call: str) -> str:
    """'ok' or 'code:<code>:<name>' for one call (its result sets walked a little)."""
    source = f"""
      try {{
        var r = {call};
        if (r && typeof r.hasNext === 'function') {{ var n = 0; while (r.hasNext() && n < 3) {{ r.next(); n++ }} }}
        'ok'
      }} catch (e) {{ 'code:' + sys.exceptions.getCode(e) + ':' + e.name + ':' + e.message }}"""
    result = host.run(source, timeout_s=1.5)
    assert result.ok, result.error  # the run itself never fails: the call's error was caught
    return str(result.value)


def check(host: Host, call: str) -> None:
    got = outcome(host, call)
    if got == "ok":
        return
    _, code, _name, message = got.split(":", 3)
    assert code in ALLOWED, f"{call} -> {got}"
    assert "Traceback" not in message and 'File "' not in message, got


@EXAMPLES
@given(query=queries)
def test_find_with_any_query(host: Host, query: object) -> None:
    check(host, f"sys.jobs.find({js(query)})")


@EXAMPLES
@given(job_id=ids, query=queries)
def test_logs_with_any_id_and_query(host: Host, job_id: object, query: object) -> None:
    check(host, f"sys.jobs.logs({js(job_id)}, {js(query)})")


@EXAMPLES
@given(job_id=ids, statuses=json_values | st.sampled_from(["FINISHED", ["RUNNING", "X"]]),
       wait=json_values | st.integers(0, 50))  # fmt: skip
def test_wait_for_job_with_any_arguments(host: Host, job_id: object, statuses: object, wait: object) -> None:
    check(host, f"sys.jobs.waitForJob({js(job_id)}, {js(statuses)}, {js(wait)})")


@EXAMPLES
@given(job_id=ids, message=json_values)
def test_find_by_id_log_and_priority_with_any_arguments(host: Host, job_id: object, message: object) -> None:
    for call in (f"sys.jobs.findById({js(job_id)})", f"sys.jobs.logInfo({js(job_id)}, {js(message)})",
                 f"sys.jobs.logError({js(job_id)}, {js(message)})", f"sys.jobs.setLowPriority({js(job_id)})",
                 f"sys.jobs.removeLowPriority({js(job_id)})"):  # fmt: skip
        check(host, call)


DATA_CALLS = [
    "sys.data.find({e}, {q})", "sys.data.findOne({e}, {q})", "sys.data.findById({e}, {i})",
    "sys.data.count({e}, {q})", "sys.data.createRecord({e})", "sys.data.save({q})",
    "sys.data.remove({e}, {i})", "sys.data.executeAction({e}, {q}, {i}, {q}, {q})",
    "sys.data.delete({e}, {q}, {q})", "sys.data.importRecords({e}, {i}, {q})",
    "sys.data.endpointStatus({e})",
]  # fmt: skip


@EXAMPLES
@given(call=st.sampled_from(DATA_CALLS), entity=entities, query=queries, record_id=ids)
def test_every_sys_data_function_with_any_arguments(
    host: Host, call: str, entity: object, query: object, record_id: object
) -> None:
    check(host, call.format(e=js(entity), q=js(query), i=js(record_id)))


INJECTIONS = [
    "' OR '1'='1", "'; DROP TABLE jobs; --", "\" OR 1=1 --", "%' OR 1=1 --", "_%",
    "'); DELETE FROM companies; --", "\\'; SELECT pg_sleep(5); --", "1; UPDATE jobs SET status='FINISHED'",
    "' UNION SELECT id, type FROM jobs --", "\x00'",
]  # fmt: skip


def snapshot(host: Host) -> dict[str, int]:
    db = host.engine.database.engine
    with db.connect() as conn:
        tables = sorted(sa.inspect(conn).get_table_names())
        return {t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables}


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_every_text_filter_is_inert(host: Host, text: str) -> None:
    before = snapshot(host)
    t = js(text)
    calls = [
        f"sys.jobs.find({{type: {t}}}).count()", f"sys.jobs.find({{status: {t}}}).count()",
        f"sys.jobs.find({{hasErrors: {t}}}).count()", f"sys.jobs.find({{startFrom: {t}}}).count()",
        f"sys.jobs.logs(sys.jobs.find({{_size: 1}}).next().id(), {{message: {t}}}).count()",
        f"sys.jobs.logs(sys.jobs.find({{_size: 1}}).next().id(), {{level: {t}}}).count()",
        f"sys.jobs.logs(sys.jobs.find({{_size: 1}}).next().id(), {{period: {t}}}).count()",
        f"sys.data.count('companies', {{name: {t}}})", f"sys.data.count('companies', {{type: {t}}})",
        f"sys.data.find('companies', {{'address.city': {t}}}).count()",
        f"sys.data.findById('companies', {t})", f"sys.jobs.findById({t})",
    ]  # fmt: skip
    for call in calls:
        got = outcome(host, f"({call}, null)")
        assert got == "ok" or got.split(":")[1] in ALLOWED, f"{call} -> {got}"
        matches = host.run(f"try {{ {call} }} catch (e) {{ -1 }}").value
        assert matches in (0, -1, None), f"{call} matched {matches} rows"
    assert snapshot(host) == before


def test_the_snapshot_sees_the_tables(host: Host, tmp_path: Path) -> None:
    counts = snapshot(host)
    assert counts["jobs"] >= 1 and counts["job_logs"] >= 1


def test_a_log_line_with_nul_characters_is_kept_on_both_databases(host: Host) -> None:
    job = host.engine.enqueue("RUN_SCRIPT", {"_source": "1"})
    result = host.run(f"sys.jobs.logInfo('{job.id}', 'a\\u0000b'); 'logged'")
    assert result.value == "logged", result.error
    assert [e.message for e in host.engine.logs(job.id, {})] == ["a\ufffdb"]
