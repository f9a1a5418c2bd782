"""Job listeners: the engine's job transitions as ``{type:'JOB', jobType, jobEvent, jobId}``.

Whoever runs the app's background work (a worker loop, the host) calls :func:`pump` now
and then; each transition is claimed once through the cursor, then handed to the
listener dispatcher. A fresh cursor starts at the newest transition, so loading an app
does not replay history.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sysjobs.app.listeners import ListenerDispatcher
from sysjobs.store.app_events import JobEventsStore, Transition

_log = logging.getLogger("sysjobs.app.job_events")

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


class JobEventPump:
    """A daemon thread that pumps job transitions to listeners every ``interval_s``.

    For hosts without a loop of their own; a failing round is logged and retried, so a
    database hiccup never kills the pump. :meth:`held` lets a caller pump on its own with
    no round of the thread half done beside it.
    """

    def __init__(self, pump_once: Callable[[], int], interval_s: float = 0.5) -> None:
        self._pump_once = pump_once
        self._interval_s = interval_s
        self._stop = threading.Event()
        #: Held through each round: a round moves the cursor first and starts the listener
        #: jobs after, so a pump beside it may find nothing left while those jobs are not
        #: there yet.
        self._round = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="sysjobs-job-events",
                                        daemon=True)

    def start(self) -> JobEventPump:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @contextmanager
    def held(self) -> Iterator[Callable[[], int]]:
        """While inside, the thread runs no round (one in progress ends first); yields the
        pump for the caller's own rounds. Waiting for quiet (``sysjobs.cli.sample_runner.
        settle``) needs it: once no job is active and a round of its own takes nothing,
        nothing is left to start a job."""
        with self._round:
            yield self._pump_once

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._round:
                try:
                    busy = self._pump_once() > 0
                except Exception:  # keep pumping after a transient database error
                    _log.exception("job event pump failed; retrying")
                    busy = False
            if not busy:
                self._stop.wait(self._interval_s)
