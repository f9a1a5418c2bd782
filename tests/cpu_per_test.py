"""Opt-in plugin: the CPU each test costs, to see where the suite's time goes.

    SYSJOBS_TEST_CPU=/tmp/cpu.tsv pytest -p tests.cpu_per_test -n 2 …
    sort -rn /tmp/cpu.tsv | head -30

Wall time says little on a shared machine; CPU says what a test costs. Each line is
``cpu_s<TAB>wall_s<TAB>nodeid``: the CPU of the test process and of the children it reaped
during the test (worker processes, CLI runs, Chromium, ``initdb``) from setup to teardown. A
module- or session-scoped fixture is charged to the test that set it up or tore it down; the
PostgreSQL server's own processes are not children of the test and are not counted.

Two more lines close the file, written by the run's controller (the process that runs no test
under ``-n``), with ``-`` for a node id's place:

* ``machine``: every process's CPU from ``/proc/stat`` (user, nice, system, irq, softirq)
  between the run's start and end, and its wall time — what the two cores did, the
  PostgreSQL server, Chromium's reaped helpers and the kernel's threads included;
* ``server``: the shared PostgreSQL cluster's processes (``tests/pgshared.py``): the
  postmaster's own CPU, its ended backends' (``cutime``/``cstime``) and its live children's.

The per-test lines alone read ~1.5 of two cores used (2026-12-07); the ``machine`` line read
the same runs at ~95 % of both: the rest of the machine's CPU is the server's and the kernel's.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pgshared

#: ``/proc/stat``'s busy columns on its ``cpu`` line: user, nice, system, irq, softirq.
BUSY_COLUMNS = (1, 2, 3, 6, 7)
START_KEY = pytest.StashKey[tuple[float, float]]()


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    cpu, wall = _cpu_s(), time.monotonic()
    yield
    out = os.environ.get("SYSJOBS_TEST_CPU")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(f"{_cpu_s() - cpu:.3f}\t{time.monotonic() - wall:.3f}\t{item.nodeid}\n")


def _machine_busy_s() -> float:
    with open("/proc/stat", encoding="ascii") as f:
        fields = f.readline().split()
    return sum(int(fields[i]) for i in BUSY_COLUMNS) / os.sysconf("SC_CLK_TCK")


def _process_cpu_s(pid: int, *, with_ended_children: bool) -> float:
    """``pid``'s user + system CPU (and its reaped children's), 0 if it has gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = fields[11:15] if with_ended_children else fields[11:13]
    return sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")


def _server_cpu_s(config: pytest.Config) -> float | None:
    """The shared cluster's CPU so far, or None when this run started none."""
    folder = pgshared.controller_folder(config)
    state = None if folder is None else folder / pgshared.STATE
    if state is None or not state.exists():
        return None
    data = Path(json.loads(state.read_text(encoding="utf-8"))["data"])
    postmaster = int((data / "postmaster.pid").read_text(encoding="ascii").split()[0])
    live = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == postmaster]
    return _process_cpu_s(postmaster, with_ended_children=True) + sum(
        _process_cpu_s(pid, with_ended_children=False) for pid in live
    )


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("SYSJOBS_TEST_CPU") and not hasattr(session.config, "workerinput"):
        session.config.stash[START_KEY] = (_machine_busy_s(), time.monotonic())


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py's stops the shared cluster
def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("SYSJOBS_TEST_CPU")
    start = session.config.stash.get(START_KEY, None)
    if not out or start is None:
        return
    busy, wall = start
    with open(out, "a", encoding="utf-8") as f:
        f.write(f"{_machine_busy_s() - busy:.3f}\t{time.monotonic() - wall:.3f}\t- machine\n")
        server = _server_cpu_s(session.config)
        if server is not None:
            f.write(f"{server:.3f}\t0\t- server\n")
