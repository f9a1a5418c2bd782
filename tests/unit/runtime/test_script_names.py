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


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_name_asked_again_gets_the_same_answer_as_its_first_characters(name: str) -> None:
    # every run asks for its job's name: the answer is remembered by the name's first
    # MAX_SCRIPT_URL characters (all it depends on), so a huge name keeps nothing more
    first = script_url(name)
    assert script_url(name) == first
    assert script_url(name[:MAX_SCRIPT_URL]) == first


def test_names_past_the_cap_that_share_their_first_characters_are_named_alike() -> None:
    head = "\ud800 head*/" * 50
    assert script_url(head + "x" * 1_000_000) == script_url(head + "\n") == script_url(head)


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


# ---- e.stack read by the script itself ---------------------------------------------------

CAUGHT = "try { null.x } catch (e) { log(e.stack) }"


def _logged_frames(sandbox: Sandbox, source: str, name: str = "report.js") -> list[str]:
    result = sandbox.run(source, name=name)
    assert result.ok, result.error
    (line,) = result.logs
    return _frames(line)


def test_a_stack_the_script_reads_names_it_and_shows_no_bootstrap_frame(
    sandbox: Sandbox,
) -> None:
    result = sandbox.run(CAUGHT, name="report.js")
    assert result.logs == ["TypeError: Cannot read properties of null (reading 'x')\n"
                           "    at eval (report.js:1:12)"]  # fmt: skip


def test_a_read_stack_keeps_the_users_frames_and_native_calls(sandbox: Sandbox) -> None:
    source = "function f() {\n  null.x;\n}\ntry { [1].map(f) } catch (e) { log(e.stack) }"
    assert _logged_frames(sandbox, source, "job-label") == [
        "    at f (job-label:2:8)", "    at Array.map (<anonymous>)", "    at eval (job-label:4:11)",
    ]  # fmt: skip


def test_a_platform_errors_read_stack_shows_no_bootstrap_frame(sandbox: Sandbox) -> None:
    source = "try { sys.test.notFound() } catch (e) { log(e.stack) }"
    assert _logged_frames(sandbox, source, "finder.js") == ["    at eval (finder.js:1:16)"]


def test_new_error_and_capture_stack_trace_hide_the_bootstrap_too(sandbox: Sandbox) -> None:
    source = "var o = {}; Error.captureStackTrace(o); log(new Error('b').stack + '\\n' + o.stack)"
    frames = _logged_frames(sandbox, source, "c.js")
    assert frames == ["    at eval (c.js:1:45)", "    at eval (c.js:1:19)"]


def test_a_stack_read_after_deep_recursion_is_still_the_scripts(sandbox: Sandbox) -> None:
    source = "function r() { r() }\ntry { r() } catch (e) { log(e.name + ' ' + e.stack) }"
    frames = _logged_frames(sandbox, source, "deep.js")
    assert frames and all(f == "    at r (deep.js:1:16)" for f in frames[:-1]), frames[-2:]
    assert not any(BOOTSTRAP_URL in f for f in frames)


HOOK_TRICKS = {
    "hook replaced": "Error.prepareStackTrace = () => 'spoofed'",
    "hook deleted": "delete Error.prepareStackTrace",
    "hook put back, CallSite changed": (
        "var ours = Error.prepareStackTrace;"
        "Error.prepareStackTrace = function (e, sites) {"
        "  var p = Object.getPrototypeOf(sites[0]);"
        "  try { p.toString = function () { return 'spoofed' } } catch (_) {}"
        "  try { p.getScriptNameOrSourceURL = function () { return 'sysjobs:bootstrap' } } catch (_) {}"
        "  return 'x' };"
        "new Error('a').stack; Error.prepareStackTrace = ours"
    ),
    "header intrinsics replaced": "Error.prototype.toString = () => 'spoofed'",
    "stack limit": "Error.stackTraceLimit = 0",
}


@pytest.mark.parametrize("trick", HOOK_TRICKS.values(), ids=HOOK_TRICKS.keys())
def test_no_script_changes_what_the_next_runs_stacks_say(sandbox: Sandbox, trick: str) -> None:
    assert sandbox.run(trick + "; 1").ok
    result = sandbox.run(CAUGHT, name="next.js")
    assert result.logs == ["TypeError: Cannot read properties of null (reading 'x')\n"
                           "    at eval (next.js:1:12)"]  # fmt: skip


def test_the_hook_hands_out_no_host_path_nor_anything_but_text(sandbox: Sandbox) -> None:
    source = """
      var seen = [];
      Error.prepareStackTrace = function (e, sites) {
        sites.forEach(function (s) {
          seen.push([s.getFileName(), s.getScriptNameOrSourceURL(), typeof s.getFunction(),
                     typeof s.getThis()]);
        });
        return '';
      };
      try { sys.test.notFound() } catch (e) { e.stack }
      seen"""
    seen = sandbox.run(source, name="probe.js").value
    import sysjobs

    home = str(__import__("pathlib").Path(sysjobs.__file__).parent)
    assert seen and not any(home in str(part) for frame in seen for part in frame)
    assert all(frame[0] in (None, "<anonymous>") for frame in seen), seen


HOOK_CALLS = [
    "Error.prepareStackTrace(null, [])",
    "Error.prepareStackTrace({}, [{}])",
    "Error.prepareStackTrace({get name() { throw 1 }}, [])",
    "Error.prepareStackTrace(new Error('m'), {length: 1e9})",
]


@pytest.mark.parametrize("call", HOOK_CALLS, ids=range(len(HOOK_CALLS)))
def test_calling_the_hook_with_junk_is_a_plain_error_or_text(sandbox: Sandbox, call: str) -> None:
    result = sandbox.run(f"try {{ typeof {call} }} catch (e) {{ e instanceof TypeError }}")
    assert result.ok and result.value in ("string", True), result


BROKEN_HOOKS = {
    "returns the CallSites": "Error.prepareStackTrace = (e, sites) => sites",
    "returns a number": "Error.prepareStackTrace = () => 42",
    "throws": "Error.prepareStackTrace = () => { throw new Error('no') }",
    "recurses": "Error.prepareStackTrace = function h(e) { return new Error('again').stack }",
    "is a getter that throws": (
        "Object.defineProperty(Error, 'prepareStackTrace', { get() { throw 1 }, configurable: true })"
    ),
    "is not a function": "Error.prepareStackTrace = 'text'",
}


@pytest.mark.parametrize("hook", BROKEN_HOOKS.values(), ids=BROKEN_HOOKS.keys())
def test_the_hosts_report_of_an_uncaught_error_keeps_its_frames_when_the_script_broke_the_hook(
    sandbox: Sandbox, hook: str
) -> None:
    result = sandbox.run(hook + "\nfunction f() { null.x }\nf()", name="broken.js")
    assert result.error is not None and result.error.name == "TypeError"
    assert result.error.stack == ("TypeError: Cannot read properties of null (reading 'x')\n"
                                  "    at f (broken.js:2:21)\n"
                                  "    at eval (broken.js:3:1)")  # fmt: skip
    after = sandbox.run(CAUGHT, name="next.js")
    assert after.logs == ["TypeError: Cannot read properties of null (reading 'x')\n"
                          "    at eval (next.js:1:12)"]  # fmt: skip


def test_a_hook_wrapped_and_put_back_is_invisible_to_the_next_run_of_any_domain(
    sandbox: Sandbox,
) -> None:
    wrap = ("var ours = Error.prepareStackTrace, seen = [];"
            "Error.prepareStackTrace = function (e, s) { seen.push(e); return 'spoofed' };"
            "try { null.x } catch (e) { e.stack } Error.prepareStackTrace = ours; seen.length")  # fmt: skip
    for first, second in (("app-a", "app-a"), ("app-a", "app-b")):
        assert sandbox.run(wrap, domain=first).value == 1
        after = sandbox.run(CAUGHT + "; typeof seen", name="next.js", domain=second)
        assert after.value == "undefined"
        assert after.logs == ["TypeError: Cannot read properties of null (reading 'x')\n"
                              "    at eval (next.js:1:12)"]  # fmt: skip
