"""The engine's ScriptRunner over the sandbox: outcomes, job logs, sessions, termination."""

from __future__ import annotations

from sysjobs.bindings import core_namespaces
from sysjobs.jobs.scripts import SessionScriptRunner, TerminableScriptRunner
from sysjobs.runtime import Limits, Sandbox
from sysjobs.runtime.bridge import context_count
from sysjobs.worker.scripts import SandboxScriptRunner

JOB = "0123456789abcdef01234567"


def make_runner(lines: list[tuple[str, str]]) -> SandboxScriptRunner:
    sandbox = Sandbox(core_namespaces(), Limits(timeout_s=5), pool_size=0)
    return SandboxScriptRunner(sandbox, lambda job_id, line: lines.append((job_id, line)))


def test_runner_implements_the_engine_protocols() -> None:
    runner = make_runner([])
    try:
        assert isinstance(runner, TerminableScriptRunner)
        assert isinstance(runner, SessionScriptRunner)
    finally:
        runner.sandbox.close()


def test_a_job_scripts_log_lines_go_to_the_job_log() -> None:
    lines: list[tuple[str, str]] = []
    runner = make_runner(lines)
    try:
        outcome = runner.run("log('hi'); 41 + 1", job_id=JOB, globals={}, timeout_s=5)
    finally:
        runner.sandbox.close()
    assert (outcome.ok, outcome.value) == (True, 42)
    assert lines == [(JOB, "hi")]


def test_a_failed_script_gives_its_code_and_message() -> None:
    runner = make_runner([])
    try:
        branded = runner.run("sys.exceptions.throwException('notFound', 'gone')", job_id=JOB, globals={}, timeout_s=5)
        plain = runner.run("null.x", job_id=JOB, globals={}, timeout_s=5)
        slow = runner.run("while (true) {}", job_id=JOB, globals={}, timeout_s=0.2)
    finally:
        runner.sandbox.close()
    assert (branded.ok, branded.error_code, branded.error_message) == (False, "notFound", "gone")
    assert (plain.error_code, plain.error_message) == ("TypeError", "Cannot read properties of null (reading 'x')")
    assert slow.error_code == "timeout"


def test_runs_inside_a_session_share_one_context() -> None:
    lines: list[tuple[str, str]] = []
    runner = make_runner(lines)
    try:
        with runner.session(JOB):
            first = runner.run("log(record.n); record.n", job_id=JOB, globals={"record": {"n": 0}}, timeout_s=5)
            alive = context_count()
            rest = [runner.run("log(record.n); record.n", job_id=JOB, globals={"record": {"n": n}}, timeout_s=5)
                    for n in range(1, 4)]
            assert context_count() == alive
        assert [o.value for o in [first, *rest]] == [0, 1, 2, 3]
        assert lines == [(JOB, "0"), (JOB, "1"), (JOB, "2"), (JOB, "3")]
    finally:
        runner.sandbox.close()
