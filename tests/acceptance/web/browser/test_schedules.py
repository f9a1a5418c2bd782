"""The Schedules view in a real headless Chromium: each schedule with its expression, zone,
target and state, its next run in its own zone, its last tick and a link to the job it
started; a schedule removed from the manifest shown removed. A screenshot goes to the test's
temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sysjobs.host import Host
from sysjobs.jobs import EngineSettings, Job
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.acceptance.web.browser.browsing import (
    NEEDS_CHROMIUM,
    ON_BOTH_DATABASES,
    SETTLED,
    shot,
)
from tests.acceptance.web.conftest import ADMIN, READER, serving
from tests.integration.app.schedule_apps import HOUR_MS, HOURLY, START_MS, write_app
from tests.integration.engine.helpers import ManualClock

NIGHTLY = '  nightly: {cron: "30 2 * * *", timezone: Europe/Paris, source: "log(1)"}\n'
OLD = '  weekly: {cron: "@weekly", listener: tidy}\n'

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def scheduled(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Job]]:
    """The dashboard over an app with two schedules (one has run) and a removed one."""
    clock = ManualClock(START_MS)
    folder = write_app(tmp_path / "clocks", "clocks", HOURLY + NIGHTLY + OLD)
    Host(db_url, folder, settings=EngineSettings(clock=clock), pool_size=1).close()
    write_app(folder, "clocks", HOURLY + NIGHTLY)  # 'weekly' leaves the manifest
    with Host(db_url, folder, settings=EngineSettings(clock=clock), pool_size=1) as host:
        clock.advance(HOUR_MS)
        [job] = host.engine.schedules.tick()
        app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url)
        with serving(app) as url:
            yield url, job


@SETTLED
@ON_BOTH_DATABASES
def test_the_schedules_view_shows_next_and_last_runs_and_a_removed_schedule(
    page: Page, scheduled: tuple[str, Job], tmp_path: Path
) -> None:
    url, job = scheduled
    page.goto(f"{url}/schedules#token={READER}")
    rows = page.get_by_test_id("schedule-row")
    expect(rows).to_have_count(3)
    hourly = page.locator('tr[data-name="hourly"]')
    expect(hourly.locator("td").nth(5)).to_have_text("2027-01-15 10:00 +00:00")
    expect(hourly.locator("td").nth(6)).to_have_text("2027-01-15 09:00 +00:00")
    expect(hourly.locator(f'a[href="/jobs/{job.id}"]')).to_have_text(job.id)
    expect(hourly.get_by_test_id("status")).to_have_text("PENDING")
    nightly = page.locator('tr[data-name="nightly"]')
    expect(nightly.locator("td").nth(3)).to_have_text("script:(inline)")
    expect(nightly.locator("td").nth(5)).to_have_text("2027-01-16 02:30 +01:00")
    expect(page.locator('tr[data-name="weekly"]').get_by_test_id("schedule-state")).to_have_text(
        "removed"
    )
    expect(page.get_by_test_id("schedule-scope")).to_contain_text("Schedules of app clocks (3)")
    shot(page, "schedules", tmp_path)
    hourly.locator(f'a[href="/jobs/{job.id}"]').click()
    expect(page.locator("#label")).to_have_text("Schedule hourly at 2027-01-15T09:00:00Z")


@SETTLED
def test_the_schedules_view_fits_a_narrow_screen(
    page: Page, scheduled: tuple[str, Job], tmp_path: Path
) -> None:
    url, _job = scheduled
    page.set_viewport_size({"width": 380, "height": 800})  # set back as the test ends
    page.goto(f"{url}/schedules#token={ADMIN}")
    expect(page.get_by_test_id("schedule-row")).to_have_count(3)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 380
    shot(page, "schedules-narrow", tmp_path)
