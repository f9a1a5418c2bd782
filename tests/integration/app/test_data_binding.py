"""``sys.data`` as scripts see it: Records, queries, saves, the record jobs and their errors."""

from __future__ import annotations

import pytest

from tests.integration.app.conftest import AppEnv


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``)."""
    return reused_db_url


@pytest.fixture
def quiet(reseeded: AppEnv) -> AppEnv:
    """The demo app without workers: jobs started from scripts stay PENDING. One for the module, its
    database emptied and seeded again before each test (``reseeded``)."""
    return reseeded


def error_of(env: AppEnv, source: str) -> tuple[str, str]:
    return tuple(env.js(f"""
        var out;
        try {{ {source}; out = ['no error', '']; }}
        catch (e) {{ out = [sys.exceptions.getCode(e), sys.exceptions.getMessage(e)]; }}
        out;
    """))  # type: ignore[return-value]


def test_find_iterates_records_with_their_api(quiet: AppEnv) -> None:
    out = quiet.js("""
        var rs = sys.data.find('companies', {type: 'a', _sortField: 'name', _sortType: 'desc'});
        var rows = [];
        while (rs.hasNext()) {
          var c = rs.next();
          rows.push([c.label(), c.entityName(), c.isNew(), c.field('address.city').val(),
                     c.id().length]);
        }
        [rows, rs.count()];
    """)
    assert out == [[["Globex", "companies", False, "Cypress Creek", 24],
                    ["Acme", "companies", False, "Springfield", 24]], 2]


def test_find_one_find_by_id_and_count(quiet: AppEnv) -> None:
    out = quiet.js("""
        var acme = sys.data.findOne('companies', {name: 'Acme'});
        var same = sys.data.findById('companies', acme.id());
        [same.label(), sys.data.count('companies', {}), sys.data.count('companies', {type: 'a,b'}),
         sys.data.findOne('companies', {name: 'nobody'}),
         sys.data.findById('companies', 'ffffffffffffffffffffffff')];
    """)
    assert out == ["Acme", 5, 4, None, None]


def test_create_save_change_and_remove(quiet: AppEnv) -> None:
    out = quiet.js("""
        var r = sys.data.createRecord('companies');
        var wasNew = r.isNew();
        r.field('name').val('Newco');
        r.field('type').val('b');
        r.field('address.city').val('Lyon');
        r = sys.data.save(r);
        r.field('employees').val(12);
        r = sys.data.save(r);
        var json = r.toJson();
        var removed = sys.data.remove(r);
        [wasNew, r.isNew(), json.name, json.address.city, json.employees,
         removed.id() === r.id(), sys.data.findById('companies', r.id())];
    """)
    assert out == [True, False, "Newco", "Lyon", 12, True, None]


def test_relationship_fields_hold_record_ids(quiet: AppEnv) -> None:
    out = quiet.js("""
        var acme = sys.data.findOne('companies', {name: 'Acme'});
        var c = sys.data.createRecord('contacts');
        c.field('firstName').val('Road'); c.field('company').val(acme.id());
        c = sys.data.save(c);
        [c.field('company').val() === acme.id(), sys.data.count('contacts', {company: acme.id()})];
    """)
    assert out == [True, 2]


@pytest.mark.parametrize(("source", "code", "parts"), [
    ("sys.data.find('nope', {})", "badRequest", ["'nope'", "'entityName'", "companies"]),
    ("sys.data.find('companies', {colour: 'red'})", "badRequest", ["'colour'"]),
    ("sys.data.find('companies', {employees: 'between(9,1)'})", "badRequest", ["lower bound"]),
    ("sys.data.count('companies', {type: 'x'})", "badRequest", ["'x'", "'type'"]),
    ("sys.data.findById('companies', 'abc')", "badRequest", ["'abc'", "'id'"]),
    ("sys.data.createRecord('companies').field('colour')", "badRequest", ["'colour'"]),
    ("var r = sys.data.createRecord('companies'); r.field('type').val('a'); sys.data.save(r)",
     "validationErrors", ["name"]),
    ("var r = sys.data.createRecord('companies'); r.field('name').val('X');"
     "r.field('employees').val('many'); sys.data.save(r)", "badRequest", ["'employees'"]),
    ("var r = sys.data.createRecord('contacts'); r.field('firstName').val('X');"
     "r.field('company').val('ffffffffffffffffffffffff'); sys.data.save(r)",
     "badRequest", ["'company'", "no record"]),
    ("sys.data.save({id: 'x'})", "badRequest", ["'record'"]),
    ("sys.data.remove('companies', 'ffffffffffffffffffffffff')", "notFound", []),
    ("sys.data.find('companies', 'type=a')", "badRequest", ["query"]),
    ("sys.data.executeAction('companies', {}, 'nope', {})", "badRequest", ["'nope'"]),
    ("sys.data.executeAction('companies', {}, 'logSomething', {param3: 1})", "badRequest",
     ["'param3'", "param1, param2"]),
    ("sys.data.executeAction('companies', {}, 'logSomething', {}, {urgent: true})",
     "badRequest", ["urgent"]),
    ("sys.data.delete('companies', {bogus: 1})", "badRequest", ["'bogus'"]),
    ("sys.data.importRecords('companies', 'ffffffffffffffffffffffff')", "notFound", []),
    ("sys.data.importRecords('companies', 'abc')", "badRequest", ["'fileId'"]),
    ("sys.data.endpointStatus('nope')", "badRequest", ["'endpointName'"]),
])
def test_bad_input_is_a_platform_error_naming_it(
    quiet: AppEnv, source: str, code: str, parts: list[str]
) -> None:
    got_code, message = error_of(quiet, source)
    assert got_code == code, message
    for part in parts:
        assert part in message


def test_job_starters_return_job_ids_with_options(quiet: AppEnv) -> None:
    file_id = quiet.app.files.put("c.csv", b"name\nZed\n")
    ids = quiet.js(f"""
        [sys.data.executeAction('companies', {{type: 'a'}}, 'logSomething',
                                {{param1: 'a', param2: 'b'}}, {{lowPriority: true}}),
         sys.data.delete('companies', {{type: 'c'}}),
         sys.data.importRecords('companies', '{file_id}', {{lowPriority: true}})];
    """)
    jobs = [quiet.engine.require(i) for i in ids]
    assert [j.type for j in jobs] == ["EXECUTE_ACTION", "DELETE_RECORDS", "IMPORT_RECORDS"]
    assert [j.low_priority for j in jobs] == [True, False, True]
    assert jobs[0].data == {"entityName": "companies", "actionName": "logSomething",
                            "_query": {"type": "a"}, "_params": {"param1": "a", "param2": "b"}}
    assert jobs[2].data["fileName"] == "c.csv"


def test_global_action_from_javascript_with_a_null_entity(quiet: AppEnv) -> None:
    job_id = quiet.js("sys.data.executeAction(null, {}, 'quickAdd', {name: 'Newco'})")
    job = quiet.engine.require(job_id)
    assert job.data["entityName"] is None and job.data["actionName"] == "quickAdd"
    quiet.start_workers()
    done = quiet.wait(job_id)
    assert done.results is not None and done.results["results"]["status"] == "ok"


def test_endpoint_status_is_visible_from_scripts(quiet: AppEnv) -> None:
    assert quiet.js("sys.data.endpointStatus('hello')") == "UNDEPLOYED"
    quiet.app.deploy_endpoint("hello")
    assert quiet.js("sys.data.endpointStatus('hello')") == "DEPLOYING"


def test_saving_a_stale_copy_is_an_optimistic_locking_error(quiet: AppEnv) -> None:
    code, message = error_of(quiet, """
        var a = sys.data.findOne('companies', {name: 'Acme'});
        var b = sys.data.findById('companies', a.id());
        a.field('employees').val(1); sys.data.save(a);
        b.field('employees').val(2); sys.data.save(b);
    """)
    assert code == "optimisticLocking" and "changed by someone else" in message
