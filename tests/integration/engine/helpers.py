"""Helpers shared by the engine tests: engines with test timings and a running pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sysjobs.jobs import Engine, EngineSettings
from sysjobs.worker import WorkerPool
from tests.integration.engine.jobtypes import register

#: Short timings so recovery and forcing happen within a test's patience.
FAST = EngineSettings(lease_s=1.0, stop_grace_s=0.5, low_priority_ageing_s=60.0)


@contextmanager
def open_engine(url: str, settings: EngineSettings = FAST) -> Iterator[Engine]:
    """An engine with the test job types registered."""
    engine = Engine.open(url, settings=settings)
    register(engine)
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def running_pool(engine: Engine, concurrency: int = 4, **options: object) -> Iterator[WorkerPool]:
    """An in-process pool, stopped (gracefully) at the end."""
    pool = WorkerPool(engine, concurrency=concurrency, **options)  # type: ignore[arg-type]
    pool.start()
    try:
        yield pool
    finally:
        pool.stop(grace_s=2.0)
