"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
list, filter, open a job, watch its progress move, stop and resume it, run a script.

Screenshots go to ``tests/artifacts/`` so a person can look at what the browser saw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from sysjobs.host import Host
from tests.acceptance.web.conftest import ADMIN, READER, bulk_log

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
    reason="Debian's chromium is missing (make pytest installs it)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module; never a downloaded browser build."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    yield opened
    context.close()
    blocked = [p for p in problems if "Content Security Policy" in p or "Error" in p]
    assert not blocked, blocked


def shot(page: Page, name: str, db_url: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backend = "postgres" if db_url.startswith("postgresql") else "sqlite"
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{backend}.png"), full_page=True)


def progress_of(page: Page) -> int:
    return int(page.locator("#bar .progress").get_attribute("data-value") or 0)


def test_list_filter_and_open_a_job(page: Page, server: str, host: Host, db_url: str) -> None:
    done = host.engine.enqueue("STEPS", {"steps": 2, "step_s": 0.01, "_secret": "x"},
                               label="Nightly report")  # fmt: skip
    host.engine.wait(done.id, "FINISHED", 30)
    canceled = host.engine.enqueue("STEPS", {"steps": 2}, label="Abandoned import")
    host.engine.cancel(canceled.id)
    page.goto(f"{server}/#token={ADMIN}")
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(2)
    expect(page.locator("#st-finished")).to_have_text("1")
    expect(page.locator("#st-pending")).to_have_text("0")
    page.select_option("select[name=status]", "FINISHED")
    page.click("form#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nightly report")
    expect(page.get_by_test_id("count")).to_have_text("1 of 1 jobs")
    assert "status=FINISHED" in page.url
    shot(page, "list-filtered", db_url)
    rows.first.locator("a").click()
    expect(page.locator("#label")).to_have_text("Nightly report")
    expect(page.get_by_test_id("status")).to_have_text("FINISHED")
    expect(page.get_by_test_id("results")).to_contain_text('"done": 2')
    expect(page.get_by_test_id("data")).to_contain_text('"steps": 2')
    expect(page.get_by_test_id("data")).not_to_contain_text("_secret")
    expect(page.get_by_test_id("log-row")).to_have_count(2)
    for verb in ("stop", "force-stop", "resume", "cancel", "low-priority"):
        expect(page.locator(f"#btn-{verb}")).to_be_disabled()


def test_watch_progress_then_stop_and_resume(page: Page, server: str, host: Host,
                                             db_url: str) -> None:  # fmt: skip
    job = host.engine.enqueue("STEPS", {"steps": 60, "step_s": 0.15}, label="Long import")
    page.goto(f"{server}/jobs/{job.id}#token={ADMIN}")
    status = page.get_by_test_id("status")
    expect(status).to_have_text("RUNNING")
    page.wait_for_function(
        "() => Number(document.querySelector('#bar .progress').dataset.value) > 0"
    )
    first = progress_of(page)
    page.wait_for_function(
        f"() => Number(document.querySelector('#bar .progress').dataset.value) > {first}"
    )
    assert progress_of(page) > first
    expect(page.locator("#btn-resume")).to_be_disabled()
    shot(page, "job-running", db_url)
    page.click("#btn-stop")
    expect(status).to_have_text("STOPPED")
    stopped_at = progress_of(page)
    expect(page.locator("#btn-resume")).to_be_enabled()
    expect(page.locator("#btn-stop")).to_be_disabled()
    expect(page.get_by_test_id("log-row").last).to_contain_text("stopping after")
    shot(page, "job-stopped", db_url)
    page.click("#btn-resume")
    expect(status).to_have_text("RUNNING")
    page.wait_for_function(
        f"() => Number(document.querySelector('#bar .progress').dataset.value) > {stopped_at}"
    )
    page.click("#btn-cancel")
    expect(status).to_have_text("CANCELED")
    for verb in ("stop", "resume", "cancel"):
        expect(page.locator(f"#btn-{verb}")).to_be_disabled()


def test_logs_filter_by_level_and_message(page: Page, server: str, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 3, "step_s": 0.01})
    host.engine.wait(job.id, "FINISHED", 30)
    host.engine.log_error(job.id, "Disk full")
    page.goto(f"{server}/jobs/{job.id}#token={ADMIN}")
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(4)
    page.select_option("select[name=level]", "ERROR")
    page.click("#log-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Disk full")
    page.select_option("select[name=level]", "")
    page.fill("input[name=message]", "STEP 2")
    page.click("#log-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("step 2 of 3")


def test_script_console_runs_now_and_in_a_job(page: Page, server: str, db_url: str) -> None:
    page.goto(f"{server}/console#token={ADMIN}")
    page.get_by_test_id("source").fill("log('hello from the console'); 6 * 7")
    page.click("#run")
    output = page.get_by_test_id("output")
    expect(output).to_contain_text("hello from the console")
    expect(output).to_contain_text("⇒ 42")
    page.check("input[name=inJob]")
    page.get_by_test_id("source").fill("log('inside ' + sys.jobs.getCurrentJob().type())")
    page.click("#run")
    expect(page.locator("#job-status")).to_have_text("FINISHED")
    expect(output).to_contain_text("inside RUN_SCRIPT")
    shot(page, "console", db_url)


def test_read_only_token_sees_disabled_controls(page: Page, server: str, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 200, "step_s": 0.1})
    page.goto(f"{server}/jobs/{job.id}#token={READER}")
    expect(page.get_by_test_id("status")).to_have_text("RUNNING")
    expect(page.locator("#role")).to_have_text("read-only")
    expect(page.locator("#btn-stop")).to_be_disabled()
    host.engine.cancel(job.id)


def test_wrong_token_asks_for_one(page: Page, server: str) -> None:
    page.goto(f"{server}/#token=wrong")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("unauthorized")


def test_queue_stats_show_depth_and_running(page: Page, server: str, host: Host,
                                            db_url: str) -> None:  # fmt: skip
    jobs = [host.engine.enqueue("STEPS", {"steps": 100, "step_s": 0.1}, label=f"Batch {n}")
            for n in range(4)]  # fmt: skip
    page.goto(f"{server}/#token={ADMIN}")
    expect(page.locator("#st-running")).to_have_text("2")
    expect(page.locator("#st-pending")).to_have_text("2")
    expect(page.get_by_test_id("queues").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("queues")).to_contain_text("mix")
    page.select_option("select[name=status]", "PENDING,RUNNING,STOPPING,CANCELING")
    page.click("form#filters button[type=submit]")
    expect(page.get_by_test_id("job-row")).to_have_count(4)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=progress]')]"
        ".some((bar) => Number(bar.dataset.value) > 0)"
    )
    shot(page, "list-live", db_url)
    for job in jobs:
        host.engine.cancel(job.id)


def test_an_export_job_page_downloads_its_file(page: Page, server: str, host: Host) -> None:
    job_id = host.app.export_records("companies")
    host.engine.wait(job_id, "FINISHED", 60)
    page.goto(f"{server}/jobs/{job_id}#token={ADMIN}")
    link = page.get_by_test_id("file-link")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    assert "Acme" in Path(path).read_text()


def test_a_long_log_is_followed_page_by_page(page: Page, server: str, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    host.engine.cancel(job.id)
    bulk_log(host, job.id, [f"line {n}" for n in range(2500)])
    page.goto(f"{server}/jobs/{job.id}#token={ADMIN}")
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(2500)  # 13 pages of 200, read while following
    expect(page.locator("#log-count")).to_have_text("2500 of 2500 lines")
    expect(page.get_by_test_id("log-more")).to_be_hidden()
    host.engine.log_info(job.id, "a late line")
    expect(rows.last).to_contain_text("a late line")


def test_without_follow_more_lines_load_on_demand(page: Page, server: str, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    host.engine.cancel(job.id)
    bulk_log(host, job.id, [f"line {n}" for n in range(450)])
    page.goto(f"{server}/jobs/{job.id}#token={ADMIN}")
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(450)
    page.uncheck("input[name=follow]")
    page.click("#log-filters button[type=submit]")
    expect(rows).to_have_count(200)
    more = page.get_by_test_id("log-more")
    expect(more).to_be_visible()
    more.click()
    expect(rows).to_have_count(400)
    more.click()
    expect(rows).to_have_count(450)
    expect(more).to_be_hidden()
    expect(rows.last).to_contain_text("line 449")


def test_a_read_token_cannot_download_an_export(page: Page, server: str, host: Host) -> None:
    job_id = host.app.export_users()
    host.engine.wait(job_id, "FINISHED", 60)
    page.goto(f"{server}/jobs/{job_id}#token={READER}")
    link = page.get_by_test_id("file-link")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_test_id("file-error")).to_have_text(
        "forbidden: Files hold exported records and users: only the admin token may download them"
    )
