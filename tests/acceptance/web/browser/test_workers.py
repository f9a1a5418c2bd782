"""The Workers view in a real headless Chromium: the server's pool with its slots and its
current job (a link to the job's page), a dead worker shown gone, the operator's
every-app switch, and the narrow layout. A screenshot of each goes to the test's temporary
directory."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from sysjobs.host import Host
from sysjobs.worker import WorkerPool
from sysjobs.worker.served import ServedApp
from tests.acceptance.web.browser.browsing import (
    NEEDS_CHROMIUM,
    ON_BOTH_DATABASES,
    SETTLED,
    shot,
)
from tests.acceptance.web.conftest import ADMIN, READER
from tests.acceptance.web.test_api_workers import gone_worker

pytestmark = NEEDS_CHROMIUM


@ON_BOTH_DATABASES
def test_the_workers_view_shows_the_pool_its_current_job_and_a_gone_worker(
    page: Page, server: str, host: Host, tmp_path: Path
) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 400, "step_s": 0.05}, label="Long import")
    host.engine.wait(job.id, "RUNNING", 30)
    dead = gone_worker(host)
    page.goto(f"{server}/workers#token={READER}")
    rows = page.get_by_test_id("worker-row")
    expect(rows).to_have_count(2)
    alive = page.locator("tr.worker.alive")
    expect(alive.locator("td").nth(2)).to_have_text("2")  # the server's pool: 2 slots
    expect(alive.locator("td").nth(3)).to_have_text("1")
    expect(alive.locator(f'a[href="/jobs/{job.id}"]')).to_have_text(job.id)
    expect(page.locator(f'tr[data-id="{dead}"]').get_by_test_id("worker-state")).to_have_text(
        "gone"
    )
    expect(page.locator("#wk-alive")).to_have_text("1")
    expect(page.locator("#wk-gone")).to_have_text("1")
    expect(page.get_by_test_id("worker-scope")).to_contain_text(f"serving app {host.engine.app}")
    expect(page.get_by_test_id("all-apps")).to_be_visible()  # the read token is the operator's
    shot(page, "workers", tmp_path)
    alive.locator(f'a[href="/jobs/{job.id}"]').click()
    expect(page.locator("#label")).to_have_text("Long import")
    host.engine.cancel(job.id)


@SETTLED
def test_the_admin_token_switches_to_every_apps_workers(
    page: Page, server: str, host: Host, tmp_path: Path
) -> None:
    billing = {"billing": ServedApp(host.engine.for_app("billing"))}
    with WorkerPool(host.engine, concurrency=1, apps=billing) as other:
        page.goto(f"{server}/workers#token={ADMIN}")
        rows = page.get_by_test_id("worker-row")
        expect(rows).to_have_count(1)
        page.get_by_test_id("all-apps").check()
        expect(rows).to_have_count(2)
        expect(page.locator(f'tr[data-id="{other.owner}"]')).to_contain_text("billing")
        expect(page.get_by_test_id("worker-scope")).to_contain_text("Every app's workers")
        shot(page, "workers-every-app", tmp_path)


@SETTLED
def test_the_workers_view_fits_a_narrow_screen(page: Page, server: str, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 380, "height": 800})  # set back as the test ends
    page.goto(f"{server}/workers#token={ADMIN}")
    expect(page.get_by_test_id("worker-row")).to_have_count(1)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 380
    shot(page, "workers-narrow", tmp_path)
