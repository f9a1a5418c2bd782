"""An action over a chunk of records runs every record in one V8 call, each record a run of
its own (``Session.run_each``). Between two records the host takes the first one's report —
its pending writes flushed, the stop check — while that call is still open. The time the
host spends there is no record's: the record before has ended, the next has not started.
A record that used most of its time limit, followed by a slow report (a loaded database),
must not leave the next record failed with ``timeout`` — never run at all."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import Limits, RunResult, Sandbox

#: A record's time limit in these tests, and how long a report takes: longer than a whole
#: limit (by half of one), so a next record charged with it would have no time left. The
#: report sleeps (it stands for a loaded database's writes): the wall time is the test's.
LIMIT_S = 0.5
SLOW_REPORT_S = 1.5 * LIMIT_S


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(core_namespaces(), Limits(timeout_s=LIMIT_S), pool_size=0)
    yield sb
    sb.close()


def _run(sandbox: Sandbox, source: str, slow_after: set[int]) -> list[tuple[int, str, object]]:
    seen: list[tuple[int, str, object]] = []

    def on_item(index: int, result: RunResult) -> bool:
        seen.append((index, str(result.outcome), result.value))
        if index in slow_after:
            time.sleep(SLOW_REPORT_S)  # the report's writes outlast the record's time limit
        return True

    with sandbox.session() as session:
        session.run_each(source, [{"n": i} for i in range(4)], on_item)
    return seen


def test_a_slow_report_leaves_the_next_record_its_whole_time_limit(sandbox: Sandbox) -> None:
    assert _run(sandbox, "n", {0, 2}) == [(0, "ok", 0), (1, "ok", 1), (2, "ok", 2), (3, "ok", 3)]


def test_a_record_that_used_most_of_its_time_and_reports_slowly_fails_no_other(
    sandbox: Sandbox,
) -> None:
    source = f"var end = Date.now() + {int(LIMIT_S * 600)}; while (Date.now() < end) {{}} n"
    assert _run(sandbox, source, {1}) == [(0, "ok", 0), (1, "ok", 1), (2, "ok", 2), (3, "ok", 3)]


def test_a_record_that_loops_still_times_out_after_a_slow_report(sandbox: Sandbox) -> None:
    source = "if (n === 2) { while (true) {} } n"
    assert _run(sandbox, source, {1}) == [(0, "ok", 0), (1, "ok", 1), (2, "timeout", None),
                                          (3, "ok", 3)]  # fmt: skip
