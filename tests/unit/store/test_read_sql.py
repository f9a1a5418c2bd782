"""The CLI's read path on SQLite runs the store's SQL, written once: ``read_sql.py`` is what
``read_sql_build.py`` compiles from the store's SQLAlchemy statements today, and every
statement the reader puts together from it is, text and parameters, the statement the
store runs for the same filter, plan, keyset and page (``docs/cli-read-path.md``)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from sysjobs.store import jobstore, listing, tree
from sysjobs.store.filters import PLANNER, STEERABLE, JobFilter, PagePlan, sqlite_page_plan
from sysjobs.store.sqlite import dialect, read_sql_build, reader


def compiled(statement: sa.ClauseElement) -> tuple[str, list[Any]]:
    """What SQLAlchemy sends SQLite for ``statement``: its text and parameters, in order."""
    done = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    return done.string, [done.params[name] for name in done.positiontup or ()]


def test_the_committed_sql_is_what_the_store_statements_compile_to() -> None:
    committed = read_sql_build.TARGET.read_text(encoding="utf-8")
    assert committed == read_sql_build.source(), (
        "sysjobs/store/sqlite/read_sql.py is stale: run "
        "python -m sysjobs.store.sqlite.read_sql_build"
    )


def filters() -> list[JobFilter]:
    """Every shape of filter: each term present or not, lists of one and of several values,
    one-sided and two-sided ranges, with one app, several, or every app (the terms keep one
    order, so each term's forms beside the others' cover every statement's shape)."""
    ranges = [(None, None), (5, None), (None, 9), (5, 9)]
    shapes = [
        JobFilter(types, statuses, (5, 9), (5, 9), bounds, errors, ("default",))
        for types, statuses, errors, bounds in itertools.product(
            [(), ("RUN_SCRIPT",), ("EXECUTE_ACTION", "RUN_SCRIPT")],
            [(), ("PENDING", "RUNNING", "FINISHED")], [None, True, False], [(None, None), (5, 9)],
        )
    ]  # fmt: skip
    shapes += [
        JobFilter(("RUN_SCRIPT",), (), created, started, ended, None, ("default",))
        for created, started, ended in itertools.product(ranges, ranges, ranges)
    ]
    return [*shapes, JobFilter(apps=None), JobFilter(apps=("a", "b")),
            JobFilter(started=(None, 2**63 - 1), apps=("a",))]  # fmt: skip


def plans() -> list[PagePlan]:
    """The planner's own, and every plan ``sqlite_page_plan`` makes."""
    found = [PLANNER, PagePlan(plussed=frozenset({"started_ms", "ended_ms"}))]
    found += [PagePlan(plussed=STEERABLE - {by}, plussed_order=True, created_bound=False)
              for by in ("started_ms", "ended_ms")]  # fmt: skip
    return found


def test_every_page_the_reader_writes_is_the_store_statement() -> None:
    for f in filters():
        for plan in plans():
            for after, limit in ((None, 50), ((1_000, "0123456789abcdef01234567"), 200)):
                ours = reader.page_statement(f, plan, after, limit)
                assert ours == compiled(listing.page_statement(f, plan, after, limit)), (f, plan)


def test_every_count_and_probe_the_reader_writes_is_the_store_statement() -> None:
    for f in filters():
        assert reader.count_statement(f) == compiled(listing.count_statement(f)), f
    for column in ("started_ms", "ended_ms"):
        for bounds in ((5, None), (None, 9), (5, 9)):
            ours = reader.probe_statement(column, bounds)
            assert ours == compiled(listing.probe_statement(column, bounds))


def test_the_job_and_tree_reads_are_the_store_statements() -> None:
    ids = ["0123456789abcdef01234567", "0123456789abcdef01234568", "0123456789abcdef01234567"]
    for apps in (("default",), ("a", "b"), None):
        ours = reader.job_statement(ids[0], apps)
        assert ours == compiled(jobstore.job_statement(ids[0], apps))
    for some in (ids[:1], ids):
        assert reader.labels_statement(some, ("default",)) == compiled(
            tree.labels_statement(some, ("default",))
        )
        assert reader.children_counts_statement(some, ("default",)) == compiled(
            tree.children_counts_statement(some, ("default",))
        )


def test_the_plan_is_the_stores_own_and_shared() -> None:
    assert listing.sqlite_page_plan is sqlite_page_plan
    few = {"started_ms": 3, "ended_ms": 5000}
    f = JobFilter(started=(1, 2), ended=(3, 4))
    assert sqlite_page_plan(f, lambda c, b: few[c]).plussed == STEERABLE - {"started_ms"}
    many = sqlite_page_plan(f, lambda c, b: 5000)
    assert (many.plussed, many.plussed_order, many.created_bound) == (
        frozenset({"started_ms", "ended_ms"}), False, True,
    )  # fmt: skip
    assert sqlite_page_plan(JobFilter(statuses=("PENDING",), started=(1, 2)),
                            lambda c, b: 5000) == PLANNER  # fmt: skip


def test_rows_are_decoded_as_sqlalchemy_decodes_them(tmp_path: Path) -> None:
    from pydantic import BaseModel, ConfigDict

    from sysjobs.jobs import Engine, JobType
    from sysjobs.store.sqlite.reader import SqliteReader

    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")

    url = f"sqlite:///{tmp_path / 'rows.db'}"
    with Engine.open(url) as engine:
        engine.register(JobType("NOOP", Loose, lambda ctx, data: None))
        job = engine.enqueue_many("NOOP", [{"source": "x", "n": [1, {"a": None}]}],
                                  label="é\u4e2d", low_priority=True,
                                  run_by={"id": "u", "name": "N"})[0]  # fmt: skip
        engine.log_error(job.id, "boom")
        f = JobFilter(apps=("default",))
        stored = engine.backend.jobs_page(f, None, 10)
        opened = SqliteReader.open(tmp_path / "rows.db")
        assert opened is not None
        try:
            assert opened.jobs_page(f, None, 10) == stored
            assert opened.get_job(job.id, apps=("default",)) == engine.store.get_job(
                job.id, apps=("default",)
            )
            assert opened.jobs_count(f) == engine.backend.jobs_count(f) == 1
            assert {type(v) for k, v in stored[0].items() if k in ("has_errors", "low_priority")} == {bool}
        finally:
            opened.close()


def test_the_reader_waits_on_locks_as_the_engine_does() -> None:
    assert reader.BUSY_TIMEOUT_S == dialect.BUSY_TIMEOUT_S


@pytest.mark.parametrize(
    "url",
    ["sqlite:///rel.db", "sqlite:////abs/dir/x.db", "sqlite:///with space/é.db", "sqlite:///a/../b.db"],
)
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_opens(url: str) -> None:
    assert str(reader.plain_sqlite_path(url)) == sa.make_url(url).database


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite+pysqlite:///x.db",
     "sqlite:///x.db?mode=ro", "sqlite:///x%20y.db", "sqlite:///x#y", "postgresql://h/db"],
)  # fmt: skip
def test_any_other_url_is_left_to_the_engine(url: str) -> None:
    assert reader.plain_sqlite_path(url) is None
