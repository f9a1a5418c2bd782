"""A group of records goes in through the dialect's bulk insert (one JSON statement on
PostgreSQL, plain tuples on SQLite): each reads back exactly as given — times to the
microsecond, hostile text, nested data — and belongs to its app alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sysjobs.jobs import Engine
from sysjobs.store.records import RecordRow, RecordStore

AT = dt.datetime(2026, 12, 6, 15, 30, 1, 123456, tzinfo=dt.UTC)


def _row(i: int, **changes: object) -> RecordRow:
    values: dict[str, object] = {
        "id": f"{i:024x}", "entity": "companies", "label": f"name {i}",
        "data": {"name": f"name {i}", "nested": {"list": [1, 2.5, None, True]}},
        "version": 1, "created_at": AT, "updated_at": AT + dt.timedelta(microseconds=i),
    }  # fmt: skip
    values.update(changes)
    return RecordRow(**values)  # type: ignore[arg-type]


def _utc(row: RecordRow | None) -> RecordRow | None:
    """``row`` with its times in UTC (SQLite hands them back without their zone, as ever)."""
    if row is None:
        return None
    return replace(row, created_at=row.created_at.replace(tzinfo=dt.UTC),
                   updated_at=row.updated_at.replace(tzinfo=dt.UTC))  # fmt: skip


def test_records_inserted_together_read_back_exactly_as_given(engine: Engine) -> None:
    store = RecordStore(engine.database, "app-a")
    rows = [
        _row(1),
        _row(2, label="'; DROP TABLE app_records; --", data={"emoji": "\U0001f600\u2028\"\\"}),
        _row(3, label=None, data={"big": 2**62, "small": -1e-300, "text": "x" * 100_000}),
        _row(4, created_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
    ]
    store.insert(rows)
    for row in rows:
        assert _utc(store.get(row.id)) == row


def test_records_inserted_for_one_app_are_not_another_apps(engine: Engine) -> None:
    RecordStore(engine.database, "app-a").insert([_row(5)])
    assert RecordStore(engine.database, "app-b").get(_row(5).id) is None
    assert _utc(RecordStore(engine.database, "app-a").get(_row(5).id)) == _row(5)
