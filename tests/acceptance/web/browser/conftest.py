"""Fixtures of the dashboard's browser tests: their database, Chromium and the shared page.

``db_url`` here overrides tests/conftest.py's for this folder: SQLite alone, unless a test
asks for both databases with ``browsing.ON_BOTH_DATABASES``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.acceptance.web.browser.browsing import (
    FORGET,
    REFRESH_MS,
    SETTLED_MS,
    VIEWPORT,
    assert_no_problem,
    open_page,
)
from tests.acceptance.web.conftest import Chromium
from tests.conftest import _migrated_database


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``db_url`` of tests/conftest.py on SQLite alone (``ON_BOTH_DATABASES`` adds
    PostgreSQL back for a test)."""
    with _migrated_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
def browser(chromium: Chromium) -> Browser:
    """The test process's Chromium, shared by the browser tests it runs in a row."""
    return chromium.browser()


@pytest.fixture
def settled() -> None:
    """Asks ``page`` for its page at ``SETTLED_MS`` (see ``browsing.SETTLED``)."""


@pytest.fixture
def page(request: pytest.FixtureRequest, chromium: Chromium, browser: Browser) -> Iterator[Page]:
    """The page of ``browsing``, one a pace for the browser tests a test process runs in a row:
    each test starts on about:blank with no cookie, and each test's dashboard is served on
    a new port, a new origin whose storage is empty; the storage of the origin a test ends
    on is cleared as it ends (a later server may get that port again). A page that cannot
    be taken back so is closed and the next test gets a new one. A test may narrow the
    viewport or choose the dark scheme: both are set back as it ends."""
    pace = SETTLED_MS if "settled" in request.fixturenames else REFRESH_MS
    shared = chromium.shared.get(pace)
    if shared is None or shared[0].is_closed():
        shared = chromium.shared[pace] = open_page(browser, pace)
    opened, problems = shared
    assert opened.url == "about:blank", opened.url
    problems.clear()
    opened.context.clear_cookies()
    yield opened
    try:
        if opened.url.startswith("http"):
            opened.evaluate(FORGET)
        opened.goto("about:blank")
        opened.set_viewport_size(VIEWPORT)
        opened.emulate_media(color_scheme="light")  # a context's own default
    except Exception:
        opened.context.close()
        chromium.shared.pop(pace, None)
        raise
    assert_no_problem(problems)
