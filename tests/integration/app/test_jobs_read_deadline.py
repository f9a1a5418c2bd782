"""``sys.jobs.find`` and ``sys.jobs.logs`` stop at the script's deadline, on SQLite and
PostgreSQL, like ``sys.data``'s reads (``test_query_deadline.py``).

The attack: a job whose log holds many long lines, read with a ``message`` filter that
matches nowhere but makes every line's comparison slow. V8 cannot interrupt Python, so
without a bound the host call holds the worker (and the GIL) until the database has
scanned the whole log. The binding runs each query — the first page, each later page,
``count()`` — under ``Engine.reads_until(deadline)``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.bindings.jobs_args import LogsArgs
from sysjobs.errors import Timeout
from sysjobs.runtime.namespace import CallContext
from tests.integration.app.conftest import AppEnv, make_env

#: Every trigram of it is in the lines below (PostgreSQL's trigram index cannot rule a
#: line out), yet it matches none: each line's comparison walks the whole line.
SLOW_MESSAGE = "ab" * 400 + "zab"
#: ``ab…ab`` then ``zbzab``: holds SLOW_MESSAGE's trigrams, never SLOW_MESSAGE.
LONG_LINE = "ab" * 30_000 + "zbzab"
LINES = 60


def _with_long_log(url: str) -> Iterator[tuple[AppEnv, str]]:
    env = make_env(url, workers=False)
    job_id = env.engine.enqueue("EXPORT_USERS", {}).id
    for i in range(LINES):
        env.engine.log_info(job_id, f"{LONG_LINE} {i}")
    yield env, job_id
    env.close()


@pytest.fixture(scope="module")
def long_log(module_db_url: str) -> Iterator[tuple[AppEnv, str]]:
    """A job whose log holds 60 lines of 60 KB, for the module's tests that only read it
    (writing them per test was most of the module's CPU)."""
    yield from _with_long_log(module_db_url)


@pytest.fixture
def own_long_log(app_url: str) -> Iterator[tuple[AppEnv, str]]:
    """``long_log`` on a database of its own, for a test that adds jobs."""
    yield from _with_long_log(app_url)


def _op(env: AppEnv, name: str) -> Any:
    return {op.name: op for op in jobs_namespace(env.engine).operations}[name].handler


def test_a_slow_logs_message_filter_ends_with_timeout_at_the_deadline(
    long_log: tuple[AppEnv, str],
) -> None:
    env, job_id = long_log
    ctx = CallContext(deadline=time.monotonic() + 0.05)
    with pytest.raises(Timeout, match="time limit"):
        _op(env, "logs")(ctx, LogsArgs(jobId=job_id, query={"message": SLOW_MESSAGE}))
    ctx.close()


def test_job_logs_of_a_job_object_ends_with_timeout_at_the_deadline(
    long_log: tuple[AppEnv, str],
) -> None:
    env, job_id = long_log
    ctx = CallContext(deadline=time.monotonic() + 0.05)
    with pytest.raises(Timeout, match="time limit"):
        _op(env, "jobLogs")(ctx, LogsArgs(jobId=job_id, query={"message": SLOW_MESSAGE}))
    ctx.close()


def test_the_same_filter_answers_within_a_generous_deadline(long_log: tuple[AppEnv, str]) -> None:
    env, job_id = long_log
    ctx = CallContext(deadline=time.monotonic() + 600)
    handle = _op(env, "logs")(ctx, LogsArgs(jobId=job_id, query={"message": "abzbzab 7"}))
    assert [line["message"].endswith(" 7") for line in handle["items"]] == [True]
    ctx.close()


def test_a_scripts_slow_logs_read_is_cut_at_its_time_limit(long_log: tuple[AppEnv, str]) -> None:
    env, job_id = long_log
    source = f"sys.jobs.logs('{job_id}', {{message: '{SLOW_MESSAGE}'}}).count()"
    result = env.runner.sandbox.run(source, timeout_s=0.05)
    assert result.error is not None and result.error.code == "timeout", result.error
    after = env.runner.sandbox.run(f"sys.jobs.logs('{job_id}', {{}}).count()", timeout_s=60)
    assert after.ok and after.value == LINES, "the host and its connections go on"


def test_every_query_of_find_and_logs_runs_under_the_scripts_deadline(
    own_long_log: tuple[AppEnv, str],
) -> None:
    # Each statement the database runs while the script pages through results and counts
    # them is issued with the script's deadline in force (the page calls come later, in
    # host calls of their own).
    env, job_id = own_long_log
    env.engine.enqueue_many("EXPORT_USERS", [{}] * 250)
    database = env.engine.database
    seen: list[tuple[str, float | None]] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append((statement, getattr(database._deadline, "at", None)))

    sa.event.listen(database.engine, "before_cursor_execute", record)
    try:
        source = f"""
            var jobs = sys.jobs.find({{type: 'EXPORT_USERS'}}), n = 0;
            while (jobs.hasNext()) {{ jobs.next(); n++; }}
            var lines = sys.jobs.findById('{job_id}').logs({{level: 'INFO'}}), m = 0;
            while (lines.hasNext()) {{ lines.next(); m++; }}
            [n, jobs.count(), m, lines.count()]"""
        result = env.runner.sandbox.run(source, timeout_s=60)
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", record)
    assert result.ok and result.value == [251, 251, LINES, LINES], result.error
    listing = [(s, at) for s, at in seen if "ORDER BY" in s or "count(" in s.lower()]
    assert len(listing) >= 5, seen  # two pages of jobs, one of lines, two counts
    assert all(at is not None for _, at in listing), listing
