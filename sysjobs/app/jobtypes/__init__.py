"""The 11 public job types of the app, registered on an engine.

``register_app_job_types(engine, app)`` is the one call a host makes; each handler is
closed over the :class:`~sysjobs.app.app.App` whose records, files and scripts it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

from sysjobs.app.app import App
from sysjobs.app.jobtypes import actions, bulk, in_job, system
from sysjobs.app.jobtypes import models as m
from sysjobs.jobs.registry import JobType

_Handler = Callable[..., None]
_TypeRow = tuple[str, type[BaseModel], _Handler, str, bool, type[BaseModel] | None]
#: (name, data model, handler, queue, idempotent, results model)
_TYPES: tuple[tuple[str, type[BaseModel], _Handler, str, bool, type[BaseModel] | None], ...] = (
    ("EXECUTE_ACTION", m.ExecuteActionData, actions.execute_action, "mix", False,
     m.RecordResults),
    ("DELETE_RECORDS", m.DeleteRecordsData, bulk.delete_records, "heavy", True,
     m.RecordResults),
    ("IMPORT_RECORDS", m.ImportRecordsData, bulk.import_records, "heavy", False,
     m.ImportRecordsResults),
    ("EXPORT_RECORDS", m.ExportRecordsData, bulk.export_records, "heavy", True,
     m.ExportRecordsResults),
    ("EXECUTE_LISTENER", m.ExecuteListenerData, system.execute_listener, "light", False, None),
    ("IMPORT_USERS", m.ImportUsersData, system.import_users, "light", False,
     m.ImportUsersResults),
    ("EXPORT_USERS", m.NoData, system.export_users, "light", True, m.ExportUsersResults),
    ("START_APP", m.StartAppData, system.start_app, "system", True, None),
    ("STOP_APP", m.NoData, system.stop_app, "system", True, None),
    ("DEPLOY_ENDPOINT", m.EndpointData, system.deploy_endpoint, "system", True, None),
    ("UNDEPLOY_ENDPOINT", m.EndpointData, system.undeploy_endpoint, "system", True, None),
)  # fmt: skip
APP_JOB_TYPES = tuple(t[0] for t in _TYPES)
#: The newer jobs API's types (issue 20), beyond the spec's 11: ``sys.jobs.executeInJob``.
_NEWER_TYPES: tuple[_TypeRow, ...] = (
    ("EXECUTE_IN_JOB", m.ExecuteInJobData, in_job.execute_in_job, "mix", True,
     m.ExecuteInJobResults),
)  # fmt: skip


class _Registers(Protocol):
    def register(self, job_type: JobType) -> Any: ...


def _bind(app: App, handler: Callable[..., None]) -> Callable[[Any, Any], None]:
    def run(ctx: Any, data: Any) -> None:
        handler(app, ctx, data)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def app_job_types(app: App) -> list[JobType]:
    """The 11 public job types and the newer API's, bound to ``app``."""
    return [
        JobType(name, model, _bind(app, handler), queue=queue, idempotent=idem,
                results_model=results)
        for name, model, handler, queue, idem, results in (*_TYPES, *_NEWER_TYPES)
    ]


def register_app_job_types(engine: _Registers, app: App) -> None:
    """Register the public job types of ``app`` (the spec's 11, EXECUTE_IN_JOB) on ``engine``."""
    for job_type in app_job_types(app):
        engine.register(job_type)


__all__ = ["APP_JOB_TYPES", "app_job_types", "register_app_job_types"]
