"""Records of the app's entities: what ``sys.data`` and the record jobs act on.

Values are validated by field type on the way in (``BadRequest`` naming field and value),
required fields are checked on save (``ValidationErrors``), and every create/change/delete
is announced to the subscribers (the listener dispatcher) after it is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sysjobs.app.definition import AppDefinition
from sysjobs.app.fields import coerce, is_id
from sysjobs.app.ids import new_id
from sysjobs.app.manifest import EntityDef, FieldType
from sysjobs.app.query import parse_query
from sysjobs.errors import BadRequest, NotFound, OptimisticLocking, ValidationErrors
from sysjobs.jobs.values import shown
from sysjobs.store.records import RecordRow, RecordStore


@dataclass(frozen=True)
class Record:
    """A record as services and scripts exchange it (flat field paths → values)."""

    entity: str
    fields: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    label: str | None = None
    version: int = 0

    @property
    def is_new(self) -> bool:
        return self.id is None

    def wire(self) -> dict[str, Any]:
        """The JSON form the ``sys.data`` prelude wraps into a ``Record``."""
        return {"id": self.id, "entityName": self.entity, "label": self.label,
                "version": self.version, "fields": dict(self.fields)}

    def to_json(self) -> dict[str, Any]:
        """Nested JSON (``address.city`` → ``{"address": {"city": …}}``), as ``toJson()``."""
        out: dict[str, Any] = {"id": self.id, "label": self.label, "entityName": self.entity}
        for path, value in self.fields.items():
            node = out
            *parents, leaf = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return out

    @staticmethod
    def from_row(row: RecordRow) -> Record:
        return Record(row.entity, dict(row.data), row.id, row.label, row.version)


#: ``(event, record, old_record)`` with event ``created`` | ``changed`` | ``deleted``.
RecordHook = Callable[[str, Record, "Record | None"], None]
#: ``(event, [(record, old_record), …], parent_id)``: the records one transaction changed
#: alike, and the running job that changed them (the parent of the jobs they start), if any.
WrittenHook = Callable[[str, list[tuple[Record, "Record | None"]], "str | None"], None]


class RecordsService:
    """find / findOne / findById / count / save / remove / createRecord over one store."""

    def __init__(self, definition: AppDefinition, store: RecordStore) -> None:
        self.definition = definition
        self.store = store
        #: Called after a change is committed (inline listeners).
        self.hooks: list[RecordHook] = []
        #: Called inside the change's own write transaction (listener jobs start there).
        self.written_hooks: list[WrittenHook] = []

    def wire(self, record: Record) -> dict[str, Any]:
        """The JSON form scripts get: the record plus its entity's field paths."""
        names = list(self.definition.entity(record.entity).fields)
        return {**record.wire(), "fieldNames": names}

    def _announce(self, event: str, record: Record, old: Record | None) -> None:
        for hook in self.hooks:
            hook(event, record, old)

    def _written(
        self, event: str, changed: list[tuple[Record, Record | None]], parent_id: str | None
    ) -> None:
        for hook in self.written_hooks if changed else ():
            hook(event, changed, parent_id)

    def find(self, entity: str, query: Any) -> tuple[Iterator[Record], Callable[[], int]]:
        """Matching records (lazy) and a count of all matches ignoring ``_size``."""
        parsed = parse_query(entity, self.definition.entity(entity), query)
        rows = self.store.find(parsed)
        return (Record.from_row(r) for r in rows), lambda: self.store.count(parsed)

    def find_one(self, entity: str, query: Any) -> Record | None:
        parsed = parse_query(entity, self.definition.entity(entity), query)
        row = next(iter(self.store.find(replace(parsed, size=1))), None)
        return None if row is None else Record.from_row(row)

    def find_by_id(self, entity: str, record_id: Any) -> Record | None:
        self.definition.entity(entity)
        if not is_id(record_id):
            raise BadRequest(
                f"Invalid value {shown(record_id)} for parameter 'id': "
                "expected 24 hexadecimal characters"
            )
        row = self.store.get(record_id)
        return None if row is None or row.entity != entity else Record.from_row(row)

    def scan(self, entity: str, query: Any, after_id: str | None, limit: int) -> list[Record]:
        """The next chunk of matches in id order after ``after_id`` (resumable job scans)."""
        parsed = parse_query(entity, self.definition.entity(entity), query)
        return [Record.from_row(r) for r in self.store.scan(parsed, after_id, limit)]

    def count(self, entity: str, query: Any) -> int:
        return self.store.count(parse_query(entity, self.definition.entity(entity), query))

    def create_record(self, entity: str) -> Record:
        """A new, unsaved record of ``entity`` (validates the entity name)."""
        self.definition.entity(entity)
        return Record(entity)

    def validate(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Stored form of every field, or ``BadRequest`` / ``ValidationErrors``."""
        edef = self.definition.entity(entity)
        unknown = [name for name in fields if name not in edef.fields]
        if unknown:
            allowed = ", ".join(edef.fields)
            raise BadRequest(
                f"Invalid field '{unknown[0]}' for entity '{entity}'. Allowed fields: {allowed}"
            )
        values = {n: coerce(entity, n, edef.fields[n], v) for n, v in fields.items()}
        missing = [n for n, f in edef.fields.items() if f.required and values.get(n) is None]
        if missing:
            raise ValidationErrors(
                f"Record of entity '{entity}' is missing required field(s): {', '.join(missing)}",
                info={"errors": [{"field": n, "message": "required"} for n in missing]},
            )
        self._check_references(entity, edef, values)
        return {n: v for n, v in values.items() if v is not None}

    def _check_references(self, entity: str, edef: EntityDef, values: dict[str, Any]) -> None:
        for name, value in values.items():
            fdef = edef.fields[name]
            if fdef.type is FieldType.RELATIONSHIP and value is not None:
                row = self.store.get(value)
                if row is None or row.entity != fdef.entity:
                    raise BadRequest(
                        f"Invalid value '{value}' for field '{name}' of entity '{entity}': "
                        f"no record of entity '{fdef.entity}' has this id"
                    )

    def prepare(self, record: Record) -> Record:
        """A new record validated and given its id, version and times — not stored yet:
        :meth:`insert_prepared` writes it (a caller may group several in one commit)."""
        values = self.validate(record.entity, record.fields)
        now = dt.datetime.now(dt.UTC)
        row = RecordRow(new_id(), record.entity, self._label(record.entity, values), values,
                        1, now, now)  # fmt: skip
        return Record.from_row(row)

    def insert_prepared(self, records: list[Record], *, parent_id: str | None = None) -> None:
        """Insert :meth:`prepare`'d records and start their listener jobs, all in one
        transaction; then the inline listeners run, record by record. ``parent_id``: the
        running job that saves them (the listener jobs' parent), if any."""
        rows = [self._row_of(r) for r in records]
        with self.store.transaction():
            self.store.insert(rows)
            self._written("created", [(r, None) for r in records], parent_id)
        for record in records:
            self._announce("created", record, None)

    @staticmethod
    def _row_of(record: Record) -> RecordRow:
        assert record.id is not None
        now = dt.datetime.now(dt.UTC)
        return RecordRow(record.id, record.entity, record.label, record.fields, record.version,
                         now, now)  # fmt: skip

    def save(self, record: Record, *, parent_id: str | None = None) -> Record:
        """Insert a new record or update an existing one (optimistic on ``version``);
        ``parent_id`` as for :meth:`insert_prepared`."""
        if record.id is None:
            saved = self.prepare(record)
            self.insert_prepared([saved], parent_id=parent_id)  # record and jobs, one commit
            return saved
        values = self.validate(record.entity, record.fields)
        label = self._label(record.entity, values)
        now = dt.datetime.now(dt.UTC)
        old = self.find_by_id(record.entity, record.id)
        if old is None:
            raise NotFound(f"Record '{record.id}' of entity '{record.entity}' not found.")
        version = record.version or old.version
        row = RecordRow(record.id, record.entity, label, values, version + 1, now, now)
        saved = Record.from_row(row)
        with self.store.transaction():
            if not self.store.update(row, version):
                raise OptimisticLocking(f"Record '{record.id}' was changed by someone else.")
            self._written("changed", [(saved, old)], parent_id)
        self._announce("changed", saved, old)
        return saved

    def insert_many(
        self, entity: str, rows: list[dict[str, Any]], *, announce: bool = True
    ) -> list[Record]:
        """Insert already validated field maps in one transaction (imports, seeds).

        Seeds pass ``announce=False``: loading an app is not a stream of user events.
        """
        now = dt.datetime.now(dt.UTC)
        built = [RecordRow(new_id(), entity, self._label(entity, v), v, 1, now, now) for v in rows]
        records = [Record.from_row(r) for r in built]
        with self.store.transaction():
            self.store.insert(built)
            self._written("created", [(r, None) for r in records] if announce else [], None)
        for record in records if announce else ():
            self._announce("created", record, None)
        return records

    def remove(self, entity: str, record_id: Any, *, parent_id: str | None = None) -> Record:
        """Delete a record and return it; ``NotFound`` when there is none (``parent_id``
        as for :meth:`insert_prepared`)."""
        record = self.find_by_id(entity, record_id)
        if record is None:
            raise NotFound(f"Record '{record_id}' of entity '{entity}' not found.")
        with self.store.transaction():
            if not self.store.delete(str(record_id)):
                raise NotFound(f"Record '{record_id}' of entity '{entity}' not found.")
            self._written("deleted", [(record, record)], parent_id)
        self._announce("deleted", record, record)
        return record

    def remove_many(
        self, entity: str, records: list[Record], *, parent_id: str | None = None
    ) -> set[str]:
        """Delete ``records`` of ``entity`` in one transaction (with the listener jobs of
        each, children of ``parent_id``); the ids that were still there and are now deleted."""
        with self.store.transaction():
            gone = self.store.delete_many([r.id for r in records if r.id is not None])
            removed = [r for r in records if r.id in gone]
            self._written("deleted", [(r, r) for r in removed], parent_id)
        for record in removed:
            self._announce("deleted", record, record)
        return gone

    def _label(self, entity: str, values: Mapping[str, Any]) -> str | None:
        label_field = self.definition.entity(entity).label_field
        value = values.get(label_field) if label_field else None
        return None if value is None else str(value)
