"""Fixtures of the engine's integration tests that several modules share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, EngineSettings
from tests.integration.engine.helpers import ManualClock, open_engine


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves (a module may define its own)."""
    return ManualClock()


@pytest.fixture
def clocked_engine(db_url: str, clock: ManualClock) -> Iterator[Engine]:
    """An engine, the test job types registered, whose every stamp comes from ``clock``: rows
    the test writes one after another are as far apart as it says, not as the wall clock
    happened to tick."""
    with open_engine(db_url, EngineSettings(clock=clock)) as opened:
        yield opened
