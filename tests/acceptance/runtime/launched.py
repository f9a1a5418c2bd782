"""What the launcher's tests ask it to fork: children that report what they hold."""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import signal
import socket
import sys
from typing import Any

from sysjobs.app.ids import new_id
from sysjobs.runtime.launcher import LaunchedChild, Launcher, LauncherUnavailable

#: This module's reporting child, as a launch target.
TARGET = "tests.acceptance.runtime.launched:report"


def report(fds: list[int], payload: dict[str, Any]) -> None:
    """Tell the test what this child holds on the socket ``fds[0]``, then end as
    ``payload["end"]`` says once the test writes a line: ``exit`` (with ``code``), ``abort``,
    or ``hold`` (wait for the socket's end)."""
    with socket.socket(fileno=fds[0]) as sock, sock.makefile("rwb") as stream:
        seen = {
            "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
            "random": random.random(), "fds": sorted(int(n) for n in os.listdir("/proc/self/fd")),
            "own": fds, "cwd": os.getcwd(), "marker": os.environ.get("SYSJOBS_LAUNCH_MARKER"),
            "sys_path": sys.path, "sqlalchemy": "sqlalchemy" in sys.modules,
            "stdin": os.readlink("/proc/self/fd/0"), "record_id": new_id(),
            "argv": sys.argv, "payload": payload,
            "fsize": resource.getrlimit(resource.RLIMIT_FSIZE),
            "gc_enabled": gc.isenabled(), "gc_frozen": gc.get_freeze_count(),
        }  # fmt: skip
        stream.write(json.dumps(seen).encode() + b"\n")
        stream.flush()
        stream.readline()
        print(payload.get("say", ""), file=sys.stderr, flush=True)
        if payload["end"] == "abort":
            os.kill(os.getpid(), signal.SIGABRT)
        if payload["end"] == "exit":
            raise SystemExit(payload.get("code", 0))


def launch_reporter(launcher: Launcher, **payload: Any) -> tuple[LaunchedChild, socket.socket]:
    """(The tests' side.) A child of ``launcher`` running :func:`report`, and the test's end of
    its socket; ``payload`` as :func:`report` reads it (``end`` defaults to ``exit``)."""
    ours, theirs = socket.socketpair()
    try:
        with theirs:
            child = launcher.launch(TARGET, {"end": "exit", **payload}, (theirs.fileno(),))
    except LauncherUnavailable:
        ours.close()
        raise
    return child, ours
