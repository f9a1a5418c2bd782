"""GroupFinisher: ends that arrive while a write is under way are written together."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import cast

import pytest

from sysjobs.jobs import Claimed, FinishRequest, Lease, Outcome
from sysjobs.worker.finishing import Ended, GroupFinisher


def _request(n: int) -> FinishRequest:
    return FinishRequest(Lease(f"{n:024x}", "w1", 1), Outcome.COMPLETED)


class SlowWriter:
    """Records each batch; the first write blocks until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def __call__(self, requests: Sequence[FinishRequest]) -> list[Ended]:
        self.batches.append([r.lease.job_id for r in requests])
        if len(self.batches) == 1:
            self.first_started.set()
            self.release.wait(5)
        if self.fail:
            raise ConnectionError("database away")
        return [(None, []) for _ in requests]


def _finish_in_thread(finisher: GroupFinisher, n: int, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            finisher.finish(_request(n))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_lone_end_is_written_at_once_on_its_own() -> None:
    writer = SlowWriter()
    writer.release.set()
    assert GroupFinisher(writer).finish(_request(1)) == (None, [])
    assert writer.batches == [[f"{1:024x}"]]


def test_ends_that_arrive_during_a_write_share_the_next_transaction() -> None:
    writer = SlowWriter()
    finisher = GroupFinisher(writer)
    errors: list[BaseException] = []
    first = _finish_in_thread(finisher, 1, errors)
    assert writer.first_started.wait(5)
    others = [_finish_in_thread(finisher, n, errors) for n in (2, 3, 4)]
    while len(finisher._queue) < 3:  # all three queued behind the running write
        threading.Event().wait(0.01)
    writer.release.set()
    for thread in (first, *others):
        thread.join(5)
    assert not errors
    assert writer.batches[0] == [f"{1:024x}"]
    assert sorted(writer.batches[1]) == [f"{n:024x}" for n in (2, 3, 4)]


def test_a_failed_write_raises_in_every_thread_of_its_batch() -> None:
    writer = SlowWriter()
    writer.fail = True
    finisher = GroupFinisher(writer)
    errors: list[BaseException] = []
    first = _finish_in_thread(finisher, 1, errors)
    assert writer.first_started.wait(5)
    others = [_finish_in_thread(finisher, n, errors) for n in (2, 3)]
    while len(finisher._queue) < 2:
        threading.Event().wait(0.01)
    writer.release.set()
    for thread in (first, *others):
        thread.join(5)
    assert len(errors) == 3 and all(isinstance(e, ConnectionError) for e in errors)
    with pytest.raises(ConnectionError):
        finisher.finish(_request(9))


def test_many_threads_each_get_their_own_end_written_exactly_once() -> None:
    """Eight threads finishing 200 jobs each, batches forming and handing over the writing:
    every end is written once, every thread gets its own result, and the finisher ends
    idle (the next lone end is written at once)."""
    written: list[str] = []

    def write(requests: Sequence[FinishRequest]) -> list[Ended]:
        written.extend(r.lease.job_id for r in requests)
        return [(None, [cast(Claimed, r.lease.job_id)]) for r in requests]

    finisher = GroupFinisher(write)
    wrong: list[int] = []

    def run(worker: int) -> None:
        for i in range(200):
            n = worker * 1_000 + i
            if finisher.finish(_request(n))[1] != [f"{n:024x}"]:
                wrong.append(n)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not wrong
    assert sorted(written) == sorted(f"{w * 1_000 + i:024x}" for w in range(8) for i in range(200))
    assert not finisher._writing and not finisher._queue
    assert finisher.finish(_request(99_999))[1] == [f"{99_999:024x}"]
