"""The canary that ends every run: queued right behind the run's call, it runs once the call
and every microtask it left have run — and it vouches only for the calls before it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.runtime.bridge import Bridge, ScriptTimeout

LOOP = "Promise.resolve().then(function loop() { return Promise.resolve().then(loop); }); 1"


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    opened = Bridge()
    try:
        yield opened
    finally:
        opened.close()


def _fn(bridge: Bridge, body: str) -> object:
    return bridge.eval(f"(function () {{ return eval({body!r}); }})")


def test_the_canary_queued_behind_a_call_is_the_one_waited_for(bridge: Bridge) -> None:
    fn = _fn(bridge, "1")
    assert bridge.call(fn, then_canary=True) == 1
    queued = bridge._canary
    assert queued is not None
    bridge.wait_idle(1.0)
    assert bridge._canary is None and queued.done


def test_a_queued_canary_still_catches_a_microtask_loop(bridge: Bridge) -> None:
    """The loop keeps the isolate busy after the call returned: the canary never runs."""
    fn = _fn(bridge, LOOP)
    assert bridge.call(fn, then_canary=True, timeout_s=1.0) == 1
    with pytest.raises(ScriptTimeout):
        bridge.wait_idle(0.2)


def test_a_canary_queued_before_a_later_call_does_not_vouch_for_it(bridge: Bridge) -> None:
    quiet, looping = _fn(bridge, "1"), _fn(bridge, LOOP)
    bridge.call(quiet, then_canary=True)
    bridge.call(looping, timeout_s=1.0)  # no canary of its own: the earlier one is dropped
    assert bridge._canary is None and not bridge._tasks  # the dropped one left nothing
    with pytest.raises(ScriptTimeout):
        bridge.wait_idle(0.2)


def test_without_a_queued_canary_one_is_posted(bridge: Bridge) -> None:
    bridge.wait_idle(1.0)
    assert bridge.eval("6 * 7") == 42
