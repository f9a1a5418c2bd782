"""``sysjobs serve``: the dashboard as a user starts it — always behind a token."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.inprocess import sysjobs_in_process

#: How long ``serving`` waits for ``sysjobs serve`` to print its line (it imports, migrates
#: the database and binds first).
START_S = 60.0


@dataclass(frozen=True)
class Served:
    """A running ``sysjobs serve``: its base URL, its process, the line it printed and one
    HTTP client for the test's requests (each ``httpx.get`` of its own builds a client and
    an SSL context, ~0.1 s of CPU)."""

    base: str
    proc: subprocess.Popen[str]
    line: str
    http: httpx.Client


@contextmanager
def serving(
    tmp_path: Path, *args: str, workers: int = 0, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """Start ``sysjobs serve`` on a port the system picks (``--port 0``) and yield it once it
    printed its line — which it prints once it listens, so the URL answers from then on."""
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sysjobs.cli", "serve", "--port", "0", "--db", db,
         "--workers", str(workers), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_S)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("sysjobs dashboard on http://"), (line, proc.poll())
        base = line.split()[3].split("/#")[0].rstrip("/")
        with httpx.Client(timeout=30) as http:
            yield Served(base, proc, line.rstrip("\n"), http)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=20)


def test_serve_without_a_token_makes_one_and_prints_it(tmp_path: Path) -> None:
    with serving(tmp_path, "--read-only") as served:
        # The line is printed once the server listens: the URL answers at once, no retry.
        assert served.http.get(served.base + "/api/me").status_code == 401
        base, line = served.base, served.line
    assert line.startswith(f"sysjobs dashboard on {base}/#token=")
    assert line.endswith("(read-only)")
    token = line.split("#token=")[1].split()[0]
    assert len(token) >= 20


ADMIN = {"Authorization": "Bearer s3cret"}
#: One huge allocation: 2 ** 25 doubles (256 MB), four times the worker's V8 old space.
ARRAY_BOMB = "new Array(2 ** 25).fill(1.5); 1"
BUFFER_BOMB = (
    "var keep = []; for (var i = 0; i < 64; i++) keep.push(new ArrayBuffer(256 * 1024 * 1024)); 1"
)


def _job_from_the_console(served: Served, source: str) -> dict[str, Any]:
    """Run ``source`` as a job from the console and wait (server side) for it to end."""
    body = {"source": source, "inJob": True, "wait": True, "timeoutS": 120}
    reply = served.http.post(served.base + "/api/scripts", json=body, headers=ADMIN, timeout=300)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``serve`` with a token and a read token for the tests that neither stop it nor
    change what the others see: it runs jobs in a supervised worker process (1 here; the
    data limit keeps the ArrayBuffer bomb small, the 32 MB heap its old space at 64 MB)."""
    limit = {"SYSJOBS_WORKER_DATA_LIMIT_MB": "1024", "SYSJOBS_WORKER_HEAP_MB": "32"}
    with serving(tmp_path_factory.mktemp("serve"), "--token", "s3cret", "--read-token", "look",
                 "--slots", "2", workers=1, env=limit) as running:  # fmt: skip
        yield running


def test_serve_with_a_token_and_a_read_token(served: Served) -> None:
    base, http = served.base, served.http
    assert http.get(base + "/api/jobs").status_code == 401
    me = http.get(base + "/api/me", headers={"Authorization": "Bearer s3cret"})
    assert me.json() == {"role": "admin"}
    reader = http.get(base + "/api/me", headers={"Authorization": "Bearer look"})
    assert reader.json() == {"role": "read"}
    page = http.get(base + "/")
    assert page.status_code == 200 and "sysjobs" in page.text


def test_memory_bombs_from_the_console_end_their_jobs_while_the_server_keeps_serving(
    served: Served,
) -> None:
    # One huge array ends the worker process at once, never the server.
    array = _job_from_the_console(served, ARRAY_BOMB)
    assert (array["job"]["status"], array["job"]["hasErrors"]) == ("FINISHED", True)
    reasons = " ".join(line["message"] for line in array["logs"] if line["level"] == "ERROR")
    assert "worker process" in reasons and "died" in reasons, reasons
    assert "memoryLimit" in reasons, reasons
    assert _job_from_the_console(served, "6 * 7")["job"]["results"] == {"value": 42}
    buffers = _job_from_the_console(served, BUFFER_BOMB)["job"]
    assert buffers["status"] == "FINISHED"
    assert buffers["results"]["error"]["code"] == "memoryLimit", buffers
    assert _job_from_the_console(served, "6 * 7")["job"]["results"] == {"value": 42}
    assert served.http.get(served.base + "/api/me", headers=ADMIN).json() == {"role": "admin"}
    assert served.proc.poll() is None


def test_in_process_workers_are_an_explicit_opt_in_of_serve(tmp_path: Path) -> None:
    with serving(tmp_path, "--token", "s3cret", "--in-process-workers", workers=1) as served:
        done = _job_from_the_console(served, "log('in the server'); 6 * 7")
    assert done["job"]["results"] == {"value": 42}
    assert [line["message"] for line in done["logs"]] == ["in the server"]


def test_a_port_in_use_or_an_address_not_of_this_machine_is_a_bad_request(tmp_path: Path) -> None:
    # Said before the dashboard's line, never after it, and never as a traceback.
    db = f"sqlite:///{tmp_path / 's.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        in_use = sysjobs_in_process("serve", "--port", port, "--workers", "0", "--db", db,
                                    cwd=tmp_path)  # fmt: skip
    assert (in_use.returncode, in_use.stdout) == (2, "")
    assert in_use.stderr.startswith(f"badRequest: Invalid value for '--port': {port} cannot be ")
    assert "Allowed values: a free port, 0 for one the system picks" in in_use.stderr
    for host in ("192.0.2.1", "no-such-host.invalid"):  # TEST-NET-1: never this machine's
        elsewhere = sysjobs_in_process("serve", "--host", host, "--port", "0", "--workers", "0",
                                       "--db", db, cwd=tmp_path)  # fmt: skip
        assert (elsewhere.returncode, elsewhere.stdout) == (2, ""), elsewhere
        assert elsewhere.stderr.startswith(f"badRequest: Invalid value for '--host': '{host}'")
        assert "Traceback" not in elsewhere.stderr


def test_shell_completion_is_available(tmp_path: Path) -> None:
    done = sysjobs_in_process("--help", cwd=tmp_path)
    assert "--install-completion" in done.stdout and "--show-completion" in done.stdout
    jobs_help = sysjobs_in_process("jobs", "--help", cwd=tmp_path)
    for command in ("ls", "show", "logs", "wait", "stop", "force-stop", "resume", "cancel",
                    "low-priority", "stats"):  # fmt: skip
        assert command in jobs_help.stdout
