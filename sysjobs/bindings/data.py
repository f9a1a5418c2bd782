"""``sys.data``: records of the app's entities and the record jobs, over an :class:`App`.

The prelude (``data.js``) gives scripts ``Record`` objects; these operations validate the
arguments (pydantic: unknown keys and wrong types are ``badRequest`` naming them) and call
the app's services. Jobs started from a script record the script's job as their parent.

Every argument is checked whole by :func:`sysjobs.jobs.values.check_json` before its model
reads it, one rule for the namespace: numbers finite and within 64 bits, nesting at most
``MAX_DEPTH`` deep, and lone UTF-16 surrogates **refused** (``badRequest`` naming the
parameter) in entity names, ids, query maps, record fields and action parameters alike —
no database can store them and a replacement would change the script's data. A call that
arrives with the script's time already spent ends in ``timeout`` before it touches the
database.

Group commit: a new record saved by a script is validated and given its id at once, and
written with its listener jobs together with the run's other new records — before the run's
next call of any operation but ``createRecord``, ``save`` and ``log``, every
:data:`GROUP_COMMIT_RECORDS` records, and when the run ends, however it ends. A script
always reads its own writes; a process that dies mid-run loses the group not yet written.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sysjobs.app.app import App
from sysjobs.app.manifest import FieldType, ListenerDef
from sysjobs.app.records import Record
from sysjobs.bindings.commons import bounded, each_within, open_result_set, within
from sysjobs.jobs.values import INT64_MAX, check_json, surely_json_clean
from sysjobs.runtime.governor import JOBS_STARTED
from sysjobs.runtime.namespace import CallContext, Namespace, Operation

_PRELUDE = resources.files("sysjobs.bindings").joinpath("data.js").read_text("utf-8")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Args(_Model):
    """A call's arguments: each one checked whole (see the module docstring)."""

    @field_validator("*", mode="before")
    @classmethod
    def _json(cls, v: Any, info: ValidationInfo) -> Any:
        return check_json(v, str(info.field_name))


class EntityArgs(_Args):
    entityName: str


class QueryArgs(EntityArgs):
    query: dict[str, Any] = Field(default_factory=dict)


class IdArgs(EntityArgs):
    id: Any = None


class WireRecord(_Model):
    id: str | None = None
    entityName: str
    label: str | None = None
    version: int = Field(default=0, ge=0, lt=INT64_MAX)
    fields: dict[str, Any] = Field(default_factory=dict)
    fieldNames: list[str] = Field(default_factory=list)


class SaveArgs(_Args):
    record: WireRecord


_WIRE_KEYS = frozenset(WireRecord.model_fields)


def quick_save_args(args: Any) -> SaveArgs | None:
    """``save``'s arguments in the shape the prelude sends (every key of the record of
    JSON's own exact type, within the rules of :func:`check_json`), built without
    pydantic's validation; None for anything else, which ``SaveArgs`` then validates (and
    refuses in its own words). pydantic plus the walk of the record were a fifth of a
    save loop's host handlers."""
    if type(args) is not dict or len(args) != 1 or type(r := args.get("record")) is not dict:
        return None
    if not (r.keys() <= _WIRE_KEYS and _optional_str(r.get("id"))
            and type(r.get("entityName")) is str and _optional_str(r.get("label"))):
        return None  # fmt: skip
    version, fields, names = r.get("version", 0), r.get("fields", {}), r.get("fieldNames", [])
    if type(version) is not int or not 0 <= version < INT64_MAX:
        return None
    if type(fields) is not dict or any(type(k) is not str for k in fields):
        return None
    if type(names) is not list or any(type(n) is not str for n in names):
        return None
    if not surely_json_clean(r):
        return None
    record = WireRecord.model_construct(**{**r, "fields": dict(fields), "fieldNames": list(names)})
    return SaveArgs.model_construct(record=record)


def quick_entity_args(args: Any) -> EntityArgs | None:
    """``createRecord``'s arguments as the prelude sends them (one entity name, text
    without lone surrogates) without pydantic; None for anything else (see
    :func:`quick_save_args`)."""
    if type(args) is not dict or len(args) != 1:
        return None
    name = args.get("entityName")
    if type(name) is not str or not surely_json_clean(name):
        return None
    return EntityArgs.model_construct(entityName=name)


def _optional_str(value: Any) -> bool:
    return value is None or type(value) is str


class JobOptions(_Model):
    lowPriority: bool = False


class ExecuteActionArgs(_Args):
    #: None (``null``) for a global action.
    entityName: str | None
    query: dict[str, Any] = Field(default_factory=dict)
    actionName: str
    params: dict[str, Any] = Field(default_factory=dict)
    options: JobOptions = Field(default_factory=JobOptions)


class DeleteArgs(QueryArgs):
    options: JobOptions = Field(default_factory=JobOptions)


class ImportArgs(EntityArgs):
    fileId: str
    options: JobOptions = Field(default_factory=JobOptions)


class EndpointArgs(_Args):
    endpointName: str


#: New records a run holds for one commit at most (then they are written at once).
GROUP_COMMIT_RECORDS = 200
_PENDING = "data.pendingCreations"


class _PendingCreations:
    """A run's new records waiting for their group commit: written, with their listener
    jobs, in one transaction when :data:`GROUP_COMMIT_RECORDS` wait, before the run's next
    call of any other operation (the script reads its writes), and when the run ends
    (``CallContext.flushes``). A failed commit is the error of the call that triggered it,
    or of the run. A process that dies before the commit loses these records, as if the
    script had died just before saving them."""

    def __init__(self, ctx: CallContext, app: App) -> None:
        self.ctx = ctx
        self.app = app
        self.records: list[Record] = []

    def add(self, record: Record) -> None:
        if not self.records:
            self.ctx.flushes.append(self.flush)
        self.records.append(record)
        if len(self.records) >= GROUP_COMMIT_RECORDS:
            self.ctx.flush()

    def flush(self) -> None:
        records, self.records = self.records, []
        if records:
            self.app.records.insert_prepared(records, parent_id=self.ctx.job_id)


def _pending_creations(ctx: CallContext, app: App) -> _PendingCreations:
    pending = ctx.extras.get(_PENDING)
    if not isinstance(pending, _PendingCreations):
        pending = ctx.extras[_PENDING] = _PendingCreations(ctx, app)
    return pending


class _Ops:
    """The operations, closed over one app."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: Per (entity, event) of the definition in use: the data listeners it starts.
        #: Every save asked the manifest (a scan of every listener, twice); a definition
        #: never changes once loaded, so the answer is kept while it is the app's.
        self._listeners: dict[tuple[str, str], list[tuple[str, ListenerDef]]] = {}
        self._listeners_of: object = None

    def _data_listeners(self, entity: str, event: str) -> list[tuple[str, ListenerDef]]:
        definition = self.app.definition
        if self._listeners_of is not definition:
            self._listeners, self._listeners_of = {}, definition
        found = self._listeners.get((entity, event))
        if found is None:
            found = self._listeners[(entity, event)] = definition.data_listeners(entity, event)
        return found

    def encode(self, record: Record | None) -> dict[str, Any] | None:
        return None if record is None else self.app.records.wire(record)

    def find(self, ctx: CallContext, a: QueryArgs) -> dict[str, Any]:
        with self._reads(ctx):
            items, count = self.app.records.find(a.entityName, a.query)
        reads = lambda: self._reads(ctx)  # noqa: E731 - each page's reads, later calls
        return open_result_set(
            ctx, each_within(reads, items), lambda: within(reads, count), self.encode
        )

    def find_one(self, ctx: CallContext, a: QueryArgs) -> dict[str, Any] | None:
        with self._reads(ctx):
            return self.encode(self.app.records.find_one(a.entityName, a.query))

    def find_by_id(self, ctx: CallContext, a: IdArgs) -> dict[str, Any] | None:
        with self._reads(ctx):
            return self.encode(self.app.records.find_by_id(a.entityName, a.id))

    def count(self, ctx: CallContext, a: QueryArgs) -> int:
        with self._reads(ctx):
            return self.app.records.count(a.entityName, a.query)

    def _reads(self, ctx: CallContext) -> AbstractContextManager[None]:
        """The queries of this call stop at the script's deadline (a ``like`` over long
        text cannot hold the host past it)."""
        return self.app.engine.reads_until(ctx.deadline)

    def create(self, ctx: CallContext, a: EntityArgs) -> dict[str, Any] | None:
        return self.encode(self.app.records.create_record(a.entityName))

    def save(self, ctx: CallContext, a: SaveArgs) -> dict[str, Any] | None:
        r = a.record
        self._charge_listener_jobs(ctx, r.entityName, "created" if r.id is None else "changed")
        record = Record(r.entityName, dict(r.fields), r.id, r.label, r.version)
        if r.id is None and self._groups_creations(r.entityName):
            prepared = self.app.records.prepare(record)
            _pending_creations(ctx, self.app).add(prepared)
            return self.encode(prepared)
        ctx.flush()  # (``save`` defers: what this run created before is written first)
        return self.encode(self.app.records.save(record, parent_id=ctx.job_id))

    def _groups_creations(self, entity: str) -> bool:
        """Whether a new record of ``entity`` may wait for the run's group commit: not when
        one of its listeners runs inline (it would run later than the script expects), nor
        when its relationship fields must find records the run saved before."""
        inline = self.app.listeners.inline_runner is not None
        listeners = self._data_listeners(entity, "created")
        if inline and any(not li.background for _, li in listeners):
            return False
        fields = self.app.definition.entity(entity).fields.values()
        return not any(f.type is FieldType.RELATIONSHIP for f in fields)

    def remove(self, ctx: CallContext, a: IdArgs) -> dict[str, Any] | None:
        self._charge_listener_jobs(ctx, a.entityName, "deleted")
        return self.encode(self.app.records.remove(a.entityName, a.id, parent_id=ctx.job_id))

    def _charge_listener_jobs(self, ctx: CallContext, entity: str, event: str) -> None:
        """A record event starts a job per data listener not run inline: they count as jobs
        the script started, before the record changes."""
        inline = self.app.listeners.inline_runner is not None
        listeners = self._data_listeners(entity, event)
        jobs = sum(1 for _, li in listeners if li.background or not inline)
        if jobs:
            ctx.charge(JOBS_STARTED, jobs)

    def _job(self, ctx: CallContext, low_priority: bool) -> dict[str, Any]:
        ctx.charge(JOBS_STARTED)  # before the job exists: no run starts more than its limit
        return {"low_priority": low_priority, "run_by": ctx.user, "parent_id": ctx.job_id}

    def execute_action(self, ctx: CallContext, a: ExecuteActionArgs) -> str:
        return self.app.execute_action(a.entityName, a.query, a.actionName, a.params,
                                       **self._job(ctx, a.options.lowPriority))

    def delete(self, ctx: CallContext, a: DeleteArgs) -> str:
        return self.app.delete_records(a.entityName, a.query,
                                       **self._job(ctx, a.options.lowPriority))

    def import_records(self, ctx: CallContext, a: ImportArgs) -> str:
        return self.app.import_records(a.entityName, a.fileId,
                                       **self._job(ctx, a.options.lowPriority))

    def endpoint_status(self, ctx: CallContext, a: EndpointArgs) -> str:
        return self.app.status.endpoint(a.endpointName).value


def data_namespace(app: App) -> Namespace:
    """The ``sys.data`` namespace over ``app``."""
    ops = _Ops(app)
    return Namespace(
        name="data",
        prelude=_PRELUDE,
        operations=(
            bounded(Operation("find", QueryArgs, ops.find)),
            bounded(Operation("findOne", QueryArgs, ops.find_one)),
            bounded(Operation("findById", IdArgs, ops.find_by_id)),
            bounded(Operation("count", QueryArgs, ops.count)),
            bounded(Operation("createRecord", EntityArgs, ops.create, defers=True,
                              quick_args=quick_entity_args)),
            bounded(Operation("save", SaveArgs, ops.save, defers=True,
                              quick_args=quick_save_args)),
            bounded(Operation("remove", IdArgs, ops.remove)),
            bounded(Operation("executeAction", ExecuteActionArgs, ops.execute_action)),
            bounded(Operation("delete", DeleteArgs, ops.delete)),
            bounded(Operation("importRecords", ImportArgs, ops.import_records)),
            bounded(Operation("endpointStatus", EndpointArgs, ops.endpoint_status)),
        ),
    )
