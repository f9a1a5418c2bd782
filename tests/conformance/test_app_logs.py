"""sys.logs.info|warn|error|debug(message, exception) — issue 20, read in docs/jobs-api.md.

One test per sentence of that page, on SQLite and PostgreSQL (the ``engine`` fixture): a
sandbox with ``sys.logs`` over a real engine writes, the engine's ``app_logs`` reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.bindings.logs import logs_namespace
from sysjobs.jobs import Engine, EngineSettings
from sysjobs.jobs.settings import Caps
from sysjobs.runtime import Governance, Limits, RunResult, Sandbox
from sysjobs.store.schema import app_logs

from .helpers import Jobs

LEVELS = ("info", "warn", "error", "debug")


def sandbox(engine: Engine, limits: Limits | None = None) -> Sandbox:
    namespaces = [*core_namespaces(), jobs_namespace(engine), logs_namespace(engine)]
    return Sandbox(namespaces, limits or Limits(), pool_size=0)


@pytest.fixture
def js(jobs_engine: Engine) -> Iterator[Sandbox]:
    with sandbox(jobs_engine) as opened:
        yield opened


def run_ok(sb: Sandbox, source: str, **kw: Any) -> RunResult:
    result = sb.run(source, **kw)
    assert result.ok, result.error
    return result


def refused(sb: Sandbox, source: str) -> tuple[str | None, str]:
    result = sb.run(source)
    assert not result.ok and result.error is not None, "expected the script to throw"
    return result.error.code, result.error.message


def lines(engine: Engine, **query: Any) -> list[tuple[str, str]]:
    return [(str(e.level), e.message) for e in engine.app_logs(query)]


@pytest.mark.parametrize("level", LEVELS)
def test_each_function_writes_a_line_at_its_level(js: Sandbox, jobs_engine: Engine,
                                                  level: str) -> None:  # fmt: skip
    run_ok(js, f"sys.logs.{level}('hello {level}')")
    assert lines(jobs_engine) == [(level.upper(), f"hello {level}")]


def test_exception_is_optional(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "sys.logs.warn('no exception'); sys.logs.warn('undefined', undefined)")
    assert [e.additional_info for e in jobs_engine.app_logs({})] == [None, None]


def test_an_error_is_kept_as_its_name_message_and_stack(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "try { null.x; } catch (e) { sys.logs.error('failed', e); }")
    (entry,) = jobs_engine.app_logs({})
    info = entry.additional_info
    assert info["name"] == "TypeError" and "null" in info["message"]
    assert info["stack"].startswith("TypeError: ")


def test_any_other_value_is_kept_as_it_is(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "sys.logs.debug('v', {code: 42, tags: ['a', null], ok: true}); "
               "sys.logs.debug('s', 'just text')")  # fmt: skip
    infos = [e.additional_info for e in jobs_engine.app_logs({})]
    assert infos == [{"code": 42, "tags": ["a", None], "ok": True}, "just text"]


def test_lines_are_stored_per_app(db_url: str, jobs_engine: Engine) -> None:
    other = Engine.open(db_url, settings=EngineSettings(app="other-app"))
    try:
        with sandbox(other) as sb:
            run_ok(sb, "sys.logs.info('from the other app')")
        with sandbox(jobs_engine) as sb:
            run_ok(sb, "sys.logs.info('from this app')")
        assert lines(jobs_engine) == [("INFO", "from this app")]
        assert lines(other) == [("INFO", "from the other app")]
        with jobs_engine.database.engine.connect() as conn:
            keys = sorted(r.app for r in conn.execute(app_logs.select()))
        assert keys == sorted([jobs_engine.app, "other-app"])
    finally:
        other.close()


def test_app_logs_are_separate_from_job_logs(js: Sandbox, jobs_engine: Engine,
                                             jobs: Jobs) -> None:  # fmt: skip
    job_id = jobs.running()
    run_ok(js, "sys.logs.error('app trouble', new Error('x'))", job_id=job_id)
    assert jobs.logs(job_id) == []
    assert not jobs.get(job_id).has_errors
    (entry,) = jobs_engine.app_logs({})
    assert entry.job_id == job_id and entry.message == "app trouble"


def test_a_line_written_outside_a_job_names_no_job(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "sys.logs.info('no job')")
    assert [e.job_id for e in jobs_engine.app_logs({})] == [None]


def test_reads_filter_by_level_message_and_period(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "sys.logs.info('Disk OK'); sys.logs.warn('disk almost full'); "
               "sys.logs.error('Disk FULL'); sys.logs.debug('cpu')")  # fmt: skip
    assert lines(jobs_engine, level="WARN") == [("WARN", "disk almost full")]
    assert lines(jobs_engine, message="disk") == [
        ("INFO", "Disk OK"), ("WARN", "disk almost full"), ("ERROR", "Disk FULL")]
    assert lines(jobs_engine, level="ERROR", message="full") == [("ERROR", "Disk FULL")]
    assert len(lines(jobs_engine, period="10m")) == 4
    assert lines(jobs_engine, period="yesterday") == []
    assert lines(jobs_engine, to=0) == []


def test_reads_are_oldest_first_and_paged(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "for (var i = 0; i < 25; i++) sys.logs.info('line ' + i);")
    assert [m for _, m in lines(jobs_engine, _size=3)] == ["line 0", "line 1", "line 2"]
    first = list(jobs_engine.app_logs({"_size": 10}))
    after = (int(first[-1].timestamp.timestamp() * 1000), first[-1].id)
    rest = [e.message for e in jobs_engine.app_logs({}, after=after)]
    assert rest == [f"line {i}" for i in range(10, 25)]
    assert jobs_engine.app_logs({"_size": 3}).count() == 25


@pytest.mark.parametrize(("query", "fragment"), [
    ({"level": "TRACE"}, "INFO, WARN, ERROR, DEBUG"), ({"level": "INFO,WARN"}, "one of them"),
    ({"color": "red"}, "Allowed parameters"), ({"period": "forever"}, "period"),
    ({"message": "\ud800"}, "message"), ({"from": 5, "to": 1}, "'from'"),
    ({"_size": 0}, "_size"),
])  # fmt: skip
def test_a_bad_read_query_is_bad_request(jobs_engine: Engine, query: dict[str, Any],
                                         fragment: str) -> None:  # fmt: skip
    from sysjobs.errors import BadRequest

    with pytest.raises(BadRequest, match=fragment.replace("(", r"\(")):
        list(jobs_engine.app_logs(query))


@pytest.mark.parametrize(("call", "fragment"), [
    ("sys.logs.info()", "'message'"), ("sys.logs.info(5)", "'message'"),
    ("sys.logs.info(null)", "'message'"), ("sys.logs.info({})", "'message'"),
    ("sys.logs.info('\\ud800')", "'message'"),
    ("sys.logs.info('m', NaN)", "'exception'"), ("sys.logs.info('m', Infinity)", "'exception'"),
    ("sys.logs.info('m', {a: -Infinity})", "'exception'"),
    ("sys.logs.info('m', 10n)", "'exception'"),
    ("sys.logs.info('m', (function () { var o = {}; o.o = o; return o; })())", "'exception'"),
    ("sys.logs.info('m', (function () { var v = 1; for (var i = 0; i < 80; i++) v = [v]; "
     "return v; })())", "'exception'"),
    ("sys.logs.info('m', {k: '\\udc00'})", "'exception"),
])  # fmt: skip
def test_bad_input_is_bad_request_naming_the_parameter(js: Sandbox, jobs_engine: Engine,
                                                       call: str, fragment: str) -> None:  # fmt: skip
    code, message = refused(js, call)
    assert code == "badRequest" and fragment in message, message
    assert lines(jobs_engine) == []


def test_an_error_with_hostile_getters_is_still_logged(js: Sandbox, jobs_engine: Engine) -> None:
    run_ok(js, "var e = new Error('x'); Object.defineProperty(e, 'stack', {get: function () "
               "{ throw new Error('no'); }}); Object.defineProperty(e, 'message', {value: "
               "'bad \\ud800 text'}); sys.logs.error('hostile', e);")  # fmt: skip
    (entry,) = jobs_engine.app_logs({})
    assert entry.additional_info == {"name": "Error", "message": "bad \ufffd text", "stack": None}


def test_lines_count_against_the_runs_log_bytes(jobs_engine: Engine) -> None:
    limits = Limits(governance=Governance(max_log_bytes=100))
    with sandbox(jobs_engine, limits) as sb:
        result = sb.run("for (var i = 0; i < 10; i++) sys.logs.info('0123456789012345678');")
    assert not result.ok and result.error is not None
    assert result.error.code == "limitExceeded" and "maxLogBytes" in result.error.message
    assert len(lines(jobs_engine)) == 5


def test_an_exceptions_bytes_count_too(jobs_engine: Engine) -> None:
    limits = Limits(governance=Governance(max_log_bytes=100))
    with sandbox(jobs_engine, limits) as sb:
        code, _ = refused(sb, "sys.logs.info('m', {text: 'x'.repeat(200)})")
    assert code == "limitExceeded" and lines(jobs_engine) == []


def test_each_line_is_capped_like_a_job_line(db_url: str) -> None:
    settings = EngineSettings(caps=replace(Caps(), max_message_chars=10))
    with Engine.open(db_url, settings=settings) as engine, sandbox(engine) as sb:
        run_ok(sb, "sys.logs.info('x'.repeat(1000000), {big: 'y'.repeat(50)}); "
                   "sys.logs.info('a\\u0000b')")  # fmt: skip
        first, second = engine.app_logs({})
    assert first.message == "xxxxxxxxxx… [999990 more characters cut]"
    assert first.additional_info["truncated"] is True and first.additional_info["limit"] == 10
    assert second.message == "a\ufffdb"


def test_retention_prunes_old_app_logs_with_the_job_logs(js: Sandbox, jobs_engine: Engine) -> None:
    with jobs_engine.database.engine.begin() as conn:
        conn.execute(app_logs.insert(), [{"app": jobs_engine.app, "ts_ms": 1_000, "level": "INFO",
                                          "message": "ancient"}])  # fmt: skip
    run_ok(js, "sys.logs.info('recent')")
    counts = jobs_engine.prune(jobs_days=None, logs_days=1)
    assert counts.app_logs == 1
    assert lines(jobs_engine) == [("INFO", "recent")]
