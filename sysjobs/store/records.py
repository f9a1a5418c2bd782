"""Every query on app records, named once (the app's records service calls these).

A :class:`~sysjobs.store.record_query.RecordQuery` becomes one SQL ``WHERE`` over the
JSON document of field values. Reads page lazily so a script iterating a huge result
holds no connection between pages; job scans walk records by id (keyset) so a stopped job
resumes after the last id it finished.

A store serves one app: every statement is scoped by its key (``ix_app_records_app_entity_id``
leads with it), so another app's record ids are simply not there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sysjobs.store.app_schema import app_records
from sysjobs.store.database import Database, Tx
from sysjobs.store.record_query import Cast, Cond, Group, Op, RecordQuery
from sysjobs.store.search import searched

PAGE = 200


@dataclass(frozen=True)
class RecordRow:
    id: str
    entity: str
    label: str | None
    data: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


def _row(r: sa.Row[Any]) -> RecordRow:
    return RecordRow(r.id, r.entity, r.label, dict(r.data), r.version, r.created_at, r.updated_at)


def _value(name: str, cast: Cast) -> sa.ColumnElement[Any]:
    if name == "id":
        return app_records.c.id
    element = app_records.c.data[name]
    if cast is Cast.NUMBER:
        out = element.as_float()
    elif cast is Cast.BOOLEAN:
        out = element.as_boolean()
    else:
        out = element.as_string()
    return cast_any(out)


def cast_any(element: Any) -> sa.ColumnElement[Any]:
    """SQLAlchemy's JSON accessors are untyped; say what they build."""
    out: sa.ColumnElement[Any] = element
    return out


def _cond(c: Cond) -> sa.ColumnElement[bool]:
    expr = _value(c.field, c.cast)
    text = _value(c.field, Cast.TEXT)
    if c.op is Op.EQ:
        return expr.in_(c.values) if None not in c.values else sa.or_(
            expr.in_([v for v in c.values if v is not None]), text.is_(None), text == ""
        )
    if c.op is Op.EMPTY:
        return sa.or_(text.is_(None), text == "")
    if c.op is Op.NOT_EMPTY:
        return sa.and_(text.is_not(None), text != "")
    if c.op is Op.LIKE:
        pattern = str(c.values[0]).lower().replace("\\", "\\\\").replace("%", "\\%")
        like = sa.func.lower(searched(text)).like(  # its first characters (store/search.py)
            "%" + pattern.replace("_", "\\_") + "%", escape="\\"
        )
        return cast_any(like)
    if c.op is Op.BETWEEN:
        return expr.between(c.values[0], c.values[1])
    compare = {Op.GT: expr > c.values[0], Op.GTE: expr >= c.values[0],
               Op.LT: expr < c.values[0], Op.LTE: expr <= c.values[0]}
    return cast_any(compare[c.op])


def _where(group: Group) -> sa.ColumnElement[bool]:
    parts = [_cond(i) if isinstance(i, Cond) else _where(i) for i in group.items]
    if not parts:
        return sa.true()
    return sa.and_(*parts) if group.kind == "and" else sa.or_(*parts)


_COLUMNS = [c for c in app_records.c if c.name != "app"]


class RecordStore:
    """Record queries of one app on one database (the engine's)."""

    def __init__(self, db: Database, app: str) -> None:
        self.db = db
        self.app = app

    def _mine(self) -> sa.ColumnElement[bool]:
        return app_records.c.app == self.app

    def _filtered(self, query: RecordQuery) -> sa.ColumnElement[bool]:
        return sa.and_(self._mine(), app_records.c.entity == query.entity, _where(query.where))

    def get(self, record_id: str) -> RecordRow | None:
        """One record of this app by primary key."""
        stmt = sa.select(*_COLUMNS).where(app_records.c.id == record_id, self._mine())
        with self.db.read() as conn:
            r = conn.execute(stmt).first()
        return None if r is None else _row(r)

    def count(self, query: RecordQuery) -> int:
        """How many records match, ignoring ``_size``/``_offset``
        (ix_app_records_app_entity_id)."""
        stmt = sa.select(sa.func.count()).select_from(app_records).where(self._filtered(query))
        with self.db.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def find(self, query: RecordQuery) -> Iterator[RecordRow]:
        """Matching records in the query's order, fetched a page at a time."""
        order = _value(query.sort_field, query.sort_cast)
        keys = [order.asc().nulls_last(), app_records.c.id]
        if query.sort_desc:
            keys = [order.desc().nulls_last(), app_records.c.id.desc()]
        base = sa.select(*_COLUMNS).where(self._filtered(query)).order_by(*keys)
        offset, left = query.offset, query.size
        while left is None or left > 0:
            limit = PAGE if left is None else min(PAGE, left)
            with self.db.read() as conn:
                rows = conn.execute(base.offset(offset).limit(limit)).all()
            yield from (_row(r) for r in rows)
            if len(rows) < limit:
                return
            offset += len(rows)
            left = None if left is None else left - len(rows)

    def scan(self, query: RecordQuery, after_id: str | None, limit: int) -> list[RecordRow]:
        """The next ``limit`` matching records after ``after_id`` in id order (job chunks)."""
        cond = self._filtered(query)
        if after_id is not None:
            cond = sa.and_(cond, app_records.c.id > after_id)
        stmt = sa.select(*_COLUMNS).where(cond).order_by(app_records.c.id).limit(limit)
        with self.db.read() as conn:
            return [_row(r) for r in conn.execute(stmt).all()]

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction that this store's writes inside the block join (and the
        engine's: a listener job enqueued there commits with the record)."""
        return self.db.write(joinable=True)

    def insert(self, rows: list[RecordRow]) -> None:
        """Insert records in one transaction (all or nothing), through the dialect's bulk
        insert (one statement on PostgreSQL, plain tuples on SQLite)."""
        if rows:
            with self.db.write() as tx:
                values = [{**_values(r), "app": self.app} for r in rows]
                self.db.dialect.insert_rows(tx.connection, app_records, values)

    def update(self, row: RecordRow, expected_version: int) -> bool:
        """Overwrite a record if nobody changed it since ``expected_version``."""
        stmt = (
            sa.update(app_records)
            .where(app_records.c.id == row.id, self._mine(),
                   app_records.c.version == expected_version)
            .values(label=row.label, data=row.data, version=row.version, updated_at=row.updated_at)
        )
        with self.db.write() as tx:
            return tx.connection.execute(stmt).rowcount == 1

    def delete(self, record_id: str) -> bool:
        """Delete one record; False when it was already gone."""
        with self.db.write() as tx:
            stmt = sa.delete(app_records).where(app_records.c.id == record_id, self._mine())
            return tx.connection.execute(stmt).rowcount == 1

    def delete_many(self, record_ids: list[str]) -> set[str]:
        """Delete records of this app by id in one statement; the ids that were there."""
        if not record_ids:
            return set()
        stmt = (
            sa.delete(app_records)
            .where(app_records.c.id.in_(record_ids), self._mine())
            .returning(app_records.c.id)
        )
        with self.db.write() as tx:
            return {str(r) for r in tx.connection.execute(stmt).scalars()}

    def delete_entity(self, entity: str) -> None:
        """Remove every record of ``entity`` (re-seeding the demo app)."""
        with self.db.write() as tx:
            stmt = sa.delete(app_records).where(self._mine(), app_records.c.entity == entity)
            tx.connection.execute(stmt)


def _values(r: RecordRow) -> dict[str, Any]:
    return {"id": r.id, "entity": r.entity, "label": r.label, "data": r.data,
            "version": r.version, "created_at": r.created_at, "updated_at": r.updated_at}
