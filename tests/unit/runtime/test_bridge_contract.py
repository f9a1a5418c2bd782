"""The mini-racer internals the bridge relies on. If an upgrade changes any of them, these
fail loudly, before anything subtle breaks (mini-racer is pinned to an exact version)."""

from __future__ import annotations

import importlib.metadata
import inspect

import py_mini_racer
import pytest
from py_mini_racer import _context, _dll, _mini_racer

PINNED = "0.14.1"


def test_mini_racer_is_the_pinned_version() -> None:
    assert importlib.metadata.version("mini-racer") == PINNED


def test_make_context_takes_an_event_loop() -> None:
    assert "event_loop" in inspect.signature(_mini_racer._make_context).parameters


def test_context_has_the_callback_entry_and_handle_helpers() -> None:
    for name in ("handle_callback_from_v8", "_free", "_wrap_raw_handle", "_value_handle_to_python"):
        assert callable(getattr(_context.Context, name)), name
    fields = {f for f in _context.Context.__dataclass_fields__}
    assert {"_dll", "_ctx", "_next_async_callback_id"} <= fields


def test_dll_exposes_the_synchronous_js_callback_maker() -> None:
    source = inspect.getsource(_dll._build_dll_handle)
    assert "mr_make_js_callback" in source
    assert "mr_context_count" in source


def test_init_accepts_flags_and_default_flags_exist() -> None:
    assert "flags" in inspect.signature(_dll.init_mini_racer).parameters
    assert "--single-threaded" in _dll.DEFAULT_V8_FLAGS


def test_mini_racer_instances_can_wrap_an_existing_context() -> None:
    source = inspect.getsource(py_mini_racer.MiniRacer.__init__)
    assert "self._own_context_maker" in source and "self._ctx" in source


def test_shared_array_buffers_come_back_as_memoryviews() -> None:
    from sysjobs.runtime.bridge import Bridge

    bridge = Bridge()
    try:
        view = bridge.eval("new SharedArrayBuffer(64)")
        assert isinstance(view, memoryview) and len(view) == 64
    finally:
        bridge.close()


@pytest.mark.parametrize("pin", [True, False])
def test_the_raw_callback_floor_the_bench_compares_against_still_runs(pin: bool) -> None:
    """bench/bridge_bench.py's floor swaps in its own handler; task results must still
    reach the bridge (a lost result hangs the bench)."""
    from sysjobs.runtime.bridge import raw_callback_seconds

    assert raw_callback_seconds(200, pin_thread_state=pin) > 0


def test_the_gil_held_calls_bind_the_same_entry_points_with_the_same_signatures() -> None:
    """The bridge calls the library's non-blocking entry points through a ``PyDLL`` view
    (keeping the GIL); each must exist with mini-racer's own argument and result types, and
    every context of the bridge must use that view."""
    import ctypes

    from sysjobs.runtime.bridge import _GIL_HELD_CALLS, Bridge, _GilHeldDll

    bridge = Bridge()
    try:
        stock = bridge._dll._dll
        assert isinstance(stock, ctypes.CDLL) and not isinstance(stock, ctypes.PyDLL)
        view = _GilHeldDll.of(stock)
        assert bridge._dll is view and bridge._ctx._dll is view
        for name in _GIL_HELD_CALLS:
            held, original = getattr(view, name), getattr(stock, name)
            assert held._flags_ & ctypes._FUNCFLAG_PYTHONAPI, name  # type: ignore[attr-defined]
            assert (held.argtypes, held.restype) == (original.argtypes, original.restype), name
        assert bridge.eval("6 * 7") == 42
    finally:
        bridge.close()
