"""Every run of every spec sample, against the demo app with real workers, judged by its
sidecar — on SQLite and on PostgreSQL (``tests/conftest.py``).

The runs with workers of one database share one demo host, as under ``sysjobs demo`` (which
runs every sample against one database and one host): each run still runs its sample
verbatim in a fresh sandbox context, and judges only the jobs it created (the runner notes
the jobs that existed before it). Opening and closing a host per run (an engine, the app,
its workers and their shutdown) was most of each run's time. The runs without workers end
on the script's own deadline, with a quarter of a second to catch the timeout: each keeps a
new host and database of its own, as before, with nothing an earlier run left beside it —
and no worker at all (``workers: false``): its jobs stay PENDING, and nothing has to run
them before the host closes (a started, paused pool ran them then, 0.1 to 0.3 s of CPU and up
to a second or so per run). The paused pool is ``sysjobs demo``'s way, shown end to end by
``test_wheel.py``'s demo of every run.
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
WITH_WORKERS = [r for r in RUNS if r.workers]
WITHOUT_WORKERS = [r for r in RUNS if not r.workers]


@pytest.fixture(scope="module")
def shared_host(module_db_url: str) -> Iterator[DemoHost]:
    with open_demo_host(module_db_url, in_process=True) as opened:
        yield opened


@pytest.fixture
def own_host(db_url: str) -> Iterator[DemoHost]:
    """A host whose workers are never started; the database goes with the test."""
    opened = DemoHost(db_url, in_process=True)
    try:
        yield opened
    finally:
        opened.close()


def _judge(run: SampleRun, host: DemoHost) -> None:
    report = execute(run, host)
    assert report.ok, "\n".join([*report.problems, "output:", *report.logs])


@pytest.mark.parametrize("run", WITH_WORKERS, ids=[r.id for r in WITH_WORKERS])
def test_sample_does_what_the_spec_says(shared_host: DemoHost, run: SampleRun) -> None:
    _judge(run, shared_host)


@pytest.mark.parametrize("run", WITHOUT_WORKERS, ids=[r.id for r in WITHOUT_WORKERS])
def test_sample_without_workers_does_what_the_spec_says(own_host: DemoHost, run: SampleRun) -> None:
    _judge(run, own_host)


def test_every_run_of_every_sample_is_judged() -> None:
    assert sorted(r.id for r in WITH_WORKERS + WITHOUT_WORKERS) == sorted(r.id for r in RUNS)


def test_every_sample_has_at_least_one_run() -> None:
    assert {r.sample for r in RUNS} == {p.stem for p in SAMPLES.glob("*.js")}
