"""``sysjobs samples run PATH…``: one's own docs' samples, run against an app and judged,
with JUnit XML and JSON reports and an exit status that says whether all passed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sysjobs.samples import SAMPLES_DIR
from tests.acceptance.inprocess import Ran, sysjobs_in_process

ROOT = Path(__file__).resolve().parents[2]

GUIDE = """# A guide

Say hello:

```js
// expect-log: ^Hello, Ada!$
log('Hello, ' + 'Ada!');
```

Anything that does not throw passes:

```javascript
var n = sys.jobs.find({_size: 1}).count();
```

A job that does not exist cannot be flagged:

```js
// expect-error: notFound
sys.jobs.setLowPriority('000000000000000000000000');
```

This one is wrong on purpose:

```js
// expect-log: ^Goodbye$
log('Hello');
```
"""


def _samples(cwd: Path, *args: str) -> Ran:
    """``sysjobs samples run ARGS`` in-process (tests/acceptance/inprocess.py)."""
    return sysjobs_in_process("samples", "run", *args, cwd=cwd)


def _samples_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sysjobs samples run ARGS`` as the separate process a user starts."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", "samples", "run", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd, env=env,
    )


def _json(result: Ran | subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_a_markdown_page_is_judged_by_its_comments_with_junit_and_json_reports(
    tmp_path: Path,
) -> None:
    (tmp_path / "guide.md").write_text(GUIDE)
    result = _samples(tmp_path, "guide.md", "--json", "--junit", "reports/junit.xml")
    assert result.returncode == 1, result.stderr
    report = _json(result)
    assert (report["passed"], report["failed"]) == (3, 1)
    by_line = {r["sample"]: r for r in report["runs"]}
    assert list(by_line) == ["guide.md:6", "guide.md:13", "guide.md:19", "guide.md:26"]
    assert by_line["guide.md:6"]["ok"] and by_line["guide.md:6"]["logs"] == ["Hello, Ada!"]
    assert by_line["guide.md:13"]["run"] == "runs without an uncaught error"
    assert by_line["guide.md:19"]["ok"] and "notFound" in by_line["guide.md:19"]["error"]
    wrong = by_line["guide.md:26"]
    assert not wrong["ok"] and wrong["origin"] == "guide.md:26"
    assert wrong["problems"] == ["log line 'Hello' does not match '^Goodbye$'"]

    suite = ET.parse(tmp_path / "reports" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("4", "1")
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == [
        "guide.md:6", "guide.md:13", "guide.md:19", "guide.md:26"
    ]
    failure = cases[3].find("failure")
    assert failure is not None and "does not match '^Goodbye$'" in (failure.text or "")
    assert cases[0].findtext("system-out") == "Hello, Ada!"


def test_a_folder_of_samples_mixes_sidecars_comments_and_bare_samples_as_text(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SAMPLES_DIR / "find_by_id.js", docs)
    shutil.copy(SAMPLES_DIR / "find_by_id.expected.yaml", docs)
    (docs / "bare.js").write_text("log('fine');\n")
    (docs / "throws.js").write_text("throw new RangeError('out of range');\n")
    result = _samples(tmp_path, "docs")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "PASS bare[runs without an uncaught error]" in out
    assert "PASS find_by_id[outside a job, with workers]" in out
    assert "FAIL throws[runs without an uncaught error]" in out
    assert "expected success, got RangeError: out of range" in out
    assert "2 passed, 1 failed" in out
    assert "app: demo" in out


def test_every_sample_passing_exits_zero_and_only_selects(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text(GUIDE)
    result = _samples(tmp_path, "guide.md", "--only", "guide.md:6", "--json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["passed"] == 1


def test_samples_run_against_the_app_and_database_given(tmp_path: Path) -> None:
    """The app reaches the workers too: its action runs in a job and answers."""
    app = tmp_path / "library"
    (app / "actions").mkdir(parents=True)
    (app / "app.yaml").write_text(
        "name: library\nentities:\n  books:\n    labelField: title\n"
        "    fields:\n      title: {type: text, required: true}\n"
        "    actions:\n      shout: {script: actions/shout.js, returnsResponse: true}\n"
    )
    (app / "actions" / "shout.js").write_text("return 'SHOUT ' + record.label();\n")
    (tmp_path / "s.js").write_text(
        "// expect-log: ^Dune$\n// expect-log: ^SHOUT Dune$\n"
        "var book = sys.data.createRecord('books');\n"
        "book.field('title').val('Dune');\n"
        "log(sys.data.save(book).label());\n"
        "var id = sys.data.executeAction('books', {}, 'shout', {});\n"
        "sys.jobs.waitForJob(id, 'FINISHED', 60000);\n"
        "var results = sys.jobs.findById(id).results().results;\n"
        "log(results[Object.keys(results)[0]].response);\n"
    )
    db = tmp_path / "kept.db"
    result = _samples(tmp_path, "s.js", "--app", str(app), "--db", f"sqlite:///{db}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"app: {app}" in result.stdout and db.exists()
    on_demo = _samples(tmp_path, "s.js")
    assert on_demo.returncode == 1 and "books" in on_demo.stdout


@pytest.mark.parametrize(
    ("files", "args", "says"),
    [
        ({"s.js": "log(1);\n", "s.expected.yaml": "function: f\nruns:\n  - name: a\n    expcet: {}\n"},
         ["."], "s.expected.yaml: runs.0.expect: Field required; "
               "runs.0.expcet: Extra inputs are not permitted"),
        ({"s.js": "log(1);\n", "t.expected.yaml": "function: f\nruns: [{name: a, expect: {}}]\n"},
         ["."], "t.expected.yaml: a sidecar without its sample"),
        ({}, ["nowhere"], "nowhere: no such file or folder"),
        ({"p.md": "```js\n// expect-logg: x\n```\n"}, ["p.md"], "p.md:2: unknown expectation"),
        ({"p.md": "```js\nlog(1);\n```\n"}, ["p.md", "--only", "zzz"], "no samples to run"),
    ],
)
def test_unreadable_samples_are_one_clear_line_naming_the_file_and_exit_2(
    tmp_path: Path, files: dict[str, str], args: list[str], says: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = _samples(tmp_path, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("badRequest: ") and says in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_missing_app_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "s.js").write_text("log(1);\n")
    result = _samples(tmp_path, "s.js", "--app", str(tmp_path / "noapp"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "noapp" in result.stderr


def test_hostile_output_still_makes_valid_junit_and_json(tmp_path: Path) -> None:
    (tmp_path / "h.js").write_text(
        "log('nul \\u0000 bell \\u0007 lone \\ud800 esc \\u001b[31m red');\n"
        "log('x'.repeat(1000000));\n"
        "throw new Error('</failure><![CDATA[ \\u0000');\n"
    )
    result = _samples(tmp_path, "h.js", "--json", "--junit", "j.xml")
    assert result.returncode == 1
    (run,) = _json(result)["runs"]
    assert run["logs"][0] == "nul \x00 bell \x07 lone \ud800 esc \x1b[31m red"
    assert run["logs"][1].endswith("more bytes cut]")  # the host caps one log line
    case = ET.parse(tmp_path / "j.xml").getroot().find("testsuite/testcase")
    assert case is not None
    out = case.findtext("system-out") or ""
    assert "nul \\x00 bell \\x07" in out and "</failure><![CDATA[ \\x00" in out
    failure = case.find("failure")
    assert failure is not None and "</failure>" in (failure.get("message") or "")


def test_the_samples_readme_passes_its_own_runner(tmp_path: Path) -> None:
    """The page that documents the comment syntax is itself checked with it (end to end)."""
    result = _samples_process(tmp_path, str(SAMPLES_DIR / "README.md"), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = _json(result)
    assert report["failed"] == 0 and report["passed"] >= 1
    assert all(r["run"] == "as commented" for r in report["runs"])


def test_a_run_the_engine_refuses_to_judge_fails_alone_and_the_others_still_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "a_bad.js").write_text("log(1);\n")
    (tmp_path / "a_bad.expected.yaml").write_text(
        "function: f\nruns:\n  - name: bad query\n    expect:\n"
        "      log_per_job: {find: {status: DONE}, lines: ['x']}\n"
    )
    (tmp_path / "b_fine.js").write_text("log(2);\n")
    result = _samples(tmp_path, ".", "--json")
    assert result.returncode == 1, result.stderr
    bad, fine = _json(result)["runs"]
    assert fine["ok"] and not bad["ok"]
    (problem,) = bad["problems"]
    assert problem.startswith("the run could not be judged: badRequest: ") and "DONE" in problem
