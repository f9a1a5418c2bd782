"""The app switcher in a real headless Chromium, on a dashboard over two apps of one
database: a ``<select>`` in every page's header filled from ``/api/apps``; switching shows
the other app's jobs and is remembered from page to page; an app's own token sees no
switcher and only its app, whatever app was remembered before. A screenshot of each goes
to the test's temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.acceptance.web.browser.browsing import (
    NEEDS_CHROMIUM,
    SETTLED,
    shot,
)
from tests.acceptance.web.conftest import ADMIN, READER, serving
from tests.integration.apps.conftest import app_folder

BETA_TOKEN = "beta-app-token"
PAGES = ("/", "/workers", "/app-logs", "/console")

pytestmark = NEEDS_CHROMIUM


@dataclass(frozen=True)
class TwoApps:
    """The served dashboard's base URL and each app's one job id."""

    url: str
    jobs: dict[str, str]


@pytest.fixture
def two_apps(db_url: str, tmp_path: Path) -> Iterator[TwoApps]:
    """Apps ``alpha`` (the dashboard's first) and ``beta``, a pending job in each; the
    operator's tokens and beta's own token."""
    hosts = [Host(db_url, app_folder(tmp_path, name), pool_size=1) for name in ("alpha", "beta")]
    try:
        jobs = {h.app_key: h.start_script_job("1", label=f"{h.app_key} job").id for h in hosts}
        auth = AuthConfig(ADMIN, READER, app_tokens={BETA_TOKEN: "beta"})
        with serving(create_app(hosts[0], auth, apps=hosts[1:])) as url:
            yield TwoApps(url, jobs)
    finally:
        for host in hosts:
            host.close()


@SETTLED
def test_switching_the_app_shows_the_other_apps_jobs_and_is_remembered(
    page: Page, two_apps: TwoApps, tmp_path: Path
) -> None:
    page.goto(f"{two_apps.url}/#token={READER}")
    switch = page.get_by_test_id("app-switch")
    expect(switch).to_be_visible()
    expect(switch.locator("option")).to_have_text(["alpha", "beta"])
    expect(switch).to_have_value("alpha")
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("alpha job")
    switch.select_option("beta")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("beta job")
    expect(page.locator(f'tr[data-id="{two_apps.jobs["beta"]}"]')).to_have_count(1)
    shot(page, "switcher-beta", tmp_path)
    for path in PAGES:  # every page's header has it, still on beta
        page.goto(two_apps.url + path)
        expect(page.get_by_test_id("app-switch")).to_have_value("beta")
        expect(page.locator("body")).to_have_attribute("data-app", "beta")
    page.goto(f"{two_apps.url}/jobs/{two_apps.jobs['beta']}")
    expect(page.locator("#label")).to_have_text("beta job")
    page.get_by_test_id("app-switch").select_option("alpha")  # a job page goes to the list
    expect(page).to_have_url(two_apps.url + "/")
    expect(rows).to_contain_text("alpha job")


@SETTLED
def test_the_workers_view_follows_the_switcher(page: Page, two_apps: TwoApps) -> None:
    page.goto(f"{two_apps.url}/workers#token={READER}")
    expect(page.get_by_test_id("worker-scope")).to_contain_text("serving app alpha")
    expect(page.get_by_test_id("all-apps")).to_be_visible()  # an operator's token: every app
    page.get_by_test_id("app-switch").select_option("beta")
    expect(page.get_by_test_id("worker-scope")).to_contain_text("serving app beta")


@SETTLED
def test_an_apps_token_sees_no_switcher_and_only_its_app(
    page: Page, two_apps: TwoApps, tmp_path: Path
) -> None:
    page.goto(f"{two_apps.url}/#token={ADMIN}")
    expect(page.get_by_test_id("app-switch")).to_have_value("alpha")
    with page.expect_navigation():  # the switch reloads the page: wait for it, not race it
        page.get_by_test_id("app-switch").select_option("alpha")  # remembered: alpha
    page.goto(f"{two_apps.url}/workers#token={BETA_TOKEN}")  # a new page, a new token
    expect(page.get_by_test_id("worker-scope")).to_contain_text("serving app beta")
    expect(page.get_by_test_id("app-switch")).to_be_hidden()
    expect(page.get_by_test_id("all-apps")).to_be_hidden()  # its own app's workers only
    page.goto(f"{two_apps.url}/")
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("beta job")
    expect(page.get_by_test_id("app-switch")).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-app", "beta")
    shot(page, "switcher-app-token", tmp_path)


@SETTLED
def test_the_console_runs_in_the_app_the_switcher_picked(
    page: Page, two_apps: TwoApps, tmp_path: Path
) -> None:
    page.goto(f"{two_apps.url}/console#token={ADMIN}")
    page.get_by_test_id("app-switch").select_option("beta")  # the page reloads, on beta
    expect(page.locator("body")).to_have_attribute("data-app", "beta")
    page.get_by_test_id("source").fill(
        f"var b = sys.jobs.findById('{two_apps.jobs['beta']}'),"
        f" a = sys.jobs.findById('{two_apps.jobs['alpha']}');"
        " log('sees ' + b.label() + ', not alpha: ' + (a === null))"
    )
    page.click("#run")
    output = page.get_by_test_id("output")
    expect(output).to_contain_text("sees beta job, not alpha: true")
    shot(page, "console-beta", tmp_path)
