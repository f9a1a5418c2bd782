"""Two apps on one database, through ``sys.data`` as their scripts see it: app B reaches
nothing of app A — A's ids are ``notFound`` (or ``null`` for ``findById``), A's records
never appear in B's ``find``/``findOne``/``count``, and neither app's jobs, files, users or
status change the other's. Both apps are the demo app under two names (same entities,
same seed), which is the hardest case to keep apart."""

from __future__ import annotations

import json

import pytest

from sysjobs.app.records import Record
from sysjobs.app.status import AppStatus, EndpointStatus
from sysjobs.errors import NotFound
from sysjobs.host import Host
from tests.integration.apps.conftest import code_of, js


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``)."""
    return reused_db_url


@pytest.fixture
def two(two_reseeded: tuple[Host, Host]) -> tuple[Host, Host]:
    """Two Hosts of two apps (``alpha``, ``beta``) on the module's database, emptied and
    written again as opening them on a new one writes it (``two_reseeded``)."""
    return two_reseeded


def make_company(host: Host, name: str) -> str:
    return str(js(host, f"""
        var r = sys.data.createRecord('companies');
        r.field('name').val({json.dumps(name)}); r.field('type').val('a');
        sys.data.save(r).id();
    """))


def test_each_host_knows_its_app_key(two: tuple[Host, Host]) -> None:
    a, b = two
    assert (a.app_key, a.engine.app) == ("alpha", "alpha")
    assert (b.app_key, b.engine.app) == ("beta", "beta")


def test_find_by_id_of_another_apps_record_is_null(two: tuple[Host, Host]) -> None:
    a, b = two
    rid = make_company(a, "Only in alpha")
    assert js(a, f"sys.data.findById('companies', '{rid}').label()") == "Only in alpha"
    assert js(b, f"sys.data.findById('companies', '{rid}')") is None


def test_find_find_one_and_count_never_return_another_apps_records(
    two: tuple[Host, Host],
) -> None:
    a, b = two
    rid = make_company(a, "Only in alpha")
    query = "{name: 'Only in alpha'}"
    assert js(b, f"sys.data.count('companies', {query})") == 0
    assert js(b, f"sys.data.findOne('companies', {query})") is None
    assert js(b, f"sys.data.find('companies', {query}).count()") == 0
    ids_b = js(b, """var ids = [], rs = sys.data.find('companies', {});
                     while (rs.hasNext()) { ids.push(rs.next().id()); } ids""")
    assert rid not in ids_b
    assert js(b, f"sys.data.count('companies', {{id: '{rid}'}})") == 0
    assert js(b, "sys.data.count('companies', {})") == 5  # B's own seed, not A's too
    assert js(a, "sys.data.count('companies', {})") == 6


def test_remove_of_another_apps_record_is_not_found_and_keeps_it(
    two: tuple[Host, Host],
) -> None:
    a, b = two
    rid = make_company(a, "Only in alpha")
    assert code_of(b, f"sys.data.remove('companies', '{rid}')") == "code:notFound"
    assert js(a, f"sys.data.findById('companies', '{rid}').id()") == rid


def test_update_of_another_apps_record_is_not_found_and_changes_nothing(
    two: tuple[Host, Host],
) -> None:
    a, b = two
    rid = make_company(a, "Only in alpha")
    with pytest.raises(NotFound):
        b.app.records.save(Record("companies", {"name": "Taken over"}, rid, version=1))
    assert js(a, f"sys.data.findById('companies', '{rid}').label()") == "Only in alpha"


def test_a_relationship_to_another_apps_record_is_refused(two: tuple[Host, Host]) -> None:
    a, b = two
    rid = make_company(a, "Only in alpha")
    got = code_of(b, f"""(function () {{
        var c = sys.data.createRecord('contacts');
        c.field('firstName').val('X'); c.field('company').val('{rid}');
        return sys.data.save(c); }})()""")
    assert got == "code:badRequest"


def test_record_jobs_of_one_app_scan_none_of_the_others_records(
    two: tuple[Host, Host],
) -> None:
    a, b = two
    rid = make_company(a, "Only in alpha")
    action = js(b, f"sys.data.executeAction('companies', {{id: '{rid}'}}, 'logSomething', {{}})")
    delete = js(b, "sys.data.delete('companies', {})")
    assert b.engine.require(action).type == "EXECUTE_ACTION"
    assert b.engine.require(delete).type == "DELETE_RECORDS"
    # What those jobs will walk in B: nothing of A's.
    assert b.app.records.scan("companies", {"id": rid}, None, 10) == []
    scanned = b.app.records.scan("companies", {}, None, 1000)
    assert rid not in [r.id for r in scanned] and len(scanned) == 5


def test_import_of_another_apps_file_is_not_found(two: tuple[Host, Host]) -> None:
    a, b = two
    file_id = a.app.files.put("c.csv", b"name\nZed\n")
    assert a.app.files.get(file_id).name == "c.csv"
    assert code_of(b, f"sys.data.importRecords('companies', '{file_id}')") == "code:notFound"
    with pytest.raises(NotFound):
        b.app.files.get(file_id)


def test_endpoint_and_app_status_are_each_apps_own(two: tuple[Host, Host]) -> None:
    a, b = two
    a.app.status.set_endpoint("hello", EndpointStatus.DEPLOYED)
    a.app.status.set_app(AppStatus.STOPPED)
    assert js(a, "sys.data.endpointStatus('hello')") == "DEPLOYED"
    assert js(b, "sys.data.endpointStatus('hello')") == "UNDEPLOYED"
    assert not a.app.is_running()
    assert b.app.is_running()


def test_users_are_each_apps_own_and_an_email_may_be_in_both(
    two: tuple[Host, Host],
) -> None:
    from sysjobs.app.manifest import UserDef

    a, b = two
    a.app.users.add(UserDef(email="only@alpha.example", first_name="O", last_name="A"))
    assert "only@alpha.example" in [u.email for u in a.app.users.all()]
    assert "only@alpha.example" not in [u.email for u in b.app.users.all()]
    # Both seeds hold ada@example.com: one user per app, not a clash.
    assert [u.email for u in a.app.users.all()].count("ada@example.com") == 1
    assert [u.email for u in b.app.users.all()].count("ada@example.com") == 1


def test_job_listeners_hear_only_their_own_apps_jobs(two: tuple[Host, Host]) -> None:
    from sysjobs.store.app_events import JobEventsStore

    a, b = two
    a_job = js(a, "sys.data.delete('companies', {type: 'c'})")
    b_job = js(b, "sys.data.delete('companies', {type: 'c'})")
    store_b = JobEventsStore(b.engine.database, "beta")
    seen = {t.job_id for t in store_b.after(0, 1000)}
    assert b_job in seen and a_job not in seen


def test_jobs_and_their_rows_carry_their_apps_key(two: tuple[Host, Host]) -> None:
    import sqlalchemy as sa

    from sysjobs.store.schema import job_events, job_logs, job_results, jobs

    a, b = two
    a_job = js(a, "sys.data.delete('companies', {type: 'c'})")
    b_job = js(b, "sys.data.delete('companies', {type: 'c'})")
    a.engine.log_info(a_job, "a line of alpha")
    with a.engine.database.read() as conn:
        for table in (jobs, job_results):
            key = table.c.id if table is jobs else table.c.job_id
            got = dict(conn.execute(sa.select(key, table.c.app)).all())
            assert (got[a_job], got[b_job]) == ("alpha", "beta")
        created = conn.execute(sa.select(job_events.c.job_id, job_events.c.app)
                               .where(job_events.c.from_status.is_(None))).all()
        assert {(a_job, "alpha"), (b_job, "beta")} <= set(created)
        logged = conn.execute(sa.select(job_logs.c.app).where(job_logs.c.job_id == a_job))
        assert logged.scalars().all() == ["alpha"]


def test_sys_logs_of_one_app_are_not_in_the_other_apps_log(two: tuple[Host, Host]) -> None:
    a, b = two
    js(a, "sys.logs.info('alpha secret'); sys.logs.error('alpha failure', new Error('x'))")
    js(b, "sys.logs.warn('beta line')")
    assert [e.message for e in a.engine.app_logs({})] == ["alpha secret", "alpha failure"]
    assert [e.message for e in b.engine.app_logs({})] == ["beta line"]
    assert list(b.engine.app_logs({"message": "alpha"})) == []
