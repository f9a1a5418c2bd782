"""Opt-in plugin: the CPU each test costs, to see where the suite's time goes.

    SYSJOBS_TEST_CPU=/tmp/cpu.tsv pytest -p tests.cpu_per_test -n 2 …
    sort -rn /tmp/cpu.tsv | head -30

Wall time says little on a shared machine; CPU says what a test costs. Each line is
``cpu_s<TAB>wall_s<TAB>nodeid``: the CPU of the test process and of the children it reaped
during the test (worker processes, CLI runs, Chromium, ``initdb``) from setup to teardown. A
module- or session-scoped fixture is charged to the test that set it up or tore it down; the
PostgreSQL server's own processes are not children of the test and are not counted.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator

import pytest


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
