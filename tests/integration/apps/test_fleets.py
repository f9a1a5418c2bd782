"""Worker fleets serving apps, on both databases: a pool (or worker process) claims only
jobs of the apps it serves, runs each on its own app's engine, takes each job once, and
claims fairly across its apps — a small app enqueued after another's backlog of 1,000
jobs is served within the first few claims. Claim order is read from the audit trail
(the ``RUNNING`` events in commit order), never from the clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
import sqlalchemy as sa

from sysjobs.errors import BadRequest
from sysjobs.jobs import Engine, EngineSettings, JobContext, JobType
from sysjobs.runtime.launcher import Launcher
from sysjobs.store.schema import job_events, jobs
from sysjobs.worker import WorkerConfig, WorkerPool, WorkerProcesses
from sysjobs.worker.served import ServedApp
from tests.integration.engine.helpers import running_pool
from tests.integration.engine.jobtypes import Empty, register

DONE = ["FINISHED"]
#: No test here waits for a lease to expire: each job must run once. A 1 s lease lost a
#: job ("stopped renewing its lease") when the heartbeat thread was starved on a loaded
#: machine, and made every pool renew three times a second.
LEASE_S = 30.0


def _open(url: str, app: str) -> Engine:
    engine = Engine.open(url, settings=EngineSettings(lease_s=LEASE_S, app=app))
    register(engine)
    return engine


def _serving(engine: Engine, *keys: str) -> dict[str, ServedApp]:
    """The apps ``keys`` on ``engine``'s database, each with the test job types."""
    served = {}
    for key in keys:
        app_engine = engine if key == engine.app else engine.for_app(key)
        if app_engine is not engine:
            register(app_engine)
        served[key] = ServedApp(app_engine)
    return served


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with _open(db_url, "alpha") as opened:
        yield opened


def _claims(engine: Engine) -> list[tuple[str, str, str | None]]:
    """(job's app, job id, owner) of every claim, in the order they were written."""
    query = (
        sa.select(jobs.c.app, job_events.c.job_id, job_events.c.owner)
        .join(jobs, jobs.c.id == job_events.c.job_id)
        .where(job_events.c.to_status == "RUNNING")
        .order_by(job_events.c.id)
    )
    with engine.database.read() as conn:
        return [(str(a), str(j), o) for a, j, o in conn.execute(query)]


def test_a_small_app_after_a_backlog_of_1000_is_claimed_in_the_first_claims(
    engine: Engine,
) -> None:
    served = _serving(engine, "alpha", "beta")
    beta = served["beta"].engine
    engine.enqueue_many("NOOP", [{}] * 1000)
    small = [job.id for job in beta.enqueue_many("NOOP", [{}] * 10)]
    with running_pool(engine, concurrency=4, apps=served):
        beta.wait_all(small, DONE, 120)
    order = [app for app, _job, _owner in _claims(engine)]
    last_beta = max(i for i, app in enumerate(order) if app == "beta")
    # Oldest-first across apps would claim all 1,000 alpha jobs first; fair rounds give beta
    # an equal share of every claim (4 slots: 2 each; 1 slot: every other claim).
    assert last_beta < 40, order[: last_beta + 1]
    assert order.count("beta") == 10


def test_a_pool_never_claims_a_job_of_an_app_it_does_not_serve(engine: Engine) -> None:
    served = _serving(engine, "alpha")
    other = engine.for_app("gamma")
    register(other)
    stranger = other.enqueue("NOOP", {})
    mine = [job.id for job in engine.enqueue_many("NOOP", [{}] * 5)]
    with running_pool(engine, concurrency=2, apps=served):
        engine.wait_all(mine, DONE, 60)
    assert other.require(stranger.id).status == "PENDING"
    assert {job for _app, job, _owner in _claims(engine)} == set(mine)


def test_a_job_runs_with_its_own_apps_definition(engine: Engine) -> None:
    """Both apps define the type ``WHERE``, each with its own handler: each job runs its
    own app's."""
    seen: dict[str, str] = {}

    def handler_of(key: str) -> Callable[[JobContext, Empty], None]:
        def where(ctx: JobContext, _data: Empty) -> None:
            seen[ctx.job.id] = key

        return where

    served = _serving(engine, "alpha", "beta")
    for key, app in served.items():
        app.engine.register(JobType("WHERE", Empty, handler_of(key)))
    ids = {key: app.engine.enqueue("WHERE", {}).id for key, app in served.items()}
    with running_pool(engine, concurrency=2, apps=served):
        for key, job_id in ids.items():
            served[key].engine.wait(job_id, DONE, 60)
    assert seen == {ids["alpha"]: "alpha", ids["beta"]: "beta"}


def test_a_job_type_only_one_app_knows_is_claimed_for_that_app_only(engine: Engine) -> None:
    served = _serving(engine, "alpha", "beta")
    beta = served["beta"].engine
    beta.register(JobType("BETA_ONLY", Empty, lambda ctx, data: None))
    theirs = beta.enqueue("BETA_ONLY", {})
    with running_pool(engine, concurrency=2, apps=served):
        beta.wait(theirs.id, DONE, 60)
    assert [app for app, _job, _owner in _claims(engine)] == ["beta"]


def test_two_pools_serving_overlapping_apps_run_each_job_once_on_a_server_of_its_app(
    db_url: str,
) -> None:
    with ExitStack() as stack:
        first = stack.enter_context(_open(db_url, "alpha"))
        second = stack.enter_context(_open(db_url, "beta"))
        pools = {
            "p1": (first, _serving(first, "alpha", "beta")),
            "p2": (second, _serving(second, "beta", "gamma")),
        }
        enqueuer = _serving(first, "alpha", "beta", "gamma")
        ids = {key: [j.id for j in app.engine.enqueue_many("RECORD_RUN", [{}] * 30)]
               for key, app in enqueuer.items()}  # fmt: skip
        owners = {}
        for name, (engine, served) in pools.items():
            pool = stack.enter_context(running_pool(engine, concurrency=3, apps=served))
            owners[name] = pool.owner
        for key, app in enqueuer.items():
            app.engine.wait_all(ids[key], DONE, 120)
        claims = _claims(first)
        lines = {j: [line.message for line in app.engine.logs(j, {})]
                 for key, app in enqueuer.items() for j in ids[key]}  # fmt: skip
    serves = {owners["p1"]: {"alpha", "beta"}, owners["p2"]: {"beta", "gamma"}}
    assert sorted(job for _app, job, _owner in claims) == sorted(j for key in ids for j in ids[key])
    assert all(app in serves[str(owner)] for app, _job, owner in claims)
    assert {str(owner) for app, _job, owner in claims if app == "alpha"} == {owners["p1"]}
    assert {str(owner) for app, _job, owner in claims if app == "gamma"} == {owners["p2"]}
    assert set(map(tuple, lines.values())) == {(f"ran in {os.getpid()}",)}  # each ran once


def test_worker_processes_serve_the_apps_of_their_config(engine: Engine, launcher: Launcher) -> None:
    served = _serving(engine, "alpha", "beta", "gamma")
    ids = {key: [j.id for j in app.engine.enqueue_many("RECORD_RUN", [{}] * 5)]
           for key, app in served.items()}  # fmt: skip
    config = WorkerConfig(
        engine.url, concurrency=2, lease_s=LEASE_S,
        setup="tests.integration.engine.jobtypes:register",
        apps={"alpha": None, "beta": None}, engine_settings={"app": "alpha"},
    )  # fmt: skip
    with WorkerProcesses(config, processes=1, engine=engine, relay_stderr=False,
                         launcher=launcher):  # fmt: skip
        for key in ("alpha", "beta"):
            served[key].engine.wait_all(ids[key], DONE, 120)
    assert all(served["gamma"].engine.require(j).status == "PENDING" for j in ids["gamma"])
    ran_in = {line.message for key in ("alpha", "beta") for j in ids[key]
              for line in served[key].engine.logs(j, {})}  # fmt: skip
    assert len(ran_in) == 1 and ran_in != {f"ran in {os.getpid()}"}


def test_a_pool_refuses_an_app_whose_engine_serves_another(engine: Engine) -> None:
    with pytest.raises(BadRequest, match="parameter 'apps'"):
        WorkerPool(engine, apps={"beta": ServedApp(engine)})
    with pytest.raises(BadRequest, match="parameter 'app'"):
        engine.for_app("not a key")
    with _open(engine.url, "beta") as elsewhere, pytest.raises(BadRequest, match="database"):
        WorkerPool(engine, apps={"beta": ServedApp(elsewhere)})
