"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
list, filter, search, page, open a job, watch its progress move, stop and resume it, cancel
in bulk, run a script; charts, the dark theme and the narrow layout.

Screenshots go to each test's pytest temporary directory (``pytest --basetemp=DIR`` keeps
them somewhere chosen) so a person can look at what the browser saw.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from sysjobs.errors import SysError
from sysjobs.host import Host
from sysjobs.store.schema import job_logs
from tests.acceptance.web.conftest import ADMIN, CHROMIUM, PATIENCE_MS, READER, Chromium, bulk_log
from tests.conftest import _migrated_database

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
    reason="Debian's chromium is missing (make pytest installs it)",
)

#: The browser tests' database: SQLite only, but for one smoke test per view marked
#: ``ON_BOTH_DATABASES``. A browser test shows the HTML and JavaScript; the HTTP API they
#: call is shown on both databases by the ``test_api_*`` modules (docs/testing.md).
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``db_url`` of tests/conftest.py on SQLite alone (``ON_BOTH_DATABASES`` adds
    PostgreSQL back for a test): the browser modules share it as they share ``page``."""
    with _migrated_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
def browser(chromium: Chromium) -> Browser:
    """The test process's Chromium, shared by the browser tests it runs in a row."""
    return chromium.browser()


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


@pytest.fixture
def settled() -> None:
    """Asks ``page`` for its page at ``SETTLED_MS`` (see ``SETTLED``)."""


#: A browser test whose page needs no refresh while it runs (``SETTLED_MS``): one that
#: waits on what another process changes (a job's progress or status, a worker's heartbeat,
#: a log line) keeps the default pace.
SETTLED = pytest.mark.usefixtures("settled")
#: The browser tests' screen (a test may narrow the shared page's for a while).
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}


def _opened(browser: Browser, pace_ms: int = REFRESH_MS,
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


def _assert_no_problem(problems: list[str]) -> None:
    blocked = [p for p in problems if "Content Security Policy" in p or "Error" in p]
    assert not blocked, blocked


@contextmanager
def browsing(browser: Browser, pace_ms: int = REFRESH_MS, **options: Any) -> Iterator[Page]:
    """A page in a fresh context (its own viewport, colour scheme…); no script error and no
    CSP refusal may happen in it."""
    opened, problems = _opened(browser, pace_ms, **options)
    yield opened
    opened.context.close()
    _assert_no_problem(problems)


#: Forgets what a test's pages stored for the origin the page is on (the token, the chosen
#: app); the page is then left on about:blank, where no refresh runs.
FORGET = "() => { localStorage.clear(); sessionStorage.clear(); }"


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
        shared = chromium.shared[pace] = _opened(browser, pace)
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
    _assert_no_problem(problems)


def shot(page: Page, name: str, tmp_path: Path) -> None:
    """What the browser shows, for a person to look at (never committed)."""
    page.screenshot(path=str(tmp_path / f"dashboard-{name}.png"), full_page=True)


def progress_of(page: Page) -> int:
    return int(page.locator("#bar .progress").get_attribute("data-value") or 0)


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
    expect(page.get_by_test_id("confirm")).to_contain_text("Stop 3 jobs? They can be resumed later.")
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
