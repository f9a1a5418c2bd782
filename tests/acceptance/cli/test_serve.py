"""``sysjobs serve``: the dashboard as a user starts it — always behind a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.inprocess import sysjobs_in_process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    tmp_path: Path, *args: str, workers: int = 0, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``sysjobs serve`` on a free port; yield its base URL once it answers."""
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sysjobs.cli", "serve", "--port", str(port), "--db", db,
         "--workers", str(workers), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/api/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=20)


def test_serve_without_a_token_makes_one_and_prints_it(tmp_path: Path) -> None:
    with serving(tmp_path, "--read-only") as (base, proc):
        assert httpx.get(base + "/api/me").status_code == 401
        proc.terminate()
        out, _err = proc.communicate(timeout=20)
    line = out.splitlines()[0]
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


def _job_from_the_console(base: str, source: str) -> dict[str, Any]:
    """Run ``source`` as a job from the console and wait (server side) for it to end."""
    body = {"source": source, "inJob": True, "wait": True, "timeoutS": 120}
    reply = httpx.post(base + "/api/scripts", json=body, headers=ADMIN, timeout=300)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """One ``serve`` with a token and a read token for the tests that neither stop it nor
    change what the others see: it runs jobs in a supervised worker process (1 here; the
    data limit keeps the ArrayBuffer bomb small, the 32 MB heap its old space at 64 MB)."""
    limit = {"SYSJOBS_WORKER_DATA_LIMIT_MB": "1024", "SYSJOBS_WORKER_HEAP_MB": "32"}
    with serving(tmp_path_factory.mktemp("serve"), "--token", "s3cret", "--read-token", "look",
                 "--slots", "2", workers=1, env=limit) as running:  # fmt: skip
        yield running


def test_serve_with_a_token_and_a_read_token(served: tuple[str, subprocess.Popen[str]]) -> None:
    base, _proc = served
    assert httpx.get(base + "/api/jobs").status_code == 401
    me = httpx.get(base + "/api/me", headers={"Authorization": "Bearer s3cret"})
    assert me.json() == {"role": "admin"}
    reader = httpx.get(base + "/api/me", headers={"Authorization": "Bearer look"})
    assert reader.json() == {"role": "read"}
    page = httpx.get(base + "/")
    assert page.status_code == 200 and "sysjobs" in page.text


def test_memory_bombs_from_the_console_end_their_jobs_while_the_server_keeps_serving(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    # One huge array ends the worker process at once, never the server.
    base, proc = served
    array = _job_from_the_console(base, ARRAY_BOMB)
    assert (array["job"]["status"], array["job"]["hasErrors"]) == ("FINISHED", True)
    reasons = " ".join(line["message"] for line in array["logs"] if line["level"] == "ERROR")
    assert "worker process" in reasons and "died" in reasons, reasons
    assert "memoryLimit" in reasons, reasons
    assert _job_from_the_console(base, "6 * 7")["job"]["results"] == {"value": 42}
    buffers = _job_from_the_console(base, BUFFER_BOMB)["job"]
    assert buffers["status"] == "FINISHED"
    assert buffers["results"]["error"]["code"] == "memoryLimit", buffers
    assert _job_from_the_console(base, "6 * 7")["job"]["results"] == {"value": 42}
    assert httpx.get(base + "/api/me", headers=ADMIN).json() == {"role": "admin"}
    assert proc.poll() is None


def test_in_process_workers_are_an_explicit_opt_in_of_serve(tmp_path: Path) -> None:
    with serving(tmp_path, "--token", "s3cret", "--in-process-workers", workers=1) as (base, _p):
        done = _job_from_the_console(base, "log('in the server'); 6 * 7")
    assert done["job"]["results"] == {"value": 42}
    assert [line["message"] for line in done["logs"]] == ["in the server"]


def test_shell_completion_is_available(tmp_path: Path) -> None:
    done = sysjobs_in_process("--help", cwd=tmp_path)
    assert "--install-completion" in done.stdout and "--show-completion" in done.stdout
    jobs_help = sysjobs_in_process("jobs", "--help", cwd=tmp_path)
    for command in ("ls", "show", "logs", "wait", "stop", "force-stop", "resume", "cancel",
                    "low-priority", "stats"):  # fmt: skip
        assert command in jobs_help.stdout
