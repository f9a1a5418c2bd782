"""EXECUTE_LISTENER, IMPORT_USERS / EXPORT_USERS, START_APP / STOP_APP and
DEPLOY_ENDPOINT / UNDEPLOY_ENDPOINT."""

from __future__ import annotations

import csv
import io

from sysjobs.app.app import App
from sysjobs.app.jobtypes.models import (
    EndpointData,
    ExecuteListenerData,
    ImportUsersData,
    NoData,
    StartAppData,
)
from sysjobs.app.listeners import listener_globals
from sysjobs.app.scripts import error_text, run_script
from sysjobs.app.status import AppStatus, EndpointStatus
from sysjobs.errors import SysError
from sysjobs.jobs import JobContext


def execute_listener(app: App, ctx: JobContext, data: ExecuteListenerData) -> None:
    listener = app.definition.listener(data.listenerName)
    inputs = {"_event": data.event, "_record": data.record, "_oldRecord": data.old_record}
    outcome = run_script(ctx.script_runner, app.definition.script(listener.script),
                         job_id=ctx.job.id, globals=listener_globals(inputs),
                         name=listener.script)  # fmt: skip
    if not outcome.ok:
        ctx.log_error(f"Listener {data.listenerName} failed: {error_text(outcome)}")
    ctx.set_progress(100)


def import_users(app: App, ctx: JobContext, data: ImportUsersData) -> None:
    text = app.files.get(data.file_id).content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    imported = errors = 0
    for row in reader:
        try:
            user = app.users.add(app.users.parse_row(row))
        except SysError as exc:
            errors += 1
            ctx.log_error(f"Line {reader.line_num}: {exc.message}", {"line": reader.line_num})
            continue
        imported += 1
        if data.notifyUsers:
            ctx.log_info(f"User {user.email} notified")
    ctx.set_results({"usersImported": imported, "usersWithErrors": errors})
    ctx.set_progress(100)


def export_users(app: App, ctx: JobContext, data: NoData) -> None:
    content, count = app.users.export_csv()
    file_id = app.files.put(f"users-{ctx.job.id}.csv", content)
    ctx.set_results({"fileLink": app.files.link(file_id), "fileId": file_id,
                     "usersExported": count})
    ctx.set_progress(100)


def start_app(app: App, ctx: JobContext, data: StartAppData) -> None:
    if data.pushChanges:
        ctx.log_info("Pushing changes")
    app.status.set_app(AppStatus.STARTED)
    ctx.log_info(f"App {app.definition.name} started")
    ctx.set_progress(100)


def stop_app(app: App, ctx: JobContext, data: NoData) -> None:
    app.status.set_app(AppStatus.STOPPED)
    ctx.log_info(f"App {app.definition.name} stopped")
    ctx.set_progress(100)


def deploy_endpoint(app: App, ctx: JobContext, data: EndpointData) -> None:
    app.status.set_endpoint(data.endpointName, EndpointStatus.DEPLOYING)
    endpoint = app.definition.manifest.endpoints[data.endpointName]
    if endpoint.script is not None:
        app.definition.script(endpoint.script)  # present and readable
    app.status.set_endpoint(data.endpointName, EndpointStatus.DEPLOYED)
    ctx.log_info(f"Endpoint {data.endpointName} deployed at {endpoint.path}")
    ctx.set_progress(100)


def undeploy_endpoint(app: App, ctx: JobContext, data: EndpointData) -> None:
    app.status.set_endpoint(data.endpointName, EndpointStatus.UNDEPLOYING)
    app.status.set_endpoint(data.endpointName, EndpointStatus.UNDEPLOYED)
    ctx.log_info(f"Endpoint {data.endpointName} undeployed")
    ctx.set_progress(100)
