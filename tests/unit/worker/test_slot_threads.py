"""SlotThreads: threads started ahead, each running the work handed to it, parked between.

A slot thread's stack is mapped when the thread starts; started with the pool, before any
script runs, it is never counted by a run's data-growth window (``sysjobs.worker.slots``).
Each case waits on events and joins, never on the clock.
"""

from __future__ import annotations

import threading

from sysjobs.worker.slots import SlotThreads


class Recorder:
    """Runs items: records the thread that ran each, can hold an item until released."""

    def __init__(self) -> None:
        self.ran: dict[int, int] = {}
        self.started: dict[int, int] = {}
        self.entered = threading.Semaphore(0)
        self.done = threading.Semaphore(0)
        self.hold: dict[int, threading.Event] = {}
        self.lock = threading.Lock()

    def __call__(self, item: int) -> None:
        with self.lock:
            self.started[item] = threading.get_ident()
        self.entered.release()
        if item in self.hold:
            self.hold[item].wait()
        with self.lock:
            self.ran[item] = threading.get_ident()
        self.done.release()

    def wait_for(self, count: int) -> None:
        for _ in range(count):
            assert self.done.acquire(timeout=30), "an item handed over never ran"


def _named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix + "-")]


def _wait_parked(slots: SlotThreads[int], count: int) -> None:
    assert slots.wait_parked(count, timeout_s=30), f"{count} threads never parked"


def test_threads_started_ahead_run_the_items_and_no_other_thread_starts() -> None:
    record = Recorder()
    slots: SlotThreads[int] = SlotThreads(record, "test-ahead")
    slots.start(3)
    assert slots.parked() == 3, "started threads are parked as soon as start() returns"
    started = {t.ident for t in _named("test-ahead")}
    assert len(started) == 3
    for item in range(50):
        slots.hand(item)
        record.wait_for(1)
    assert set(record.ran) == set(range(50))
    assert set(record.ran.values()) <= started, "every item ran in a thread started ahead"
    assert {t.ident for t in _named("test-ahead")} == started
    slots.close()


def test_a_thread_parks_after_its_item_and_takes_the_next_one() -> None:
    record = Recorder()
    slots: SlotThreads[int] = SlotThreads(record, "test-park")
    slots.start(1)
    _wait_parked(slots, 1)
    slots.hand(1)
    record.wait_for(1)
    _wait_parked(slots, 1)
    slots.hand(2)
    record.wait_for(1)
    assert record.ran[1] == record.ran[2]
    slots.close()


def test_with_every_thread_busy_an_item_gets_a_new_thread() -> None:
    record = Recorder()
    record.hold[1] = threading.Event()
    slots: SlotThreads[int] = SlotThreads(record, "test-busy")
    slots.start(1)
    _wait_parked(slots, 1)
    slots.hand(1)  # the only thread is held by it
    slots.hand(2)
    record.wait_for(1)
    assert 2 in record.ran and 1 not in record.ran
    record.hold[1].set()
    record.wait_for(1)
    assert record.ran[1] != record.ran[2]
    assert len(_named("test-busy")) == 2
    slots.close()


def test_closing_ends_the_parked_threads_and_a_busy_one_once_its_item_is_done() -> None:
    record = Recorder()
    record.hold[1] = threading.Event()
    slots: SlotThreads[int] = SlotThreads(record, "test-close")
    slots.start(3)
    slots.hand(1)
    threads = _named("test-close")
    assert record.entered.acquire(timeout=30), "the held item started"
    slots.close()
    busy = [t for t in threads if t.ident == record.started[1]]
    for t in threads:
        if t not in busy:
            t.join(timeout=30)
    assert sum(t.is_alive() for t in threads) == 1, "only the busy thread is left"
    assert not record.ran, "the held item is still running"
    record.hold[1].set()
    for t in busy:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert slots.parked() == 0


def test_an_item_handed_after_closing_runs_in_a_thread_that_then_ends() -> None:
    record = Recorder()
    slots: SlotThreads[int] = SlotThreads(record, "test-late")
    slots.close()
    slots.hand(7)
    record.wait_for(1)
    for t in _named("test-late"):
        t.join(timeout=30)
    assert 7 in record.ran
    assert not _named("test-late")


def test_join_returns_once_the_threads_closing_woke_have_ended() -> None:
    record = Recorder()
    slots: SlotThreads[int] = SlotThreads(record, "test-join")
    slots.start(4)
    threads = _named("test-join")
    slots.close()
    slots.join(timeout_s=30)
    assert len(threads) == 4
    assert not any(t.is_alive() for t in threads)
