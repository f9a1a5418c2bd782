"""The pytest plugin (entry point ``pytest11``): docs' samples as test items when asked for
with ``--sysjobs-samples`` or the ``sysjobs_samples`` ini key, and nothing otherwise.

Each case runs pytest in a separate folder with its own ini file, as a user's project would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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


def test_samples_of_a_page_become_items_and_a_failure_shows_expected_beside_printed(
    tmp_path: Path,
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(PAGE)
    result = _pytest(tmp_path, "--sysjobs-samples", "docs/guide.md", "-rA",
                     "--junitxml", "junit.xml")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "1 failed, 1 passed" in out
    assert "PASSED docs/guide.md::guide.md:4[as commented]" in out
    assert "FAILED docs/guide.md::guide.md:9[as commented]" in out
    assert f"sample guide.md:9[as commented] ({tmp_path / 'docs' / 'guide.md'}:9) " in out
    assert "  - log line 'three' does not match '^two$'" in out
    assert re.search(r"\n  ✓ '\^one\$' +\| 'one'\n  ✗ '\^two\$' +\| 'three'\n", out), out
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert [c.get("name") for c in cases] == ["guide.md:4[as commented]", "guide.md:9[as commented]"]


def test_the_ini_key_collects_samples_and_k_selects_among_them(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "hello.js").write_text("// expect-log: ^hi$\nlog('hi');\n")
    (tmp_path / "samples" / "bare.js").write_text("var x = 1;\n")
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    ini = "sysjobs_samples = samples"
    collected = _pytest(tmp_path, "--collect-only", "-q", ini=ini)
    assert collected.stdout.splitlines()[:3] == [
        "test_plain.py::test_plain",
        "samples::bare[runs without an uncaught error]",
        "samples::hello[as commented]",
    ]
    result = _pytest(tmp_path, "-k", "hello", "-q", ini=ini)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 deselected" in result.stdout


def test_without_the_option_or_ini_key_the_plugin_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "docs.md").write_text(PAGE)
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\ndef test_plain():\n    assert 'sysjobs.cli.demo_host' not in sys.modules\n"
    )
    result = _pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "sample" not in result.stdout


def test_an_invalid_sidecar_stops_collection_with_a_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "s.js").write_text("log(1);\n")
    (tmp_path / "s.expected.yaml").write_text("function: f\nruns: [{name: a, expcet: {}}]\n")
    result = _pytest(tmp_path, "--sysjobs-samples", ".", "-q")
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"sysjobs samples: {tmp_path / 's.expected.yaml'}: runs.0.expect" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_samples_run_against_the_app_given(tmp_path: Path) -> None:
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
    result = _pytest(tmp_path, "-q", ini="sysjobs_samples = book.js\nsysjobs_samples_app = library")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
