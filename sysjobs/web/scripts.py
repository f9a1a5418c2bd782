"""Running a script from the dashboard's console, and serving files (CSV imports and exports).

A script runs either now — in a child process (:class:`ProcessSandbox`), so a fatal V8
error or a memory bomb ends that child, never the dashboard — or as a RUN_SCRIPT job that
the workers run (the reply is the new job; the page then follows it like any other job).
Both need the admin role: there is no way to run a script without authentication. Either
runs in the app the request is about (the switcher's ``X-Sysjobs-App``): the operator's
admin token in any app, an app's token in its own app only (another: 403).

Files. An export's ``fileLink`` (``/api/files/{id}/download``) holds no secret: as the
contract says, the caller sends its token in the headers. The rule:

* downloading needs the **admin token** (``Authorization: Bearer <token>``), also when the
  dashboard runs read-only (a download changes nothing);
* the **read token** gets 403: exports hold entity records and the app's users (names,
  emails, roles) — data the read token cannot otherwise see, since it reads jobs, logs and
  stats only, while the admin token can read every record through a script anyway;
* no token or an unknown one gets 401, whoever holds the link.

So a link read from a job's results — by any script, or by the read token — is useless on
its own. The dashboard's download button fetches the file with the header and saves it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sysjobs.host import Host
from sysjobs.runtime import Limits
from sysjobs.runtime.launcher import Launcher
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
from sysjobs.web.api import host_of, limits_of
from sysjobs.web.auth import require, require_admin_token
from sysjobs.web.body import Fields, boolean, json_object, number, string
from sysjobs.web.errors import ApiError, Reply
from sysjobs.web.limits import WebLimits
from sysjobs.web.logpages import log_page
from sysjobs.web.params import NONE
from sysjobs.web.views import ENDED, job_json

#: The longest a console script may ask to run, in seconds.
MAX_TIMEOUT_S = 300.0
#: Extra seconds a waiting request allows for a worker to pick the script's job up.
JOB_WAIT_MARGIN_S = 60.0
#: Longest label a console script's job may get.
MAX_LABEL_CHARS = 200


class ScriptConsole:
    """One reusable child process for one app's direct runs, used by one request at a time
    (the dashboard has one per app it serves, each started on first use)."""

    def __init__(
        self, db_url: str | None, app_dir: str | None, *, launcher: Launcher | None = None
    ) -> None:
        """``launcher`` (its owner's) forks the child ready-imported."""
        self.launcher = launcher
        self.factory = SandboxFactory(
            "sysjobs.host:host_sandbox", {"db_url": db_url, "app_dir": app_dir}
        )
        self._lock = threading.Lock()
        self._sandbox: ProcessSandbox | None = None
        #: Guards the two flags below, never held while a script runs.
        self._state = threading.Lock()
        self._busy = False
        #: :meth:`retire` came while a run was under way: the child ends after it.
        self._retired = False

    def run(self, source: str, timeout_s: float) -> dict[str, Any]:
        """Run ``source`` now; the whole run result (outcome, value, logs, error)."""
        with self._lock:
            with self._state:
                self._busy = True
            try:
                if self._sandbox is None:
                    self._sandbox = ProcessSandbox(self.factory, Limits(timeout_s=MAX_TIMEOUT_S),
                                                   launcher=self.launcher)  # fmt: skip
                return self._sandbox.run(source, timeout_s=timeout_s).to_json()
            finally:
                with self._state:
                    self._busy = False
                    retired, self._retired = self._retired, False
                if retired:
                    self._close_child()

    def retire(self) -> None:
        """End the child without waiting for a run: now when idle, else right after the
        run under way (another app's request must not wait up to a script's time limit
        for it, and that script is not cut short)."""
        with self._state:
            if self._busy or not self._lock.acquire(blocking=False):
                self._retired = True  # (a run starting or ending now: it ends the child)
                return
        try:
            self._close_child()
        finally:
            self._lock.release()

    def close(self) -> None:
        """End the child process, if one was started (after the run under way, if any)."""
        with self._lock:
            self._close_child()

    def _close_child(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    @property
    def started(self) -> bool:
        """Whether a child process is kept (started and not closed)."""
        return self._sandbox is not None


class Admission:
    """At most ``limit`` script requests of one app held at once (running, waiting for the
    app's console or for their job's end): each holds a thread of the pool every request
    of the dashboard shares, for up to a script's time limit — one app's flood of them
    must not take every thread from the other apps. One more is a 429 at once."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    @contextmanager
    def held(self, app_key: str) -> Iterator[None]:
        """One request of ``app_key`` held for the block (429 ``limitExceeded`` when the
        app holds its limit already)."""
        with self._lock:
            held = self._held.get(app_key, 0)
            if held >= self._limit:
                raise ApiError(429, "limitExceeded",
                               f"App '{app_key}' has {held} console script requests running or "
                               f"waiting, the most it may hold at once: try again once one "
                               f"has ended")  # fmt: skip
            self._held[app_key] = held + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._held[app_key] - 1
                if left:
                    self._held[app_key] = left
                else:
                    del self._held[app_key]


class Consoles:
    """The dashboard's consoles, one per app it serves, each child started on first use —
    and at most ``max_live`` of them alive: an operator trying the console in each of 100
    apps must not leave 100 child processes behind. A run in another app ends the least
    recently used app's child first (its next run starts a fresh one); a child that is
    running a script then ends right after it (:meth:`ScriptConsole.retire`)."""

    def __init__(self, consoles: Mapping[str, ScriptConsole], max_live: int,
                 max_requests: int = 4) -> None:  # fmt: skip
        self._consoles = dict(consoles)
        self._max_live = max_live
        #: Script requests (direct or waiting for their job) held per app.
        self.admission = Admission(max_requests)
        self._lock = threading.Lock()
        self._recent: list[str] = []  # apps whose child may be alive, least recent first

    def __getitem__(self, app_key: str) -> ScriptConsole:
        return self._consoles[app_key]

    def run(self, app_key: str, source: str, timeout_s: float) -> dict[str, Any]:
        """Run ``source`` now in ``app_key``'s console (see :meth:`ScriptConsole.run`)."""
        with self._lock:
            if app_key in self._recent:
                self._recent.remove(app_key)
            self._recent.append(app_key)
            ended = self._recent[: -self._max_live]
            del self._recent[: -self._max_live]
        for key in ended:
            self._consoles[key].retire()
        return self._consoles[app_key].run(source, timeout_s)

    def close(self) -> None:
        """End every console's child."""
        for console in self._consoles.values():
            console.close()


def script_fields(limits: WebLimits) -> Fields:
    """The body of ``POST /api/scripts``: each field with its check and default."""
    timeout = f"seconds, > 0 and <= {MAX_TIMEOUT_S:g}"
    return Fields(
        {
            "source": string(limits.max_source_chars, "a non-empty string of JavaScript",
                             blank=False),
            "timeoutS": number(0, MAX_TIMEOUT_S, timeout),
            "inJob": boolean,
            "wait": boolean,
            "label": string(MAX_LABEL_CHARS, "a string"),
        },
        {"timeoutS": 30, "inJob": False, "wait": False, "label": "Console script"},
    )  # fmt: skip


async def run_script(request: Request) -> Reply:
    """POST /api/scripts ``{source, inJob?, wait?, timeoutS?, label?}`` — admin only.

    In a job, the reply is the new job (202), or with ``wait: true`` the ended job and its
    log lines — the script's output — once the workers have run it.
    """
    require(request, write=True)
    NONE.parse(request)
    limits = limits_of(request)
    body = script_fields(limits).parse(await json_object(request))
    source, timeout, label = body["source"], body["timeoutS"], body["label"]
    consoles: Consoles = request.app.state.consoles
    host = host_of(request)  # the switcher's app (a token's: its own)
    if body["inJob"] and not body["wait"]:
        job = host.start_script_job(source, label=label, timeout_s=timeout)
        return Reply({"job": job_json(job, host.engine.tree_info([job])[job.id])},
                     status_code=202)  # fmt: skip
    with consoles.admission.held(host.app_key):
        if body["inJob"]:
            job = host.start_script_job(source, label=label, timeout_s=timeout)
            return Reply(await run_in_threadpool(_job_output, host, job.id, timeout, limits))
        result = await run_in_threadpool(consoles.run, host.app_key, source, timeout)
    return Reply({"result": result})


def _job_output(host: Host, job_id: str, timeout_s: float, limits: WebLimits) -> dict[str, Any]:
    """Wait for the script's job to end (its own limit plus a margin); the job and the first
    page of its log (``next``/``more`` as in ``/api/jobs/{id}/logs``, for the rest)."""
    ended = host.engine.wait(job_id, ENDED, timeout_s + JOB_WAIT_MARGIN_S)
    page = log_page(host.engine, job_id, {}, after=None, size=limits.logs_page, limits=limits)
    return {"job": job_json(ended, host.engine.tree_info([ended])[ended.id]), **page}


def download_file(request: Request) -> Response:
    """GET /api/files/{id}/download — a file, for the admin token only (see above)."""
    require_admin_token(request)
    NONE.parse(request)
    stored = host_of(request).app.files.get(request.path_params["file_id"])
    disposition = f'attachment; filename="{safe_filename(stored.name)}"'
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return Response(stored.content, media_type=stored.content_type, headers=headers)


def safe_filename(name: str) -> str:
    """The last path component of ``name``, without quotes or control characters, in
    latin-1: a stored name like ``../../etc/passwd``, one with a CR/LF (a second header) or
    one the header encoding cannot carry must not reach the Content-Disposition header."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c >= " " and c not in '"\x7f').strip(" .")
    return cleaned.encode("latin-1", "replace").decode("latin-1") or "download"
