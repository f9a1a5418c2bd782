"""sys.commons.ResultSet as find() and logs() return it: "The jobs matching the query" /
"A result set with the logs matching the query" — iterated lazily, page by page."""

from __future__ import annotations

import pytest

from .helpers import JS, Jobs


def test_has_next_and_next_walk_every_job_across_pages(js: JS, jobs: Jobs) -> None:
    made = [jobs.pending() for _ in range(230)]
    src = "var r = sys.jobs.find({}), out = []; while (r.hasNext()) out.push(r.next().id()); out"
    assert js.value(src) == list(reversed(made))


def test_size_bounds_iteration_but_not_count(js: JS, jobs: Jobs) -> None:
    jobs.many_pending(120)
    src = ("var r = sys.jobs.find({_size: 105}), n = 0; while (r.hasNext()) { r.next(); n++; }"
           " [n, r.count()]")
    assert js.value(src) == [105, 120]


def test_next_past_the_end_throws_bad_request(js: JS, jobs: Jobs) -> None:
    jobs.pending()
    code, message = js.error("var r = sys.jobs.find({}); r.next(); r.next()")
    assert code == "badRequest" and "hasNext" in message


def test_to_array_returns_the_jobs(js: JS, jobs: Jobs) -> None:
    a, b = jobs.pending(), jobs.pending()
    src = "sys.jobs.find({}).toArray().map(function (j) { return j.id(); })"
    assert js.value(src) == [b, a]


@pytest.mark.slow
def test_to_array_refuses_more_than_1000_items_with_system_exception(
    js: JS, jobs: Jobs
) -> None:
    jobs.many_pending(1001)
    code, message = js.error("sys.jobs.find({}).toArray()")
    assert code == "systemException" and "1000" in message


def test_close_ends_the_iteration(js: JS, jobs: Jobs) -> None:
    for _ in range(3):
        jobs.pending()
    assert js.value("var r = sys.jobs.find({}); r.next(); r.close(); r.hasNext()") is False


def test_logs_result_set_walks_every_log_across_pages(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    for i in range(150):
        jobs.log(job, "INFO", f"line {i}")
    src = (f"var r = sys.jobs.logs('{job}', {{}}), out = [];"
           " while (r.hasNext()) out.push(r.next().message()); [out.length, r.count()]")
    assert js.value(src) == [150, 150]
