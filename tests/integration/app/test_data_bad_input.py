"""Bad input to ``sys.data`` ends in ``badRequest`` naming the parameter, on SQLite and
PostgreSQL: lone surrogates anywhere in an argument, NaN/Infinity/BigInt/circular values,
numbers past 64 bits, ``like()`` patterns past the cap (SQLite refuses LIKE patterns over
50,000 bytes), value lists past the cap, hostile operator text of 100k characters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.app.query import MAX_VALUES
from sysjobs.jobs.values import MAX_PATTERN_CHARS
from tests.integration.app.conftest import AppEnv, make_env

LIMIT_S = 10.0


@pytest.fixture(scope="module")
def quiet(module_db_url: str) -> Iterator[AppEnv]:
    """The demo app without workers: jobs started from scripts stay PENDING. One for the
    module: every script here is refused or only reads, and the tests that could write
    assert that nothing was (opening the app per test was most of a test's CPU)."""
    env = make_env(module_db_url, workers=False)
    yield env
    env.close()


def refused(env: AppEnv, source: str, *named: str) -> str:
    result = env.runner.sandbox.run(source, timeout_s=LIMIT_S)
    assert result.outcome.value != "timeout", f"{source[:60]} ran out of time"
    assert not result.ok and result.error is not None, f"{source[:60]} did not throw"
    assert result.error.code == "badRequest", result.error.message
    for text in named:
        assert text in result.error.message, result.error.message
    return result.error.message


def companies(env: AppEnv) -> int:
    return int(env.js("sys.data.count('companies', {})"))


@pytest.mark.parametrize(("source", "named"), [
    ("sys.data.find('companies', {name: 'a\\ud800'})", "lone UTF-16 surrogates"),
    ("sys.data.count('companies', {'na\\udc00me': 'x'})", "lone UTF-16 surrogates"),
    ("sys.data.findById('companies\\ud800', 'x')", "parameter 'entityName'"),
    ("sys.data.executeAction('companies', {}, 'logSomething', {p: '\\ud800'})", "parameter 'params'"),
    ("var r = sys.data.createRecord('companies'); r.field('name').val('Acme \\ud800');"
     " sys.data.save(r)", "parameter 'record'"),
])  # fmt: skip
def test_a_lone_surrogate_anywhere_is_refused_naming_the_parameter(
    quiet: AppEnv, source: str, named: str
) -> None:
    before = companies(quiet)
    refused(quiet, source, named)
    assert companies(quiet) == before and quiet.engine.find({}).count() == 0


@pytest.mark.parametrize(("source", "named"), [
    ("sys.data.count('companies', {employees: NaN})", "parameter 'employees'"),
    ("sys.data.count('companies', {employees: [1, -Infinity]})", "array item (index 1)"),
    ("sys.data.count('companies', {employees: 'greater(' + Infinity + ')'})", "'employees'"),
    ("sys.data.count('companies', {employees: 2 ** 64})", "parameter 'query.employees'"),
    ("sys.data.count('companies', {founded: 1e20})", "parameter 'query.founded'"),
    ("sys.data.count('companies', {founded: 'greater(1e300)'})", "'founded'"),
    ("sys.data.count('companies', {_size: 10n})", "parameter '_size'"),
    ("sys.data.find('companies', {_offset: 1e300}).count()", "parameter '_offset'"),
    ("var q = {}; q.q = q; sys.data.count('companies', q)", "circular"),
    ("sys.data.executeAction('companies', {}, 'logSomething', {n: NaN})", "parameter 'n'"),
])  # fmt: skip
def test_numbers_no_column_can_hold_are_refused(quiet: AppEnv, source: str, named: str) -> None:
    refused(quiet, source, named)


@pytest.mark.parametrize(("value", "named"), [
    ("NaN", "NaN"), ("-Infinity", "-Infinity"), ("10n", "BigInt"),
    ("(function () { var o = {}; o.o = o; return o; })()", "circular"),
    ("(function () { var v = 1; for (var i = 0; i < 100000; i++) v = [v]; return v; })()", "nested"),
])  # fmt: skip
def test_a_field_value_json_cannot_hold_is_refused_when_set(
    quiet: AppEnv, value: str, named: str
) -> None:
    refused(quiet, f"sys.data.createRecord('companies').field('employees').val({value})",
            "field 'employees'", named)  # fmt: skip


def test_a_field_getter_error_reaches_the_script_as_it_is(quiet: AppEnv) -> None:
    result = quiet.runner.sandbox.run(
        "sys.data.createRecord('companies').field('name').val({get x() { throw new TypeError('own'); }})",
        timeout_s=LIMIT_S,
    )
    assert result.error is not None and (result.error.code, result.error.message) == (None, "own")


def test_a_saved_date_far_outside_the_calendar_is_refused(quiet: AppEnv) -> None:
    refused(quiet, "var r = sys.data.createRecord('companies'); r.field('name').val('X');"
                   " r.field('founded').val(1e300); sys.data.save(r)", "founded")  # fmt: skip


def test_a_like_pattern_past_the_cap_is_refused_and_one_at_the_cap_runs(quiet: AppEnv) -> None:
    refused(quiet, "sys.data.count('companies', {name: 'like(' + 'x'.repeat(60000) + ')'})",
            "parameter 'name'", f"at most {MAX_PATTERN_CHARS}")  # fmt: skip
    at_cap = f"sys.data.count('companies', {{name: 'like(' + 'x'.repeat({MAX_PATTERN_CHARS}) + ')'}})"
    assert quiet.js(at_cap) == 0


def test_like_wildcards_stay_literal(quiet: AppEnv) -> None:
    assert quiet.js("sys.data.count('companies', {name: 'like(%)'})") == 0
    assert quiet.js("sys.data.count('companies', {name: 'like(cm)'})") == 1


def test_too_many_alternatives_are_refused(quiet: AppEnv) -> None:
    refused(quiet, "sys.data.count('companies', {name: 'a,'.repeat(40000)})",
            f"at most {MAX_VALUES}")  # fmt: skip


@pytest.mark.parametrize("text", [
    "'like(' + ')'.repeat(100000)", "' '.repeat(100000) + 'like(x)'", "'a'.repeat(100000) + '(x)'",
])  # fmt: skip
def test_hostile_operator_text_of_100k_characters_is_answered_in_time(
    quiet: AppEnv, text: str
) -> None:
    result = quiet.runner.sandbox.run(
        f"try {{ sys.data.count('companies', {{name: {text}}}) }}"
        " catch (e) { sys.exceptions.getCode(e) }",
        timeout_s=LIMIT_S,
    )
    assert result.ok and (isinstance(result.value, int) or result.value == "badRequest"), result.error
