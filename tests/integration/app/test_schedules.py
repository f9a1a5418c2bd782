"""Scheduled jobs on SQLite and PostgreSQL: a manifest's cron schedules start one job per
tick, whoever ticks and however many tick; missed ticks are coalesced; removed schedules
stay inert; an app's schedule starts only that app's jobs. Time is a ``ManualClock``."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from sysjobs.app.app import App
from sysjobs.app.definition import load_app
from sysjobs.app.status import AppStatus
from sysjobs.host import Host
from sysjobs.jobs import Engine, EngineHooks, EngineSettings, Job
from sysjobs.jobs.schedules import RECHECK_MS, list_schedules
from sysjobs.worker.pool import WorkerPool
from tests.integration.app.schedule_apps import HOUR_MS, HOURLY, START_MS, opened, write_app
from tests.integration.engine.helpers import ManualClock


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied and checked before each test (``tests/emptying.py``):
    every test opens its Hosts and engines on it and closes them before it ends, so an
    empty migrated database is all it needs — taking a new one per test cost more."""
    return reused_db_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_MS)


def test_a_new_schedule_is_listed_with_its_first_tick_and_no_run_yet(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        [info] = list_schedules(one.engine.parts)
    assert (info.name, info.cron, info.timezone, info.target) == (
        "hourly", "0 * * * *", "UTC", "listener:tidy")
    assert info.state == "active" and info.enabled
    assert info.next_run_at is not None and info.next_run_at.timestamp() * 1000 == START_MS + HOUR_MS
    assert info.last_job_id is None and info.last_run_at is None


def test_nothing_starts_before_the_tick_and_one_job_starts_at_it(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        clock.advance(HOUR_MS - 1)
        assert one.engine.schedules.tick() == []
        clock.advance(1)
        [job] = one.engine.schedules.tick()
        assert one.engine.schedules.tick() == []  # the same tick never fires twice
        [info] = list_schedules(one.engine.parts)
    tick = "2027-01-15T09:00:00Z"
    assert job.type == "EXECUTE_LISTENER" and job.label == f"Schedule hourly at {tick}"
    assert job.data["listenerName"] == "tidy"
    assert job.data["_schedule"] == {"name": "hourly", "tick": tick, "tickMs": START_MS + HOUR_MS,
                                     "missedSince": None}
    assert job.data["_event"]["type"] == "SCHEDULE" and job.data["_event"]["scheduleName"] == "hourly"
    assert info.last_job_id == job.id and str(info.last_job_status) == "PENDING"
    assert info.next_run_at is not None and info.next_run_at.timestamp() * 1000 == START_MS + 2 * HOUR_MS


def test_ticks_missed_while_no_worker_ran_start_one_job_then_the_schedule_goes_on(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        clock.advance(5 * HOUR_MS + HOUR_MS // 2)  # 09:00 … 13:00 fell due meanwhile
        [job] = one.engine.schedules.tick()
        assert one.engine.schedules.tick() == []
        [info] = list_schedules(one.engine.parts)
        clock.advance(HOUR_MS // 2)  # 14:00: the next tick, on time again
        [following] = one.engine.schedules.tick()
    assert job.data["_schedule"]["tick"] == "2027-01-15T13:00:00Z"
    assert job.data["_schedule"]["missedSince"] == "2027-01-15T09:00:00Z"
    assert info.next_run_at is not None and info.next_run_at.timestamp() * 1000 == START_MS + 6 * HOUR_MS
    assert following.data["_schedule"] == {"name": "hourly", "tick": "2027-01-15T14:00:00Z",
                                           "tickMs": START_MS + 6 * HOUR_MS, "missedSince": None}


@pytest.mark.parametrize("engines,threads_each", [(3, 2)])
def test_many_tickers_on_many_engines_start_exactly_one_job_per_tick(
    db_url: str, tmp_path: Path, clock: ManualClock, engines: int, threads_each: int
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    ticks = 6
    tickers = engines * threads_each
    gate = threading.Barrier(tickers + 1, timeout=60)
    started: list[str] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def ticker(engine_schedules: object) -> None:
        tick = engine_schedules.tick  # type: ignore[attr-defined]
        try:
            for _ in range(ticks):
                gate.wait()
                for _ in range(3):  # each ticker tries the same due tick more than once
                    found = [job.id for job in tick()]
                    with lock:
                        started.extend(found)
                gate.wait()
        except BaseException as exc:
            failures.append(exc)
            gate.abort()

    with opened(db_url, folder, clock) as first:
        others = [opened(db_url, folder, clock) for _ in range(engines - 1)]
        opens = [first, *(o.__enter__() for o in others)]
        try:
            threads = [threading.Thread(target=ticker, args=(one.engine.schedules,))
                       for one in opens for _ in range(threads_each)]
            for thread in threads:
                thread.start()
            for _ in range(ticks):
                clock.advance(HOUR_MS)
                gate.wait()  # all tickers go at the same due tick
                gate.wait()  # … and are done with it
            for thread in threads:
                thread.join(timeout=60)
        finally:
            for o in others:
                o.__exit__(None, None, None)
        assert failures == []
        jobs = first.jobs()
    assert len(started) == ticks and len(set(started)) == ticks
    assert sorted(started) == sorted(job.id for job in jobs)
    assert [job.data["_schedule"]["tickMs"] for job in jobs] == [
        START_MS + n * HOUR_MS for n in range(1, ticks + 1)]


def test_a_schedule_removed_from_the_manifest_keeps_its_row_inert(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    both = HOURLY + '  nightly: {cron: "0 2 * * *", timezone: Europe/Paris, source: "log(1)"}\n'
    folder = write_app(tmp_path / "a", "clocks", both)
    with opened(db_url, folder, clock) as old:
        write_app(folder, "clocks", HOURLY)  # the next deploy drops 'nightly'
        with opened(db_url, folder, clock) as new:
            states = {i.name: (i.state, i.next_run_at) for i in list_schedules(new.engine.parts)}
            clock.advance(48 * HOUR_MS)
            fired = old.engine.schedules.tick() + new.engine.schedules.tick()
    assert states == {"hourly": ("active", states["hourly"][1]), "nightly": ("removed", None)}
    assert [job.data["_schedule"]["name"] for job in fired] == ["hourly"]


def test_a_changed_expression_counts_its_ticks_afresh_from_the_change(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock):
        pass
    clock.advance(10 * HOUR_MS)  # the 09:00 … 18:00 ticks of the old expression fall due
    write_app(folder, "clocks", '  hourly: {cron: "30 * * * *", listener: tidy}\n')
    with opened(db_url, folder, clock) as changed:
        assert changed.engine.schedules.tick() == []  # none of the old expression's ticks run
        [info] = list_schedules(changed.engine.parts)
    assert info.cron == "30 * * * *"
    assert info.next_run_at is not None
    assert info.next_run_at.timestamp() * 1000 == START_MS + 10 * HOUR_MS + HOUR_MS // 2


def test_a_disabled_schedule_never_fires_and_is_listed_as_disabled(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks",
                       '  hourly: {cron: "0 * * * *", listener: tidy, enabled: false}\n')
    with opened(db_url, folder, clock) as one:
        clock.advance(5 * HOUR_MS)
        assert one.engine.schedules.tick() == []
        [info] = list_schedules(one.engine.parts)
        assert one.engine.schedules.due_in_s() is None
    assert (info.state, info.next_run_at) == ("disabled", None)


def test_an_apps_schedule_starts_only_that_apps_jobs(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    alpha = write_app(tmp_path / "alpha", "alpha", HOURLY)
    beta = write_app(tmp_path / "beta", "beta", HOURLY)
    with opened(db_url, alpha, clock) as a, opened(db_url, beta, clock) as b:
        clock.advance(HOUR_MS)
        [from_a] = a.engine.schedules.tick()
        assert b.engine.find({}).count() == 0  # alpha's tick is not beta's
        [from_b] = b.engine.schedules.tick()
        assert [j.id for j in a.jobs()] == [from_a.id] and [j.id for j in b.jobs()] == [from_b.id]
        assert (from_a.app, from_b.app) == ("alpha", "beta")
        assert [i.last_job_id for i in list_schedules(a.engine.parts)] == [from_a.id]
        assert [i.last_job_id for i in list_schedules(b.engine.parts)] == [from_b.id]


def test_a_script_schedule_starts_a_script_job_with_the_file_or_inline_source(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks",
                       '  report: {cron: "@hourly", script: report.js}\n'
                       '  inline: {cron: "@hourly", source: "log(2)"}\n')
    with opened(db_url, folder, clock) as one:
        clock.advance(HOUR_MS)
        fired = {job.data["_schedule"]["name"]: job for job in one.engine.schedules.tick()}
        targets = {i.name: i.target for i in list_schedules(one.engine.parts)}
    assert {n: (j.type, j.data["_source"]) for n, j in fired.items()} == {
        "report": ("RUN_SCRIPT", "log('report ran');\n"), "inline": ("RUN_SCRIPT", "log(2)")}
    assert targets == {"inline": "script:(inline)", "report": "script:report.js"}


def test_the_worker_pool_ticks_the_schedules_of_the_apps_it_serves(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        pool = WorkerPool(one.engine, concurrency=1)
        assert pool.tick_schedules() == []
        clock.advance(HOUR_MS)
        [job] = pool.tick_schedules()
        assert one.jobs() == [job]


class _Started(EngineHooks):
    """Hands over the id of each job enqueued (a schedule's tick, here)."""

    def __init__(self) -> None:
        self.ids: queue.Queue[str] = queue.Queue()

    def job_enqueued(self, job: Job) -> None:
        self.ids.put(job.id)


def test_a_running_pool_fires_a_due_tick_and_the_listener_sees_the_schedule_event(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with Host(db_url, folder, settings=EngineSettings(clock=clock), pool_size=1) as host:
        started = _Started()
        host.engine.hooks.append(started)
        with host.workers(concurrency=2, in_process=True) as pool:
            clock.advance(HOUR_MS)
            host.engine.hub.notify([f"pool:{pool.owner}"])  # wake its dispatcher now
            job_id = started.ids.get(timeout=60)
            done = host.engine.wait(job_id, ["FINISHED"], 60)
            lines = [entry.message for entry in host.engine.logs(job_id, {})]
    assert done.label == "Schedule hourly at 2027-01-15T09:00:00Z"
    assert "tidy SCHEDULE hourly" in lines


def test_many_processes_opening_the_app_at_once_define_each_schedule_once(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    definition = load_app(write_app(tmp_path / "a", "clocks", HOURLY))
    settings = EngineSettings(app="clocks", clock=clock)
    engines = [Engine.open(db_url, settings=settings) for _ in range(4)]
    gate = threading.Barrier(len(engines), timeout=60)
    failures: list[BaseException] = []

    def open_app(engine: Engine) -> None:
        try:
            gate.wait()
            App.open(engine, definition)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_app, args=(e,)) for e in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        infos = list_schedules(engines[0].parts)
    finally:
        for engine in engines:
            engine.close()
    assert failures == []
    assert [(i.name, i.state) for i in infos] == [("hourly", "active")]


def test_a_manifest_without_schedules_leaves_every_old_row_inert(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock):
        pass
    write_app(folder, "clocks", "  {}\n")
    with opened(db_url, folder, clock) as bare:
        clock.advance(3 * HOUR_MS)
        assert bare.engine.schedules.tick() == []
        [info] = list_schedules(bare.engine.parts)
    assert (info.state, info.next_run_at) == ("removed", None)


def test_an_engine_that_cannot_build_the_job_leaves_the_tick_to_one_that_can(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", '  inline: {cron: "@hourly", source: "1"}\n')
    definition = load_app(folder)
    bare = Engine.open(db_url, settings=EngineSettings(app="clocks", clock=clock))
    try:
        App.open(bare, definition)  # RUN_SCRIPT is not registered on this engine
        with opened(db_url, folder, clock) as able:
            clock.advance(HOUR_MS)
            assert bare.schedules.tick() == []
            assert bare.schedules.due_in_s() is None  # it stops trying this schedule
            [job] = able.engine.schedules.tick()
    finally:
        bare.close()
    assert job.type == "RUN_SCRIPT"


def test_a_stopped_apps_listener_ticks_wait_and_are_coalesced_when_it_starts_again(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        one.app.status.set_app(AppStatus.STOPPED)
        clock.advance(3 * HOUR_MS)  # 09:00, 10:00, 11:00 fall due while stopped
        assert one.engine.schedules.tick() == []
        assert one.engine.schedules.due_in_s() == RECHECK_MS / 1000  # no busy loop
        one.app.status.set_app(AppStatus.STARTED)
        clock.advance(RECHECK_MS)
        [job] = one.engine.schedules.tick()
    assert job.data["_schedule"]["tick"] == "2027-01-15T11:00:00Z"
    assert job.data["_schedule"]["missedSince"] == "2027-01-15T09:00:00Z"


def test_a_failed_tick_is_tried_again_later_not_at_once(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        clock.advance(HOUR_MS)
        with one.engine.database.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE schedules RENAME TO schedules_away"))
        with pytest.raises(sa.exc.DBAPIError):
            one.engine.schedules.tick()
        assert one.engine.schedules.due_in_s() == RECHECK_MS / 1000
        with one.engine.database.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE schedules_away RENAME TO schedules"))
        clock.advance(RECHECK_MS)
        [job] = one.engine.schedules.tick()
    assert job.data["_schedule"]["tick"] == "2027-01-15T09:00:00Z"


def test_a_clock_past_the_last_tick_a_calendar_holds_opens_the_app_and_fires_the_last_one(
    db_url: str, tmp_path: Path
) -> None:
    """Year 9999's last hour: the app opens, its last tick fires, then no next run (an
    engine clock past year 9999 is an operator's mistake; it must not stop the app)."""
    clock = ManualClock(253_402_297_200_000 - HOUR_MS // 2)  # 9999-12-31T22:30Z
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as one:
        clock.advance(HOUR_MS)  # 23:00 fell due, and there is no 00:00 of year 10000
        [job] = one.engine.schedules.tick()
        assert one.engine.schedules.tick() == []
        [info] = list_schedules(one.engine.parts)
    with opened(db_url, folder, ManualClock(253_402_300_799_999)) as again:
        assert again.engine.schedules.tick() == []
    assert job.data["_schedule"]["tick"] == "9999-12-31T23:00:00Z"
    assert info.next_run_at is None and info.state == "active"


def test_a_worker_still_on_the_old_manifest_never_fires_a_schedule_whose_target_changed(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    """A rolling deploy changes only what 'hourly' starts (listener → script): the last
    process to open the app decides the row, and the old manifest's workers stop firing it
    (docs/schedules.md) — they must not start the old listener for half of the ticks."""
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, clock) as old:
        write_app(folder, "clocks", '  hourly: {cron: "0 * * * *", source: "log(1)"}\n')
        with opened(db_url, folder, clock) as new:
            fired: list[Job] = []
            for _ in range(3):
                clock.advance(HOUR_MS)
                fired += old.engine.schedules.tick() + new.engine.schedules.tick()
    assert [job.type for job in fired] == ["RUN_SCRIPT"] * 3


def test_an_every_minute_schedule_of_an_app_stopped_for_days_starts_one_job(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", '  often: {cron: "* * * * *", listener: tidy}\n')
    with opened(db_url, folder, clock) as one:
        one.app.status.set_app(AppStatus.STOPPED)
        clock.advance(3 * 24 * HOUR_MS)  # 4,320 ticks fall due while stopped
        assert one.engine.schedules.tick() == []
        one.app.status.set_app(AppStatus.STARTED)
        clock.advance(RECHECK_MS)
        [job] = one.engine.schedules.tick()
        assert one.engine.schedules.tick() == []
        assert len(one.jobs()) == 1
    assert job.data["_schedule"]["missedSince"] == "2027-01-15T08:01:00Z"
    assert job.data["_schedule"]["tick"] == "2027-01-18T08:00:00Z"


def test_a_schedule_left_without_next_run_by_a_clock_past_year_9999_resumes_once_it_is_set_right(
    db_url: str, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    with opened(db_url, folder, ManualClock(253_402_300_000_000)) as wrong:  # 9999-12-31T23:46Z
        [before] = list_schedules(wrong.engine.parts)
    clock = ManualClock(START_MS)
    with opened(db_url, folder, clock) as right:
        [after] = list_schedules(right.engine.parts)
        clock.advance(HOUR_MS)
        [job] = right.engine.schedules.tick()
    assert before.next_run_at is None
    assert after.next_run_at is not None and after.next_run_at.timestamp() * 1000 == START_MS + HOUR_MS
    assert job.data["_schedule"]["tick"] == "2027-01-15T09:00:00Z"


def test_a_schedules_listener_that_throws_ends_its_job_in_error_and_the_next_tick_still_fires(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    folder = write_app(tmp_path / "a", "clocks", HOURLY)
    (folder / "tidy.js").write_text(
        "Error.prepareStackTrace = () => 'x'; throw new Error('tidy failed');\n"
    )
    with Host(db_url, folder, settings=EngineSettings(clock=clock), pool_size=1) as host:
        started = _Started()
        host.engine.hooks.append(started)
        with host.workers(concurrency=1, in_process=True) as pool:
            ended = []
            for _ in range(2):
                clock.advance(HOUR_MS)
                host.engine.hub.notify([f"pool:{pool.owner}"])
                ended.append(host.engine.wait(started.ids.get(timeout=60), ["FINISHED"], 60))
            lines = [entry.message for entry in host.engine.logs(ended[0].id, {})]
    assert [job.label for job in ended] == ["Schedule hourly at 2027-01-15T09:00:00Z",
                                            "Schedule hourly at 2027-01-15T10:00:00Z"]
    assert all(job.has_errors for job in ended)
    assert lines == ["Listener tidy failed: Error: tidy failed"]


def test_two_processes_with_different_expressions_start_one_job_per_tick_of_the_last_opened(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_app(first, "clocks", HOURLY)
    write_app(second, "clocks", '  hourly: {cron: "*/30 * * * *", listener: tidy}\n')
    with opened(db_url, first, clock) as old, opened(db_url, second, clock) as new:
        for _ in range(6):
            clock.advance(HOUR_MS // 2)
            for _ in range(2):
                old.engine.schedules.tick()
                new.engine.schedules.tick()
        ticks = [job.data["_schedule"]["tick"] for job in new.jobs()]
    assert ticks == [f"2027-01-15T{t}:00Z" for t in ("08:30", "09:00", "09:30", "10:00", "10:30",
                                                      "11:00")]  # fmt: skip
