"""Every run of every spec sample, against the demo app with real workers, judged by its
sidecar — on SQLite and on PostgreSQL (``module_db_url`` from ``tests/conftest.py``).

The runs of one database share one demo host, as under ``sysjobs demo`` (which runs every
sample against one database and one host): each run still runs its sample verbatim in a
fresh sandbox context, and judges only the jobs it created (the runner notes the jobs that
existed before it). Opening and closing a host per run (an engine, the app, its workers and
their shutdown) was most of each run's time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.cli.demo_host import DemoHost, open_demo_host
from sysjobs.cli.sample_checks import SampleRun, load_runs
from sysjobs.cli.sample_runner import execute
from sysjobs.samples import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
RUNS = load_runs(SAMPLES)


@pytest.fixture(scope="module")
def host(module_db_url: str) -> Iterator[DemoHost]:
    with open_demo_host(module_db_url, in_process=True) as opened:
        yield opened


@pytest.mark.parametrize("run", RUNS, ids=[r.id for r in RUNS])
def test_sample_does_what_the_spec_says(host: DemoHost, run: SampleRun) -> None:
    report = execute(run, host)
    assert report.ok, "\n".join([*report.problems, "output:", *report.logs])


def test_every_sample_has_at_least_one_run() -> None:
    assert {r.sample for r in RUNS} == {p.stem for p in SAMPLES.glob("*.js")}
