"""The pytest plugin (entry point ``pytest11``): docs' samples as test items when asked for
with ``--sysjobs-samples`` or the ``sysjobs_samples`` ini key, and nothing otherwise.

Each case runs pytest in a separate folder with its own ini file, as a user's project would:
in this process through ``pytester`` (a second interpreter costs about a second of CPU per
run), except the case that checks what the plugin leaves out of ``sys.modules``, which needs
an interpreter of its own.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]

#: What a samples run imports late. ``pytester`` forgets every module an in-process run
#: imported; a second import of these would define their tables again on the shared metadata.
LATE_IMPORTS = ("sysjobs.cli.demo_host", "sysjobs.cli.sample_checks", "sysjobs.cli.sample_runner",
                "sysjobs.cli.sample_sources", "sysjobs.errors", "sysjobs.store.core",
                "sysjobs.store.leases", "sysjobs.store.postgres.sql", "sysjobs.store.sqlite.leases")

PAGE = """# Guide

```js
// expect-log: ^hello$
log('hello');
```

```js
// expect-log: ^one$
// expect-log: ^two$
log('one');
log('three');
```
"""


def _pytest(cwd: Path, *args: str, ini: str = "") -> subprocess.CompletedProcess[str]:
    (cwd / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        # -p names the plugin as its entry point does, so this works installed or not.
        [sys.executable, "-m", "pytest", "-p", "sysjobs.pytest_plugin", "-p", "no:cacheprovider",
         "-p", "no:randomly", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd, env=env,
    )


@pytest.fixture(scope="module")
def late_imports() -> None:
    """Imported before ``pytester`` takes its first snapshot of ``sys.modules`` (a wider
    scope is set up first), so no run forgets them."""
    for name in LATE_IMPORTS:
        importlib.import_module(name)


@pytest.fixture
def inner(
    late_imports: None, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A folder for a user's project; ``_run`` runs pytest there in this process."""
    monkeypatch.setenv("COLUMNS", "200")
    return pytester


def _run(pytester: pytest.Pytester, *args: str, ini: str = "") -> pytest.RunResult:
    (pytester.path / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    return pytester.runpytest_inprocess(
        "-p", "sysjobs.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:randomly", *args
    )


def test_samples_of_a_page_become_items_and_a_failure_shows_expected_beside_printed(
    inner: pytest.Pytester,
) -> None:
    tmp_path = inner.path
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(PAGE)
    result = _run(inner, "--sysjobs-samples", "docs/guide.md", "-rA", "--junitxml", "junit.xml")
    out = result.stdout.str()
    assert result.ret == 1, out + result.stderr.str()
    assert "1 failed, 1 passed" in out
    assert "PASSED docs/guide.md::guide.md:4[as commented]" in out
    assert "FAILED docs/guide.md::guide.md:9[as commented]" in out
    assert f"sample guide.md:9[as commented] ({tmp_path / 'docs' / 'guide.md'}:9) " in out
    assert "  - log line 'three' does not match '^two$'" in out
    assert re.search(r"\n  ✓ '\^one\$' +\| 'one'\n  ✗ '\^two\$' +\| 'three'\n", out), out
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert [c.get("name") for c in cases] == ["guide.md:4[as commented]", "guide.md:9[as commented]"]


def test_the_ini_key_collects_samples_and_k_selects_among_them(inner: pytest.Pytester) -> None:
    tmp_path = inner.path
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "hello.js").write_text("// expect-log: ^hi$\nlog('hi');\n")
    (tmp_path / "samples" / "bare.js").write_text("var x = 1;\n")
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    ini = "sysjobs_samples = samples"
    collected = _run(inner, "--collect-only", "-q", ini=ini)
    assert collected.outlines[:3] == [
        "test_plain.py::test_plain",
        "samples::bare[runs without an uncaught error]",
        "samples::hello[as commented]",
    ]
    result = _run(inner, "-k", "hello", "-q", ini=ini)
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "1 passed, 2 deselected" in result.stdout.str()


def test_without_the_option_or_ini_key_the_plugin_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "docs.md").write_text(PAGE)
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\ndef test_plain():\n    assert 'sysjobs.cli.demo_host' not in sys.modules\n"
    )
    result = _pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "sample" not in result.stdout


def test_an_invalid_sidecar_stops_collection_with_a_line_naming_it(
    inner: pytest.Pytester,
) -> None:
    tmp_path = inner.path
    (tmp_path / "s.js").write_text("log(1);\n")
    (tmp_path / "s.expected.yaml").write_text("function: f\nruns: [{name: a, expcet: {}}]\n")
    result = _run(inner, "--sysjobs-samples", ".", "-q")
    out, err = result.stdout.str(), result.stderr.str()
    assert result.ret == 4, out + err
    assert f"sysjobs samples: {tmp_path / 's.expected.yaml'}: runs.0.expect" in err
    assert "Traceback" not in err + out


def test_the_samples_run_against_the_app_given(inner: pytest.Pytester) -> None:
    tmp_path = inner.path
    app = tmp_path / "library"
    app.mkdir()
    (app / "app.yaml").write_text(
        "name: library\nentities:\n  books:\n    labelField: title\n"
        "    fields:\n      title: {type: text, required: true}\n"
    )
    (tmp_path / "book.js").write_text(
        "// expect-log: ^Dune$\nvar b = sys.data.createRecord('books');\n"
        "b.field('title').val('Dune');\nlog(sys.data.save(b).label());\n"
    )
    result = _run(inner, "-q", ini="sysjobs_samples = book.js\nsysjobs_samples_app = library")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "1 passed" in result.stdout.str()
