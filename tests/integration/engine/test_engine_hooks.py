"""Lifecycle hooks see enqueue, user verbs, start and end; a failing hook harms nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, Job
from sysjobs.jobs.hooks import EngineHooks
from tests.integration.engine.helpers import open_engine, running_pool


class Recorder(EngineHooks):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def job_enqueued(self, job: Job) -> None:
        self.seen.append(("enqueued", job.status))

    def job_changed(self, job: Job, verb: str) -> None:
        self.seen.append((verb, job.status))

    def job_started(self, job: Job, owner: str) -> None:
        self.seen.append(("started", job.status))

    def job_ended(self, job: Job | None, job_id: str, owner: str) -> None:
        self.seen.append(("ended", job.status if job else "lost"))


class Broken(EngineHooks):
    def job_enqueued(self, job: Job) -> None:
        raise RuntimeError("hook bug")


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine and pool they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url) as engine:
        yield engine


def test_hooks_follow_a_job_from_enqueue_to_its_end(eng: Engine) -> None:
    recorder = Recorder()
    eng.hooks.append(recorder)
    job = eng.enqueue("NOOP", {})
    canceled = eng.enqueue("NOOP", {})
    eng.cancel(canceled.id)
    with running_pool(eng):
        eng.wait(job.id, ["FINISHED"], 10)
    assert recorder.seen == [
        ("enqueued", "PENDING"), ("enqueued", "PENDING"), ("cancel", "CANCELED"),
        ("started", "RUNNING"), ("ended", "FINISHED"),
    ]  # fmt: skip


def test_a_failing_hook_is_logged_and_the_job_is_created_anyway(eng: Engine) -> None:
    eng.hooks.append(Broken())
    job = eng.enqueue("NOOP", {})
    assert eng.require(job.id).status == "PENDING"
