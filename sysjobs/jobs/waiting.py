"""Read first, then wait on a hint, with a deadline — written once.

``wait_job`` (``sys.jobs.waitForJob``), :func:`wait_all` (``sys.jobs.waitForJobs``) and the
worker's idle loop all use :func:`wait_until`;
the only thing that differs between dialects is where hints come from (the hub is fed by
this process's commits and, on PostgreSQL, by LISTEN) and how fast to re-read without one
(the dialect's poll pace: quick backoff on SQLite, a slow safety net on PostgreSQL).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from sysjobs.errors import Timeout
from sysjobs.jobs.hub import Hub
from sysjobs.jobs.ids import is_job_id
from sysjobs.jobs.models import Job, JobState
from sysjobs.jobs.parts import EngineParts
from sysjobs.jobs.status import check_statuses
from sysjobs.jobs.values import bad

T = TypeVar("T")


def wait_until(
    read: Callable[[], T | None],
    *,
    hub: Hub,
    keys: Iterable[str],
    timeout_s: float,
    poll: Callable[[int], float],
    stop: Callable[[], bool] = lambda: False,
) -> T | None:
    """Return ``read()``'s first non-None value, or None when the deadline passes.

    The hub generation is marked *before* each read, so a change committed between the read
    and the wait still wakes us. Without hints, re-reads follow ``poll(idle_rounds)``; a hint
    resets the pace. ``stop()`` lets a shutting-down worker leave early.
    """
    deadline = time.monotonic() + max(0.0, timeout_s)
    idle_rounds = 0
    with hub.watch(keys) as watch:
        while True:
            watch.mark()
            value = read()
            if value is not None:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop():
                return None
            hinted = watch.wait(min(remaining, poll(idle_rounds)))
            idle_rounds = 0 if hinted else idle_rounds + 1


#: Most job ids one ``waitForJobs`` call takes: each wake-up re-reads the jobs still
#: outstanding, so the bound keeps one wait's reads (and its watch) small.
MAX_WAIT_IDS = 1000


def check_job_ids(value: object, parameter: str = "jobIds") -> tuple[str, ...]:
    """``waitForJobs``' ids: an array of 0..``MAX_WAIT_IDS`` job ids; duplicates count once.

    Why duplicates are accepted: waiting for a job twice is waiting for it once, and a
    script that collects ids from several places should not have to dedupe them first.
    """
    allowed = f"an array of at most {MAX_WAIT_IDS} job ids (24 lowercase hexadecimal characters)"
    if not isinstance(value, list | tuple):
        raise bad(parameter, value, allowed)
    if len(value) > MAX_WAIT_IDS:
        raise bad(parameter, f"an array of {len(value)} items", allowed)
    for item in value:
        if not is_job_id(item):
            raise bad(parameter, item, allowed)
    return tuple(dict.fromkeys(str(item) for item in value))


def wait_all(
    parts: EngineParts, job_ids: Sequence[str], statuses: Sequence[str] | str, timeout_s: float
) -> list[Job]:
    """Return (in ``job_ids`` order) once every job has been seen in one of ``statuses``.

    A job counts from the first read that finds it in a desired status, even if it moves on
    before the others get there: the same answer as waiting for each job in turn, and the
    only one that cannot miss a passing status such as RUNNING. All ids share one watch on
    the hub, so one hint for any of them wakes the single wait, which re-reads only the
    jobs still outstanding. ``NotFound`` names the first unknown id (checked before
    waiting); ``Timeout`` lists the jobs still outstanding and their statuses.
    """
    ids, wanted = check_job_ids(job_ids), check_statuses(statuses)
    _check_timeout(timeout_s)
    for job_id in ids:
        parts.require(job_id, parameter="jobIds")
    seen: dict[str, Job] = {}

    def read() -> list[Job] | None:
        for job_id in ids:
            if job_id not in seen:
                job = parts.reached(job_id, wanted, parameter="jobIds")
                if job is not None:
                    seen[job_id] = job
        return [seen[i] for i in ids] if len(seen) == len(ids) else None

    found = wait_until(
        read, hub=parts.hub, keys=[f"job:{i}" for i in ids], timeout_s=timeout_s,
        poll=parts.backend.poll_interval,
    )  # fmt: skip
    if found is not None:
        return found
    raise _outstanding_timeout(parts, [i for i in ids if i not in seen], wanted, timeout_s)


def wait_states(
    parts: EngineParts, job_ids: Sequence[str], statuses: Sequence[str], timeout_s: float
) -> list[JobState] | None:
    """The states of ``job_ids`` (in their order) once one read finds every job in one of
    ``statuses``; None when ``timeout_s`` passes first. A light :func:`wait_all` for a
    caller that waits for final statuses (which do not move on) again and again — an
    ``executeInJob`` owner on its parts: each wake-up reads status and progress of all
    the jobs in one query, never a whole row, and a timeout is an answer, not an error
    whose message costs a read per job. ``NotFound`` when a job is not there."""
    wanted = check_statuses(statuses)
    _check_timeout(timeout_s)

    def read() -> list[JobState] | None:
        states = parts.states(job_ids)
        return states if all(s.status in wanted for s in states) else None

    return wait_until(
        read, hub=parts.hub, keys=[f"job:{i}" for i in job_ids], timeout_s=timeout_s,
        poll=parts.backend.poll_interval,
    )  # fmt: skip


def _check_timeout(timeout_s: object) -> None:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float):
        raise bad("maxTimeToWait", timeout_s, "a number >= 0")
    if not math.isfinite(timeout_s) or timeout_s < 0:
        raise bad("maxTimeToWait", timeout_s, "a number >= 0")


#: Outstanding jobs a timeout message names before it says "and N more".
SHOWN_IDS = 5


def _outstanding_timeout(
    parts: EngineParts, left: list[str], wanted: tuple[str, ...], timeout_s: float
) -> Timeout:
    statuses = {}
    for job_id in left:
        job = parts.get(job_id)
        statuses[job_id] = "unknown" if job is None else str(job.status)
    return Timeout(
        f"{len(left)} of the jobs did not reach {' or '.join(wanted)} within {timeout_s:g}s: "
        f"{outstanding_text(statuses)}",
        info={"jobIds": left, "statuses": statuses, "desiredStatus": list(wanted)},
    )


def outstanding_text(statuses: dict[str, str]) -> str:
    """``id (STATUS), …`` for the first few outstanding jobs, then how many more."""
    shown = [f"{i} ({s})" for i, s in list(statuses.items())[:SHOWN_IDS]]
    more = len(statuses) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")
