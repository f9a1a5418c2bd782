"""The sample judge has teeth: a run that does not do what its sidecar says fails, with a
reason — wrong output, wrong jobs, wrong outcome. (SQLite is enough: this is about the
judge, the samples themselves run on both databases in test_samples_run.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from sysjobs.cli.demo_host import DemoHost, open_demo_host
from sysjobs.cli.sample_checks import SampleRun, load_runs
from sysjobs.cli.sample_runner import execute
from sysjobs.samples import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
RUNS = {r.id: r for r in load_runs(SAMPLES)}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHost]:
    with open_demo_host(f"sqlite:///{tmp_path_factory.mktemp('judge') / 'db.sqlite'}") as h:
        yield h


def _with(run_id: str, **expect: Any) -> SampleRun:
    run = RUNS[run_id]
    return replace(run, expect={**run.expect, **expect})


def test_the_unchanged_sidecar_passes(host: DemoHost) -> None:
    assert execute(RUNS["find_by_id[outside a job, with workers]"], host).ok


def test_a_log_line_that_does_not_match_fails(host: DemoHost) -> None:
    report = execute(_with("find_by_id[outside a job, with workers]", log=["^job: nope$"]), host)
    assert not report.ok and "does not match" in report.problems[0]


def test_a_missing_log_line_fails(host: DemoHost) -> None:
    run = _with("set_low_priority[outside a job, with workers]", log=["^a$", "^b$"])
    assert any("expected 2 log line(s)" in p for p in execute(run, host).problems)


def test_a_job_field_that_differs_fails(host: DemoHost) -> None:
    run = _with("set_low_priority[outside a job, with workers]",
                jobs_created=[{"type": "EXECUTE_ACTION", "low_priority": False}])
    assert any("low_priority" in p for p in execute(run, host).problems)


def test_an_unexpected_error_fails(host: DemoHost) -> None:
    run = replace(RUNS["find_by_id[outside a job, with workers]"], source="sys.jobs.findById('x')")
    problems = execute(run, host).problems
    assert any("badRequest" in p for p in problems)


def test_an_expected_error_that_does_not_happen_fails(host: DemoHost) -> None:
    run = _with("get_current_job_id[outside a job]", outcome="error")
    assert "expected an error, the script succeeded" in execute(run, host).problems


def test_per_job_lines_are_computed_from_the_store(host: DemoHost) -> None:
    run = _with("find[finished jobs with errors exist]",
                log_per_job={"find": {"status": "FINISHED", "hasErrors": "true", "_size": 10},
                             "min_jobs": 1, "lines": ["^job without errors: {job.label}$"]})
    assert not execute(run, host).ok
