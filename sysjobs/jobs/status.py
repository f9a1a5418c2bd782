"""Job statuses and the transitions users may ask for.

Workers and the reaper move jobs between the leased statuses through fenced queries (see
``sysjobs.jobs.leases``); the table here governs only the user verbs. Anything not listed is
illegal and raises ``Conflict`` naming the status the job is in.

:func:`check_statuses` is the one check of ``waitForJob``'s ``desiredStatus`` (the engine
and the binding both call it), with one message.
"""

from __future__ import annotations

from enum import StrEnum

from sysjobs.errors import Conflict
from sysjobs.jobs.values import bad


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
#: The leased statuses of a job asked to end: its worker stops it at a safe point, or forces it.
ASKED_TO_END = frozenset({JobStatus.STOPPING, JobStatus.CANCELING})

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
    # Like cancel with no grace; a CANCELING job (a cancel still in its grace) may be killed.
    "kill": {
        S.PENDING: (S.CANCELING, S.CANCELED),
        S.STOPPED: (S.CANCELING, S.CANCELED),
        S.RUNNING: (S.CANCELING,),
        S.STOPPING: (S.CANCELING,),
        S.CANCELING: (S.CANCELING,),
    },
}


#: verb -> {status of a job *below* the one named: path} — stop, resume and cancel act on
#: a job's tree (``sysjobs.jobs.tree``). A pending job of a stopped tree is STOPPED (it
#: must not start while its tree is stopped) and resumes with it.
TREE_TRANSITIONS: dict[str, dict[JobStatus, tuple[JobStatus, ...]]] = {
    "stop": {S.RUNNING: (S.STOPPING,), S.PENDING: (S.STOPPED,)},
    "resume": {S.STOPPED: (S.PENDING,)},
    "cancel": USER_TRANSITIONS["cancel"],
}


def allowed_from(verb: str) -> tuple[str, ...]:
    """The statuses ``verb`` may start from."""
    return tuple(s.value for s in USER_TRANSITIONS[verb])


def paths_for(verb: str) -> dict[str, tuple[str, ...]]:
    """{current status: statuses passed through} for ``verb`` (the store's ``paths``)."""
    return {a.value: tuple(s.value for s in p) for a, p in USER_TRANSITIONS[verb].items()}


#: Where a user's ``low-priority`` verb (dashboard, HTTP API, CLI) is allowed: a job no
#: worker holds yet, whose priority still decides when it is claimed.
PRIORITY_STATUSES = ("PENDING", "STOPPED")


def illegal(verb: str, job_id: str, current: str) -> Conflict:
    """The error for an illegal transition: names the verb, the status met and what is allowed."""
    allowed = ", ".join(allowed_from(verb))
    return Conflict(
        f"Cannot {verb.replace('_', ' ')} job {job_id}: its status is {current}. "
        f"Allowed only when the status is: {allowed}",
        info={"status": current},
    )


def check_statuses(statuses: object, parameter: str = "desiredStatus") -> tuple[str, ...]:
    """``waitForJob``'s desired statuses: one status, or a non-empty list of them."""
    items = [statuses] if isinstance(statuses, str) else statuses
    allowed = ", ".join(ALL_STATUSES)
    if not isinstance(items, list | tuple) or not items:
        raise bad(parameter, statuses, f"a status or a non-empty array of statuses: {allowed}")
    for item in items:
        if item not in ALL_STATUSES:
            raise bad(parameter, item, allowed)
    return tuple(items)
