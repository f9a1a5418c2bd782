"""An app script's stack names its file with the author's line numbers: the wrapper that
makes a script a function body once added two lines, so ``actions/x.js:5`` meant line 3."""

from __future__ import annotations

from pathlib import Path

from sysjobs.app.scripts import wrap
from sysjobs.host import Host

ENTITY_ACTION = "var a = 1;\nvar b = 2;\ntry { record.nothing.here(); } catch (e) { log(e.stack); }\n"
GLOBAL_ACTION = "// line 1\n\n  try { null.f(); } catch (e) { log(e.stack); }\nreturn 'done';"


def _app(folder: Path) -> Path:
    (folder / "actions").mkdir(parents=True)
    (folder / "actions" / "x.js").write_text(ENTITY_ACTION)
    (folder / "actions" / "g.js").write_text(GLOBAL_ACTION)
    (folder / "app.yaml").write_text(
        "name: stacks\n"
        "entities:\n"
        "  things:\n"
        "    labelField: name\n"
        "    fields:\n"
        "      name: {type: text, required: true}\n"
        "    actions:\n"
        "      x: {kind: oneRecord, label: x, script: actions/x.js}\n"
        "actions:\n"
        "  g: {kind: global, label: g, script: actions/g.js, returnsResponse: true}\n"
        "seed:\n"
        "  things:\n"
        "    - {name: one}\n"
    )
    return folder


def _stack_of(host: Host, job_id: str) -> str:
    with host.workers(1, in_process=True):
        host.engine.wait(job_id, "FINISHED", 60)
    (entry,) = host.engine.logs(job_id, {})
    return entry.message


def test_an_entity_actions_stack_points_at_the_line_in_its_file(
    db_url: str, tmp_path: Path
) -> None:
    with Host(db_url, _app(tmp_path / "app")) as host:
        job_id = host.app.execute_action("things", {}, "x", {})
        stack = _stack_of(host, job_id)
    assert stack.splitlines()[1].strip() == "at eval (actions/x.js:3:22)"


def test_a_global_actions_stack_points_at_the_line_in_its_file(
    db_url: str, tmp_path: Path
) -> None:
    with Host(db_url, _app(tmp_path / "app")) as host:
        job_id = host.app.execute_action(None, {}, "g", {})
        stack = _stack_of(host, job_id)
    assert stack.splitlines()[1].strip() == "at eval (actions/g.js:3:14)"


def test_the_wrapper_keeps_the_first_line_and_adds_one_after() -> None:
    wrapped = wrap("a\nb // a comment at the end")
    lines = wrapped.splitlines()
    assert lines[0].endswith(" a") and lines[1] == "b // a comment at the end"
    assert len(lines) == 3  # the body's lines, then one line for the call


def _frames(stack: str) -> list[str]:
    return [line.strip() for line in stack.splitlines() if line.startswith("    at ")]


def test_an_actions_stack_read_in_its_script_shows_its_file_only(
    db_url: str, tmp_path: Path
) -> None:
    with Host(db_url, _app(tmp_path / "app")) as host:
        entity = _stack_of(host, host.app.execute_action("things", {}, "x", {}))
        global_ = _stack_of(host, host.app.execute_action(None, {}, "g", {}))
    for stack, file in ((entity, "actions/x.js"), (global_, "actions/g.js")):
        frames = _frames(stack)
        assert frames and all(f"({file}:" in frame for frame in frames), stack
        assert "sysjobs:bootstrap" not in stack and "<anonymous>" not in stack


def test_a_script_jobs_stack_read_in_the_script_is_named_by_its_label(
    db_url: str, tmp_path: Path
) -> None:
    with Host(db_url, _app(tmp_path / "app")) as host:
        job = host.start_script_job("try { null.x } catch (e) { log(e.stack) }",
                                    label="nightly.js")  # fmt: skip
        stack = _stack_of(host, job.id)
    assert stack == "TypeError: Cannot read properties of null (reading 'x')\n    at eval (nightly.js:1:12)"
