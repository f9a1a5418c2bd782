"""A query a script starts stops at the script's deadline, on SQLite and PostgreSQL.

V8 cannot interrupt Python: a host call running a ``like()`` over long stored text (a 3 s
job once ran 29 s, holding the GIL) keeps its isolate — and every other thread of the
process — waiting until the database returns. Each ``sys.data`` read runs under the
script's deadline (SQLite: a progress handler; PostgreSQL: ``statement_timeout``), so such
a query ends with ``timeout`` at that deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sysjobs.app.records import Record
from sysjobs.errors import Timeout
from tests.integration.app.conftest import AppEnv, make_env

#: A pattern that matches nowhere, over text long enough for the scan to take a while.
SLOW_COUNT = {"name": "like(" + "ab" * 400 + "z)"}


@pytest.fixture(scope="module")
def long_texts(module_db_url: str) -> Iterator[AppEnv]:
    """The demo app with 60 companies of 200 KB names, for the module's tests: each only
    reads them (saving 12 MB per test was most of the module's CPU)."""
    env = make_env(module_db_url, workers=False)
    for i in range(60):
        env.app.records.save(Record("companies", {"name": "ab" * 100_000 + str(i)}))
    yield env
    env.close()


def test_a_query_past_the_scripts_deadline_ends_with_timeout(long_texts: AppEnv) -> None:
    with pytest.raises(Timeout), long_texts.engine.reads_until(time.monotonic() + 0.001):
        long_texts.app.records.count("companies", SLOW_COUNT)


def test_a_query_within_the_deadline_answers(long_texts: AppEnv) -> None:
    with long_texts.engine.reads_until(time.monotonic() + 600):
        assert long_texts.app.records.count("companies", {"name": "like(ab)"}) >= 60


def test_a_scripts_slow_like_is_cut_at_its_time_limit(long_texts: AppEnv) -> None:
    source = "sys.data.count('companies', {name: 'like(' + 'ab'.repeat(400) + 'z)'})"
    result = long_texts.runner.sandbox.run(source, timeout_s=0.05)
    # The host call ends with ``timeout`` at the script's deadline (thrown into the script,
    # or the run's own limit when V8's timer is first): never a late answer.
    assert result.error is not None and result.error.code == "timeout", result.error
    after = long_texts.runner.sandbox.run("sys.data.count('companies', {})", timeout_s=60)
    assert after.ok and after.value >= 60, "the host and its database connections go on"
