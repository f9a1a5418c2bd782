"""Job listeners: the engine's job transitions as ``{type:'JOB', jobType, jobEvent, jobId}``.

Whoever runs the app's background work (a worker loop, the host) calls :func:`pump` now
and then; each transition is claimed once through the cursor, then handed to the
listener dispatcher. A fresh cursor starts at the newest transition, so loading an app
does not replay history.
"""

from __future__ import annotations

from sysjobs.app.listeners import ListenerDispatcher
from sysjobs.store.app_events import JobEventsStore, Transition

#: ``to_status`` → the listener's ``jobEvent``.
_EVENTS = {"RUNNING": "started", "FINISHED": "finished", "STOPPED": "stopped",
           "CANCELED": "canceled"}


def job_event(t: Transition) -> str | None:
    """The listener event of one transition (None for transitions nobody listens to)."""
    if t.from_status is None:
        return "created"
    if t.from_status == "STOPPED" and t.to_status == "PENDING":
        return "resumed"
    return _EVENTS.get(t.to_status)


def pump(store: JobEventsStore, listeners: ListenerDispatcher, app_name: str,
         limit: int = 500) -> int:
    """Fire listeners for new transitions; returns how many transitions were taken."""
    key = f"{app_name}:job-events"
    start = store.cursor(key)
    if start is None:
        store.move_cursor(key, None, store.latest_id())
        return 0
    batch = store.after(start, limit)
    if not batch or not store.move_cursor(key, start, batch[-1].id):
        return 0
    for t in batch:
        event = job_event(t)
        if event is not None:
            listeners.on_job(t.job_type, event, t.job_id)
    return len(batch)
