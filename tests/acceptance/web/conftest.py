"""Fixtures for the dashboard: a real host on SQLite and PostgreSQL, the app over it, and a
real server (uvicorn in a thread) for the browser tests and for raw-socket tests.

``STEPS`` is a job type whose progress moves step by step, that stops cooperatively and
resumes from its checkpoint, so tests can watch progress move, stop it and resume it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs import JobContext, JobType
from sysjobs.runtime.launcher import Launcher
from sysjobs.store.schema import job_logs
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.emptying import Emptier

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ADMIN = "admin-secret-token"
READER = "read-only-token"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
#: How long an ``expect(…)`` waits for what it expects (Playwright's default is 5 s, which a
#: loaded machine's first script run in a fresh host can take): the same bound as actions.
PATIENCE_MS = 20_000


class Chromium:
    """One Chromium (Debian's, never a downloaded build) for the browser tests a test process
    runs in a row, whichever module they are in: a launch costs ~1.5 s of CPU, and each
    browser module launched its own.

    Closed as soon as the next test is not a browser test (:func:`pytest_runtest_teardown`):
    a live ``sync_playwright()`` leaves its event loop as this thread's running loop, and a
    later test's ``asyncio.run()`` would fail ("cannot be called from a running event loop").
    """

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        #: The pages the browser tests share (``page`` of browser/conftest.py), one for each
        #: refresh pace, and the script errors each reported: a new context per test is a
        #: new renderer process, ~0.4 s of Chromium's CPU and ~1 s of wall time a test,
        #: against ~0.1 s for a page load.
        self.shared: dict[int, tuple[Page, list[str]]] = {}

    def browser(self) -> Browser:
        """The running browser, launched on first use."""
        if self._browser is None:
            from playwright.sync_api import expect, sync_playwright

            expect.set_options(timeout=PATIENCE_MS)
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, args=ARGS, headless=True
            )
        return self._browser

    def close(self) -> None:
        """Close the browser and stop Playwright (its loop with it); a no-op when closed."""
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        self.shared = {}
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()


CHROMIUM_KEY = pytest.StashKey[Chromium]()


@pytest.fixture(scope="session")
def chromium(pytestconfig: pytest.Config) -> Iterator[Chromium]:
    """This test process's :class:`Chromium` (closed between runs of browser tests)."""
    holder = pytestconfig.stash.setdefault(CHROMIUM_KEY, Chromium())
    yield holder
    holder.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """After a browser test's own teardown: close the browser unless the next test uses it."""
    yield
    holder = item.config.stash.get(CHROMIUM_KEY, None)
    if holder is not None and "browser" not in getattr(nextitem, "fixturenames", ()):
        holder.close()


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
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    """A host on the test database with the STEPS type registered (its console's and
    workers' children forked by the session's launcher)."""
    with Host(db_url, job_types=[STEPS], launcher=launcher) as opened:
        yield opened


@pytest.fixture
def client(host: Host, db_url: str) -> Iterator[TestClient]:
    """The dashboard app with an admin and a read-only token (no token set by default)."""
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_host(module_db_url: str, launcher: Launcher) -> Iterator[Host]:
    """``host`` for a module whose tests only read, or only add what no other test counts:
    opening a host per test was most of such a test's CPU."""
    with Host(module_db_url, job_types=[STEPS], launcher=launcher) as opened:
        yield opened


@pytest.fixture(scope="module")
def shared_client(shared_host: Host, module_db_url: str) -> Iterator[TestClient]:
    """``client`` over ``shared_host``, for the same tests."""
    app = create_app(shared_host, AuthConfig(ADMIN, READER), db_url=module_db_url)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def console_client(shared_client: TestClient, emptier: Emptier) -> TestClient:
    """``shared_client`` over the module's database emptied (``tests/emptying.py``), for tests
    that run scripts now: the dashboard's console runs them in a child process, started on
    its first run and kept (~0.8 s of CPU a start), so a module starts one, not one a test."""
    emptier.empty()
    return shared_client


def auth(token: str = ADMIN) -> dict[str, str]:
    """The header a client sends."""
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server(uvicorn.Server):
    """A uvicorn server that says when its start-up is over, listening or failed."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            super().run(sockets)
        finally:
            self.settled.set()  # start-up failed (the port was taken): no need to wait on

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.settled.set()


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port in a thread; its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = _Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    uv.settled.wait(20)
    assert uv.started, "the dashboard did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture
def server(host: Host, db_url: str) -> Iterator[str]:
    """The dashboard served on a free local port with two in-process workers (opted in: the
    STEPS type is trusted test code defined here); its base URL."""
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url)
    with host.workers(2, in_process=True), serving(app) as url:
        yield url


def bulk_log(host: Host, job_id: str, messages: Sequence[str], *, first_ms: int = 1_700_000_000_000,
             per_ms: int = 1, info: object = None) -> None:  # fmt: skip
    """Store ``messages`` as INFO lines of ``job_id`` in one transaction (a log of thousands of
    lines in a moment; the engine's per-line caps are not what these tests are about);
    ``per_ms`` lines share each millisecond."""
    rows = [{"job_id": job_id, "app": host.engine.app, "ts_ms": first_ms + n // per_ms,
             "level": "INFO", "message": m, "additional_info": info}
            for n, m in enumerate(messages)]  # fmt: skip
    with host.engine.database.engine.begin() as conn:
        conn.execute(job_logs.insert(), rows)
