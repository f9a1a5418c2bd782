"""Fixtures for the dashboard: a real host on SQLite and PostgreSQL, the app over it, and a
real server (uvicorn in a thread) for the browser tests.

``STEPS`` is a job type whose progress moves step by step, that stops cooperatively and
resumes from its checkpoint, so tests can watch progress move, stop it and resume it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from pydantic import BaseModel
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs import JobContext, JobType
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig

ADMIN = "admin-secret-token"
READER = "read-only-token"


class Steps(BaseModel):
    steps: int = 20
    step_s: float = 0.2


def steps(ctx: JobContext, data: Steps) -> None:
    """Units of work with a checkpoint after each; stops between units when asked."""
    done = int(ctx.checkpoint.get("done", 0))
    while done < data.steps:
        if ctx.should_stop():
            ctx.log_info(f"stopping after {done} steps")
            return
        time.sleep(data.step_s)
        done += 1
        ctx.save_checkpoint({"done": done})
        ctx.set_progress(done * 100 // data.steps)
        ctx.log_info(f"step {done} of {data.steps}")
    ctx.set_results({"done": done})


STEPS = JobType("STEPS", Steps, steps)


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    """A host on the test database with the STEPS type registered."""
    with Host(db_url, job_types=[STEPS]) as opened:
        yield opened


@pytest.fixture
def client(host: Host, db_url: str) -> Iterator[TestClient]:
    """The dashboard app with an admin and a read-only token (no token set by default)."""
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def auth(token: str = ADMIN) -> dict[str, str]:
    """The header a client sends."""
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(host: Host, db_url: str) -> Iterator[str]:
    """The dashboard served on a free local port with two in-process workers (opted in: the
    STEPS type is trusted test code defined here); its base URL."""
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    with host.workers(2, in_process=True):  # trusted test job types (STEPS), in this process
        thread.start()
        deadline = time.monotonic() + 20
        while not uv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uv.started, "the dashboard did not start"
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            uv.should_exit = True
            thread.join(10)
