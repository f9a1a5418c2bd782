"""Running a script from the dashboard's console, and serving export files.

A script runs either now — in a child process (:class:`ProcessSandbox`), so a fatal V8
error or a memory bomb ends that child, never the dashboard — or as a RUN_SCRIPT job that
the workers run (the reply is the new job; the page then follows it like any other job).
Both need the admin role: there is no way to run a script without authentication.

An export's ``fileLink`` carries its own token (checked by the app's ``FilesService``), so
downloads take that token, not the dashboard's bearer token: a link can be handed on.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sysjobs.host import Host
from sysjobs.runtime import Limits
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
from sysjobs.web.api import host_of, json_body
from sysjobs.web.auth import require
from sysjobs.web.errors import bad_parameter
from sysjobs.web.views import ENDED, job_json, log_json

#: The longest a console script may ask to run, in seconds.
MAX_TIMEOUT_S = 300.0
#: Extra seconds a waiting request allows for a worker to pick the script's job up.
JOB_WAIT_MARGIN_S = 60.0


class ScriptConsole:
    """One reusable child process for direct runs, used by one request at a time."""

    def __init__(self, db_url: str | None, app_dir: str | None) -> None:
        self.factory = SandboxFactory(
            "sysjobs.host:host_sandbox", {"db_url": db_url, "app_dir": app_dir}
        )
        self._lock = threading.Lock()
        self._sandbox: ProcessSandbox | None = None

    def run(self, source: str, timeout_s: float) -> dict[str, Any]:
        """Run ``source`` now; the whole run result (outcome, value, logs, error)."""
        with self._lock:
            if self._sandbox is None:
                self._sandbox = ProcessSandbox(self.factory, Limits(timeout_s=MAX_TIMEOUT_S))
            return self._sandbox.run(source, timeout_s=timeout_s).to_json()

    def close(self) -> None:
        """End the child process, if one was started."""
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None


def _script_args(body: dict[str, Any]) -> tuple[str, float, bool, str]:
    source = body.get("source")
    if not isinstance(source, str) or not source.strip():
        raise bad_parameter("source", source, "a non-empty string of JavaScript")
    timeout = body.get("timeoutS", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise bad_parameter("timeoutS", timeout, f"seconds, > 0 and <= {MAX_TIMEOUT_S:g}")
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise bad_parameter("timeoutS", timeout, f"seconds, > 0 and <= {MAX_TIMEOUT_S:g}")
    in_job = body.get("inJob", False)
    if not isinstance(in_job, bool):
        raise bad_parameter("inJob", in_job, "true, false")
    label = body.get("label", "Console script")
    if not isinstance(label, str):
        raise bad_parameter("label", label, "a string")
    return source, float(timeout), in_job, label


async def run_script(request: Request) -> JSONResponse:
    """POST /api/scripts ``{source, inJob?, wait?, timeoutS?, label?}`` — admin only.

    In a job, the reply is the new job (202), or with ``wait: true`` the ended job and its
    log lines — the script's output — once the workers have run it.
    """
    require(request, write=True)
    body = await json_body(request)
    source, timeout, in_job, label = _script_args(body)
    if in_job:
        host = host_of(request)
        job = host.start_script_job(source, label=label, timeout_s=timeout)
        if body.get("wait") is not True:
            return JSONResponse({"job": job_json(job)}, status_code=202)
        return JSONResponse(await run_in_threadpool(_job_output, host, job.id, timeout))
    console: ScriptConsole = request.app.state.console
    result = await run_in_threadpool(console.run, source, timeout)
    return JSONResponse({"result": result})


def _job_output(host: Host, job_id: str, timeout_s: float) -> dict[str, Any]:
    """Wait for the script's job to end (its own limit plus a margin); its job and log."""
    ended = host.engine.wait(job_id, ENDED, timeout_s + JOB_WAIT_MARGIN_S)
    lines = [log_json(entry) for entry in host.engine.logs(job_id, {})]
    return {"job": job_json(ended), "logs": lines}


def download_file(request: Request) -> Response:
    """GET /api/files/{id}/download?token=… — an export, checked against its own token."""
    token = request.query_params.get("token") or request.headers.get("x-file-token")
    stored = host_of(request).app.files.download(request.path_params["file_id"], token)
    disposition = f'attachment; filename="{safe_filename(stored.name)}"'
    return Response(stored.content, media_type=stored.content_type,
                    headers={"Content-Disposition": disposition})  # fmt: skip


def safe_filename(name: str) -> str:
    """The last path component of ``name``, without quotes or control characters, in
    latin-1: a stored name like ``../../etc/passwd``, one with a CR/LF (a second header) or
    one the header encoding cannot carry must not reach the Content-Disposition header."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c >= " " and c not in '"\x7f').strip(" .")
    return cleaned.encode("latin-1", "replace").decode("latin-1") or "download"
