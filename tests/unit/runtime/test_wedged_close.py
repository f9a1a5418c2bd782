"""Closing a context wedged by a microtask loop left running after the run's deadline.

Nothing queued behind such a loop ever runs, and cancelling a task does not stop it (it runs
between tasks): only freeing the context does (mini-racer terminates the execution, then
disposes of the isolate and joins its thread). So the close queues nothing behind the loop
and frees the context at once; the context is never reused, and nothing of it outlives the
close.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.runtime import Outcome, Sandbox
from sysjobs.runtime.bridge import Bridge, context_count

LOOPS = {
    "then chain": "Promise.resolve().then(function f() { Promise.resolve().then(f); }); 1",
    "returned then chain": (
        "Promise.resolve().then(function loop() { return Promise.resolve().then(loop); }); 1"
    ),
    "await loop": "(async () => { while (true) { await 0 } })(); 1",
}


@pytest.fixture
def posts_while_closing(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Bridge]]:
    """Every task a bridge posts while it is closing (one entry per post)."""
    posts: list[Bridge] = []
    closing: set[int] = set()
    post, close = Bridge._post, Bridge.close

    def counting_post(self: Bridge, start: Any) -> Any:
        if id(self) in closing:
            posts.append(self)
        return post(self, start)

    def tracked_close(self: Bridge) -> None:
        closing.add(id(self))
        try:
            close(self)
        finally:
            closing.discard(id(self))

    monkeypatch.setattr(Bridge, "_post", counting_post)
    monkeypatch.setattr(Bridge, "close", tracked_close)
    yield posts


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.parametrize("script", list(LOOPS.values()), ids=list(LOOPS))
def test_a_wedged_context_is_freed_without_queueing_anything_behind_its_loop(
    sandbox: Sandbox, posts_while_closing: list[Bridge], script: str
) -> None:
    alive = context_count()
    assert sandbox.run(script, timeout_s=0.2).outcome is Outcome.TIMEOUT
    assert posts_while_closing == [], "a call queued behind the loop could never run"
    assert context_count() == alive, "the wedged context was freed, its V8 stopped"
    probe = sandbox.run("[typeof f, typeof loop, 1]")
    assert probe.value == ["undefined", "undefined", 1]
    assert sandbox.counts == {"built": 2, "reused": 0, "rejected": 0}


def test_a_context_that_ended_cleanly_still_releases_its_pinned_thread_state(
    sandbox: Sandbox, posts_while_closing: list[Bridge]
) -> None:
    """The release is skipped only for a wedged isolate: an idle one runs it at once."""
    assert sandbox.run("1").value == 1
    sandbox.close()
    assert len(posts_while_closing) == 1


def test_twenty_wedged_runs_leave_no_context_and_no_thread_behind(sandbox: Sandbox) -> None:
    assert sandbox.run("1").value == 1  # the process's shared threads are started
    contexts, threads = context_count(), _os_threads()
    for _ in range(20):
        assert sandbox.run(LOOPS["then chain"], timeout_s=0.05).outcome is Outcome.TIMEOUT
    assert sandbox.run("1").value == 1
    assert context_count() == contexts
    assert _os_threads() <= threads
    # The clean context served the first loop; each wedged one was discarded, never reused.
    assert sandbox.counts == {"built": 21, "reused": 1, "rejected": 0}
