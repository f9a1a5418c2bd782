"""Listeners: scripts that react to record events and to job events.

A background listener becomes an EXECUTE_LISTENER job; an inline one runs right away
through the dispatcher's script runner when the host gave it one (and as a job otherwise,
so an event is never dropped). Job listeners never react to the jobs of listeners: a
listener on EXECUTE_LISTENER would otherwise feed itself forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sysjobs.app.definition import AppDefinition
from sysjobs.app.manifest import ListenerDef
from sysjobs.app.records import Record
from sysjobs.app.scripts import error_text, run_script
from sysjobs.jobs import ScriptRunner

_log = logging.getLogger("sysjobs.app.listeners")
#: Inline listeners that save records fire listeners again; this deep, the chain is a loop.
MAX_INLINE_DEPTH = 8

#: Starts an EXECUTE_LISTENER job: ``(listener name, private inputs)`` → job id.
StartListener = Callable[[str, dict[str, Any]], str]


class ListenerDispatcher:
    def __init__(self, definition: AppDefinition, start: StartListener,
                 wire: Callable[[Record], dict[str, Any]]) -> None:
        self.definition = definition
        self.wire = wire
        self.start = start
        #: Runs inline listeners in the calling process (set by the host), or None.
        self.inline_runner: ScriptRunner | None = None
        # Not thread-local: a nested save runs on the sandbox's own thread, not the caller's.
        self._depth = 0
        self._lock = threading.Lock()

    def on_record(self, event: str, record: Record, old: Record | None) -> None:
        """Record hook: fire the data listeners of ``record``'s entity for ``event``."""
        js_event = {"type": "DATA", "entityName": record.entity, "dataEvent": event,
                    "recordId": record.id}
        inputs = {"_event": js_event, "_record": self.wire(record),
                  "_oldRecord": None if old is None else self.wire(old)}
        for name, listener in self.definition.manifest.listeners.items():
            if listener.type == "data" and listener.entity == record.entity and (
                not listener.events or event in listener.events
            ):
                self.fire(name, listener, inputs)

    def on_job(self, job_type: str, job_event: str, job_id: str) -> None:
        """Engine hook: fire the job listeners of ``job_type`` for ``job_event``."""
        if job_type == "EXECUTE_LISTENER":
            return
        js_event = {"type": "JOB", "jobType": job_type, "jobEvent": job_event, "jobId": job_id}
        for name, listener in self.definition.manifest.listeners.items():
            if listener.type == "job" and listener.job_type == job_type and (
                not listener.events or job_event in listener.events
            ):
                self.fire(name, listener, {"_event": js_event})

    def fire(self, name: str, listener: ListenerDef, inputs: dict[str, Any]) -> None:
        if listener.background or self.inline_runner is None:
            self.start(name, inputs)
            return
        with self._lock:
            if self._depth >= MAX_INLINE_DEPTH:
                _log.error("listener %s not run: inline listeners nested too deep", name)
                return
            self._depth += 1
        try:
            outcome = run_script(self.inline_runner, self.definition.script(listener.script),
                                 job_id=None, globals=listener_globals(inputs),
                                 name=listener.script)  # fmt: skip
        finally:
            with self._lock:
                self._depth -= 1
        if not outcome.ok:
            _log.error("listener %s failed: %s", name, error_text(outcome))


def listener_globals(inputs: dict[str, Any]) -> dict[str, Any]:
    """A listener script's globals from an EXECUTE_LISTENER job's private inputs."""
    return {"event": inputs.get("_event"), "record": inputs.get("_record"),
            "oldRecord": inputs.get("_oldRecord")}
