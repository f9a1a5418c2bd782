"""An app's own queues (manifest ``queues:``) and cap (``jobs: maxConcurrency``), on both
databases: scripts, actions and listeners name them, and workers hold their limits.

The limits are counted by the claim across every pool on the database: two pools of four
slots each, on engines of their own, run a queue of maximum 2 two jobs at a time — the jobs
hold until the test has seen the limit reached and a further claim refused, then all run
to their end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sysjobs.errors import BadRequest
from sysjobs.host import Host
from sysjobs.jobs import Engine, EngineSettings, JobContext, JobType
from sysjobs.jobs.queues import QueueDef
from sysjobs.worker import WorkerPool
from sysjobs.worker.processes import WorkerConfig
from sysjobs.worker.served import ServedApp
from tests.integration.app.harness import KeptInMemory, write_as_opened
from tests.integration.apps.conftest import app_folder, js
from tests.integration.apps.test_worker_cli_apps import configs, worker  # noqa: F401
from tests.integration.engine.helpers import running_pool

QUEUES = """queues:
  reports: {maxConcurrency: 2, minConcurrency: 1, pollIntervalMs: 200}
  bulk: {}
jobs: {maxConcurrency: 50}
"""
LOG_ITEM = "function (item) { sys.logs.info('item ' + item); }"


def _with_queues(root: Path, name: str) -> Path:
    """The demo app named ``name``, with two queues of its own; its ``logSomething`` action
    runs in ``reports`` and its background listener in ``bulk``."""
    folder = app_folder(root, name)
    manifest = folder / "app.yaml"
    text = manifest.read_text("utf-8")
    text = text.replace("\nentities:\n", f"\n{QUEUES}entities:\n", 1)
    text = text.replace("        returnsResponse: true\n        parameters:\n          param1",
                        "        returnsResponse: true\n        queue: reports\n"
                        "        parameters:\n          param1", 1)  # fmt: skip
    text = text.replace("    background: true\n", "    background: true\n    queue: bulk\n", 1)
    manifest.write_text(text, "utf-8")
    return folder


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine, pool and Host they open; taking
    a new one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture(scope="module")
def shared_host(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Host]:
    """The queued app's Host for the module's tests (see ``host``)."""
    opened = Host(module_db_url, _with_queues(tmp_path_factory.mktemp("queued"), "queued"),
                  pool_size=1)  # fmt: skip
    yield opened
    opened.close()


@pytest.fixture
def host(db_url: str, shared_host: Host) -> Iterator[Host]:
    """The module's Host on its database emptied (``db_url``), then written again as
    opening it on a new database writes it; what a test changes in the app's memory is put
    back after it. Opening a Host (engine, app, V8 isolate) per test was most of a short
    test's CPU; the pool a test starts on it ends within the test."""
    write_as_opened(shared_host.app)
    kept = KeptInMemory(shared_host.app)
    yield shared_host
    kept.put_back()


def test_the_apps_registry_has_its_queues_and_cap(host: Host) -> None:
    registry = host.engine.registry
    assert registry.queue_names() == ("mix", "light", "heavy", "system", "reports", "bulk")
    assert registry.queue_caps() == {"reports": 2} and registry.app_cap == 50


def test_execute_in_job_takes_the_apps_own_queue(host: Host) -> None:
    job_id = js(host, f"sys.jobs.executeInJob([1, 2], 'reports', {LOG_ITEM})")
    assert host.engine.require(job_id).queue == "reports"


@pytest.mark.parametrize("queue", ["'nope'", "'x'.repeat(10000)", "'\\ud800'", "''", "3", "null"])
def test_execute_in_job_refuses_an_unknown_queue_listing_the_apps(host: Host, queue: str) -> None:
    result = host.run(f"sys.jobs.executeInJob([1], {queue}, {LOG_ITEM})")
    assert not result.ok and result.error is not None
    assert result.error.code == "badRequest" and "'queue'" in result.error.message
    if queue.startswith("'") and queue != "''":
        assert "default, mix, light, heavy, system, reports, bulk" in result.error.message
    assert len(result.error.message) < 1_000


def test_an_action_and_a_background_listener_run_in_the_queues_they_name(host: Host) -> None:
    js(host, "var r = sys.data.createRecord('companies'); r.field('name').val('Acme'); "
             "sys.data.save(r); 1")  # fmt: skip
    job_id = js(host, "sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a'})")
    assert host.engine.require(job_id).queue == "reports"
    listeners = host.engine.find({"type": "EXECUTE_LISTENER"})
    assert {job.queue for job in listeners} == {"bulk"}


def test_enqueueing_into_an_unknown_queue_is_a_bad_request_naming_queue(host: Host) -> None:
    with pytest.raises(BadRequest) as raised:
        host.engine.enqueue("EXECUTE_IN_JOB", {"itemsCount": 0, "queue": "x", "_items": [],
                                               "_callback": "x"}, queue="reprots")  # fmt: skip
    message = raised.value.message
    assert "parameter 'queue'" in message and "mix, light, heavy, system, reports, bulk" in message


def test_a_pool_serving_the_app_serves_its_queues_with_their_limits(host: Host) -> None:
    with host.workers(in_process=True) as pool:
        assert isinstance(pool, WorkerPool)
        assert pool.limits["reports"] == 2 and pool.limits["bulk"] == pool.concurrency
        assert pool.queue_poll_s == 0.2
        job_id = js(host, f"sys.jobs.executeInJob([1, 2, 3], 'reports', {LOG_ITEM})")
        job = host.engine.wait(job_id, ["FINISHED"], 60)
    assert job.status == "FINISHED" and job.queue == "reports"


# ---- the limit across pools -------------------------------------------------------------


class Empty(BaseModel):
    pass


class Holding:
    """A handler that holds each job until released, counting how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.changed = threading.Condition()
        self.release = threading.Event()

    def handler(self, _ctx: JobContext, _data: Empty) -> None:
        with self.changed:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.changed.notify_all()
        self.release.wait(60)
        with self.changed:
            self.running -= 1
            self.changed.notify_all()


def _engine(url: str, holding: Holding) -> Engine:
    engine = Engine.open(url, settings=EngineSettings(app="capped", lease_s=60))
    engine.register(JobType("HOLD", Empty, holding.handler, queue="mix"))
    engine.registry.use_queues([QueueDef("reports", max_concurrency=2)])
    return engine


def test_two_pools_on_their_own_engines_run_a_limited_queue_two_at_a_time(db_url: str) -> None:
    holding = Holding()
    first, second = _engine(db_url, holding), _engine(db_url, holding)
    try:
        jobs = [first.enqueue("HOLD", {}, queue="reports").id for _ in range(8)]
        with running_pool(first, concurrency=4), running_pool(second, concurrency=4):
            with holding.changed:
                assert holding.changed.wait_for(lambda: holding.running == 2, 60)
            # the limit is reached: a claim of any engine on the database takes nothing
            assert second.leases.claim("w-probe", limit=4) == []
            holding.release.set()
            ended = first.wait_all(jobs, ["FINISHED"], 120)
        assert [j.status for j in ended] == ["FINISHED"] * 8
        assert holding.peak == 2
    finally:
        holding.release.set()
        second.close()
        first.close()


# ---- sysjobs worker --queues --------------------------------------------------------------


def test_worker_queues_may_name_the_served_apps_queues(
    tmp_path: Path, configs: list[WorkerConfig]  # noqa: F811 (the fixture)
) -> None:
    done = worker(tmp_path, "--app", str(_with_queues(tmp_path, "queued")),
                  "--queues", "reports=1,mix")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert configs[0].queues == "reports=1,mix"


@pytest.mark.parametrize("queues", ["nope", "reports=-1", "reports=x", "r\ud800"])
def test_worker_queues_naming_no_queue_of_the_served_apps_is_refused(
    tmp_path: Path, configs: list[WorkerConfig], queues: str  # noqa: F811 (the fixture)
) -> None:
    done = worker(tmp_path, "--app", str(_with_queues(tmp_path, "queued")), "--queues", queues)
    assert done.returncode == 2 and "--queues" in done.stderr
    assert "Traceback" not in done.stderr and configs == []


class PerApp(Holding):
    """:class:`Holding`, counting the running jobs of each app."""

    def __init__(self) -> None:
        super().__init__()
        self.by_app: dict[str, int] = {}

    def handler(self, ctx: JobContext, data: Empty) -> None:
        with self.changed:
            self.by_app[ctx.job.app] = self.by_app.get(ctx.job.app, 0) + 1
        super().handler(ctx, data)


def test_a_capped_app_in_a_shared_pool_runs_its_cap_and_the_other_app_the_rest(
    db_url: str,
) -> None:
    holding = PerApp()
    engine = Engine.open(db_url, settings=EngineSettings(app="capped", lease_s=60))
    other = engine.for_app("free")
    try:
        for app_engine in (engine, other):
            app_engine.register(JobType("HOLD", Empty, holding.handler))
        engine.registry.use_queues([], app_cap=1)
        capped = [engine.enqueue("HOLD", {}).id for _ in range(4)]
        free = [other.enqueue("HOLD", {}).id for _ in range(4)]
        served = {"capped": ServedApp(engine), "free": ServedApp(other)}
        with running_pool(engine, concurrency=4, apps=served):
            with holding.changed:
                assert holding.changed.wait_for(lambda: holding.running == 4, 60)
                assert holding.by_app == {"capped": 1, "free": 3}
            holding.release.set()
            ended = [*engine.wait_all(capped, ["FINISHED"], 120),
                     *other.wait_all(free, ["FINISHED"], 120)]  # fmt: skip
        assert [j.status for j in ended] == ["FINISHED"] * 8
    finally:
        holding.release.set()
        engine.close()
