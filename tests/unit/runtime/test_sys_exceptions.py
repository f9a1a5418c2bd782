"""``sys.exceptions`` exactly as the platform documents it."""

from __future__ import annotations

import pytest

from sysjobs.errors import CODE_CONSTANTS
from sysjobs.runtime import Outcome, Sandbox


def run_value(sandbox: Sandbox, source: str) -> object:
    result = sandbox.run(source)
    assert result.outcome is Outcome.OK, result.error
    return result.value


@pytest.mark.parametrize(("name", "code"), sorted(CODE_CONSTANTS.items()))
def test_code_constants_have_the_documented_values(sandbox: Sandbox, name: str, code: str) -> None:
    assert run_value(sandbox, f"sys.exceptions.{name}") == code


def test_bad_request_constant_is_bad_request(sandbox: Sandbox) -> None:
    assert run_value(sandbox, "sys.exceptions.BAD_REQUEST_ERROR") == "badRequest"


def test_throw_exception_throws_a_branded_error_with_code_and_message(sandbox: Sandbox) -> None:
    source = """
      try { sys.exceptions.throwException('notFound', 'no such job', {id: 1}) } catch (e) {
        [sys.exceptions.getCode(e), sys.exceptions.getMessage(e), sys.exceptions.getAdditionalInfo(e),
         e instanceof Error, e instanceof sys.exceptions.ScriptException]
      }"""
    assert run_value(sandbox, source) == ["notFound", "no such job", {"id": 1}, True, True]


def test_message_reads_as_a_string_and_is_callable(sandbox: Sandbox) -> None:
    source = """
      try { sys.exceptions.throwException('badRequest', 'bad id') } catch (e) {
        ['' + e.message, `${e.message}`, e.message(), e.message == 'bad id', e.code(), String(e)]
      }"""
    assert run_value(sandbox, source) == [
        "bad id", "bad id", "bad id", True, "badRequest", "ScriptException: bad id"
    ]


def test_script_exception_constructor_and_methods(sandbox: Sandbox) -> None:
    source = """
      var ex = new sys.exceptions.ScriptException('validationErrors', 'name is required');
      var out = [ex.code(), ex.message(), sys.exceptions.getCode(ex), typeof ex.stack];
      try { ex.throw() } catch (e) { out.push(e === ex) }
      out"""
    assert run_value(sandbox, source) == [
        "validationErrors", "name is required", "validationErrors", "string", True
    ]


def test_get_code_of_a_plain_type_error_is_null(sandbox: Sandbox) -> None:
    source = "try { null.x } catch (e) { [sys.exceptions.getCode(e), sys.exceptions.getMessage(e)] }"
    assert run_value(sandbox, source) == [None, "Cannot read properties of null (reading 'x')"]


@pytest.mark.parametrize(
    ("thrown", "message"), [("42", "42"), ("{}", "[object Object]"), ("'text'", "text"), ("null", None)]
)
def test_non_error_throws_are_normalised(sandbox: Sandbox, thrown: str, message: object) -> None:
    source = f"try {{ throw {thrown} }} catch (e) {{ [sys.exceptions.getCode(e), sys.exceptions.getMessage(e)] }}"
    assert run_value(sandbox, source) == [None, message]


def test_uncaught_non_error_throw_is_reported_as_uncaught(sandbox: Sandbox) -> None:
    result = sandbox.run("throw 42")
    assert result.outcome is Outcome.ERROR and result.error is not None
    assert (result.error.code, result.error.name, result.error.message) == (None, "Uncaught", "42")


def test_uncaught_platform_error_is_reported_with_its_code(sandbox: Sandbox) -> None:
    result = sandbox.run("sys.exceptions.throwException('timeout', 'too slow')")
    assert result.error is not None
    assert result.error.headline() == "timeout: too slow"
    assert result.error.stack is not None and "too slow" in result.error.stack


def test_codes_cannot_be_forged_with_properties(sandbox: Sandbox) -> None:
    source = """
      var e = new Error('x'); e.code = function () { return 'notFound' };
      var f = Object.create(sys.exceptions.ScriptException.prototype);
      var g = {code: 'badRequest', message: 'm'};
      [sys.exceptions.getCode(e), sys.exceptions.getCode(f), sys.exceptions.getCode(g)]"""
    assert run_value(sandbox, source) == [None, None, None]


def test_sys_exceptions_cannot_be_replaced(sandbox: Sandbox) -> None:
    source = """
      try { sys.exceptions.getCode = function () { return 'ok' } } catch (e) {}
      try { sys.exceptions = {} } catch (e) {}
      try { delete sys.exceptions } catch (e) {}
      sys.exceptions.getCode(new Error('x'))"""
    assert run_value(sandbox, source) is None
