"""Hostile scripts end with the exact outcome, the host stays alive, the next script runs.

The ones that can kill a process (one huge allocation) live in
``tests/acceptance/test_process_sandbox.py``.
"""

from __future__ import annotations

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import Limits, Outcome, Sandbox


def assert_next_script_runs(sandbox: Sandbox) -> None:
    assert sandbox.run("log('alive'); 6 * 7").value == 42


#: The limit of a script that never ends by itself: any limit shows the same ``timeout``,
#: and it spins until the limit — a short one is that much less CPU.
SPIN_S = 0.25


@pytest.fixture
def small_sandbox() -> Sandbox:
    sb = Sandbox(core_namespaces(), Limits(timeout_s=1.0, heap_bytes=48 * 1024 * 1024), pool_size=0)
    yield sb  # type: ignore[misc]
    sb.close()


@pytest.mark.parametrize(
    ("name", "source", "outcome"),
    [
        ("infinite loop", "while (true) {}", Outcome.TIMEOUT),
        ("busy recursion loop", "function f() { for (;;) {} } f()", Outcome.TIMEOUT),
        ("memory growth loop", "var a = []; while (true) a.push({x: [1, 2, 3]})", Outcome.MEMORY_LIMIT),
        ("string doubling", "var s = 'x'; while (true) s += s", Outcome.ERROR),
        ("deep recursion", "function f() { return f() } f()", Outcome.ERROR),
        ("await loop after return", "(async () => { while (true) { await 0 } })(); 1", Outcome.TIMEOUT),
        ("growing promise chain after return", "function f() { return Promise.resolve().then(f) } f(); 1", Outcome.MEMORY_LIMIT),
    ],
)
def test_hostile_script_ends_with_exact_outcome(
    small_sandbox: Sandbox, name: str, source: str, outcome: Outcome
) -> None:
    # Reaching the heap limit takes a loaded machine more than the 1 s the others get.
    limits = {Outcome.MEMORY_LIMIT: 20.0, Outcome.TIMEOUT: SPIN_S}
    timeout_s = limits.get(outcome)
    result = small_sandbox.run(source, timeout_s=timeout_s)
    assert result.outcome is outcome, (name, result.error)
    assert result.error is not None
    if outcome is not Outcome.ERROR:
        assert result.error.code == str(outcome)
    assert_next_script_runs(small_sandbox)


def test_deep_recursion_is_a_range_error(sandbox: Sandbox) -> None:
    result = sandbox.run("function f() { return f() } f()")
    assert result.error is not None and result.error.name == "RangeError"
    assert "call stack" in result.error.message


def test_getter_trap_on_the_returned_value_is_covered_by_the_timeout(small_sandbox: Sandbox) -> None:
    result = small_sandbox.run("({ get x() { while (true) {} } })", timeout_s=SPIN_S)
    assert result.outcome is Outcome.TIMEOUT
    assert_next_script_runs(small_sandbox)


def test_to_json_trap_on_a_bridge_argument_is_covered_by_the_timeout(small_sandbox: Sandbox) -> None:
    result = small_sandbox.run("log({ toJSON() { while (true) {} } })", timeout_s=SPIN_S)
    assert result.outcome is Outcome.TIMEOUT
    assert_next_script_runs(small_sandbox)


@pytest.mark.parametrize(
    "tampering",
    [
        "JSON.stringify = function () { return '{\"op\":\"log.write\",\"args\":{\"message\":\"forged\"}}' }",
        "JSON.parse = function () { return {ok: 'forged'} }",
        "Array.prototype.push = function () { throw new Error('push') }",
        "Object.defineProperty = function () { throw new Error('dp') }",
        "Reflect.apply = function () { throw new Error('apply') }",
        "String.prototype.charCodeAt = function () { return 65 }",
        "String.fromCharCode = function () { return 'X' }",
        "Uint16Array.prototype.subarray = function () { return [] }",
        "Object.prototype.err = {code: 'forged', message: 'forged'}",
        "Object.defineProperty(Array.prototype, '0', { set() { throw new Error('index') } })",
        "WeakMap.prototype.get = function () { return {code: 'forged'} }",
        "Error = function () { return {} }",
    ],
)
def test_tampering_with_intrinsics_cannot_spoof_or_break_the_bridge(sandbox: Sandbox, tampering: str) -> None:
    source = f"""
      {tampering};
      log('line', {{a: [1]}});
      var caught = null;
      try {{ sys.exceptions.throwException('notFound', 'nf') }} catch (e) {{ caught = sys.exceptions.getCode(e) }}
      var plain = sys.exceptions.getCode(new TypeError('t'));
      caught + ',' + plain
    """
    result = sandbox.run(source)
    assert result.outcome is Outcome.OK, result.error
    assert result.logs == ['line {"a":[1]}']
    assert result.value == "notFound,null"


@pytest.mark.parametrize(
    "probe",
    ["process", "require", "module", "fetch", "XMLHttpRequest", "WebAssembly", "SharedArrayBuffer",
     "Atomics", "WeakRef", "FinalizationRegistry", "setTimeout", "setInterval", "eval",
     "__host", "__TimerManager", "Deno", "Bun"],
)
def test_host_facilities_are_unreachable(sandbox: Sandbox, probe: str) -> None:
    assert sandbox.run(f"typeof {probe}").value == "undefined"


@pytest.mark.parametrize(
    "attempt",
    [
        "new Function('return 1')()",
        "Function('return 1')()",
        "(function () {}).constructor('return 1')()",
        "(async function () {}).constructor('return 1')",
        "(function* () {}).constructor('yield 1')",
        "Object.getPrototypeOf(async function* () {}).constructor('yield 1')",
        "Reflect.construct(Function, ['return 1'])",
    ],
)
def test_code_generation_from_strings_is_refused(sandbox: Sandbox, attempt: str) -> None:
    result = sandbox.run(attempt)
    assert result.outcome is Outcome.ERROR and result.error is not None
    assert result.error.name == "TypeError"
    assert "Code generation from strings is disabled" in result.error.message


def test_dynamic_import_is_refused(sandbox: Sandbox) -> None:
    with sandbox.session() as session:  # the second run reads what the promise settled to
        first = session.run("globalThis.r = 'pending'; import('fs').then(() => { r = 'loaded' }, (e) => { r = 'refused' }); 1")
        assert first.outcome is Outcome.OK
        assert session.run("r").value == "refused"


def test_function_instances_still_work_after_taming(sandbox: Sandbox) -> None:
    source = "function add(a, b) { return a + b } [add.call(null, 1, 2), add instanceof Function, typeof Function]"
    assert sandbox.run(source).value == [3, True, "function"]


def test_sys_is_frozen_against_prototype_pollution_and_replacement(sandbox: Sandbox) -> None:
    source = """
      var attempts = [
        () => { sys.jobs = {} }, () => { sys.evil = 1 }, () => { delete sys.exceptions },
        () => { globalThis.sys = {} }, () => { Object.defineProperty(globalThis, 'sys', {value: 1}) },
        () => { sys.exceptions.ScriptException.prototype.code = () => 'forged' },
        () => { Object.setPrototypeOf(sys, {}) }, () => { log = null }, () => { delete globalThis.log },
        () => { sys.exceptions.getCode = () => 'forged' },
      ];
      attempts.forEach(a => { try { a() } catch (e) {} });
      Object.prototype.polluted = 'yes';
      Object.prototype.getCode = () => 'forged';
      [Object.isFrozen(sys), Object.isFrozen(sys.exceptions), typeof sys.evil, typeof sys.exceptions,
       sys.exceptions.getCode(new Error('x')), typeof log, Object.getPrototypeOf(sys),
       new sys.exceptions.ScriptException('badRequest', 'm').code()]
    """
    assert sandbox.run(source).value == [True, True, "undefined", "object", None, "function", None, "badRequest"]


def test_the_transport_buffer_is_not_reachable_from_globals(sandbox: Sandbox) -> None:
    source = """
      var found = [];
      for (const k of Reflect.ownKeys(globalThis)) {
        try { const v = globalThis[k]; if (v && v.constructor && /SharedArrayBuffer/.test(String(v))) found.push(String(k)) } catch (e) {}
      }
      found"""
    assert sandbox.run(source).value == []


def test_error_prepare_stack_trace_hook_cannot_break_error_reporting(sandbox: Sandbox) -> None:
    result = sandbox.run("Error.prepareStackTrace = () => { throw new Error('hook') }; sys.exceptions.throwException('badRequest', 'x')")
    assert result.error is not None and result.error.code == "badRequest"


def test_a_run_can_be_terminated_from_another_thread(sandbox: Sandbox) -> None:
    import threading
    import time

    def stop_soon() -> None:
        # The run is known to terminate() once it has started (nothing signals that): poll
        # for it well within the run's own timeout, however loaded the machine.
        deadline = time.monotonic() + 50
        while not sandbox.terminate("job-1") and time.monotonic() < deadline:
            time.sleep(0.01)

    stopper = threading.Thread(target=stop_soon)
    stopper.start()
    result = sandbox.run("while (true) {}", run_id="job-1", timeout_s=60)
    stopper.join()
    assert result.outcome is Outcome.TERMINATED
    assert result.error is not None and result.error.code == "terminated"
    assert_next_script_runs(sandbox)
