"""Run in a fresh interpreter by ``test_process_sandbox_fork.py``: a parent that holds
nothing (as ``sysjobs run`` when it starts) forks a script's child, and says as JSON what
happened. ``python -m tests.acceptance.runtime.fork_probe CASE``."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from sysjobs.runtime import Limits
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory, StartedChild, may_fork

CORE = SandboxFactory("sysjobs.host:core_sandbox", {"pool_size": 0})
BOMB = "var keep = []; for (var i = 0; i < 64; i++) keep.push(new ArrayBuffer(256 * 1024 * 1024)); 1"


def _sandbox(child: StartedChild) -> ProcessSandbox:
    return ProcessSandbox(CORE, Limits(timeout_s=20), child=child)


def runs() -> dict[str, Any]:
    """A forked child runs the script; none of the parent's descriptors is open in it (here
    one the parent inherited from its own parent); its stdin is /dev/null."""
    with tempfile.NamedTemporaryFile(prefix="fork-probe-") as marker:
        os.set_inheritable(marker.fileno(), True)  # as if from this process's own parent
        child = StartedChild.start((CORE.module,), limits=Limits(), fork=True)
        with _sandbox(child) as sandbox:
            result = sandbox.run("log('hi'); typeof require + ' ' + typeof process", timeout_s=20)
            # Read after the run, the child still there: it has set itself up by then.
            links = [_link(child.proc.pid, fd) for fd in os.listdir(f"/proc/{child.proc.pid}/fd")]
            stdin = _link(child.proc.pid, "0")
    return {"kind": type(child.proc).__name__, "ok": result.ok, "value": result.value,
            "logs": result.logs, "marker_open": marker.name in links, "stdin": stdin,
            "ended": child.proc.returncode is not None}  # fmt: skip


def _link(pid: int, fd: str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:  # closed meanwhile
        return ""


def memory() -> dict[str, Any]:
    """The data limit (``RLIMIT_DATA``, set in the child after the fork) holds: an
    ArrayBuffer bomb is a memory limit; the next run gets a fresh child."""
    child = StartedChild.start((CORE.module,), limits=Limits(), fork=True)
    with _sandbox(child) as sandbox:
        bomb = sandbox.run(BOMB, timeout_s=20)
        after = sandbox.run("6 * 7", timeout_s=20)
    return {"kind": type(child.proc).__name__, "bomb": str(bomb.outcome),
            "after": [str(after.outcome), after.value]}  # fmt: skip


def crash() -> dict[str, Any]:
    """A forked child that dies mid-run (SIGABRT) is a ``crashed`` outcome, then replaced."""
    child = StartedChild.start((CORE.module,), limits=Limits(), fork=True)

    def kill(_line: str) -> None:
        os.kill(child.proc.pid, signal.SIGABRT)

    with _sandbox(child) as sandbox:
        died = sandbox.run("log('running'); while (true) {}", timeout_s=20, log_sink=kill)
        after = sandbox.run("6 * 7", timeout_s=20)
    message = died.error.message if died.error else ""
    return {"kind": type(child.proc).__name__, "died": str(died.outcome), "message": message,
            "after": [str(after.outcome), after.value]}  # fmt: skip


def _refused(prepare: Callable[[], object]) -> dict[str, Any]:
    held = prepare()
    allowed = may_fork()
    child = StartedChild.start((CORE.module,), limits=Limits(), fork=True)
    with _sandbox(child) as sandbox:
        result = sandbox.run("6 * 7", timeout_s=20)
    del held
    return {"may_fork": allowed, "kind": type(child.proc).__name__, "value": result.value}


def _thread() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
    return stop


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "runs": runs, "memory": memory, "crash": crash,
    "thread": lambda: _refused(_thread),
    "v8": lambda: _refused(lambda: __import__("py_mini_racer")),
    "file": lambda: _refused(lambda: open(os.devnull)),  # noqa: SIM115  (held open)
}  # fmt: skip

if __name__ == "__main__":
    print(json.dumps({"before": may_fork(), **CASES[sys.argv[1]]()}))
