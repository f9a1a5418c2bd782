"""Where samples come from and what they must do: pages, folders, sidecars, comments.

Reading is checked without running anything: every unreadable input is a ``badRequest``
that names the file (and the line or sidecar key), never a Python exception's text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sysjobs.cli.sample_pages import fenced_samples, page_samples, plain_samples
from sysjobs.cli.sample_sources import (
    COMMENTED,
    UNCAUGHT_ONLY,
    SampleSourceError,
    discover,
)
from sysjobs.errors import BadRequest
from sysjobs.samples import SAMPLES_DIR

PAGE = """# Guide

```js
// expect-log: ^hi$
log('hi');
```

```python
print('not a sample')
```

~~~~javascript title="second"
log('no fence ``` inside closes me');
~~~~

  ```js
  log('indented');
  ```
"""


def _error(paths: list[Path]) -> str:
    with pytest.raises(SampleSourceError) as caught:
        discover(paths)
    assert isinstance(caught.value, BadRequest) and caught.value.code == "badRequest"
    return caught.value.message


def test_markdown_fences_of_js_and_javascript_are_samples_other_languages_are_not() -> None:
    found = fenced_samples(PAGE)
    assert [s.text for s in found] == [
        "// expect-log: ^hi$\nlog('hi');\n",
        "log('no fence ``` inside closes me');\n",
        "log('indented');\n",
    ]
    assert [s.line for s in found] == [4, 13, 17]


def test_an_unclosed_fence_runs_to_the_end_of_the_page() -> None:
    (sample,) = fenced_samples("```js\nlog(1);\n")
    assert sample.text == "log(1);\n\n"


def test_a_plain_text_page_is_read_in_the_contracts_layout() -> None:
    text = (
        "findById(id)\n\nFinds a job.\n\nSamples\n\n// first\nlog(1);\n\n// second\nlog(2);\n\n"
        "Returns a job.\n\nfind(query)\n\nA query looks like this:\n\nvar q = {};\nq.a = 1;\n\nProse.\n"
    )
    found = plain_samples(text)
    assert [(s.function, s.index, s.line, s.text) for s in found] == [
        ("findById", 0, 7, "// first\nlog(1);\n"),
        ("findById", 1, 10, "// second\nlog(2);\n"),
        ("find", -1, 19, "var q = {};\nq.a = 1;\n"),
    ]
    assert page_samples(text, markdown=False) == found
    assert page_samples(text, markdown=True) == []


def test_a_sample_without_sidecar_or_comments_must_only_run_without_uncaught_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "plain.js").write_text("log('x');\n")
    (run,) = discover([tmp_path])
    assert (run.sample, run.name, dict(run.expect)) == ("plain", UNCAUGHT_ONLY, {})
    assert run.origin == str(tmp_path / "plain.js")


def test_expectation_comments_become_the_runs_expectations(tmp_path: Path) -> None:
    (tmp_path / "c.js").write_text(
        "// expect-log: ^a$\n// expect-log: ^b \\d+$\n// run: in-job, no-workers, timeout=5s\n"
        "log('a'); log('b 1');\n"
    )
    (tmp_path / "e.js").write_text(
        "// expect-error: notFound\n//expect-error-message:  no job\nthrow 1;\n"
    )
    (tmp_path / "n.js").write_text("// expect-error: TypeError\nnull.x;\n")
    c, e, n = discover([tmp_path])
    assert c.name == COMMENTED and dict(c.expect) == {"log": ["^a$", "^b \\d+$"]}
    assert (c.in_job, c.workers, c.timeout_s) == (True, False, 5.0)
    assert dict(e.expect) == {"outcome": "error", "error_code": "notFound",
                              "error_message": "no job"}
    assert dict(n.expect) == {"outcome": "error", "error_name": "TypeError"}


def test_a_page_sample_is_named_after_the_page_and_line(tmp_path: Path) -> None:
    page = tmp_path / "guide.md"
    page.write_text(PAGE)
    runs = discover([page])
    assert [r.sample for r in runs] == ["guide.md:4", "guide.md:13", "guide.md:17"]
    assert runs[0].origin == f"{page}:4" and dict(runs[0].expect) == {"log": ["^hi$"]}


@pytest.mark.parametrize(
    ("comment", "says"),
    [
        ("// expect-lgo: ^a$", "unknown expectation '// expect-lgo:'"),
        ("// expect: fine", "invalid value 'fine' for 'expect'. Allowed values: ok, error"),
        ("// expect-error: not found!", "invalid value 'not found!' for 'expect-error'"),
        ("// expect-log: ([", "is not a valid regex"),
        ("// expect-log:", "needs a value"),
        ("// run: in_job", "invalid value 'in_job' for 'run'"),
        ("// run: timeout=NaN", "invalid value 'NaN' for 'timeout'"),
        ("// run: timeout=inf", "invalid value 'inf' for 'timeout'"),
        ("// run: timeout=-1", "invalid value '-1' for 'timeout'"),
        ("// run: timeout=1e309", "invalid value '1e309' for 'timeout'"),
    ],
)
def test_a_bad_expectation_comment_names_the_file_and_line(
    tmp_path: Path, comment: str, says: str
) -> None:
    (tmp_path / "bad.js").write_text(f"log(1);\n{comment}\n")
    message = _error([tmp_path])
    assert message.startswith(f"{tmp_path / 'bad.js'}:2: ") and says in message


def test_expecting_ok_and_an_error_at_once_is_refused(tmp_path: Path) -> None:
    (tmp_path / "both.js").write_text("// expect: ok\n// expect-error: notFound\n")
    assert "says both 'expect: ok' and what error to expect" in _error([tmp_path])


def test_a_comment_in_a_page_names_the_line_of_the_page(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("text\n\n```js\nlog(1);\n// expect-nope: x\n```\n")
    assert _error([page]).startswith(f"{page}:5: unknown expectation")


@pytest.mark.parametrize(
    ("sidecar", "says"),
    [
        ("function: f\nruns:\n  - name: a\n    expcet: {log: []}\n",
         "runs.0.expcet: Extra inputs are not permitted"),
        ("function: f\nruns:\n  - name: a\n    expect: {outcome: fine}\n", "runs.0.expect.outcome"),
        ("function: f\nruns: []\n", "runs: List should have at least 1 item"),
        ("function: f\nruns: [\n", "not valid YAML (line "),
        ("- just\n- a list\n", "the document"),
        ("", "the document"),
    ],
)
def test_an_invalid_sidecar_is_an_error_naming_it_and_the_bad_key(
    tmp_path: Path, sidecar: str, says: str
) -> None:
    (tmp_path / "s.js").write_text("log('x');\n")
    (tmp_path / "s.expected.yaml").write_text(sidecar)
    message = _error([tmp_path])
    assert message.startswith(f"{tmp_path / 's.expected.yaml'}: ") and says in message
    assert "Traceback" not in message and "pydantic" not in message


def test_a_sidecar_without_its_sample_is_an_error_naming_both(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("log(1);\n")
    (tmp_path / "gone.expected.yaml").write_text("function: f\nruns: [{name: a, expect: {}}]\n")
    message = _error([tmp_path])
    assert str(tmp_path / "gone.expected.yaml") in message and "gone.js" in message
    assert "gone.js" in _error([tmp_path / "gone.expected.yaml"])


def test_a_sidecar_and_expectation_comments_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "s.js").write_text("// expect: ok\nlog('x');\n")
    (tmp_path / "s.expected.yaml").write_text("function: f\nruns: [{name: a, expect: {}}]\n")
    assert "has both a sidecar (s.expected.yaml) and expectation comments" in _error([tmp_path])


def test_paths_that_hold_no_samples_are_errors(tmp_path: Path) -> None:
    assert "no such file or folder" in _error([tmp_path / "missing"])
    assert "no .js samples in this folder" in _error([tmp_path])
    (tmp_path / "prose.md").write_text("# Nothing to run\n\n```sh\nls\n```\n")
    assert "no samples in this page" in _error([tmp_path / "prose.md"])


def test_a_page_that_is_not_utf8_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "latin.md").write_bytes(b"```js\nlog('caf\xe9');\n```\n")
    assert _error([tmp_path / "latin.md"]).startswith(f"{tmp_path / 'latin.md'}: not UTF-8")


def test_hostile_pages_are_read_without_trouble(tmp_path: Path) -> None:
    big = "x" * 1_000_000
    page = tmp_path / "big.md"
    page.write_text(f"```js\n// expect-log: ^{big}$\nlog('\ud800'.length);\n```\n" + "`" * 100_000,
                    encoding="utf-8", errors="surrogatepass")
    with pytest.raises(SampleSourceError, match="not UTF-8"):
        discover([page])
    page.write_text(f"```js\n// expect-log: ^{big}$\nlog('{big}');\n```\n" + "```\n" * 50_000)
    (run, *_) = discover([page])
    assert run.expect["log"] == [f"^{big}$"]


def test_the_packaged_samples_all_come_with_their_sidecars() -> None:
    runs = discover([SAMPLES_DIR])
    assert {r.sample for r in runs} == {p.stem for p in SAMPLES_DIR.glob("*.js")}
    assert all(r.name not in (COMMENTED, UNCAUGHT_ONLY) for r in runs)


def test_a_text_page_in_the_contracts_layout_gives_runs_named_by_line(tmp_path: Path) -> None:
    page = tmp_path / "api.txt"
    page.write_text("logInfo(jobId, message)\n\nSamples\n\n// expect-log: ^a$\nlog('a');\n")
    (run,) = discover([page])
    assert (run.sample, run.name, run.origin) == ("api.txt:5", COMMENTED, f"{page}:5")
    assert dict(run.expect) == {"log": ["^a$"]}


def test_pages_with_crlf_line_ends_and_a_byte_order_mark_read_like_any_other(
    tmp_path: Path,
) -> None:
    page = tmp_path / "windows.md"
    page.write_bytes(b"\xef\xbb\xbf```js\r\n// expect-log: ^hi$\r\nlog('hi');\r\n```\r\n")
    (run,) = discover([page])
    assert run.sample == "windows.md:2" and dict(run.expect) == {"log": ["^hi$"]}
