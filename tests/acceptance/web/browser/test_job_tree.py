"""The job tree on a job's page, in a real headless Chromium: links to the parent and the
root, the children counts, the children list, and a cancel of the root that cancels its
tree. A screenshot goes to the test's temporary directory."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from sysjobs.host import Host
from tests.acceptance.web.browser.browsing import (
    NEEDS_CHROMIUM,
    shot,
)
from tests.acceptance.web.conftest import ADMIN

#: A job that runs long enough to be watched (and canceled) from its page.
LONG = {"steps": 400, "step_s": 0.05}

pytestmark = NEEDS_CHROMIUM


def test_a_job_page_links_parent_and_root_and_lists_the_children(
    page: Page, server: str, host: Host, tmp_path: Path
) -> None:
    root = host.engine.enqueue("STEPS", LONG, label="Nightly root")
    host.engine.wait(root.id, "RUNNING", 30)
    child = host.engine.enqueue("STEPS", LONG, label="Child import", parent_id=root.id)
    grandchild = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.0}, parent_id=child.id)
    page.goto(f"{server}/jobs/{grandchild.id}#token={ADMIN}")
    expect(page.get_by_test_id("parent-link")).to_have_text("Child import")
    expect(page.get_by_test_id("root-link")).to_have_text("Nightly root")
    page.get_by_test_id("root-link").click()
    expect(page.locator("#label")).to_have_text("Nightly root")
    expect(page.get_by_test_id("parent-link")).to_contain_text("a root job")
    expect(page.get_by_test_id("children-counts")).to_have_text("1 (0 processed)")
    rows = page.get_by_test_id("child-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Child import")
    shot(page, "job-tree", tmp_path)
    page.click("#btn-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_test_id("children-counts")).to_have_text("1 (1 processed)")
    expect(rows.first).to_contain_text("CANCELED")
    assert host.engine.require(grandchild.id).status in ("CANCELED", "FINISHED")


def test_a_finished_jobs_page_still_cancels_its_running_children(
    page: Page, server: str, host: Host
) -> None:
    root = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.0}, label="Done root")
    host.engine.wait(root.id, "FINISHED", 30)
    child = host.engine.enqueue("STEPS", LONG, label="Late child", parent_id=root.id)
    host.engine.wait(child.id, "RUNNING", 30)
    page.goto(f"{server}/jobs/{root.id}#token={ADMIN}")
    expect(page.get_by_test_id("children-counts")).to_have_text("1 (0 processed)")
    expect(page.locator("#btn-cancel")).to_be_enabled()
    page.click("#btn-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_test_id("children-counts")).to_have_text("1 (1 processed)")
    expect(page.get_by_test_id("status")).to_have_text("FINISHED")
    assert host.engine.require(child.id).status == "CANCELED"
