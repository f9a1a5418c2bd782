"""SQLite's bulk insert binds plain tuples itself: what it stores must be, byte for byte,
what SQLAlchemy's ``insert()`` stores — JSON text, datetimes, booleans, defaults — for the
same rows, hostile values included."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sysjobs.store.sqlite.dialect import SqliteDialect, _processor

metadata = sa.MetaData()
things = sa.Table(
    "things", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("data", sa.JSON(), nullable=True),
    sa.Column("flag", sa.Boolean(), nullable=False, default=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("label", sa.Text(), nullable=True),
    sa.Column("count", sa.Integer(), nullable=False, default=7),
)  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
    | st.text(max_size=8) | st.sampled_from(["\u2028", "\x00", "é", "\U0001f600", '"\\'])
    , lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=10,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_a_json_map_is_encoded_exactly_as_sqlalchemy_encodes_it(value: dict[str, Any]) -> None:
    dialect = sa.create_engine("sqlite://").dialect
    ours, theirs = _processor(dialect, things.c.data), things.c.data.type._cached_bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value)


def _stored(url: str, insert: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        insert(conn)
    with engine.connect() as conn:
        raw = conn.exec_driver_sql('SELECT id, data, flag, at, label, count FROM "things" ORDER BY id')
        rows = [tuple(r) for r in raw]
    engine.dispose()
    return rows


@pytest.mark.parametrize("keys", ["all", "defaults left out"])
def test_the_rows_stored_are_those_sqlalchemys_insert_stores(tmp_path: Path, keys: str) -> None:
    at = dt.datetime(2026, 12, 6, 15, 30, 1, 123456, tzinfo=dt.UTC)
    rows: list[dict[str, Any]] = [
        {"id": 1, "data": {"a": [1, 2.5, None], "s": "\U0001f600\u2028"}, "flag": True, "at": at,
         "label": "x" * 10_000, "count": 3},
        {"id": 2, "data": {"n": math.nan, "big": 2**64}, "flag": False, "at": None, "label": None,
         "count": 0},
        {"id": 3, "data": {}, "flag": True, "at": at, "label": "'; DROP TABLE things; --",
         "count": -1},
    ]  # fmt: skip
    if keys != "all":
        rows = [{k: v for k, v in r.items() if k not in ("flag", "count")} for r in rows]
    dialect = SqliteDialect()
    ours = _stored(f"sqlite:///{tmp_path / 'ours.db'}",
                   lambda conn: dialect.insert_rows(conn, things, rows))  # fmt: skip
    theirs = _stored(f"sqlite:///{tmp_path / 'theirs.db'}",
                     lambda conn: conn.execute(things.insert(), rows))  # fmt: skip
    assert ours == theirs
    assert len(ours) == 3


def test_a_row_missing_a_key_the_first_row_has_is_an_error_not_a_null(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"id": 1, "label": "a"}, {"id": 2}]
    with pytest.raises(KeyError):
        _stored(f"sqlite:///{tmp_path / 'x.db'}",
                lambda conn: SqliteDialect().insert_rows(conn, things, rows))  # fmt: skip


def test_no_rows_insert_nothing(tmp_path: Path) -> None:
    assert _stored(f"sqlite:///{tmp_path / 'x.db'}",
                   lambda conn: SqliteDialect().insert_rows(conn, things, [])) == []  # fmt: skip
