"""A script's stack names the script (``NAME:line:column`` in the user's code) and shows
none of the bootstrap's frames; a hostile name cannot change the code or escape its
sanitised form."""

from __future__ import annotations

import pytest

from sysjobs.jobs import Job
from sysjobs.runtime import Sandbox
from sysjobs.runtime.isolate import BOOTSTRAP_URL, MAX_SCRIPT_URL, script_url
from sysjobs.worker.scripts import SandboxScriptRunner, script_name

THROWS_AT_3_5 = "const a = 1;\nconst b = 2;\n    null.x;\n"
HOSTILE_NAMES = [
    "evil\nglobalThis.pwned = 1;",
    "x\n//# sourceURL=spoofed.js",
    "x\r\nglobalThis.pwned = 1",
    "x\u2028globalThis.pwned = 1",
    "x */ globalThis.pwned = 1; /*",
    "it's \"quoted\"",
    "\ud800lone\udfff",
    "n" * 10_000,
    "sysjobs:bootstrap",
    "",
]


def _frames(stack: str) -> list[str]:
    return [line for line in stack.split("\n") if line.startswith("    at ")]


def test_a_script_that_throws_names_itself_at_its_line_and_column(sandbox: Sandbox) -> None:
    result = sandbox.run(THROWS_AT_3_5, name="report.js")
    assert result.error is not None and result.error.stack is not None
    assert _frames(result.error.stack) == ["    at eval (report.js:3:10)"]


def test_the_throw_position_is_the_users_line_and_column(sandbox: Sandbox) -> None:
    result = sandbox.run("let x = 0;\nx++;\n    throw new Error('boom');\n", name="t.js")
    assert result.error is not None and result.error.stack is not None
    assert "t.js:3:11" in result.error.stack


def test_a_frame_at_line_3_column_5_reads_name_3_5(sandbox: Sandbox) -> None:
    source = "function f() {\n  return null.x;\n}\n    f();\n"
    result = sandbox.run(source, name="job-label")
    assert result.error is not None and result.error.stack is not None
    assert _frames(result.error.stack) == ["    at f (job-label:2:15)", "    at eval (job-label:4:5)"]


def test_no_bootstrap_frame_appears_in_a_platform_errors_stack(sandbox: Sandbox) -> None:
    source = "function find() {\n  sys.test.notFound();\n}\n[1].map(find);\n"
    result = sandbox.run(source, name="finder.js")
    assert result.error is not None and result.error.stack is not None
    assert result.error.code == "notFound"
    frames = _frames(result.error.stack)
    assert not any(BOOTSTRAP_URL in f or "<anonymous>:" in f for f in frames)
    assert "    at find (finder.js:2:12)" in frames
    assert frames[-1] == "    at eval (finder.js:4:5)"
    assert "    at Array.map (<anonymous>)" in frames  # native frames of the user's calls stay


def test_an_unnamed_script_is_called_script(sandbox: Sandbox) -> None:
    result = sandbox.run("null.x")
    assert result.error is not None and result.error.stack is not None
    assert _frames(result.error.stack) == ["    at eval (script:1:6)"]


def test_the_name_overrides_a_source_url_the_script_declares(sandbox: Sandbox) -> None:
    result = sandbox.run("null.x\n//# sourceURL=spoofed.js", name="real.js")
    assert result.error is not None and result.error.stack is not None
    assert _frames(result.error.stack) == ["    at eval (real.js:1:6)"]


def test_a_script_ending_in_a_comment_still_runs_and_keeps_its_value(sandbox: Sandbox) -> None:
    result = sandbox.run("40 + 2 // the answer", name="a.js")
    assert (result.ok, result.value) == (True, 42)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_hostile_name_changes_neither_the_code_nor_its_sanitised_name(
    sandbox: Sandbox, name: str
) -> None:
    result = sandbox.run("typeof globalThis.pwned + ':' + (1 + 1)", name=name)
    assert (result.ok, result.value) == (True, "undefined:2")
    thrown = sandbox.run("null.x", name=name)
    assert thrown.error is not None and thrown.error.stack is not None
    assert _frames(thrown.error.stack) == [f"    at eval ({script_url(name)}:1:6)"]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_sanitised_name_is_one_short_token(name: str) -> None:
    url = script_url(name)
    assert 0 < len(url) <= MAX_SCRIPT_URL
    assert "*/" not in url and BOOTSTRAP_URL not in url
    assert all(c.isprintable() and not c.isspace() and c not in "'\"" for c in url)


def test_a_plain_name_is_kept_as_it_is() -> None:
    assert script_url("reports/daily-export.js") == "reports/daily-export.js"
    assert script_url("a b") == "a_b"
    assert script_url(None) == "script"


def _job(type_: str, label: str | None, data: dict[str, object]) -> Job:
    return Job.model_construct(type=type_, label=label, data=data)


def test_a_job_script_is_named_by_its_action_listener_or_label() -> None:
    assert script_name(_job("EXECUTE_ACTION", "Run", {"actionName": "archive"})) == "archive"
    assert script_name(_job("EXECUTE_LISTENER", None, {"listenerName": "onSave"})) == "onSave"
    assert script_name(_job("RUN_SCRIPT", "nightly.js", {})) == "nightly.js"
    assert script_name(_job("RUN_SCRIPT", None, {})) == "RUN_SCRIPT"


def test_a_job_runners_scripts_carry_its_name_in_runs_and_sessions(sandbox: Sandbox) -> None:
    runner = SandboxScriptRunner(sandbox).for_job(lambda level, line: None, name="archive")
    job = "0123456789abcdef01234567"
    alone = runner.run_result("null.x", job_id=job, globals={}, timeout_s=5)
    with runner.session(job):
        shared = runner.run_result("\nnull.x", job_id=job, globals={}, timeout_s=5)
    assert alone.error is not None and shared.error is not None
    assert _frames(alone.error.stack or "") == ["    at eval (archive:1:6)"]
    assert _frames(shared.error.stack or "") == ["    at eval (archive:2:6)"]
