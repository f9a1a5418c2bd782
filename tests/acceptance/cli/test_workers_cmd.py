"""``sysjobs workers`` and the workers section of ``jobs stats``: the registry as a table and
as the dashboard API's JSON — the running pool with its slots, busy slots and apps, a dead
worker shown gone, other apps' workers with ``--all-apps``."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import pytest

from sysjobs.cli import stats_cmd
from sysjobs.host import Host
from sysjobs.jobs.workers import WorkerInfo, list_workers
from sysjobs.worker import WorkerPool
from sysjobs.worker.served import ServedApp
from tests.acceptance.cli.conftest import Cli
from tests.acceptance.web.test_api_workers import gone_worker
from tests.acceptance.worker.waits import wait_for


def workers_json(cli: Cli, *args: str) -> dict[str, Any]:
    done = cli("workers", "--json", *args)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def _busy_row(host: Host) -> WorkerInfo | None:
    return next((w for w in list_workers(host.engine) if w.busy == 1), None)


def test_workers_lists_the_running_pool_as_a_table_and_as_json(cli: Cli, host: Host) -> None:
    with host.workers(3, in_process=True) as pool:  # trusted test job types
        table = cli("workers")
        body = workers_json(cli)
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()
    assert any(all(c in line for c in ("HOST", "PID", "SLOTS", "BUSY", "QUEUES", "APPS",
                                       "LAST SEEN", "STATE")) for line in header)  # fmt: skip
    assert socket.gethostname() in table.stdout and str(os.getpid()) in table.stdout
    assert "alive" in table.stdout and "1 alive, 1 listed" in table.stdout
    [worker] = body["workers"]
    assert worker["id"] == pool.owner and worker["slots"] == 3 and worker["busy"] == 0
    assert body["app"] == host.engine.app == worker["apps"][0]
    assert workers_json(cli)["workers"] == []  # stopped cleanly: gone from the registry


def test_workers_shows_a_busy_pool_and_a_gone_worker(cli: Cli, host: Host) -> None:
    dead = gone_worker(host)
    job = host.engine.enqueue("STEPS", {"steps": 400, "step_s": 0.05})
    with host.workers(2, in_process=True) as pool:  # trusted test job types
        host.engine.wait(job.id, "RUNNING", 30)
        # The row says busy at the pool's next registry write (its heartbeat): waited for on
        # the engine's wake-ups, then read by the command.
        wait_for(host.engine, lambda: _busy_row(host), "a busy registry row")
        body = workers_json(cli, "--state", "alive")
        assert body["workers"][0]["busy"] == 1, body
        gone = workers_json(cli, "--state", "gone")
        table = cli("workers").stdout
        host.engine.cancel(job.id)
    assert [w["id"] for w in body["workers"]] == [pool.owner]
    assert body["workers"][0]["jobIds"] == [job.id]
    assert [w["id"] for w in gone["workers"]] == [dead]
    assert "gone" in table and "1 alive, 2 listed" in table


def test_all_apps_lists_the_workers_of_other_apps_too(cli: Cli, host: Host) -> None:
    other = WorkerPool(host.engine, concurrency=1,
                       apps={"billing": ServedApp(host.engine.for_app("billing"))})
    with other, host.workers(1, in_process=True) as mine:  # trusted test job types
        own = [w["id"] for w in workers_json(cli)["workers"]]
        every = workers_json(cli, "--all-apps")
    assert own == [mine.owner]
    assert every["app"] == "*" and {w["id"] for w in every["workers"]} == {mine.owner, other.owner}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # refused before it is opened
@pytest.mark.parametrize("state", ["dead", "ALIVE", "", "\ud800"])
def test_a_bad_state_is_refused_naming_the_flag(cli: Cli, state: str) -> None:
    done = cli("workers", "--state", state)
    assert done.returncode == 2 and "--state" in done.stderr and "Traceback" not in done.stderr


def test_jobs_stats_shows_the_workers_section(cli: Cli, host: Host) -> None:
    with host.workers(2, in_process=True) as pool:  # trusted test job types
        text = cli("jobs", "stats").stdout
        stats = json.loads(cli("jobs", "stats", "--json").stdout)
    assert "Workers" in text and "alive" in text and socket.gethostname() in text
    assert [(w["id"], w["slots"]) for w in stats["workers"]] == [(pool.owner, 2)]
    empty = cli("jobs", "stats").stdout
    assert "no worker has registered" in empty


def test_jobs_stats_watch_redraws_the_workers_section(
    cli: Cli, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[WorkerPool] = []

    def pause(_seconds: float) -> None:  # between two frames, a pool starts
        started.append(WorkerPool(host.engine, concurrency=4).start())

    monkeypatch.setattr(stats_cmd, "pause", pause)
    try:
        done = cli("jobs", "stats", "--watch", "--count", "2")
    finally:
        for pool in started:
            pool.stop()
    frames = done.stdout.split("Ctrl-C to stop")
    assert done.returncode == 0 and len(frames) == 3
    assert "no worker has registered" in frames[1] and "1 alive, 1 listed" in frames[2]
