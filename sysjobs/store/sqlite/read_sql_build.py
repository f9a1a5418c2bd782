"""Writes ``read_sql.py``: the SQL text of the CLI's read path, compiled from the store's
SQLAlchemy statements (``docs/cli-read-path.md``).

The read commands (``sysjobs jobs ls``/``show``) on SQLite run without SQLAlchemy, whose
import alone costs three times ``node -e``; the store's statements stay the one place their
SQL is written. This module compiles them, with SQLAlchemy's SQLite dialect, into the
fragments the reader (``reader.py``) puts together: the jobs' select, each term a filter
can have (plain and steered with a unary ``+``), the keyset, the order and limit, the
probe of a start/end range, the tree's two reads, the count. A test recompiles them and
holds the committed file equal, and holds every statement the reader puts together equal,
text and parameters, to the statement the store would run.

Run ``python -m sysjobs.store.sqlite.read_sql_build`` after changing a statement of
``listing.py``, ``tree.py``, ``jobstore.py`` or the schema.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from sysjobs.store.filters import PLANNER, JobFilter, PagePlan, Range
from sysjobs.store.jobstore import job_statement
from sysjobs.store.listing import (
    _created_bound,
    _job_where,
    _plus,
    count_statement,
    page_statement,
    probe_statement,
)  # fmt: skip
from sysjobs.store.rows import job_select
from sysjobs.store.tree import FINAL, children_counts_statement, labels_statement

TARGET = Path(__file__).with_name("read_sql.py")
#: What the statements are cut at (SQLAlchemy's compiler writes them so; the test holds
#: every statement put together from the pieces equal to SQLAlchemy's own).
WHERE, AND = " \nWHERE ", " AND "


def compiled(element: sa.ClauseElement) -> str:
    """``element``'s SQL on SQLite, each expanding ``IN`` left as SQLAlchemy's
    ``__[POSTCOMPILE_name]`` marker (the reader writes one ``?`` per value there)."""
    return str(element.compile(dialect=sqlite.dialect()))


def _one(where: list[sa.ColumnElement[bool]]) -> str:
    (term,) = where
    return compiled(term)


def _terms() -> dict[str, str]:
    """Each term of a find filter: ``name`` plain, ``+name`` steered."""
    terms = {"app": _one(_job_where(JobFilter(apps=("a",)))),
             "apps": _one(_job_where(JobFilter(apps=("a", "b"))))}  # fmt: skip
    one_each: dict[str, JobFilter] = {
        "type": JobFilter(types=("t",)), "status": JobFilter(statuses=("s",)),
        "has_errors=1": JobFilter(has_errors=True), "has_errors=0": JobFilter(has_errors=False),
    }  # fmt: skip
    for column in ("created", "started", "ended"):
        one_each[f"{column}_ms>="] = _ranged(column, (1, None))
        one_each[f"{column}_ms<="] = _ranged(column, (None, 1))
    for name, f in one_each.items():
        terms[name] = _one(_job_where(f))
        terms[f"+{name}"] = _one(_job_where(f, steer=_plus))
    terms["created_bound"] = _one(_created_bound(JobFilter(started=(None, 1))))
    terms["id"] = _cut(compiled(job_statement("i", None)), compiled(job_select()))
    for key, plan in (("after", PLANNER), ("+after", PagePlan(plussed_order=True))):
        with_after = compiled(page_statement(JobFilter(), plan, (1, "i"), 1))
        terms[key] = _cut(with_after, compiled(job_select())).split(" ORDER BY ")[0]
    return terms


def _ranged(column: str, bounds: Range) -> JobFilter:
    """A filter with only ``column``'s range."""
    if column == "created":
        return JobFilter(created=bounds)
    return JobFilter(started=bounds) if column == "started" else JobFilter(ended=bounds)


def _cut(statement: str, head: str) -> str:
    """What follows ``head`` + WHERE in ``statement``."""
    assert statement.startswith(head + WHERE), (statement, head)
    return statement[len(head + WHERE) :]


def _order_limit() -> dict[str, str]:
    """What follows the WHERE of a page: its order (``+``: steered) and its LIMIT."""
    found = {}
    for key, plan in (("", PLANNER), ("+", PagePlan(plussed_order=True))):
        page = compiled(page_statement(JobFilter(apps=("a",)), plan, None, 1))
        found[key] = _cut(page, compiled(job_select())).removeprefix(_terms()["app"])
    return found


def _probes() -> dict[str, str]:
    """The probe of each range a filter can have (``filters.sqlite_page_plan``)."""
    shapes: dict[str, Range] = {">=": (1, None), "<=": (None, 1), ">=<=": (1, 2)}
    columns = ("started_ms", "ended_ms")
    return {f"{column}{shape}": compiled(probe_statement(column, bounds))
            for column in columns for shape, bounds in shapes.items()}  # fmt: skip


def _decoded() -> dict[str, str]:
    """The columns of a job row whose stored value SQLAlchemy decodes on SQLite: ``json``
    (``json.loads``) or ``bool``."""
    found = {}
    for column in job_select().selected_columns:
        if isinstance(column.type, sa.JSON):
            found[column.name] = "json"
        elif isinstance(column.type, sa.Boolean):
            found[column.name] = "bool"
    return found


def pieces() -> dict[str, Any]:
    """Every piece ``read_sql.py`` holds, by its name there."""
    return {
        "SELECT_JOB": compiled(job_select()),
        "COUNT_JOBS": compiled(count_statement(JobFilter())),
        "WHERE": WHERE,
        "AND": AND,
        "TERMS": _terms(),
        "ORDER_LIMIT": _order_limit(),
        "PROBES": _probes(),
        "LABELS": compiled(labels_statement(["i"], ("a",))),
        "CHILDREN_COUNTS": compiled(children_counts_statement(["i"], ("a",))),
        "FINAL": FINAL,
        "DECODED": _decoded(),
    }


def source() -> str:
    """The text of ``read_sql.py``."""
    lines = [
        '"""The SQL text of the CLI\'s read path on SQLite, compiled from the store\'s',
        "SQLAlchemy statements by ``python -m sysjobs.store.sqlite.read_sql_build`` — do not",
        "edit: rerun it (a test holds this file equal to a fresh compile).",
        '"""',
        "",
        "# ruff: noqa: E501",
        "from __future__ import annotations",
        "",
    ]
    for name, value in pieces().items():
        if isinstance(value, dict):
            lines.append(f"{name}: dict[str, str] = {{")
            lines += [f"    {key!r}: {text!r}," for key, text in value.items()]
            lines.append("}")
        else:
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write ``read_sql.py`` next to this module."""
    TARGET.write_text(source(), encoding="utf-8")
    print(f"wrote {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
