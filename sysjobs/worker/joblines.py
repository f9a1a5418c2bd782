"""``sysjobs worker -v``: one log line when a job starts and one when it ends.

What an operator tails to see a worker work — which job, of which type, how it ended and
how long this run took — without opening the dashboard. It is an engine hook
(:class:`~sysjobs.jobs.hooks.EngineHooks`), so it sees exactly what the pool runs, in the
worker process that runs it; the lines go to the ``sysjobs.worker.jobs`` logger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sysjobs.jobs import Engine, EngineHooks, Job

#: Where the lines go (the worker's stderr, through the supervisor).
LOGGER = "sysjobs.worker.jobs"


class JobLines(EngineHooks):
    """Logs ``job ID TYPE started`` and ``job ID TYPE STATUS in 1.2s`` per job run."""

    def __init__(
        self, logger: logging.Logger | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.log = logger or logging.getLogger(LOGGER)
        self.clock = clock
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()  # hooks run in every slot's thread

    def job_started(self, job: Job, owner: str) -> None:
        with self._lock:
            self._started[job.id] = self.clock()
        self.log.info("job %s %s started", job.id, job.type)

    def job_ended(self, job: Job | None, job_id: str, owner: str) -> None:
        with self._lock:
            began = self._started.pop(job_id, None)
        took = "" if began is None else f" in {self.clock() - began:.3f}s"
        if job is None:
            self.log.info("job %s ended elsewhere (its lease was lost)%s", job_id, took)
            return
        errors = " with errors" if job.has_errors else ""
        self.log.info("job %s %s %s%s%s", job.id, job.type, job.status, errors, took)


def log_jobs(engine: Engine) -> JobLines:
    """Make ``engine``'s worker pools log a line per job start and end, on stderr."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger(LOGGER).setLevel(logging.INFO)
    hook = JobLines()
    engine.hooks.append(hook)
    return hook
