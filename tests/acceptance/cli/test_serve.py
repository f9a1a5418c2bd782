"""``sysjobs serve``: the dashboard as a user starts it — always behind a token."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``sysjobs serve`` on a free port; yield its base URL once it answers."""
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sysjobs.cli", "serve", "--port", str(port), "--db", db,
         "--workers", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
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


def test_serve_with_a_token_and_a_read_token(tmp_path: Path) -> None:
    with serving(tmp_path, "--token", "s3cret", "--read-token", "look") as (base, _proc):
        assert httpx.get(base + "/api/jobs").status_code == 401
        me = httpx.get(base + "/api/me", headers={"Authorization": "Bearer s3cret"})
        assert me.json() == {"role": "admin"}
        reader = httpx.get(base + "/api/me", headers={"Authorization": "Bearer look"})
        assert reader.json() == {"role": "read"}
        page = httpx.get(base + "/")
        assert page.status_code == 200 and "sysjobs" in page.text


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


def test_shell_completion_is_available(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sysjobs.cli", "--help"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)  # fmt: skip
    assert "--install-completion" in done.stdout and "--show-completion" in done.stdout
    jobs_help = subprocess.run([sys.executable, "-m", "sysjobs.cli", "jobs", "--help"],
                               capture_output=True, text=True, cwd=tmp_path, timeout=60)  # fmt: skip
    for command in ("ls", "show", "logs", "wait", "stop", "force-stop", "resume", "cancel",
                    "low-priority", "stats"):  # fmt: skip
        assert command in jobs_help.stdout
