"""What the dashboard's browser tests share besides their fixtures (``conftest.py``): the
marks that choose a test's databases and page pace, the pages a test opens itself, and the
screenshots a person can look at.

Screenshots go to each test's pytest temporary directory (``pytest --basetemp=DIR`` keeps
them somewhere chosen) so a person can look at what the browser saw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.acceptance.web.conftest import CHROMIUM, PATIENCE_MS

#: Each browser test module's ``pytestmark``: without Debian's Chromium (and outside CI,
#: where a missing browser is a failure) the browser tests are skipped.
NEEDS_CHROMIUM = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
    reason="Debian's chromium is missing (make pytest installs it)",
)

#: The browser tests' database: SQLite only, but for one smoke test per view marked
#: ``ON_BOTH_DATABASES``. A browser test shows the HTML and JavaScript; the HTTP API they
#: call is shown on both databases by the ``test_api_*`` modules (docs/testing.md).
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


#: The dashboard's refresh pace in the browser tests (``sysjobsRefreshMs``, common.js): a
#: test waits on what the next refresh shows, up to a whole period per step at the views'
#: own 1 to 5 s; every view reads it, so the behaviour shown is the same, only sooner.
REFRESH_MS = 200
#: The pace for a test marked ``SETTLED``: all it waits on is there as the page loads, or
#: fetched at once by its own clicks (a filter, a search, a page, a switch, a reload), so
#: no refresh needs to run while it does — each costs both Chromium and the server's
#: thread CPU (measured: ~0.14 s a second of waiting at 200 ms, for both together).
SETTLED_MS = 60_000


def pace_script(ms: int) -> str:
    """Sets the pace before any page script reads it (about:blank has no localStorage)."""
    return f"try {{ localStorage.setItem('sysjobsRefreshMs', '{ms}'); }} catch (e) {{}}"


#: A browser test whose page needs no refresh while it runs (``SETTLED_MS``): one that
#: waits on what another process changes (a job's progress or status, a worker's heartbeat,
#: a log line) keeps the default pace.
SETTLED = pytest.mark.usefixtures("settled")
#: The browser tests' screen (a test may narrow the shared page's for a while).
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}


def open_page(browser: Browser, pace_ms: int = REFRESH_MS,
            **options: Any) -> tuple[Page, list[str]]:  # fmt: skip
    """A page in a fresh context at ``pace_ms``, and the script errors and CSP refusals it
    reports."""
    context = browser.new_context(**{"viewport": VIEWPORT, **options})
    context.add_init_script(pace_script(pace_ms))
    opened = context.new_page()
    opened.set_default_timeout(PATIENCE_MS)
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    return opened, problems


def assert_no_problem(problems: list[str]) -> None:
    blocked = [p for p in problems if "Content Security Policy" in p or "Error" in p]
    assert not blocked, blocked


@contextmanager
def browsing(browser: Browser, pace_ms: int = REFRESH_MS, **options: Any) -> Iterator[Page]:
    """A page in a fresh context (its own viewport, colour scheme…); no script error and no
    CSP refusal may happen in it."""
    opened, problems = open_page(browser, pace_ms, **options)
    yield opened
    opened.context.close()
    assert_no_problem(problems)


#: Forgets what a test's pages stored for the origin the page is on (the token, the chosen
#: app); the page is then left on about:blank, where no refresh runs.
FORGET = "() => { localStorage.clear(); sessionStorage.clear(); }"


def shot(page: Page, name: str, tmp_path: Path) -> None:
    """What the browser shows, for a person to look at (never committed)."""
    page.screenshot(path=str(tmp_path / f"dashboard-{name}.png"), full_page=True)


def progress_of(page: Page) -> int:
    return int(page.locator("#bar .progress").get_attribute("data-value") or 0)
