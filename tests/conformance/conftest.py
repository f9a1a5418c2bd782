"""Fixtures of the spec-sentence tests: every test runs on SQLite and on PostgreSQL.

A module's tests share one database per backend, one engine on it and one sandbox over that
engine, and the database is emptied before each test (``reused_db_url``,
``tests/emptying.py``): a test sees exactly what a new database holds, as it did when each
opened its own — which was most of a short test's CPU. Tests that open engines or hosts of
their own on ``db_url`` open them on that emptied database and close them before they end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine

from .helpers import JS, Jobs, register_public_types


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test."""
    return reused_db_url


@pytest.fixture(scope="module")
def shared_engine(module_db_url: str) -> Iterator[Engine]:
    """One engine with every public job type, for the module's tests."""
    opened = Engine.open(module_db_url)
    register_public_types(opened)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def shared_js(shared_engine: Engine) -> Iterator[JS]:
    """One sandbox over ``shared_engine``: its contexts are recycled only when proven clean,
    as a worker's are (``sysjobs/runtime/sandbox.py``)."""
    runner = JS(shared_engine)
    yield runner
    runner.close()


@pytest.fixture
def engine(db_url: str, shared_engine: Engine) -> Engine:
    """The module's engine, on its database emptied for this test."""
    return shared_engine


@pytest.fixture
def jobs_engine(engine: Engine) -> Engine:
    return engine


@pytest.fixture
def js(engine: Engine, shared_js: JS) -> JS:
    return shared_js


@pytest.fixture
def jobs(jobs_engine: Engine) -> Jobs:
    return Jobs(jobs_engine)
