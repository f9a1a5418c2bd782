"""The ``sys.data`` prelude's short paths give what the long ones gave, on SQLite and
PostgreSQL: ``field(path).val(v)`` of a primitive without a JSON round trip, ``createRecord``
asked of the host once per entity and run, ``save`` sending a new record without its null
id and label. Each is attacked with the values and prototype tricks that could tell them
apart: NaN, ±Infinity, -0, 2⁶⁴, lone surrogates, a 1 MB string, deep nesting, getters,
toJSON on the prototypes, a Proxy."""

from __future__ import annotations

import dataclasses

import pytest

from sysjobs.host import Host
from sysjobs.runtime import Governance, Limits
from tests.integration.app.conftest import AppEnv

LIMIT_S = 30.0


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``)."""
    return reused_db_url


@pytest.fixture
def quiet(reseeded: AppEnv) -> AppEnv:
    """The demo app without workers: jobs started from scripts stay PENDING. One for the module, its
    database emptied and seeded again before each test (``reseeded``)."""
    return reseeded


def outcome(env: AppEnv, source: str) -> tuple[str | None, str]:
    """(code, message) of the error ``source`` throws, or (None, "") when it throws none."""
    result = env.runner.sandbox.run(source, timeout_s=LIMIT_S)
    if result.ok:
        return None, ""
    assert result.error is not None
    return result.error.code, result.error.message


#: Values ``val()`` takes: each must read back as JSON.parse(JSON.stringify(v)) gives it.
PRIMITIVES = [
    "'plain'", "''", "'\\ud800'", "'a\\udc00b'", "'x'.repeat(1 << 20)", "'\\u0000\\n\"'",
    "0", "-0", "1.5", "-1e308", "2 ** 64", "2 ** 53 + 1", "Number.MIN_VALUE", "true", "false",
    "null",
]  # fmt: skip


@pytest.mark.parametrize("value", PRIMITIVES)
def test_a_primitive_reads_back_as_a_json_copy_of_it(quiet: AppEnv, value: str) -> None:
    out = quiet.js(f"""
        var v = {value};
        var r = sys.data.createRecord('companies');
        var got = r.field('name').val(v).val();
        var want = JSON.parse(JSON.stringify(v));
        [Object.is(got, want), typeof got, r.toJson().name === want || Object.is(r.toJson().name, want)];
    """)
    assert out[0] is True and out[2] is True, out


def test_minus_zero_is_stored_as_zero_as_json_would(quiet: AppEnv) -> None:
    assert quiet.js("1 / sys.data.createRecord('companies').field('employees').val(-0).val()") is None
    # (1 / 0 is Infinity, which a script's completion value serialises as null)
    assert quiet.js("Object.is(sys.data.createRecord('companies').field('employees').val(-0).val(), 0)")


@pytest.mark.parametrize(("value", "shown"), [
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("10n", "BigInt"),
])  # fmt: skip
def test_numbers_json_cannot_hold_are_still_refused_naming_the_field(
    quiet: AppEnv, value: str, shown: str
) -> None:
    code, message = outcome(quiet, f"sys.data.createRecord('companies').field('employees').val({value})")
    assert code == "badRequest" and "field 'employees'" in message and shown in message


def test_undefined_and_a_symbol_are_stored_as_null_as_before(quiet: AppEnv) -> None:
    out = quiet.js("""
        var r = sys.data.createRecord('companies');
        [r.field('name').val(undefined).val(), r.field('type').val(Symbol('s')).val()];
    """)
    assert out == [None, None]


def test_toJSON_on_the_primitives_prototypes_changes_nothing_as_with_json(quiet: AppEnv) -> None:
    out = quiet.js("""
        String.prototype.toJSON = function () { return 'forged'; };
        Number.prototype.toJSON = function () { return -1; };
        Boolean.prototype.toJSON = function () { return 'no'; };
        var r = sys.data.createRecord('companies');
        [r.field('name').val('kept').val(), r.field('employees').val(7).val(),
         r.field('type').val(true).val()];
    """)
    assert out == ["kept", 7, True]


def test_objects_still_take_the_checked_copy(quiet: AppEnv) -> None:
    out = quiet.js("""
        var r = sys.data.createRecord('companies');
        var o = {a: [1, 'x'], get b() { return 2; }, toJSON: undefined};
        r.field('address.city').val(o);
        o.a.push('later');
        var wrapped = r.field('name').val(new String('boxed')).val();
        var viaToJSON = r.field('type').val({toJSON: function () { return 'a'; }}).val();
        var proxied = r.field('employees').val(new Proxy({n: 1}, {})).val();
        [r.field('address.city').val(), wrapped, viaToJSON, proxied];
    """)
    assert out == [{"a": [1, "x"], "b": 2}, "boxed", "a", {"n": 1}]


def test_deep_nesting_and_cycles_are_still_refused(quiet: AppEnv) -> None:
    deep = "(function () { var v = 1; for (var i = 0; i < 5000; i++) v = [v]; return v; })()"
    code, message = outcome(quiet, f"sys.data.createRecord('companies').field('name').val({deep})")
    assert code == "badRequest" and "nested" in message
    code, message = outcome(quiet, "var o = {}; o.o = o; sys.data.createRecord('companies').field('name').val(o)")
    assert code == "badRequest" and "Circular" in message


def test_a_read_value_is_a_copy_the_script_cannot_change_in_the_record(quiet: AppEnv) -> None:
    out = quiet.js("""
        var r = sys.data.createRecord('companies');
        r.field('address.city').val({x: [1]});
        var got = r.field('address.city').val(); got.x.push(2);
        r.field('address.city').val();
    """)
    assert out == {"x": [1]}


def test_a_lone_surrogate_set_by_the_short_path_is_refused_at_save(quiet: AppEnv) -> None:
    before = quiet.js("sys.data.count('companies', {})")
    code, message = outcome(quiet, "var r = sys.data.createRecord('companies');"
                                   " r.field('name').val('Acme \\ud800'); sys.data.save(r)")  # fmt: skip
    assert code == "badRequest" and "parameter 'record'" in message
    assert quiet.js("sys.data.count('companies', {})") == before


def test_every_created_record_is_its_own_and_alike(quiet: AppEnv) -> None:
    out = quiet.js("""
        var a = sys.data.createRecord('companies'), b = sys.data.createRecord('companies');
        a.field('name').val('A');
        var err = function (r) { try { r.field('nope'); } catch (e) { return sys.exceptions.getMessage(e); } };
        [a === b, b.field('name').val(), a.isNew(), b.isNew(), b.id(), b.label(), b.entityName(),
         JSON.stringify(b.toJson()) === JSON.stringify(sys.data.createRecord('companies').toJson()),
         err(a) === err(b), err(b)];
    """)
    assert out[:8] == [False, None, True, True, None, None, "companies", True]
    assert out[8] is True and "Allowed fields: name, " in out[9]


def test_a_record_created_without_the_host_saves_like_the_first(quiet: AppEnv) -> None:
    out = quiet.js("""
        var ids = [];
        for (var i = 0; i < 3; i++) {
          var r = sys.data.createRecord('companies');
          r.field('name').val('short ' + i); r.field('employees').val(-0);
          var s = sys.data.save(r);
          ids.push([s.isNew(), s.label(), s.field('employees').val(), s.id().length]);
        }
        ids;
    """)
    assert out == [[False, f"short {i}", 0, 24] for i in range(3)]


@pytest.mark.parametrize("name", [
    "'nope'", "'nope'", "'companies\\ud800'", "'__proto__'", "'constructor'", "'toString'",
    "({toString: function () { return 'companies'; }})", "42", "undefined",
])  # fmt: skip
def test_a_bad_entity_name_is_refused_every_time_in_the_same_words(quiet: AppEnv, name: str) -> None:
    out = quiet.js(f"""
        var seen = [];
        for (var i = 0; i < 3; i++) {{
          try {{ sys.data.createRecord({name}); seen.push('created'); }}
          catch (e) {{ seen.push(sys.exceptions.getCode(e) + ': ' + sys.exceptions.getMessage(e)); }}
        }}
        seen;
    """)
    assert out[0] == out[1] == out[2] and out[0].startswith("badRequest: "), out


def test_prototype_tricks_reach_no_record_createRecord_builds(quiet: AppEnv) -> None:
    out = quiet.js("""
        var forged = {id: 'ffffffffffffffffffffffff', entityName: 'contacts', fieldNames: ['x']};
        sys.data.createRecord('companies');  // the host's answer, kept
        Object.prototype.toJSON = function () { return forged; };
        Array.prototype.toJSON = function () { return ['x']; };
        Object.defineProperty(Object.prototype, 'id', {get: function () { return 'f'.repeat(24); }, configurable: true});
        Object.defineProperty(Array.prototype, '0', {get: function () { return 'x'; }, configurable: true});
        JSON.parse = function () { return forged; };
        var r = sys.data.createRecord('companies');
        var err; try { r.field('x'); } catch (e) { err = sys.exceptions.getMessage(e); }
        delete Object.prototype.toJSON; delete Array.prototype.toJSON;
        delete Object.prototype.id; delete Array.prototype[0];
        [r.isNew(), r.id(), r.entityName(), err];
    """)
    assert out[:3] == [True, None, "companies"] and "Allowed fields: name, " in out[3]


def test_a_new_run_asks_the_host_again_and_sees_a_changed_definition(quiet: AppEnv) -> None:
    message = ("try { sys.data.createRecord('companies').field('nope'); }"
               " catch (e) { sys.exceptions.getMessage(e) }")
    assert quiet.js(message).endswith(", employees, founded, address.addressLine1, address.city")
    definition = quiet.app.records.definition
    entity = definition.manifest.entities["companies"]
    fields = {k: v for k, v in entity.fields.items() if k != "founded"}
    smaller = entity.model_copy(update={"fields": fields})
    entities = {**definition.manifest.entities, "companies": smaller}
    manifest = definition.manifest.model_copy(update={"entities": entities})
    records = quiet.app.records  # (what createRecord's host side reads)
    records.definition = dataclasses.replace(definition, manifest=manifest)
    try:
        assert quiet.js(message).endswith(", employees, address.addressLine1, address.city")
    finally:
        records.definition = definition


def test_records_created_after_the_first_make_no_host_call(app_url: str) -> None:
    """The host-call budget counts what reaches the host: the first createRecord of an
    entity in a run, not the next ones (a run of ten calls at most creates a thousand)."""
    limits = Limits(governance=Governance(max_host_calls=10))
    with Host(app_url, pool_size=1, limits=limits) as host:
        result = host.run("for (var i = 0; i < 1000; i++) sys.data.createRecord('companies'); i")
        assert result.ok and result.value == 1000, result.error
        flood = "for (var i = 0; i < 1000; i++) sys.data.count('companies', {}); i"
        assert host.run(flood).error is not None  # (the budget still counts host calls)
