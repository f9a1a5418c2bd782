"""The pre-imported launcher: it forks children that hold nothing of it nor of each other,
reports how each one ended, and, once dead, makes the next request fail (so the requester
starts a fresh interpreter) while the children it started go on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sysjobs.runtime.launcher import (
    LOST_STATUS,
    RESTARTS,
    LaunchedChild,
    Launcher,
    LauncherUnavailable,
)
from sysjobs.worker.processes import LAUNCH_PRELOAD
from tests.acceptance.runtime.launched import TARGET, launch_reporter


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    with Launcher.start(("sqlalchemy", "sysjobs.app.ids")) as started:
        yield started


def _launch(launcher: Launcher, **payload: Any) -> tuple[LaunchedChild, socket.socket, dict[str, Any]]:
    """A child of ``launcher`` and what it reports holding."""
    child, ours = launch_reporter(launcher, **payload)
    seen = json.loads(ours.makefile("rb").readline())
    return child, ours, seen


def _end(sock: socket.socket) -> None:
    with sock:
        sock.sendall(b"go\n")


def test_a_launched_child_is_the_launchers_own_in_a_session_of_its_own(launcher: Launcher) -> None:
    child, sock, seen = _launch(launcher)
    _end(sock)
    assert child.wait(60) == 0
    assert seen["pid"] == child.pid and seen["ppid"] == launcher.proc.pid
    assert seen["sid"] == child.pid  # setsid: a terminal's Ctrl-C is not its business
    assert seen["sqlalchemy"]  # imported ahead, by the launcher


def test_a_launched_child_collects_garbage_and_leaves_what_its_launcher_imported_alone(
    launcher: Launcher,
) -> None:
    """The launcher imports with the collector paused (~10 % of its start), then turns it
    back on and freezes what it imported: its children collect their own garbage as any
    process does, and never walk the shared modules."""
    child, sock, seen = _launch(launcher)
    _end(sock)
    assert child.wait(60) == 0
    assert seen["gc_enabled"] is True
    assert seen["gc_frozen"] > 10_000  # sqlalchemy's objects among them


def test_a_launched_child_holds_only_its_standard_streams_and_what_was_passed(
    launcher: Launcher,
) -> None:
    child, sock, seen = _launch(launcher)
    _end(sock)
    child.wait(60)
    listing = seen["fds"]
    (own,) = seen["own"]
    # 0, 1, 2, its socket, and the descriptor listing /proc/self/fd itself (the last).
    assert listing[:3] == [0, 1, 2] and own in listing and len(listing) == 5
    assert seen["stdin"] == os.devnull


def test_two_children_of_one_launcher_share_no_state(launcher: Launcher) -> None:
    first, sock1, one = _launch(launcher)
    second, sock2, two = _launch(launcher)
    _end(sock1)
    _end(sock2)
    assert (first.wait(60), second.wait(60)) == (0, 0)
    assert one["random"] != two["random"]  # reseeded after each fork
    # Record ids: the per-process part, drawn at the launcher's import, drawn again in each.
    assert one["record_id"][8:18] != two["record_id"][8:18]
    assert one["pid"] != two["pid"] and one["sid"] != two["sid"]
    # Neither holds the other's socket (nor the launcher's status sockets, held meanwhile).
    assert len(one["fds"]) == len(two["fds"]) == 5


def test_a_child_takes_the_requesters_environment_folder_and_path(
    launcher: Launcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSJOBS_LAUNCH_MARKER", "set after the launcher started")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    child, sock, seen = _launch(launcher)
    _end(sock)
    child.wait(60)
    assert seen["marker"] == "set after the launcher started"
    assert seen["cwd"] == str(tmp_path) and seen["sys_path"][0] == str(tmp_path)
    assert seen["argv"] == ["-c"]  # a fresh ``python -c``'s, not the launcher's arguments


@pytest.mark.parametrize(("payload", "status"), [
    ({"end": "exit", "code": 3}, 3), ({"end": "abort"}, -signal.SIGABRT),
])  # fmt: skip
def test_the_launcher_reports_how_a_child_ended(
    launcher: Launcher, payload: dict[str, Any], status: int
) -> None:
    read, write = os.pipe()
    ours, theirs = socket.socketpair()
    with theirs:
        child = launcher.launch(TARGET, {**payload, "say": "last words"}, (theirs.fileno(),),
                                stderr=write)  # fmt: skip
    os.close(write)
    ours.makefile("rb").readline()
    _end(ours)
    assert child.wait(60) == status and child.poll() == status
    with open(read, "rb") as stderr:
        assert b"last words" in stderr.read()  # its stderr is the pipe it was given


def test_a_killed_child_reads_as_killed_and_wait_times_out_before(launcher: Launcher) -> None:
    child, sock, _seen = _launch(launcher)
    with pytest.raises(Exception, match="timed out"):
        child.wait(0.01)
    assert child.poll() is None
    child.kill()
    assert child.wait(60) == -signal.SIGKILL
    child.kill()  # harmless once it ended
    sock.close()


def test_a_launcher_that_loaded_the_v8_binding_refuses_to_fork_and_is_used_no_more() -> None:
    with Launcher.start(("py_mini_racer",)) as loaded:
        with pytest.raises(LauncherUnavailable, match="py_mini_racer"):
            _launch(loaded)
        assert not loaded.available  # the next request goes to a fresh interpreter at once


def test_a_dead_launchers_children_go_on_and_the_next_request_starts_a_new_launcher() -> None:
    launcher = Launcher.start(())
    child, sock, _seen = _launch(launcher)
    dead = launcher.proc.pid
    launcher.proc.kill()
    launcher.proc.wait()
    assert not launcher.available
    following, following_sock, seen = _launch(launcher)  # forked by a new launcher
    assert launcher.available and launcher.restarts == 1
    assert seen["ppid"] == launcher.proc.pid != dead
    assert child.poll() is None  # still running: its launcher's death is not its end
    _end(sock)
    assert child.wait(60) == LOST_STATUS  # its end is known; how, only its parent knew
    _end(following_sock)
    assert following.wait(60) == 0  # its launcher lives: it says how
    launcher.close()


def test_a_launcher_that_keeps_dying_is_started_again_three_times_a_minute_then_no_more() -> None:
    """Past the budget, a request is refused at once: the requester starts a fresh
    interpreter rather than paying for a launcher that dies again."""
    launcher = Launcher.start(())
    try:
        for restarts in range(RESTARTS + 1):
            launcher.proc.kill()
            launcher.proc.wait()
            if restarts < RESTARTS:
                child, sock, _seen = _launch(launcher)
                _end(sock)
                assert child.wait(60) == 0 and launcher.restarts == restarts + 1
        with pytest.raises(LauncherUnavailable, match="gone"):
            _launch(launcher)
        assert not launcher.available and launcher.restarts == RESTARTS
    finally:
        launcher.close()


def test_what_the_worker_launcher_preloads_loads_no_v8_binding_and_no_thread() -> None:
    """A module of the list that came to import ``py_mini_racer`` would make the launcher
    refuse every fork (each child then a fresh interpreter again): fail here instead."""
    probe = (
        "import importlib, json, sys, threading\n"
        "names = json.loads(sys.argv[1])\n"
        "for name in names: importlib.import_module(name)\n"
        "print(json.dumps(['py_mini_racer' in sys.modules, threading.active_count()]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, json.dumps(LAUNCH_PRELOAD)],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert json.loads(out.stdout) == [False, 1]


def test_a_request_too_large_for_the_launcher_falls_back_alone(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSJOBS_LAUNCH_MARKER", "x" * (1 << 20))  # a 1 MB environment
    with pytest.raises(LauncherUnavailable, match="bytes"):
        _launch(launcher)
    monkeypatch.delenv("SYSJOBS_LAUNCH_MARKER")
    assert launcher.available
    child, sock, seen = _launch(launcher)  # the next one is forked as before
    _end(sock)
    assert child.wait(60) == 0 and seen["ppid"] == launcher.proc.pid


def test_a_hung_launcher_is_ended_and_the_request_refused() -> None:
    with Launcher.start((), answer_timeout_s=0.5) as hung:
        os.kill(hung.proc.pid, signal.SIGSTOP)
        with pytest.raises(LauncherUnavailable, match="did not answer"):
            _launch(hung)  # (a stopped launcher forks nothing: no child is left behind)
        assert not hung.available and hung.proc.returncode == -signal.SIGKILL


def _libc_base(pid: int) -> str:
    """Where the C library is mapped in ``pid`` (the address-space layout's witness)."""
    with open(f"/proc/{pid}/maps") as maps:
        return next(line.split("-")[0] for line in maps if "libc.so" in line or "libc-" in line)


def test_a_child_that_crashes_makes_the_next_one_fork_from_a_fresh_interpreter() -> None:
    # A script that crashes its process on purpose must not probe one layout again and again:
    # after a crash the next child has a new parent and a new layout; the retired
    # interpreter still reports its own children's ends, then ends.
    with Launcher.start(("sqlalchemy",)) as own:
        first_parent = own.proc
        held, held_sock, held_seen = _launch(own)  # a child of the first interpreter, alive
        crashing, sock, seen = _launch(own, end="abort")
        layout = _libc_base(seen["pid"])
        _end(sock)
        assert crashing.wait(60) == -signal.SIGABRT
        assert own.proc is not first_parent and own.available
        after, sock_after, seen_after = _launch(own)
        assert seen_after["ppid"] == own.proc.pid != first_parent.pid
        if Path("/proc/sys/kernel/randomize_va_space").read_text().strip() != "0":
            assert _libc_base(seen_after["pid"]) != layout
        _end(sock_after)
        assert after.wait(60) == 0
        assert held_seen["ppid"] == first_parent.pid and first_parent.poll() is None
        _end(held_sock)
        assert held.wait(60) == 0  # its status, from the retired interpreter
        assert first_parent.wait(60) == 0  # which then ends


def test_a_child_ending_well_or_ended_by_its_owner_keeps_the_interpreter() -> None:
    with Launcher.start(("sqlalchemy",)) as own:
        parent = own.proc
        done, sock, _seen = _launch(own)
        _end(sock)
        assert done.wait(60) == 0
        killed, sock, _seen = _launch(own)
        killed.kill()
        assert killed.wait(60) == -signal.SIGKILL
        sock.close()
        stopped, sock, _seen = _launch(own)
        stopped.terminate()
        assert stopped.wait(60) == -signal.SIGTERM
        sock.close()
        assert own.proc is parent
