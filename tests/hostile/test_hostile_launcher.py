"""The pre-imported launcher (``sysjobs/runtime/launcher.py``) under attack: descriptor
exhaustion on either side, many requests at once, an environment that changed since it
started, children that end unread, and the death of the process that owns it. A child of
it holds nothing of the launcher, of another child or of its requester's past; a child
whose requester got no handle on it never runs; nothing outlives its owner."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sysjobs.runtime.launcher import LOST_STATUS, LaunchedChild, Launcher, LauncherUnavailable
from tests.acceptance.runtime.launched import TARGET, launch_reporter
from tests.acceptance.worker.test_worker_orphans import _exits

ROOT = Path(__file__).resolve().parents[2]
RecvFds = Callable[..., tuple[bytes, list[int], int, Any]]


@pytest.fixture(scope="module")
def shared() -> Iterator[Launcher]:
    with Launcher.start(("sysjobs.app.ids",)) as started:
        yield started


def _report(sock: socket.socket) -> dict[str, Any]:
    """What the child said it holds; ``{}`` when no child ever ran on ``sock``."""
    line = sock.makefile("rb").readline()
    return dict(json.loads(line)) if line else {}


def _finish(child: LaunchedChild, sock: socket.socket) -> int:
    with sock:
        sock.sendall(b"go\n")
    return child.wait(60)


def _lowest_free_fd(pid: int) -> int:
    """In another process (listing our own would take a number itself)."""
    taken = {int(n) for n in os.listdir(f"/proc/{pid}/fd")}
    return next(n for n in range(len(taken) + 1) if n not in taken)


def _at_our_descriptor_limit(recv: RecvFds) -> RecvFds:
    """``socket.recv_fds`` run with this process's descriptor limit at its lowest free
    number: the kernel then drops the descriptors of the message (``MSG_CTRUNC``)."""

    def recv_fds(*args: Any) -> tuple[bytes, list[int], int, Any]:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        lowest = os.dup(0)  # the number the next descriptor would get
        os.close(lowest)
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest, hard))
        try:
            return recv(*args)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return recv_fds


def test_a_child_whose_requester_got_no_handle_on_it_never_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The requester at its descriptor limit receives the answer but not the pidfd: it gives
    up and its caller hands the same descriptors to a fresh interpreter. The child already
    forked must not serve on them unseen (two worker processes on one control socket and one
    owner id, or two script children reading one parent's requests)."""
    with Launcher.start(()) as launcher:
        monkeypatch.setattr(socket, "recv_fds", _at_our_descriptor_limit(socket.recv_fds))
        ours, theirs = socket.socketpair()
        with ours:
            with theirs, pytest.raises(LauncherUnavailable):
                launcher.launch(TARGET, {"end": "exit"}, (theirs.fileno(),))
            monkeypatch.undo()
            assert _report(ours) == {}  # its socket ended with no word: the target never ran
        assert not launcher.available


def test_a_launcher_at_its_descriptor_limit_refuses_instead_of_forking_a_child_without_them() -> (
    None
):
    """The launcher's own limit (2 descriptors per live child) cuts a request's descriptors
    short: the child would start without its socket and crash, in a loop for a supervisor.
    It refuses, and the requester starts a fresh interpreter instead."""
    with Launcher.start(()) as launcher:
        pid = launcher.proc.pid
        first, sock = launch_reporter(launcher)
        assert _report(sock)["ppid"] == pid
        limit = _lowest_free_fd(pid) + 3  # room for three of the five a request passes
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, hard))
        with pytest.raises(LauncherUnavailable, match="out of descriptors"):
            launch_reporter(launcher)
        assert not launcher.available
        assert _finish(first, sock) == LOST_STATUS  # the earlier child went on without it


def test_many_threads_launching_at_once_each_get_their_own_child_and_nothing_else(
    shared: Launcher,
) -> None:
    def one(tag: int) -> tuple[int, dict[str, Any], int]:
        child, sock = launch_reporter(shared, tag=tag)
        seen = _report(sock)
        return tag, seen, _finish(child, sock)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(24)))
    for tag, seen, status in results:
        assert status == 0 and seen["payload"]["tag"] == tag
        assert len(seen["fds"]) == 5  # 0, 1, 2, its socket, the listing's own: no other's
    assert len({seen["pid"] for _tag, seen, _status in results}) == 24


def test_a_variable_removed_from_the_requesters_environment_reaches_no_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The launcher's own environment is the one of its start: a secret dropped since then
    (as a host drops a token once read) must not reach children forked later."""
    monkeypatch.setenv("SYSJOBS_LAUNCH_MARKER", "a secret of the start")
    with Launcher.start(()) as launcher:
        monkeypatch.delenv("SYSJOBS_LAUNCH_MARKER")
        child, sock = launch_reporter(launcher)
        assert _report(sock)["marker"] is None
        assert _finish(child, sock) == 0


def test_a_child_that_ended_unread_is_reaped_by_the_launcher(shared: Launcher) -> None:
    """No zombie is left by a child whose requester never asked how it ended."""
    child, sock = launch_reporter(shared)
    pid = _report(sock)["pid"]
    with sock:
        sock.sendall(b"go\n")
    assert _exits(pid, 60)
    status = child.wait(60)  # the launcher sent it after the reaping
    assert status == 0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            parent = int(stat.read().rpartition(")")[2].split()[1])
    except FileNotFoundError:
        parent = 0
    assert parent != shared.proc.pid  # gone, not a zombie of the launcher's


HOST = textwrap.dedent(
    """
    import sys, time
    from sysjobs.runtime import Limits
    from sysjobs.runtime.launcher import Launcher
    from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
    from sysjobs.worker.processes import LAUNCH_PRELOAD
    launcher = Launcher.start(LAUNCH_PRELOAD)
    sandbox = ProcessSandbox(SandboxFactory("sysjobs.host:core_sandbox", {"pool_size": 0}),
                             Limits(timeout_s=30.0), launcher=launcher)
    assert sandbox.run("6 * 7").value == 42
    print(sandbox.pid, launcher.proc.pid, flush=True)
    time.sleep(600)
    """
)


def test_a_script_child_and_its_launcher_end_when_their_host_process_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", HOST], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert parent.stdout is not None
    child, launcher = map(int, parent.stdout.readline().split())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    assert _exits(child, 30), "the orphaned script child kept running"
    assert _exits(launcher, 30), "the orphaned launcher kept running"


def test_a_worker_process_crashing_at_start_through_the_launcher_still_backs_off(
    tmp_path: Path,
) -> None:
    """A setup hook that fails kills each forked child at start: the restarts slow down as
    they did for fresh interpreters (a fork costs little, so a tight loop would cost a lot),
    and the launcher, which did its part, serves on."""
    from sysjobs.worker import WorkerConfig, WorkerProcesses
    from sysjobs.worker.processes import LAUNCH_PRELOAD

    config = WorkerConfig(f"sqlite:///{tmp_path / 'jobs.db'}", concurrency=1,
                          setup="tests.hostile.no_such_module:register")  # fmt: skip
    with Launcher.start(LAUNCH_PRELOAD) as launcher, WorkerProcesses(
        config, processes=1, launcher=launcher, relay_stderr=False
    ) as workers:  # fmt: skip
        assert workers.wait_spawned(2, 120)  # two replacements of children that died at start
        assert workers._quick_deaths >= 2  # each one counted: a growing pause before the next
        assert launcher.available


def test_a_request_beyond_the_sockets_send_buffer_falls_back_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host whose default socket buffer (``net.core.wmem_default``) is smaller than the
    request limit refuses a request within that limit (EMSGSIZE): that child starts as a
    fresh interpreter, and the launcher serves on — it is not gone."""
    with Launcher.start(()) as launcher:
        launcher._requests.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        monkeypatch.setenv("SYSJOBS_LAUNCH_MARKER", "x" * (64 * 1024))
        with pytest.raises(LauncherUnavailable, match="bytes"):
            launch_reporter(launcher)
        monkeypatch.delenv("SYSJOBS_LAUNCH_MARKER")
        assert launcher.available
        child, sock = launch_reporter(launcher)
        assert _report(sock)["ppid"] == launcher.proc.pid
        assert _finish(child, sock) == 0


def test_a_forked_worker_process_out_of_memory_after_its_launcher_died_is_told_memory_limit(
    db_url: str,
) -> None:
    """Its exit status died with the launcher, but why it died is in its stderr, which goes
    to the supervisor: its job ends ``memoryLimit``, not ``crashed``, and a replacement
    (forked by a launcher started in place of the dead one) serves on."""
    from sysjobs.host import DONE_STATUSES, Host
    from sysjobs.runtime import Limits
    from sysjobs.worker.processes import LAUNCH_PRELOAD

    limits = Limits(heap_bytes=32 * 1024 * 1024)
    with Launcher.start(LAUNCH_PRELOAD) as own, Host(
        db_url, limits=limits, pool_size=1, launcher=own
    ) as host, host.workers(
        1, data_limit_mb=1024, shutdown_grace_s=2.0, relay_stderr=False
    ) as workers:  # fmt: skip
        (pid,) = workers.pids()
        own.proc.kill()
        own.proc.wait()
        job = host.start_script_job("new Array(2 ** 25).fill(1.5); 1", label="bomb",
                                    timeout_s=120)  # fmt: skip
        ended = host.engine.wait(job.id, DONE_STATUSES, 240)
        error = (ended.results or {}).get("error")
        assert error is not None and error["code"] == "memoryLimit", ended.results
        assert f"worker process {pid} died (how: unknown" in error["message"]
        nxt = host.engine.wait(host.start_script_job("6 * 7").id, DONE_STATUSES, 120)
        assert nxt.results == {"value": 42}


def _sockets(pid: int) -> set[str]:
    """The sockets ``pid`` holds (``socket:[inode]``): one held by two processes joins them."""
    held = set()
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # one closed while we look
            held.add(os.readlink(f"/proc/{pid}/fd/{name}"))
    return {target for target in held if target.startswith("socket:")}


def test_forked_worker_processes_and_a_script_child_share_no_socket_with_the_launcher_or_each_other(
    db_url: str, launcher: Launcher
) -> None:
    """The real children, serving: a script that broke out of V8 in one of them would find no
    way to the launcher (its requests, another child's status), to a sibling's control socket,
    or to the script child of another sandbox."""
    from sysjobs.runtime import Limits
    from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
    from sysjobs.worker import WorkerConfig, WorkerProcesses

    config = WorkerConfig(db_url, concurrency=1, setup="tests.integration.engine.jobtypes:register")
    factory = SandboxFactory("sysjobs.host:core_sandbox", {"pool_size": 0})
    with WorkerProcesses(config, processes=2, launcher=launcher) as workers, ProcessSandbox(
        factory, Limits(timeout_s=30.0), launcher=launcher
    ) as sandbox:  # fmt: skip
        assert sandbox.run("6 * 7").value == 42
        assert sandbox.pid is not None
        children = [*workers.pids(), sandbox.pid]
        assert {_parent(pid) for pid in children} == {launcher.proc.pid}
        held = {pid: _sockets(pid) for pid in [launcher.proc.pid, *children]}
        for pid, sockets in held.items():
            others = set().union(*(s for other, s in held.items() if other != pid))
            assert not sockets & others, f"process {pid} shares a socket"


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def test_a_launcher_killed_with_a_request_in_flight_refuses_it_at_once_and_forks_nothing() -> None:
    """Stopped, then killed while a request waits in its socket: the requester hears the end
    (not its answer timeout, here far away), and the request's socket has no child on it."""
    with Launcher.start((), answer_timeout_s=3600) as launcher:
        os.kill(launcher.proc.pid, signal.SIGSTOP)
        sent, plain_answer = threading.Event(), launcher._answer

        def answer(status: socket.socket) -> LaunchedChild:
            sent.set()  # the request is in the launcher's socket: it waits for the answer
            return plain_answer(status)

        launcher._answer = answer  # type: ignore[method-assign]
        ours, theirs = socket.socketpair()
        with ThreadPoolExecutor(1) as pool, ours:
            with theirs:
                asked = pool.submit(launcher.launch, TARGET, {"end": "exit"}, (theirs.fileno(),))
                assert sent.wait(60)  # (killed before it, the next launcher would serve it)
                os.kill(launcher.proc.pid, signal.SIGKILL)
                with pytest.raises(LauncherUnavailable):
                    asked.result(timeout=120)
            assert _report(ours) == {}
        assert not launcher.available


def test_a_child_that_never_ends_is_still_killed_through_its_pidfd_once_its_launcher_died() -> None:
    """Its parent gone (it now belongs to init), the requester's pidfd still names exactly
    that process: kill ends it, and a later kill, once it was reaped by another, signals no
    process that took its pid."""
    launcher = Launcher.start(())
    child, sock = launch_reporter(launcher, end="hold")
    pid = _report(sock)["pid"]
    launcher.proc.kill()
    launcher.proc.wait()
    assert child.poll() is None
    child.kill()
    assert child.wait(60) == LOST_STATUS and _exits(pid, 60)
    child.kill()  # its pidfd is closed with its end: nothing is signalled
    sock.close()
    launcher.close()


def test_a_child_takes_the_resource_limits_its_requester_has_now(shared: Launcher) -> None:
    """A fresh interpreter inherited its parent's limits at its start; a fork inherits the
    launcher's, of the launcher's start. A limit the host set since (a file size, descriptors,
    memory for children that get no data limit of their own) must bind the children too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    lowered = 1 << 40 if soft == resource.RLIM_INFINITY else soft - 1
    resource.setrlimit(resource.RLIMIT_FSIZE, (lowered, hard))
    try:
        child, sock = launch_reporter(shared)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert _report(sock)["fsize"] == [lowered, hard]
    assert _finish(child, sock) == 0
