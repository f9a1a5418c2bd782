"""Worker processes in the workers registry: each child registers its own row (its pid, its
slots, the app it serves), a clean stop takes the rows away, and the row of a child killed
with SIGKILL stays: shown gone at once when its supervisor reaps it, or — when the supervisor
died too — once its last heartbeat is older than GONE_AFTER_LEASES of its lease periods;
pruned past PRUNED_AFTER_LEASES either way. The children read the system clock;
the test's engine reads a manual one, stepped from the dead child's last heartbeat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.jobs import Engine, EngineSettings
from sysjobs.jobs.models import to_ms
from sysjobs.jobs.workers import GONE_AFTER_LEASES, PRUNED_AFTER_LEASES, WorkerInfo, list_workers
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker import WorkerConfig, WorkerProcesses
from tests.acceptance.worker.waits import registered, shown_gone
from tests.integration.engine.helpers import ManualClock, open_engine

ROOT = Path(__file__).resolve().parents[3]
LEASE_S = 1.0
LEASE_MS = 1000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time_ns() // 1_000_000)


@pytest.fixture
def eng(db_url: str, clock: ManualClock) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(lease_s=LEASE_S, clock=clock)) as engine:
        yield engine


def test_each_worker_process_registers_and_a_clean_stop_removes_them(
    eng: Engine, db_url: str, launcher: Launcher
) -> None:
    config = WorkerConfig(db_url, concurrency=3, lease_s=LEASE_S, shutdown_grace_s=2.0,
                          engine_settings={"app": eng.app})  # fmt: skip
    supervisor = WorkerProcesses(config, processes=2, engine=eng, launcher=launcher).start()
    try:
        found = registered(eng, 2)
        pids = set(supervisor.pids())
    finally:
        supervisor.stop(timeout_s=20)
    assert {w.pid for w in found} == pids and os.getpid() not in pids
    assert [(w.slots, w.apps, w.lease_s) for w in found] == [(3, [eng.app], LEASE_S)] * 2
    assert list_workers(eng) == []


def _pruned_on_time(eng: Engine, clock: ManualClock, dead: WorkerInfo) -> None:
    """``dead``'s row stays until PRUNED_AFTER_LEASES lease periods after its last heartbeat."""
    last_seen = to_ms(dead.last_seen_at) or 0
    clock.advance(last_seen + PRUNED_AFTER_LEASES * LEASE_MS - clock.now_ms())
    assert eng.prune().workers == 0
    assert [w.id for w in list_workers(eng)] == [dead.id]
    clock.advance(1)
    assert eng.prune().workers == 1
    assert list_workers(eng) == []


def test_a_killed_worker_process_shows_gone_at_once_when_reaped_then_is_pruned(
    eng: Engine, db_url: str, clock: ManualClock, launcher: Launcher
) -> None:
    """Its supervisor reaps it and marks its row gone: no lease periods to wait (before,
    the row read alive for GONE_AFTER_LEASES lease periods after the kill)."""
    config = WorkerConfig(db_url, concurrency=2, lease_s=LEASE_S, shutdown_grace_s=2.0,
                          engine_settings={"app": eng.app})  # fmt: skip
    supervisor = WorkerProcesses(config, processes=1, engine=eng, launcher=launcher).start()
    try:
        [first] = registered(eng, 1)
        os.kill(first.pid, signal.SIGKILL)
        dead = shown_gone(eng, first.id)  # once the supervisor reaped it (its watcher thread)
        assert (dead.pid, dead.busy, dead.job_ids) == (first.pid, 0, [])
        assert dead.last_seen_at >= first.last_seen_at  # its last heartbeat, kept
    finally:
        supervisor.stop(timeout_s=20)  # (its replacement stops cleanly: its row goes)
    assert [w.id for w in list_workers(eng)] == [first.id]
    _pruned_on_time(eng, clock, dead)


def test_a_worker_process_that_died_with_its_supervisor_shows_gone_after_n_lease_periods(
    eng: Engine, db_url: str, clock: ManualClock, launcher: Launcher
) -> None:
    """Nobody reaped it (its supervisor was stopped, then both were killed, as when their
    machine goes): the row reads alive until GONE_AFTER_LEASES lease periods passed since its
    last heartbeat, gone after, and is pruned past PRUNED_AFTER_LEASES."""
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "sysjobs.cli", "worker", "--db", db_url, "--concurrency", "1",
         "--slots", "1", "--lease", str(LEASE_S), "--setup",
         "tests.integration.engine.jobtypes:register", "--runner", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        [first] = registered(eng, 1)
        os.kill(supervisor.pid, signal.SIGSTOP)  # it can reap nothing now
        os.kill(first.pid, signal.SIGKILL)
    finally:
        supervisor.kill()
        supervisor.wait(timeout=20)
    [dead] = list_workers(eng)
    assert dead.id == first.id and dead.pid == first.pid
    last_seen = to_ms(dead.last_seen_at) or 0
    clock.advance(last_seen + GONE_AFTER_LEASES * LEASE_MS - clock.now_ms())
    assert [w.state for w in list_workers(eng)] == ["alive"]
    clock.advance(1)
    assert [w.state for w in list_workers(eng)] == ["gone"]
    assert eng.prune().workers == 0
    _pruned_on_time(eng, clock, dead)
