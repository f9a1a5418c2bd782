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
#: Starts one EXECUTE_LISTENER job per inputs, all in one insert, as children of the
#: running job given (or roots) → their job ids.
StartListeners = Callable[[str, list[dict[str, Any]], str | None], list[str]]


class ListenerDispatcher:
    def __init__(self, definition: AppDefinition, start: StartListener,
                 wire: Callable[[Record], dict[str, Any]],
                 start_many: StartListeners | None = None) -> None:  # fmt: skip
        self.definition = definition
        self.wire = wire
        self.start = start
        self.start_many: StartListeners = start_many or (
            lambda name, many, _parent: [start(name, inputs) for inputs in many]
        )
        #: Runs inline listeners in the calling process (set by the host), or None.
        self.inline_runner: ScriptRunner | None = None
        # Not thread-local: a nested save runs on the sandbox's own thread, not the caller's.
        self._depth = 0
        self._lock = threading.Lock()

    def on_record(self, event: str, record: Record, old: Record | None) -> None:
        """Record hook, after the change is committed: run the inline data listeners of
        ``record``'s entity for ``event``."""
        self._on_data(event, record, old, as_jobs=False)

    def on_records_written(self, event: str, changed: list[tuple[Record, Record | None]],
                           parent_id: str | None = None) -> None:  # fmt: skip
        """Record hook, inside the change's own transaction: start the listener jobs, so
        the records and their jobs are committed together (or none is) — one insert per
        listener for all the records. They are children of ``parent_id``, the running job
        that changed the records, if any (the job tree)."""
        entity = changed[0][0].entity
        for name, _ in self._listening(event, entity, as_jobs=True):
            self.start_many(name, [self._inputs(event, r, old) for r, old in changed], parent_id)

    def _as_job(self, listener: ListenerDef) -> bool:
        return listener.background or self.inline_runner is None

    def _listening(self, event: str, entity: str, *, as_jobs: bool
                   ) -> list[tuple[str, ListenerDef]]:  # fmt: skip
        return [
            (name, listener) for name, listener in self.definition.manifest.listeners.items()
            if listener.type == "data" and listener.entity == entity
            and (not listener.events or event in listener.events)
            and self._as_job(listener) == as_jobs
        ]  # fmt: skip

    def _inputs(self, event: str, record: Record, old: Record | None) -> dict[str, Any]:
        js_event = {"type": "DATA", "entityName": record.entity, "dataEvent": event,
                    "recordId": record.id}
        return {"_event": js_event, "_record": self.wire(record),
                "_oldRecord": None if old is None else self.wire(old)}

    def _on_data(self, event: str, record: Record, old: Record | None, *, as_jobs: bool) -> None:
        listeners = self._listening(event, record.entity, as_jobs=as_jobs)
        if listeners:
            inputs = self._inputs(event, record, old)
            for name, listener in listeners:
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
        if self._as_job(listener):
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
