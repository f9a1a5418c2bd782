"""The JS objects scripts see have exactly the spec's functions and methods — read from the
spec's own headings, so neither side can grow or lose a name unnoticed."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.jobs import Engine
from sysjobs.runtime import Sandbox

from ..samples.spec_samples import SPEC

_HEADING = re.compile(r"^(\w+)\([\w, ]*\)$")
#: Beyond the spec: ``name()`` is an alias of ``label()`` that three samples call; the job
#: tree's methods of issue 20 (documented in ``docs/jobs-api.md``).
EXTRA_JOB_METHODS = {
    "name", "parentJob", "rootJob", "childrenJobsCount", "childrenJobsProcessed",
}
#: Beyond the spec: the newer jobs API of issue 20 (documented in ``docs/jobs-api.md``).
EXTRA_FUNCTIONS = {"waitForJobs", "executeInJob"}
_OBJECT = {"constructor", "toString", "toJSON"}


def _spec_sections() -> dict[str, set[str]]:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside the clone ({SPEC})")
    sections: dict[str, set[str]] = {"sys.jobs": set()}
    current = "sys.jobs"
    for line in SPEC.read_text("utf-8").split("\n"):
        line = line.strip()
        if line in ("sys.jobs.Job", "sys.jobs.JobLog"):
            current = line
            sections[current] = set()
        elif _HEADING.match(line):
            sections[current].add(line.split("(", 1)[0])
    return sections


def _js() -> dict[str, Any]:
    src = """
    var own = function (o) { return Object.getOwnPropertyNames(o).sort(); };
    ({ns: Object.keys(sys.jobs).sort(), job: own(sys.jobs.Job.prototype),
      log: own(sys.jobs.JobLog.prototype)})
    """
    with Sandbox([*core_namespaces(), jobs_namespace(cast(Engine, None))], pool_size=0) as sb:
        result = sb.run(src)
    assert result.ok, result.error
    return cast(dict[str, Any], result.value)


def test_sys_jobs_has_exactly_the_spec_functions_the_newer_ones_and_its_two_classes() -> None:
    expected = _spec_sections()["sys.jobs"] | EXTRA_FUNCTIONS | {"Job", "JobLog"}
    assert set(_js()["ns"]) == expected


def test_sys_jobs_job_has_exactly_the_spec_methods_plus_name() -> None:
    assert set(_js()["job"]) - _OBJECT == _spec_sections()["sys.jobs.Job"] | EXTRA_JOB_METHODS


def test_sys_jobs_job_log_has_exactly_the_spec_methods() -> None:
    assert set(_js()["log"]) - _OBJECT == _spec_sections()["sys.jobs.JobLog"]
