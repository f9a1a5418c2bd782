"""The synchronous bridge: a `sys.*` call returns its answer in the same statement."""

from __future__ import annotations

import json
import logging

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import CallContext, Limits, Namespace, Operation, Outcome, Sandbox
from sysjobs.runtime.dispatch import operation_table
from sysjobs.runtime.isolate import Isolate, build_bootstrap
from tests.unit.runtime.conftest import Empty


def value_of(sandbox: Sandbox, source: str) -> object:
    result = sandbox.run(source)
    assert result.outcome is Outcome.OK, result.error
    return result.value


@pytest.mark.parametrize(
    "literal",
    ["null", "true", "false", "0", "-1.5", "1e300", "'text'", "''", "[]", "{}", "[1,'a',null]"],
)
def test_primitives_round_trip_unchanged(sandbox: Sandbox, literal: str) -> None:
    expected = value_of(sandbox, f"({literal})")
    assert value_of(sandbox, f"sys.test.echo({literal})") == expected


def test_unicode_round_trips_including_astral_characters(sandbox: Sandbox) -> None:
    text = "héllo — 日本語 😀 \u0000 \\ \" end"
    assert value_of(sandbox, f"sys.test.echo({json.dumps(text)})") == text


def test_lone_surrogates_survive_the_transport(sandbox: Sandbox) -> None:
    assert value_of(sandbox, "sys.test.echo('a\\ud800b') === 'a\\ud800b'") is True


def test_nested_objects_round_trip(sandbox: Sandbox) -> None:
    source = "var o = {a: [1, {b: {c: [true, null, 'x']}}], d: {e: 1.25}}; sys.test.echo(o)"
    assert value_of(sandbox, source) == {"a": [1, {"b": {"c": [True, None, "x"]}}], "d": {"e": 1.25}}


def test_ten_megabyte_payloads_take_the_chunked_path_both_ways(sandbox: Sandbox) -> None:
    source = """
      var big = 'abcdé😀'.repeat(10 * 1024 * 1024 / 8);
      var back = sys.test.echo(big);
      [back.length === big.length, back === big, big.length]
    """
    ok_length, identical, length = value_of(sandbox, source)  # type: ignore[misc]
    assert ok_length and identical and length > 256 * 1024


def test_one_hundred_thousand_calls_in_one_script(sandbox: Sandbox) -> None:
    source = "var n = 0; for (var i = 0; i < 100000; i++) { n += sys.test.echo(i) === i ? 1 : 0 } n"
    assert value_of(sandbox, source) == 100000


def test_platform_error_from_a_handler_reaches_js_with_its_code(sandbox: Sandbox) -> None:
    source = """
      try { sys.test.notFound() } catch (e) {
        [sys.exceptions.getCode(e), sys.exceptions.getMessage(e), sys.exceptions.getAdditionalInfo(e),
         e instanceof Error, typeof e.stack]
      }
    """
    assert value_of(sandbox, source) == [
        "notFound", "Job 0123456789abcdef01234567 not found.", {"id": "x"}, True, "string"
    ]


def test_unexpected_handler_error_is_a_system_exception_with_a_correlation_id(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sysjobs.runtime"):
        result = sandbox.run("sys.test.boom()")
    assert result.outcome is Outcome.ERROR and result.error is not None
    assert result.error.code == "systemException"
    assert "correlation id" in result.error.message
    assert "RuntimeError" not in result.error.message and "/etc/passwd" not in result.error.message
    assert "Traceback" not in (result.error.stack or "")
    correlation = result.error.message.split("correlation id ")[1].rstrip(").")
    assert any(correlation in r.getMessage() for r in caplog.records)


def test_arguments_are_validated_and_the_parameter_is_named(sandbox: Sandbox) -> None:
    missing = sandbox.run("sys.test.strict({})")
    assert missing.error is not None and missing.error.code == "badRequest"
    assert missing.error.message == "Parameter 'id' is required."
    unknown = sandbox.run("sys.test.strict({id: 'a', colour: 'red'})")
    assert unknown.error is not None and unknown.error.code == "badRequest"
    assert "Unknown parameter 'colour'" in unknown.error.message
    assert "Allowed parameters: id, size" in unknown.error.message
    wrong = sandbox.run("sys.test.strict({id: 'a', size: 'big'})")
    assert wrong.error is not None and wrong.error.code == "badRequest"
    assert "'size'" in wrong.error.message and '"big"' in wrong.error.message


def test_reentering_the_isolate_from_a_handler_is_refused_cleanly() -> None:
    holder: dict[str, Isolate] = {}

    def reenter(ctx: CallContext, args: Empty) -> object:
        return holder["isolate"].bridge.eval("1")  # the isolate is busy waiting for us

    namespace = Namespace(
        "re",
        "(function (host) { return { go: function () { return host.call('go', {}) } } })",
        (Operation("go", Empty, reenter),),
    )
    namespaces = [*core_namespaces(), namespace]
    table = operation_table(namespaces)
    isolate = holder["isolate"] = Isolate(build_bootstrap(namespaces), table, Limits())
    try:
        script = "try { sys.re.go(); 'no' } catch (e) { sys.exceptions.getCode(e) }"
        envelope = isolate.run_envelope(script, {}, timeout_s=5)
        assert json.loads(envelope) == {"ok": True, "value": "systemException"}
    finally:
        isolate.close()


def test_a_handler_may_run_another_script_in_a_fresh_isolate(sandbox: Sandbox) -> None:
    result = sandbox.run("sys.test.reenter().value + 1")
    assert result.value == 2


def test_handlers_get_the_scripts_deadline(sandbox: Sandbox) -> None:
    remaining = sandbox.run("sys.test.remaining()", timeout_s=2.0).value
    assert isinstance(remaining, float) and 0 < remaining <= 2.0


def test_handlers_see_the_current_job_of_the_run(sandbox: Sandbox) -> None:
    assert sandbox.run("sys.test.jobId()").value is None
    job = "0123456789abcdef01234567"
    assert sandbox.run("sys.test.jobId()", job_id=job).value == job


def test_each_run_gets_fresh_globals(sandbox: Sandbox) -> None:
    sandbox.run("var leaked = 42; globalThis.other = 1")
    assert sandbox.run("typeof leaked + ',' + typeof other").value == "undefined,undefined"


def test_completion_value_is_the_last_expression_like_a_script(sandbox: Sandbox) -> None:
    assert sandbox.run("var a = 2; function f(x) { return x * a } f(21)").value == 42
    assert sandbox.run("var nothing = 1;").value is None


def test_log_lines_are_captured_in_order(sandbox: Sandbox) -> None:
    result = sandbox.run("log('a'); log('b', 1, {c: [2]}, null, undefined); log()")
    assert result.logs == ["a", 'b 1 {"c":[2]} null undefined', ""]


def test_log_lines_go_to_the_given_sink_as_they_happen(sandbox: Sandbox) -> None:
    seen: list[str] = []
    sandbox.run("log('one'); log('two')", log_sink=seen.append)
    assert seen == ["one", "two"]


def test_globals_given_to_a_run_are_visible_to_the_script(sandbox: Sandbox) -> None:
    result = sandbox.run("record.name + ':' + params.n", globals={"record": {"name": "Acme"}, "params": {"n": 3}})
    assert result.value == "Acme:3"


def test_a_session_runs_several_scripts_in_one_isolate(sandbox: Sandbox) -> None:
    from sysjobs.runtime.bridge import context_count

    with sandbox.session(job_id="0123456789abcdef01234567") as session:
        results = [session.run("record.n * 2", globals={"record": {"n": 0}})]
        alive = context_count()
        results += [session.run("record.n * 2", globals={"record": {"n": n}}) for n in range(1, 5)]
        assert context_count() == alive
    assert [r.value for r in results] == [0, 2, 4, 6, 8]


def test_a_session_replaces_its_isolate_after_a_limit_event(sandbox: Sandbox) -> None:
    with sandbox.session() as session:
        assert session.run("while (true) {}", timeout_s=0.2).outcome is Outcome.TIMEOUT
        assert session.run("log('fresh'); 1").logs == ["fresh"]
        assert session.run("throw new Error('x')").outcome is Outcome.ERROR
        assert session.run("2").value == 2


def test_a_type_error_names_the_parameter_even_when_its_name_hides_in_a_word(sandbox: Sandbox) -> None:
    # 'id' is inside "valid": the message must still name the parameter itself.
    result = sandbox.run("sys.test.strict({id: 42})")
    assert result.error is not None and result.error.code == "badRequest"
    assert result.error.message.startswith("Invalid value 42 for parameter 'id': ")
