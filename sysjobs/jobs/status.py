"""Job statuses and the transitions users may ask for.

Workers and the reaper move jobs between the leased statuses through fenced queries (see
``sysjobs.jobs.leases``); the table here governs only the user verbs. Anything not listed is
illegal and raises ``Conflict`` naming the status the job is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sysjobs.errors import BadRequest, Conflict


class JobStatus(StrEnum):
    """Where a job is in its life (exactly the spec's values)."""

    #: Waiting for a worker. Set by ``enqueue``, ``resume``, and the reaper when it retries.
    PENDING = "PENDING"
    #: Leased by a worker and executing. Set by a worker's claim.
    RUNNING = "RUNNING"
    #: Done (successfully, or with ``hasErrors``). Set by the worker or the reaper. Final.
    FINISHED = "FINISHED"
    #: A stop was asked; the worker stops at the next safe point. Set by ``stop``.
    STOPPING = "STOPPING"
    #: Stopped at a safe point; ``resume`` continues from its checkpoint. Set by the worker.
    STOPPED = "STOPPED"
    #: A cancel was asked while it ran; the worker abandons it. Set by ``cancel``.
    CANCELING = "CANCELING"
    #: Abandoned for good. Set by ``cancel`` (not running) or the worker. Final.
    CANCELED = "CANCELED"


ALL_STATUSES: tuple[str, ...] = tuple(s.value for s in JobStatus)
#: Statuses nothing leaves.
FINAL = frozenset({JobStatus.FINISHED, JobStatus.CANCELED})
#: Statuses in which a worker holds the job's lease.
LEASED = frozenset({JobStatus.RUNNING, JobStatus.STOPPING, JobStatus.CANCELING})

S = JobStatus
#: verb -> {from status: path of statuses it passes through (last = where it lands)}.
USER_TRANSITIONS: dict[str, dict[JobStatus, tuple[JobStatus, ...]]] = {
    "stop": {S.RUNNING: (S.STOPPING,)},
    "force_stop": {S.RUNNING: (S.STOPPING,), S.STOPPING: (S.STOPPING,)},
    "resume": {S.STOPPED: (S.PENDING,)},
    "cancel": {
        S.PENDING: (S.CANCELING, S.CANCELED),
        S.STOPPED: (S.CANCELING, S.CANCELED),
        S.RUNNING: (S.CANCELING,),
        S.STOPPING: (S.CANCELING,),
    },
}


def allowed_from(verb: str) -> tuple[str, ...]:
    """The statuses ``verb`` may start from."""
    return tuple(s.value for s in USER_TRANSITIONS[verb])


def paths_for(verb: str) -> dict[str, tuple[str, ...]]:
    """{current status: statuses passed through} for ``verb`` (the store's ``paths``)."""
    return {a.value: tuple(s.value for s in p) for a, p in USER_TRANSITIONS[verb].items()}


def illegal(verb: str, job_id: str, current: str) -> Conflict:
    """The error for an illegal transition: names the verb, the status met and what is allowed."""
    allowed = ", ".join(allowed_from(verb))
    return Conflict(
        f"Cannot {verb.replace('_', ' ')} job {job_id}: its status is {current}. "
        f"Allowed only when the status is: {allowed}",
        info={"status": current},
    )


def check_statuses(statuses: Sequence[str] | str) -> tuple[str, ...]:
    """``waitForJob``'s desired statuses (one or many), each a real status."""
    items = [statuses] if isinstance(statuses, str) else list(statuses)
    wrong: object = [] if not items else next((i for i in items if i not in ALL_STATUSES), None)
    if wrong is not None:
        raise BadRequest(
            f"Invalid value {wrong!r} for parameter 'desiredStatus'. "
            f"Allowed values: {', '.join(ALL_STATUSES)}"
        )
    return tuple(items)
