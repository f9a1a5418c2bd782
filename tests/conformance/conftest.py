"""Fixtures of the spec-sentence tests: every test runs on SQLite and on PostgreSQL through
the engine owner's ``engine`` fixture (``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine

from .helpers import JS, Jobs, register_public_types


@pytest.fixture
def jobs_engine(engine: Engine) -> Engine:
    register_public_types(engine)
    return engine


@pytest.fixture
def js(jobs_engine: Engine) -> Iterator[JS]:
    runner = JS(jobs_engine)
    yield runner
    runner.close()


@pytest.fixture
def jobs(jobs_engine: Engine) -> Jobs:
    return Jobs(jobs_engine)
