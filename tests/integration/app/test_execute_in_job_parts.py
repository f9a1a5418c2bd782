"""executeInJob without ``step`` over many items: parts in child jobs, each item once.

Past ``PARALLEL_MIN_ITEMS`` items the owner (the job ``executeInJob`` returns) splits the
chunks in parts — as many as its queue runs jobs at once — starts the others as its
children, runs the first itself, takes over the parts no worker claimed and waits for the
rest (docs/jobs-api.md, "Parts"). On SQLite and PostgreSQL, with an injected clock; the
owner is driven as a worker drives it where a test needs a stop, a cancel or a crash at a
chosen chunk, by in-process workers elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sysjobs.app.jobtypes.in_job import TAKEN_REASON
from sysjobs.host import Host
from sysjobs.jobs import EngineSettings, Job, JobContext, LeaseLost, Outcome, new_owner
from sysjobs.jobs.in_job import PARALLEL_MIN_ITEMS, THREADS_WITHOUT_LIMIT, plan_parts
from sysjobs.worker.scripts import bind_to_job
from tests.integration.app.test_execute_in_job_resume import AfterChunk, Crash
from tests.integration.apps.test_app_queues import _with_queues
from tests.integration.engine.helpers import ManualClock

COUNT = 250  # 10 chunks of 25; four parts in 'mix': items 0-49, 50-124, 125-174, 175-249
CALLBACK = "function (item) { sys.logs.info('item ' + item); }"


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): no job, log
    line or record of an earlier test is left — not even the demo app's seed records, which
    no test here reads. The tests that open a Host of their own (other queues) close it,
    its in-process workers stopped, before the test ends."""
    return reused_db_url


@pytest.fixture(scope="module")
def module_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def clock(module_clock: ManualClock) -> ManualClock:
    """The shared Host's clock. A test moves it on (a dead worker's lease running out);
    it only ever goes forward, and every lease a test reads was taken in that test."""
    return module_clock


@pytest.fixture(scope="module")
def shared_host(module_db_url: str, module_clock: ManualClock) -> Iterator[Host]:
    settings = EngineSettings(clock=module_clock, lease_s=30)
    with Host(module_db_url, pool_size=0, settings=settings) as opened:
        yield opened


@pytest.fixture
def host(db_url: str, shared_host: Host) -> Host:
    """The module's Host (engine, demo app, sandbox), on its database emptied for this test.

    Opening one per test (an engine, the app, a V8 isolate, and the isolates of its
    in-process workers) was a large share of these tests' CPU. A test changes nothing of
    the Host itself: its monkeypatches are undone after it, its workers (``run_to_end``)
    stopped and joined before it ends, and a run it breaks off on purpose (``Crash``,
    ``LeaseLost``) leaves its script session as a worker's crash leaves it — closed."""
    return shared_host


def start(host: Host, count: int = COUNT, queue: str = "default") -> str:
    source = (f"var a = []; for (var i = 1; i <= {count}; i++) a.push(i); "
              f"sys.jobs.executeInJob(a, '{queue}', {CALLBACK})")  # fmt: skip
    result = host.run(source)
    assert result.ok, result.error
    return str(result.value)


def counts(host: Host, count: int = COUNT) -> list[int]:
    """How many times each item 1..count was processed (its app-log line)."""
    lines = [e.message for e in host.engine.app_logs({"_size": 100_000})]
    return [lines.count(f"item {n}") for n in range(1, count + 1)]


def parts_of(host: Host, owner: str) -> list[Job]:
    jobs, _ = host.engine.tree_jobs(owner, children_only=True, size=100)
    return sorted(jobs, key=lambda j: int(j.data["_first"]))


def run_owner(host: Host, wrap: Any = None) -> tuple[JobContext, Outcome | None]:
    """Claim the owner (the only PENDING job) and run its handler as a worker does."""
    (claimed,) = host.engine.leases.claim(new_owner(), limit=1)
    ctx = JobContext(host.engine, claimed.lease, claimed.job, checkpoint=claimed.checkpoint,
                     script_runner=host.runner)  # fmt: skip
    ctx.script_runner = bind_to_job(host.runner, ctx)
    if wrap is not None:
        ctx.script_runner = wrap(ctx)
    job_type = host.engine.registry.require("EXECUTE_IN_JOB")
    try:
        job_type.handler(ctx, job_type.data_model.model_validate(claimed.job.data))
    except (Crash, LeaseLost):
        return ctx, None
    outcome = Outcome.STOPPED if ctx.state.acknowledged else Outcome.COMPLETED
    host.engine.leases.finish(ctx.lease, outcome, results=ctx.state.results,
                              progress=ctx.state.progress)  # fmt: skip
    return ctx, outcome


def run_to_end(host: Host, job_id: str) -> Job:
    with host.workers(3, in_process=True):
        return host.engine.wait(job_id, ["FINISHED"], 120)


@pytest.mark.parametrize(
    ("count", "step", "limit", "parts"),
    [(250, None, None, THREADS_WITHOUT_LIMIT), (250, None, 2, 2), (250, None, 1, 1),
     (250, 2, None, 1), (PARALLEL_MIN_ITEMS, None, None, 1), (101, None, None, 4),
     (10_000, None, 100_000, 100), (0, None, None, 1), (250, None, 7, 7)],
)  # fmt: skip
def test_parts_are_whole_chunks_at_most_the_queues_limit(
    count: int, step: int | None, limit: int | None, parts: int
) -> None:
    ranges = plan_parts(count, step, limit)
    assert len(ranges) == parts
    assert [i for r in ranges for i in r] == list(range(count))  # every item, in one part


def test_many_items_run_in_parts_children_of_the_owner_each_item_once(host: Host) -> None:
    owner = start(host)
    done = run_to_end(host, owner)
    parts = parts_of(host, owner)
    assert len(parts) == THREADS_WITHOUT_LIMIT - 1  # the owner runs the first part itself
    assert {p.parent_id for p in parts} == {owner} and {p.root_id for p in parts} == {owner}
    assert [p.data["_first"] for p in parts] == [50, 125, 175]
    assert all(str(p.status) in ("FINISHED", "CANCELED") for p in parts)
    assert counts(host) == [1] * COUNT
    assert done.progress == 100 and not done.has_errors
    assert done.results == {"itemsCount": COUNT, "itemsProcessed": COUNT, "itemsFailed": 0,
                            "chunks": 10}  # fmt: skip
    assert done.ended_at is not None
    assert all(p.ended_at is not None and p.ended_at <= done.ended_at for p in parts)
    assert host.engine.tree_info([done])[owner].children_processed == len(parts)


def most_running_at_once(host: Host, jobs: list[Job]) -> int:
    """The most of ``jobs`` RUNNING at one time, from their recorded transitions (an end
    and a start at the same millisecond do not overlap)."""
    marks: list[tuple[Any, int]] = []
    for job in jobs:
        for e in host.engine.events(job.id):
            if e.to_status == "RUNNING":
                marks.append((e.at, 1))
            elif e.from_status in ("RUNNING", "STOPPING", "CANCELING") and e.to_status not in (
                "STOPPING", "CANCELING"):
                marks.append((e.at, -1))
    running = most = 0
    for _, step in sorted(marks):
        running += step
        most = max(most, running)
    return most


def test_a_queue_of_two_runs_the_call_in_two_parts_never_more_at_once(
    db_url: str, tmp_path: Path
) -> None:
    with Host(db_url, _with_queues(tmp_path, "queued"), pool_size=0) as host:
        owner = start(host, queue="reports")
        with host.workers(4, in_process=True, queues={"reports": 4}):
            done = host.engine.wait(owner, ["FINISHED"], 120)
        parts = parts_of(host, owner)
        assert [p.queue for p in parts] == ["reports"]
        assert counts(host) == [1] * COUNT and done.progress == 100
        assert most_running_at_once(host, [done, *parts]) <= 2


def test_two_calls_filling_a_queue_of_two_both_finish_never_more_than_two_at_once(
    db_url: str, tmp_path: Path
) -> None:
    """Both owners hold the queue's two slots: each takes over its own pending part
    instead of waiting for a slot that would never free up."""
    with Host(db_url, _with_queues(tmp_path, "queued"), pool_size=0) as host:
        owners = [start(host, queue="reports"), start(host, queue="reports")]
        with host.workers(4, in_process=True, queues={"reports": 4}):
            done = host.engine.wait_all(owners, ["FINISHED"], 120)
        jobs = [*done, *(p for o in owners for p in parts_of(host, o))]
        assert len(jobs) == 4
        assert counts(host) == [2] * COUNT  # each call's items once
        assert most_running_at_once(host, jobs) <= 2
        assert all(j.progress == 100 for j in done)


def test_one_worker_thread_runs_the_whole_call_taking_over_its_parts(host: Host) -> None:
    owner = start(host)
    _, outcome = run_owner(host)  # no other worker: every part is still PENDING
    assert outcome is Outcome.COMPLETED
    parts = parts_of(host, owner)
    assert [str(p.status) for p in parts] == ["CANCELED"] * 3
    assert all(e.reason == TAKEN_REASON for p in parts
               for e in host.engine.events(p.id) if e.to_status == "CANCELED")  # fmt: skip
    done = host.engine.require(owner)
    assert str(done.status) == "FINISHED" and done.progress == 100 and not done.has_errors
    lines = [e.message for e in host.engine.app_logs({"_size": 100_000})]
    assert lines == [f"item {n}" for n in range(1, COUNT + 1)]  # in turn, in order
    assert done.results == {"itemsCount": COUNT, "itemsProcessed": COUNT, "itemsFailed": 0,
                            "chunks": 10}  # fmt: skip


def test_stopping_the_owner_stops_its_parts_and_resuming_runs_each_item_once(
    host: Host,
) -> None:
    owner = start(host)

    def stop(ctx: JobContext) -> None:
        host.engine.stop(owner)
        ctx.state.stop_requested.set()  # what the heartbeat delivers

    _, outcome = run_owner(host, lambda ctx: AfterChunk(ctx, 1, stop))
    assert outcome is Outcome.STOPPED
    assert str(host.engine.require(owner).status) == "STOPPED"
    assert [str(p.status) for p in parts_of(host, owner)] == ["STOPPED"] * 3
    assert counts(host)[:25] == [1] * 25 and sum(counts(host)) == 25
    host.engine.resume(owner)
    assert [str(p.status) for p in parts_of(host, owner)] == ["PENDING"] * 3
    done = run_to_end(host, owner)
    assert counts(host) == [1] * COUNT and done.progress == 100


def test_canceling_the_owner_cancels_its_parts(host: Host) -> None:
    owner = start(host)

    def cancel(ctx: JobContext) -> None:
        host.engine.cancel(owner)
        ctx.state.stop_requested.set()

    run_owner(host, lambda ctx: AfterChunk(ctx, 1, cancel))
    assert str(host.engine.require(owner).status) == "CANCELED"
    assert [str(p.status) for p in parts_of(host, owner)] == ["CANCELED"] * 3
    assert sum(counts(host)) == 25  # the chunk that ran; nothing after the cancel


def test_a_part_whose_worker_died_goes_on_from_its_checkpoint(
    host: Host, clock: ManualClock
) -> None:
    owner = start(host)
    crashed: list[Job] = []

    def crash_a_part_then_the_owner(ctx: JobContext) -> None:
        (claimed,) = host.engine.leases.claim(new_owner(), limit=1)  # a part: the owner runs
        crashed.append(claimed.job)
        part = JobContext(host.engine, claimed.lease, claimed.job, script_runner=host.runner)
        part.script_runner = AfterChunk(part, 2, lambda _: (_ for _ in ()).throw(Crash()))
        part.script_runner.inner = bind_to_job(host.runner, part)
        job_type = host.engine.registry.require("EXECUTE_IN_JOB")
        with pytest.raises(Crash):
            job_type.handler(part, job_type.data_model.model_validate(claimed.job.data))
        raise Crash  # the owner's worker dies too (its first chunk has no checkpoint)

    run_owner(host, lambda ctx: AfterChunk(ctx, 1, crash_a_part_then_the_owner))
    clock.advance(31_000)  # the dead workers' leases run out
    assert host.engine.reap() == 2  # both retried: EXECUTE_IN_JOB is idempotent
    done = run_to_end(host, owner)
    first = int(crashed[0].data["_first"])
    twice = set(range(1, 26)) | set(range(first + 26, first + 51))  # the chunks in flight
    assert counts(host) == [2 if n in twice else 1 for n in range(1, COUNT + 1)]
    assert done.progress == 100 and done.results is not None
    assert done.results["itemsProcessed"] == COUNT


def test_the_owners_progress_is_items_done_over_all_items_and_never_goes_back(
    host: Host,
) -> None:
    owner = start(host)
    seen: list[int] = []

    def look(ctx: JobContext) -> None:
        seen.append(int(ctx.state.progress or 0))

    class Every:
        def __init__(self, ctx: JobContext) -> None:
            self.inner, self.ctx = ctx.script_runner, ctx

        def run(self, source: str, **kw: Any) -> Any:
            assert self.inner is not None
            look(self.ctx)
            return self.inner.run(source, **kw)

    run_owner(host, Every)  # alone: it runs its part, then takes the three others
    assert seen == sorted(seen) and seen[0] == 0
    assert seen[1:] == [n * 10 for n in range(1, 10)]  # 25 of 250 items a chunk
    assert host.engine.require(owner).progress == 100


def test_items_that_throw_in_parts_keep_the_one_job_rule_for_the_owner(host: Host) -> None:
    source = ("var a = []; for (var i = 1; i <= 250; i++) a.push(i); sys.jobs.executeInJob(a, "
              "'default', function (n) { if (n % 2) throw new TypeError('odd ' + n); })")  # fmt: skip
    result = host.run(source)
    assert result.ok, result.error
    owner = str(result.value)
    done = run_to_end(host, owner)
    assert done.has_errors and str(done.status) == "FINISHED" and done.progress == 100
    assert done.results == {"itemsCount": 250, "itemsProcessed": 250, "itemsFailed": 125,
                            "chunks": 10}  # fmt: skip
    lines = [e.message for j in [done, *parts_of(host, owner)]
             for e in host.engine.logs(j.id, {"level": "ERROR", "_size": 1000})]  # fmt: skip
    assert sum(1 for m in lines if m.startswith("Item ")) == 125
    assert "Item 0: TypeError: odd 1" in lines and "Item 248: TypeError: odd 249" in lines


def test_hostile_items_reach_the_callback_as_they_were_in_every_part(host: Host) -> None:
    """Lone surrogates, huge numbers, nesting and a 100 kB string, split over parts."""
    source = r"""
      var a = [];
      for (var i = 0; i < 250; i++) {
        a.push({n: i, s: '\ud83d\ude00' + i + '\u2028', big: 1e308, neg: -0, deep: [[[[{i: i}]]]],
                long: i % 50 ? '' : 'x'.repeat(100000)});
      }
      sys.jobs.executeInJob(a, 'default', function (item) {
        if (item.s !== '\ud83d\ude00' + item.n + '\u2028' || item.big !== 1e308 ||
            item.deep[0][0][0][0].i !== item.n ||
            item.long.length !== (item.n % 50 ? 0 : 100000)) throw new Error('changed ' + item.n);
        sys.logs.info('item ' + (item.n + 1));
      })"""
    result = host.run(source)
    assert result.ok, result.error
    done = run_to_end(host, str(result.value))
    assert done.results is not None and done.results["itemsFailed"] == 0
    assert counts(host) == [1] * COUNT


def test_the_owner_reads_its_parts_status_and_progress_not_their_rows(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While it waits for its parts the owner looks at them again and again: it reads
    their status and progress only, and the results of the parts another worker ran once,
    at the end — never their whole rows (data, checkpoint and results grow with a part)."""
    owner = start(host)
    rows_read: list[str] = []
    read_row = host.engine.parts.store.get_job

    def get_job(job_id: str, **kw: Any) -> Any:
        rows_read.append(job_id)
        return read_row(job_id, **kw)

    monkeypatch.setattr(host.engine.parts.store, "get_job", get_job)

    def run_a_part_elsewhere(ctx: JobContext) -> None:
        (claimed,) = host.engine.leases.claim(new_owner(), limit=1)  # another worker's
        part = JobContext(host.engine, claimed.lease, claimed.job, script_runner=host.runner)
        part.script_runner = bind_to_job(host.runner, part)
        job_type = host.engine.registry.require("EXECUTE_IN_JOB")
        job_type.handler(part, job_type.data_model.model_validate(claimed.job.data))
        host.engine.leases.finish(part.lease, Outcome.COMPLETED, results=part.state.results,
                                  progress=part.state.progress)  # fmt: skip

    _, outcome = run_owner(host, lambda ctx: AfterChunk(ctx, 1, run_a_part_elsewhere))
    assert outcome is Outcome.COMPLETED
    parts = parts_of(host, owner)
    assert sorted(str(p.status) for p in parts) == ["CANCELED", "CANCELED", "FINISHED"]
    assert not {p.id for p in parts} & set(rows_read)
    done = host.engine.require(owner)
    assert done.results == {"itemsCount": COUNT, "itemsProcessed": COUNT, "itemsFailed": 0,
                            "chunks": 10}  # fmt: skip
    assert counts(host) == [1] * COUNT and done.progress == 100
