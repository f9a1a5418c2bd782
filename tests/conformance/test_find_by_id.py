"""findById(id) — "Finds a background job by its ID."."""

from __future__ import annotations

from .helpers import JS, Jobs

UNKNOWN = "0123456789abcdef01234567"


def test_finds_a_background_job_by_its_id(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(label="a pending job")
    assert js.logs(f"var j = sys.jobs.findById('{job}'); log(j.id(), j.label())") == [
        f"{job} a pending job"
    ]


def test_returns_a_sys_jobs_job(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    assert js.value(f"sys.jobs.findById('{job}') instanceof sys.jobs.Job") is True


def test_returns_null_if_not_found(js: JS) -> None:
    assert js.value(f"sys.jobs.findById('{UNKNOWN}')") is None


def test_bad_request_if_id_is_not_a_valid_id(js: JS) -> None:
    code, message = js.error("sys.jobs.findById('not-an-id')")
    assert code == "badRequest"
    assert "'id'" in message and "not-an-id" in message and "24" in message


def test_bad_request_if_id_has_uppercase_or_wrong_length(js: JS) -> None:
    for bad in ("0123456789ABCDEF01234567", "0123456789abcdef0123456", "0123456789abcdef012345678"):
        assert js.error(f"sys.jobs.findById('{bad}')")[0] == "badRequest"


def test_bad_request_if_id_is_not_a_string(js: JS) -> None:
    code, message = js.error("sys.jobs.findById(42)")
    assert code == "badRequest" and "'id'" in message


def test_bad_request_if_id_is_missing(js: JS) -> None:
    code, message = js.error("sys.jobs.findById()")
    assert code == "badRequest" and "'id'" in message
