"""The running app: its definition, services on the shared database, and the verbs that
start its public jobs (``sys.data.executeAction`` & co., the CLI and the Python API).

Every starter validates its inputs *before* enqueuing (a bad entity, action, query or
parameter is a ``BadRequest`` to the caller, not a failed job) and puts the handler's
private inputs in ``_``-prefixed data keys, so ``data()`` is exactly the spec's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sysjobs.app.definition import AppDefinition, load_demo_app
from sysjobs.app.fields import coerce
from sysjobs.app.files import FilesService
from sysjobs.app.job_events import JobEventPump, pump
from sysjobs.app.listeners import ListenerDispatcher
from sysjobs.app.manifest import ActionDef, ActionKind, FieldDef
from sysjobs.app.query import parse_query
from sysjobs.app.records import RecordsService
from sysjobs.app.schedules import app_schedules
from sysjobs.app.status import AppStatus, EndpointStatus, StatusService
from sysjobs.app.users import UsersService
from sysjobs.errors import BadRequest
from sysjobs.jobs import Engine
from sysjobs.jobs.values import shown
from sysjobs.store.app_misc import AppStores

#: App job types held back while the app is stopped (START_APP/STOP_APP still run).
HELD_WHEN_STOPPED = frozenset({
    "EXECUTE_ACTION", "DELETE_RECORDS", "IMPORT_RECORDS", "EXPORT_RECORDS", "EXECUTE_LISTENER",
    "IMPORT_USERS", "EXPORT_USERS", "DEPLOY_ENDPOINT", "UNDEPLOY_ENDPOINT", "EXECUTE_IN_JOB",
})


class App:
    def __init__(self, definition: AppDefinition, stores: AppStores, engine: Engine) -> None:
        self.definition = definition
        self.engine = engine
        self.records = RecordsService(definition, stores.records)
        self.files = FilesService(stores.misc)
        self.users = UsersService(stores.misc)
        self.status = StatusService(definition, stores.misc)
        self.listeners = ListenerDispatcher(definition, self._start_listener,
                                            self.records.wire, self.execute_listeners)
        self.records.hooks.append(self.listeners.on_record)
        self.records.written_hooks.append(self.listeners.on_records_written)
        self._job_events = stores.job_events
        self._misc = stores.misc

    @classmethod
    def open(cls, engine: Any, definition: AppDefinition | None = None) -> App:
        """The app on ``engine``'s database (a ``sysjobs.jobs.Engine``), seeded, keyed by the
        engine's app key (``engine.app``): it sees only its own rows.

        The first app to open a database upgraded from one app takes the rows the upgrade
        left unowned (docs/many-apps.md). Register its job types with
        :func:`sysjobs.app.jobtypes.register_app_job_types`.
        """
        stores = AppStores.for_db(engine.database, engine.app)
        stores.misc.claim_unowned()
        app = cls(definition or load_demo_app(), stores, engine)
        manifest = app.definition.manifest
        # the app's own queues and its cap, which every claim of its jobs respects
        engine.registry.use_queues(manifest.queue_defs(), app_cap=manifest.jobs.max_concurrency)
        app.seed()
        engine.schedules.define(app_schedules(app.definition))  # (docs/schedules.md)
        return app

    @staticmethod
    def claim_unowned(engine: Any) -> bool:
        """Give ``engine``'s app the rows an upgrade left unowned, without loading or seeding
        the app (``sysjobs db upgrade --app``); False when another app took them already."""
        return AppStores.for_db(engine.database, engine.app).misc.claim_unowned()

    def pump_job_events(self, limit: int = 500) -> int:
        """Fire job listeners for new job transitions (call it from a worker loop)."""
        return pump(self._job_events, self.listeners, self.definition.name, limit)

    def start_job_event_pump(self, interval_s: float = 0.5) -> JobEventPump:
        """Pump job transitions to job listeners on a thread; ``.stop()`` it when done."""
        return JobEventPump(self.pump_job_events, interval_s).start()

    def held_job_types(self) -> frozenset[str]:
        """Job types workers must not claim now: every app job while the app is STOPPED."""
        return frozenset() if self.is_running() else HELD_WHEN_STOPPED

    def seed(self) -> None:
        """Load the manifest's seed records and users into empty entities, once per app on
        the database: many worker processes open the same app at the same time, and only
        one may seed; another app on the same database seeds its own."""
        if not self._misc.claim_once(f"{self.definition.name}:seeded"):
            return
        self.users.seed(self.definition.manifest.users)
        for entity, rows in self.definition.manifest.seed.items():
            if self.records.count(entity, {}) == 0:
                values = [self.records.validate(entity, self._seed_refs(entity, r)) for r in rows]
                self.records.insert_many(entity, values, announce=False)

    def _seed_refs(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """Seed rows name related records by label; store their ids."""
        out = dict(row)
        for name, fdef in self.definition.entity(entity).fields.items():
            if fdef.entity and isinstance(out.get(name), str) and len(out[name]) != 24:
                target = self.definition.entity(fdef.entity).label_field or "id"
                found = self.records.find_one(fdef.entity, {target: f'"{out[name]}"'})
                out[name] = None if found is None else found.id
        return out

    def _enqueue(self, job_type: str, data: dict[str, Any], label: str, **kw: Any) -> str:
        job = self.engine.enqueue(job_type, data, label=label, **kw)
        return str(job.id)

    def execute_action(self, entity: str | None, query: Any, action_name: str,
                       params: Mapping[str, Any] | None = None, **kw: Any) -> str:
        """Start EXECUTE_ACTION (``entity`` None for a global action); returns the job id."""
        action = self.definition.action(entity, action_name)
        if entity is not None:
            parse_query(entity, self.definition.entity(entity), query)
        data = {"entityName": entity, "actionName": action_name, "_query": query or {},
                "_params": validate_params(action_name, action, params or {})}
        kw.setdefault("queue", action.queue)
        target = f" on {entity}" if entity else ""
        return self._enqueue("EXECUTE_ACTION", data, f"Execute action {action_name}{target}", **kw)

    def delete_records(self, entity: str, query: Any, **kw: Any) -> str:
        parse_query(entity, self.definition.entity(entity), query)
        data = {"entityName": entity, "_query": query or {}}
        return self._enqueue("DELETE_RECORDS", data, f"Delete records of {entity}", **kw)

    def import_records(self, entity: str, file_id: str, **kw: Any) -> str:
        self.definition.entity(entity)
        stored = self.files.get(file_id)
        data = {"fileName": stored.name, "entityName": entity, "_fileId": file_id}
        return self._enqueue("IMPORT_RECORDS", data, f"Import records into {entity}", **kw)

    def export_records(self, entity: str, query: Any = None, **kw: Any) -> str:
        parse_query(entity, self.definition.entity(entity), query)
        data = {"entityName": entity, "_query": query or {}}
        return self._enqueue("EXPORT_RECORDS", data, f"Export records of {entity}", **kw)

    def execute_listener(self, name: str, inputs: Mapping[str, Any] | None = None,
                         **kw: Any) -> str:
        listener = self.definition.listener(name)
        data = {"listenerName": name, **{k: v for k, v in (inputs or {}).items()
                                          if k.startswith("_")}}
        if listener.queue is not None:
            kw.setdefault("queue", listener.queue)
        return self._enqueue("EXECUTE_LISTENER", data, f"Execute listener {name}", **kw)

    def execute_listeners(self, name: str, many: list[dict[str, Any]],
                          parent_id: str | None = None) -> list[str]:  # fmt: skip
        """Start EXECUTE_LISTENER of ``name`` once per inputs, in one insert (children of
        the running job ``parent_id``, if any)."""
        listener = self.definition.listener(name)
        items = [{"listenerName": name, **{k: v for k, v in inputs.items() if k.startswith("_")}}
                 for inputs in many]  # fmt: skip
        return self.engine.enqueue_ids("EXECUTE_LISTENER", items, parent_id=parent_id,
                                       queue=listener.queue,
                                       label=f"Execute listener {name}")  # fmt: skip

    def _start_listener(self, name: str, inputs: dict[str, Any]) -> str:
        return self.execute_listener(name, inputs)

    def import_users(self, file_id: str, notify_users: bool = False, **kw: Any) -> str:
        stored = self.files.get(file_id)
        data = {"fileName": stored.name, "notifyUsers": notify_users, "_fileId": file_id}
        return self._enqueue("IMPORT_USERS", data, "Import users", **kw)

    def export_users(self, **kw: Any) -> str:
        return self._enqueue("EXPORT_USERS", {}, "Export users", **kw)

    def start_app(self, push_changes: bool = False, waking_up: bool = False, **kw: Any) -> str:
        data = {"pushChanges": push_changes, "wakingUp": waking_up}
        return self._enqueue("START_APP", data, f"Start app {self.definition.name}", **kw)

    def stop_app(self, **kw: Any) -> str:
        return self._enqueue("STOP_APP", {}, f"Stop app {self.definition.name}", **kw)

    def deploy_endpoint(self, name: str, **kw: Any) -> str:
        self.status.set_endpoint(name, EndpointStatus.DEPLOYING)
        return self._enqueue("DEPLOY_ENDPOINT", {"endpointName": name},
                             f"Deploy endpoint {name}", **kw)

    def undeploy_endpoint(self, name: str, **kw: Any) -> str:
        self.status.set_endpoint(name, EndpointStatus.UNDEPLOYING)
        return self._enqueue("UNDEPLOY_ENDPOINT", {"endpointName": name},
                             f"Undeploy endpoint {name}", **kw)

    def is_running(self) -> bool:
        """Whether app jobs may run (STOP_APP holds them back until START_APP)."""
        return self.status.app() is AppStatus.STARTED


def validate_params(action_name: str, action: ActionDef, params: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """The action's parameters by their declared types; ``BadRequest`` naming the bad one."""
    if not isinstance(params, Mapping):
        raise BadRequest(
            f"Invalid value {shown(params)} for parameter 'params': expected an object"
        )
    unknown = [n for n in params if n not in action.parameters]
    if unknown:
        allowed = ", ".join(action.parameters) or "none"
        raise BadRequest(f"Invalid parameter '{unknown[0]}' for action '{action_name}'. "
                         f"Allowed parameters: {allowed}")
    out: dict[str, Any] = {}
    for name, pdef in action.parameters.items():
        # Already validated by the manifest: build the field without re-validating it.
        fdef = FieldDef.model_construct(type=pdef.type, choices=pdef.choices)
        value = coerce(f"action {action_name}", name, fdef, params.get(name))
        if value is None and pdef.required:
            raise BadRequest(f"Parameter '{name}' of action '{action_name}' is required")
        out[name] = value
    return out


__all__ = ["ActionKind", "App", "validate_params"]
