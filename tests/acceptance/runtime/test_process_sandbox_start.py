"""How a :class:`ProcessSandbox`'s child starts: ahead of its set-up when asked, with a
factory whose failure is a platform error, and with events the factory may send."""

from __future__ import annotations

import pytest

from sysjobs.errors import BadRequest, SystemException
from sysjobs.runtime import Limits
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory, StartedChild

CORE = SandboxFactory("sysjobs.host:core_sandbox", {"pool_size": 0})
HERE = "tests.acceptance.runtime.child_factories"


def test_a_child_started_ahead_runs_the_first_script() -> None:
    child = StartedChild.start((CORE.module,))
    with ProcessSandbox(CORE, Limits(timeout_s=10), child=child) as sandbox:
        result = sandbox.run("log('hi'); 1 + 1", timeout_s=10)
    assert (result.ok, result.value, result.logs) == (True, 2, ["hi"])
    assert child.proc.poll() is not None  # the sandbox owned it and ended it


def test_a_child_started_ahead_and_never_used_is_ended_by_close() -> None:
    child = StartedChild.start(("sysjobs.script_child",))
    child.close()
    assert child.proc.returncode is not None


def test_a_sandbox_closed_before_its_first_run_ends_the_child_it_was_given() -> None:
    child = StartedChild.start(())
    ProcessSandbox(CORE, child=child).close()
    assert child.proc.returncode is not None


def test_a_factory_that_refuses_is_its_platform_error() -> None:
    refused = pytest.raises(BadRequest, match="Invalid value 'x' for parameter 'db_url'")
    with ProcessSandbox(SandboxFactory(f"{HERE}:refuses")) as sandbox, refused:
        sandbox.run("1")


def test_a_factory_that_breaks_is_one_line_without_python_text() -> None:
    with (
        ProcessSandbox(SandboxFactory(f"{HERE}:breaks")) as sandbox,
        pytest.raises(SystemException) as raised,
    ):
        sandbox.run("1")
    assert raised.value.message == "The script's sandbox could not be set up."


def test_a_missing_factory_module_is_one_line_too() -> None:
    broken = pytest.raises(SystemException, match="could not be set up")
    with ProcessSandbox(SandboxFactory("sysjobs.no_such_module:build")) as sandbox, broken:
        sandbox.run("1")


def test_a_factory_event_reaches_the_run_that_waits_for_it() -> None:
    events: list[str] = []
    factory = SandboxFactory(f"{HERE}:announces", events=True)
    with ProcessSandbox(factory, Limits(timeout_s=10)) as sandbox:
        result = sandbox.run("log('after')", timeout_s=10, on_event=events.append)
    assert (result.ok, result.logs, events) == (True, ["after"], ["built"])


def test_a_fresh_child_imports_with_the_collector_off_then_collects() -> None:
    """A fresh interpreter imports with the garbage collector off (~10 % of its imports'
    CPU) and turns it back on, its imports frozen, before it builds the sandbox: a child
    left collecting nothing would grow with every reference cycle its runs make."""
    events: list[str] = []
    factory = SandboxFactory(f"{HERE}:announces_gc", events=True)
    with ProcessSandbox(factory, Limits(timeout_s=10)) as sandbox:
        result = sandbox.run("1", timeout_s=10, on_event=events.append)
    assert (result.ok, events) == (True, ["collecting=True frozen=True"])


def test_a_child_whose_parent_closed_the_connection_exits_on_its_own() -> None:
    child = StartedChild.start(())
    child.conn.close()
    assert child.proc.wait(60) == 0


def test_a_child_set_up_ahead_with_other_limits_is_not_used() -> None:
    child = StartedChild.start((CORE.module,), limits=Limits())
    other = Limits(timeout_s=10, heap_bytes=64 * 1024 * 1024)
    with ProcessSandbox(CORE, other, child=child) as sandbox:
        result = sandbox.run("log('fresh'); 3", timeout_s=10)
        assert child.proc.returncode is not None  # ended at once, never sent the set-up
    assert (result.ok, result.value, result.logs) == (True, 3, ["fresh"])


def test_a_child_set_up_ahead_keeps_the_data_limit_a_fresh_child_has() -> None:
    bomb, small = "new ArrayBuffer(768 * 1024 * 1024).byteLength", 512 * 1024**2
    outcomes = []
    for child in (StartedChild.start((CORE.module,), limits=Limits(), data_limit_bytes=small),
                  None):  # fmt: skip
        with ProcessSandbox(CORE, Limits(timeout_s=20), child=child,
                            data_limit_bytes=small) as sandbox:  # fmt: skip
            outcomes.append(str(sandbox.run(bomb, timeout_s=20).outcome))
    assert outcomes == ["memoryLimit", "memoryLimit"]
