"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
list, filter, search, page, open a job, watch its progress move, stop and resume it, cancel
in bulk, run a script; charts, the dark theme and the narrow layout.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from sysjobs.errors import SysError
from sysjobs.host import Host
from sysjobs.store.schema import job_logs
from tests.acceptance.web.browser.browsing import (
    NEEDS_CHROMIUM,
    ON_BOTH_DATABASES,
    SETTLED,
    SETTLED_MS,
    browsing,
    progress_of,
    shot,
)
from tests.acceptance.web.conftest import ADMIN, READER, bulk_log

pytestmark = NEEDS_CHROMIUM


@SETTLED
@ON_BOTH_DATABASES
def test_list_filter_and_open_a_job(page: Page, server: str, host: Host, tmp_path: Path) -> None:
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
    shot(page, "list-filtered", tmp_path)
    rows.first.locator("a").click()
    expect(page.locator("#label")).to_have_text("Nightly report")
    expect(page.get_by_test_id("status")).to_have_text("FINISHED")
    expect(page.get_by_test_id("results")).to_contain_text('"done": 2')
    expect(page.get_by_test_id("data")).to_contain_text('"steps": 2')
    expect(page.get_by_test_id("data")).not_to_contain_text("_secret")
    expect(page.get_by_test_id("log-row")).to_have_count(2)
    for verb in ("stop", "force-stop", "resume", "cancel", "low-priority"):
        expect(page.locator(f"#btn-{verb}")).to_be_disabled()


@ON_BOTH_DATABASES
def test_watch_progress_then_stop_and_resume(page: Page, server: str, host: Host,
                                             tmp_path: Path) -> None:  # fmt: skip
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
    shot(page, "job-running", tmp_path)
    page.click("#btn-stop")
    expect(status).to_have_text("STOPPED")
    stopped_at = progress_of(page)
    expect(page.locator("#btn-resume")).to_be_enabled()
    expect(page.locator("#btn-stop")).to_be_disabled()
    expect(page.get_by_test_id("log-row").last).to_contain_text("stopping after")
    shot(page, "job-stopped", tmp_path)
    page.click("#btn-resume")
    expect(status).to_have_text("RUNNING")
    page.wait_for_function(
        f"() => Number(document.querySelector('#bar .progress').dataset.value) > {stopped_at}"
    )
    page.click("#btn-cancel")
    page.get_by_test_id("confirm-yes").click()
    expect(status).to_have_text("CANCELED")
    for verb in ("stop", "resume", "cancel"):
        expect(page.locator(f"#btn-{verb}")).to_be_disabled()


@SETTLED
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


@ON_BOTH_DATABASES
def test_script_console_runs_now_and_in_a_job(page: Page, server: str, tmp_path: Path) -> None:
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
    shot(page, "console", tmp_path)


def test_read_only_token_sees_disabled_controls(page: Page, server: str, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 200, "step_s": 0.1})
    page.goto(f"{server}/jobs/{job.id}#token={READER}")
    expect(page.get_by_test_id("status")).to_have_text("RUNNING")
    expect(page.locator("#role")).to_have_text("read-only")
    expect(page.locator("#btn-stop")).to_be_disabled()
    host.engine.cancel(job.id)


@SETTLED
def test_wrong_token_asks_for_one(page: Page, server: str) -> None:
    page.goto(f"{server}/#token=wrong")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("unauthorized")


def test_queue_stats_show_depth_and_running(page: Page, server: str, host: Host,
                                            tmp_path: Path) -> None:  # fmt: skip
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
    shot(page, "list-live", tmp_path)
    for job in jobs:
        host.engine.cancel(job.id)


@SETTLED
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


def canceled_without_logs(host: Host) -> str:
    """An ended job whose log is empty: a worker may have claimed it before the cancel
    and logged a line on its way out — or finished it first (FINISHED wins over a late
    cancel, which is then refused); the test then writes the log it is about."""
    job = host.engine.enqueue("STEPS", {"steps": 1})
    with contextlib.suppress(SysError):
        host.engine.cancel(job.id)
    host.engine.wait(job.id, ["CANCELED", "FINISHED"], 30)
    with host.engine.database.engine.begin() as conn:
        conn.execute(job_logs.delete().where(job_logs.c.job_id == job.id))
    return job.id


def test_a_long_log_is_followed_page_by_page(page: Page, server: str, host: Host) -> None:
    job = host.engine.require(canceled_without_logs(host))
    bulk_log(host, job.id, [f"line {n}" for n in range(2500)])
    page.goto(f"{server}/jobs/{job.id}#token={ADMIN}")
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(2500)  # 13 pages of 200, read while following
    expect(page.locator("#log-count")).to_have_text("2500 of 2500 lines")
    expect(page.get_by_test_id("log-more")).to_be_hidden()
    host.engine.log_info(job.id, "a late line")
    expect(rows.last).to_contain_text("a late line")


@SETTLED
def test_without_follow_more_lines_load_on_demand(page: Page, server: str, host: Host) -> None:
    job = host.engine.require(canceled_without_logs(host))
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


@SETTLED
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


def long_jobs(host: Host, count: int, label: str = "Batch") -> list[str]:
    """Jobs that keep the two workers busy (the rest wait), oldest first."""
    return [host.engine.enqueue("STEPS", {"steps": 600, "step_s": 0.1},
                                label=f"{label} {n}").id for n in range(count)]  # fmt: skip


def cancel_all(host: Host, ids: list[str]) -> None:
    for job_id in ids:
        if host.engine.require(job_id).status in ("PENDING", "RUNNING", "STOPPED"):
            host.engine.cancel(job_id)


def test_charts_draw_throughput_and_queue_depth(page: Page, server: str, host: Host,
                                                tmp_path: Path) -> None:  # fmt: skip
    done = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.01})
    host.engine.wait(done.id, "FINISHED", 30)
    busy = long_jobs(host, 4)  # two run, two wait
    page.goto(f"{server}/#token={ADMIN}")
    for chart in ("chart-throughput", "chart-depth"):
        box = page.get_by_test_id(chart)
        expect(box.locator("canvas")).to_have_count(1)
        expect(box).to_have_attribute("data-points", "60")
        assert box.locator("canvas").bounding_box()["width"] > 100  # type: ignore[index]
    throughput = page.get_by_test_id("chart-throughput")
    expect(throughput).to_have_attribute("data-total", "6")  # 1 finished + 5 enqueued
    expect(page.get_by_test_id("chart-depth")).not_to_have_attribute("data-total", "0")
    expect(throughput.locator(".u-legend")).to_contain_text("finished")
    shot(page, "charts", tmp_path)
    cancel_all(host, busy)


@SETTLED
def test_search_finds_a_job_by_id_and_by_label(page: Page, server: str, host: Host,
                                               tmp_path: Path) -> None:  # fmt: skip
    report = host.engine.enqueue("STEPS", {"steps": 1}, label="Nightly Report")
    other = host.engine.enqueue("STEPS", {"steps": 1}, label="Contacts import")
    for job_id in (report.id, other.id):
        host.engine.cancel(job_id)
    page.goto(f"{server}/#token={ADMIN}")
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(2)
    page.get_by_test_id("search").fill(other.id)
    page.click("form#search button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", other.id)
    assert "q=" + other.id in page.url
    page.get_by_test_id("search").fill("nightly rep")
    page.click("form#search button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nightly Report")
    expect(page.get_by_test_id("count")).to_have_text("1 of 1 jobs found")
    shot(page, "search", tmp_path)
    page.get_by_test_id("search").fill("0123456789abcdef01234567")
    page.click("form#search button[type=submit]")
    expect(page.get_by_test_id("count")).to_have_text("0 of 0 jobs found")
    page.click("form#search button[type=reset]")
    expect(rows).to_have_count(2)


@SETTLED
def test_pages_walk_older_and_back(page: Page, server: str, host: Host, tmp_path: Path) -> None:
    made = [host.engine.enqueue("STEPS", {"steps": 1}, label=f"Job {n}").id for n in range(7)]
    for job_id in made:
        host.engine.cancel(job_id)
    newest_first = made[::-1]
    page.goto(f"{server}/?_size=3#token={ADMIN}")
    rows = page.get_by_test_id("job-row")

    def shown() -> list[str]:
        return [r.get_attribute("data-id") or "" for r in rows.all()]

    expect(rows).to_have_count(3)
    assert shown() == newest_first[:3]
    expect(page.get_by_test_id("page-prev")).to_be_disabled()
    page.get_by_test_id("page-next").click()
    expect(page.get_by_test_id("page")).to_have_text("page 2")
    expect(rows.first).to_have_attribute("data-id", newest_first[3])
    assert shown() == newest_first[3:6]
    page.get_by_test_id("page-next").click()
    expect(page.get_by_test_id("page")).to_have_text("page 3")
    expect(rows).to_have_count(1)
    assert shown() == newest_first[6:]
    expect(page.get_by_test_id("page-next")).to_be_disabled()
    shot(page, "page-3", tmp_path)
    page.get_by_test_id("page-prev").click()
    expect(rows.first).to_have_attribute("data-id", newest_first[3])
    page.get_by_test_id("page-first").click()
    expect(rows.first).to_have_attribute("data-id", newest_first[0])


def test_bulk_cancel_asks_then_cancels_the_selected_jobs(page: Page, server: str, host: Host,
                                                         tmp_path: Path) -> None:  # fmt: skip
    busy = long_jobs(host, 4)
    page.goto(f"{server}/#token={ADMIN}")
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(4)
    expect(page.locator("#bulk-cancel")).to_be_disabled()
    chosen = busy[1:]  # one running, two waiting (the list is newest first)
    for job_id in chosen:
        page.locator(f"tr[data-id='{job_id}'] input.pick").check()
    expect(page.get_by_test_id("selected")).to_have_text("3 selected")
    page.click("#bulk-cancel")
    dialog = page.get_by_test_id("confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Cancel 3 jobs? This cannot be undone.")
    for job_id in chosen:
        expect(dialog).to_contain_text(job_id)
    shot(page, "bulk-confirm", tmp_path)
    page.get_by_test_id("confirm-no").click()
    expect(dialog).to_have_count(0)
    assert all(host.engine.require(j).status in ("PENDING", "RUNNING") for j in busy)
    page.click("#bulk-cancel")
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("bulk-result")).to_have_text("3 canceled")
    for job_id in chosen:
        host.engine.wait(job_id, "CANCELED", 30)
    assert host.engine.require(busy[0]).status in ("PENDING", "RUNNING")
    expect(page.get_by_test_id("selected")).to_have_text("0 selected")
    cancel_all(host, busy)


def test_bulk_low_priority_needs_no_confirmation(page: Page, server: str, host: Host) -> None:
    busy = long_jobs(host, 3)
    waiting = busy[2]  # the third waits behind two running jobs
    page.goto(f"{server}/#token={ADMIN}")
    page.locator(f"tr[data-id='{waiting}'] input.pick").check()
    page.click("#bulk-low-priority")
    expect(page.get_by_test_id("bulk-result")).to_have_text("1 set to low priority")
    assert host.engine.require(waiting).low_priority is True
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    cancel_all(host, busy)


def test_bulk_stop_asks_and_reports_the_jobs_it_could_not_stop(page: Page, server: str,
                                                               host: Host) -> None:  # fmt: skip
    busy = long_jobs(host, 2)
    done = host.engine.enqueue("STEPS", {"steps": 1}, label="Already over")
    host.engine.cancel(done.id)
    page.goto(f"{server}/#token={ADMIN}")
    expect(page.get_by_test_id("job-row")).to_have_count(3)
    page.locator("#select-all").check()
    expect(page.get_by_test_id("selected")).to_have_text("3 selected")
    page.click("#bulk-stop")
    expect(page.get_by_test_id("confirm")).to_contain_text(
        "Stop 3 jobs? They can be resumed later."
    )
    page.get_by_test_id("confirm-yes").click()
    result = page.get_by_test_id("bulk-result")
    expect(result).to_contain_text("2 stopped; not changed: " + done.id + ": badRequest")
    for job_id in busy:
        host.engine.wait(job_id, "STOPPED", 30)
    expect(page.get_by_test_id("selected")).to_have_text("1 selected")  # the one refused
    cancel_all(host, busy)


def test_a_single_cancel_asks_first(page: Page, server: str, host: Host) -> None:
    job = long_jobs(host, 1)[0]
    page.goto(f"{server}/jobs/{job}#token={ADMIN}")
    status = page.get_by_test_id("status")
    expect(status).to_have_text("RUNNING")
    page.click("#btn-cancel")
    expect(page.get_by_test_id("confirm")).to_contain_text("Cancel this job?")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    assert host.engine.require(job).status == "RUNNING"
    page.click("#btn-cancel")
    page.get_by_test_id("confirm-yes").click()
    expect(status).to_have_text("CANCELED")


def test_the_read_token_cannot_act_in_bulk(page: Page, server: str, host: Host) -> None:
    busy = long_jobs(host, 1)
    page.goto(f"{server}/#token={READER}")
    page.locator(f"tr[data-id='{busy[0]}'] input.pick").check()
    expect(page.get_by_test_id("selected")).to_have_text("1 selected")
    for verb in ("stop", "cancel", "low-priority"):
        expect(page.locator(f"#bulk-{verb}")).to_be_disabled()
    cancel_all(host, busy)


BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


@SETTLED
def test_dark_mode_follows_the_system_setting(page: Page, server: str, host: Host,
                                              tmp_path: Path) -> None:  # fmt: skip
    host.engine.cancel(host.engine.enqueue("STEPS", {"steps": 1}, label="Seen at night").id)
    page.emulate_media(color_scheme="dark")
    page.goto(f"{server}/#token={ADMIN}")
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    expect(page.get_by_test_id("chart-depth").locator("canvas")).to_have_count(1)
    assert page.evaluate(BACKGROUND) == "rgb(17, 21, 28)"
    assert page.evaluate("() => getComputedStyle(document.body).color") == "rgb(227, 232, 240)"
    shot(page, "dark", tmp_path)
    page.emulate_media(color_scheme="light")
    page.reload()  # a new load, as a new visit in daylight
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    assert page.evaluate(BACKGROUND) == "rgb(246, 248, 251)"


#: A row's style, found and read in one task of the page: each refresh replaces the rows,
#: and a row found first and read after its replacement has no computed style at all.
CARD_DISPLAY = "() => getComputedStyle(document.querySelector('[data-testid=job-row]')).display"
LABEL_BEFORE = ("() => getComputedStyle(document.querySelector("
                "'[data-testid=job-row] td[data-label=Label]'), '::before').content")  # fmt: skip


def test_a_narrow_screen_shows_jobs_as_cards(browser: Browser, server: str, host: Host,
                                             tmp_path: Path) -> None:  # fmt: skip
    job = host.engine.enqueue("STEPS", {"steps": 600, "step_s": 0.1}, label="On a phone")
    host.engine.cancel(job.id)  # a job this long cannot finish first
    host.engine.wait(job.id, "CANCELED", 30)
    with browsing(browser, SETTLED_MS, viewport={"width": 390, "height": 844},
                  is_mobile=True) as phone:  # fmt: skip
        phone.goto(f"{server}/#token={ADMIN}")
        row = phone.get_by_test_id("job-row")
        expect(row).to_have_count(1)
        expect(phone.locator("table.jobs thead")).to_be_hidden()
        assert phone.evaluate(CARD_DISPLAY) == "grid"
        assert phone.evaluate(LABEL_BEFORE) == '"Label"'
        expect(phone.locator("form#filters")).to_be_hidden()  # folded away
        expect(phone.get_by_test_id("search")).to_be_visible()
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        shot(phone, "narrow", tmp_path)
        phone.goto(f"{server}/jobs/{job.id}#token={ADMIN}")
        expect(phone.get_by_test_id("status")).to_have_text("CANCELED")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        shot(phone, "narrow-job", tmp_path)


@SETTLED
def test_the_favicon_is_served(page: Page, server: str) -> None:
    page.goto(f"{server}/#token={ADMIN}")
    href = page.locator("link[rel=icon]").get_attribute("href")
    for path in (href, "/favicon.ico"):
        reply = page.request.get(f"{server}{path}")
        assert reply.status == 200
        assert reply.headers["content-type"].startswith("image/svg+xml")


@SETTLED
@ON_BOTH_DATABASES
def test_app_log_page_lists_and_filters_the_app_log(
    page: Page, server: str, host: Host, tmp_path: Path
) -> None:
    written = host.run("sys.logs.info('all good'); sys.logs.warn('Disk almost full', {pct: 91})")
    assert written.ok, written.error
    page.goto(f"{server}/app-logs#token={ADMIN}")
    rows = page.get_by_test_id("app-log-row")
    expect(rows).to_have_count(2)
    page.select_option("select[name=level]", "WARN")
    page.click("#app-log-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Disk almost full")
    expect(rows.first).to_contain_text('{"pct":91}')
    shot(page, "app-logs", tmp_path)


#: Stored ``sysjobsRefreshMs`` values and the pace a view asking for 1000 ms then gets.
PACES = [("200", 200), ("100", 100), ("60000", 60000), ("99", 1000), ("60001", 1000),
         ("0", 1000), ("-200", 1000), ("250.5", 1000), ("1e9", 1000), ("NaN", 1000),
         ("Infinity", 1000), ("", 1000), ("abc", 1000), ("9" * 400, 1000),
         ("\ud800", 1000)]  # fmt: skip


@SETTLED
def test_a_chosen_refresh_pace_outside_100_to_60000_ms_is_ignored(page: Page, server: str) -> None:
    page.goto(f"{server}/#token={ADMIN}")
    expect(page.get_by_test_id("count")).to_have_text("0 of 0 jobs")
    for stored, pace in PACES:
        chosen = page.evaluate(
            "(v) => { localStorage.setItem('sysjobsRefreshMs', v); return Sysjobs.pace(1000); }",
            stored,
        )
        assert chosen == pace, stored
