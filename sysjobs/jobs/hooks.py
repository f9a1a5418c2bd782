"""Lifecycle hooks: no-op methods a dashboard or a metrics exporter overrides.

As Dramatiq's middleware: subclass :class:`EngineHooks`, override what you need, and add it
with ``engine.hooks.append(...)``. Hooks run in the thread that caused the event, after its
transaction committed; an exception in a hook is logged and never reaches the job. The
``job_events`` table stays the durable record — hooks are for live reactions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sysjobs.jobs.models import Job

log = logging.getLogger(__name__)


class EngineHooks:
    """Override any of these; each does nothing by default."""

    def job_enqueued(self, job: Job) -> None:
        """A job was created (PENDING)."""

    def job_changed(self, job: Job, verb: str) -> None:
        """A user verb moved a job (``stop``, ``force_stop``, ``resume``, ``cancel``)."""

    def job_started(self, job: Job, owner: str) -> None:
        """A worker pool claimed the job and is about to run it."""

    def job_ended(self, job: Job | None, job_id: str, owner: str) -> None:
        """A worker pool is done with the job (``job`` is None when its lease was lost)."""


def fire(hooks: Iterable[EngineHooks], call: Callable[[EngineHooks], None]) -> None:
    """Run ``call`` on every hook; a failing hook is logged, never propagated."""
    for hook in hooks:
        try:
            call(hook)
        except Exception:
            log.exception("sysjobs: hook %r failed", hook)
