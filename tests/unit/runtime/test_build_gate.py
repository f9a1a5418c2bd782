"""Context builds are kept out of the runs' data-growth windows, and nothing is uncounted.

The gate only moves builds in time: a build waits until no run window is open (and new
windows wait for it), or — when a window stays open too long — goes ahead and is counted
by the windows it overlaps, as it would be without the gate. Each case drives the gate
from threads and waits on events, never on the clock.
"""

from __future__ import annotations

import threading

import pytest

from sysjobs.runtime import Sandbox
from sysjobs.runtime import buildgate as gate_module
from sysjobs.runtime.buildgate import BuildGate
from sysjobs.runtime.isolate import DataMeter


def _in_thread(target: threading.Thread) -> threading.Thread:
    target.daemon = True
    target.start()
    return target


@pytest.fixture(autouse=True)
def _no_time_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither side gives up waiting in these cases (a loaded machine stalls threads)."""
    monkeypatch.setattr(gate_module, "BUILD_WAIT_S", 3600.0)
    monkeypatch.setattr(gate_module, "WINDOW_WAIT_S", 3600.0)


def test_a_build_waits_until_the_open_window_closes() -> None:
    gate, order = BuildGate(), []
    window_open, close_window = threading.Event(), threading.Event()

    def run() -> None:
        with gate.window():
            window_open.set()
            close_window.wait()
            order.append("window closed")

    runner = _in_thread(threading.Thread(target=run))
    window_open.wait()

    def build() -> None:
        with gate.building():
            order.append("built")

    builder = _in_thread(threading.Thread(target=build))
    close_window.set()
    runner.join()
    builder.join()
    assert order == ["window closed", "built"]
    assert gate.counts == {"clean": 1, "overlapped": 0}


def test_a_window_waits_for_a_build_that_runs() -> None:
    gate, order = BuildGate(), []
    building, finish_build = threading.Event(), threading.Event()

    def build() -> None:
        with gate.building():
            building.set()
            finish_build.wait()
            order.append("built")

    builder = _in_thread(threading.Thread(target=build))
    building.wait()

    def run() -> None:
        with gate.window():
            order.append("window opened")

    runner = _in_thread(threading.Thread(target=run))
    finish_build.set()
    builder.join()
    runner.join()
    assert order == ["built", "window opened"]


def test_a_build_that_cannot_wait_goes_ahead_and_is_counted_as_overlapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A window held open by another thread (a long script): the build does not wait for
    it for ever, and goes ahead inside it (the window counts its growth)."""
    monkeypatch.setattr(gate_module, "BUILD_WAIT_S", 0.0)
    gate = BuildGate()
    window_open, close_window = threading.Event(), threading.Event()

    def run() -> None:
        with gate.window():
            window_open.set()
            close_window.wait()

    runner = _in_thread(threading.Thread(target=run))
    window_open.wait()
    with gate.building():
        pass
    close_window.set()
    runner.join()
    assert gate.counts == {"clean": 0, "overlapped": 1}


def test_a_build_from_inside_a_window_of_its_own_thread_never_waits() -> None:
    """A recycled context failed its proof mid-run: the replacement is built at once."""
    gate = BuildGate()
    with gate.window(), gate.building():
        pass
    assert gate.counts == {"clean": 0, "overlapped": 1}


def test_every_context_a_sandbox_builds_goes_through_its_gate() -> None:
    with Sandbox([], pool_size=0, recycle=False) as sandbox:
        for i in range(3):
            assert sandbox.run(str(i)).value == i
        assert sandbox.counts["built"] == 3
        assert sandbox.build_gate.counts == {"clean": 3, "overlapped": 0}


def test_growth_during_a_window_is_still_counted_with_the_gate() -> None:
    """The gate changes when builds happen, not what a run's window counts: a script's
    own ArrayBuffers still count against its context."""
    with Sandbox([], pool_size=0, max_grown_bytes=8 * 1024 * 1024) as sandbox, \
            sandbox.session() as session:  # fmt: skip
        assert DataMeter().read() > 0, "the data size is read from /proc/self/statm"
        script = ("globalThis.kept = globalThis.kept || []; "
                  "kept.push(new ArrayBuffer(16 * 1024 * 1024)); new Uint8Array(kept[0])[0] = 1; 1")  # fmt: skip
        assert session.run(script).value == 1
        iso = session._iso
        assert iso is not None and not iso.reusable()
