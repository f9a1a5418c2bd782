"""Governance: what one script run may start, log and call (governor limits).

A platform that runs other people's scripts must bound what one run does to everyone else:
without limits one 20 s script enqueued thousands of jobs and wrote megabytes into other
jobs' logs. NetSuite and Salesforce call these governor limits; here they are three per-run
budgets:

* ``jobsStarted`` — jobs the run starts (``sys.data.executeAction``, ``delete``,
  ``importRecords``, ``sys.jobs.executeInJob``, and the listener jobs a ``save``/``remove``
  starts), charged by the
  binding before the job is created, so the number of jobs created never passes the limit;
* ``logBytes`` — UTF-8 bytes of log lines the run writes (``log()``,
  ``sys.jobs.logInfo/logError``, ``Job.logInfo/logError`` — into its own job's log or
  any other's — and ``sys.logs`` lines into the app's log);
* ``hostCalls`` — calls that reach the host, charged by the dispatch for every call.

The budgets are per *script run*: each run gets a fresh :class:`Governor` in its
``CallContext``, so the many runs of one job (an action over many records, sharing one
session) each get the whole budget, as a governor limit in NetSuite applies per script
execution. A charge past a limit raises :class:`~sysjobs.errors.LimitExceeded`
(``limitExceeded``); from then on every charge of that kind in the run fails too, so a
script that catches the error cannot go on starting, logging or calling.

The runtime knows no jobs: the governor only counts named budgets; bindings decide what to
charge.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Final

from sysjobs.errors import BadRequest, LimitExceeded

#: Budget names bindings charge.
JOBS_STARTED: Final = "jobsStarted"
LOG_BYTES: Final = "logBytes"
HOST_CALLS: Final = "hostCalls"

#: budget → (Governance field, manifest key, what a run may do at most).
_BUDGETS: Final = {
    JOBS_STARTED: ("max_jobs_started", "maxJobsStarted", "start at most {} jobs"),
    LOG_BYTES: ("max_log_bytes", "maxLogBytes", "write at most {} bytes of log lines"),
    HOST_CALLS: ("max_host_calls", "maxHostCalls", "make at most {} host calls"),
}


@dataclass(frozen=True)
class Governance:
    """Per-run limits: one value per Host; an app's manifest may make them stricter."""

    #: Jobs one script run may start.
    max_jobs_started: int = 1_000
    #: UTF-8 bytes of log lines one script run may write (every level, every job's log).
    max_log_bytes: int = 10 * 1024 * 1024
    #: Host calls one script run may make (``log()`` and every ``sys.*`` call that reaches
    #: the host).
    max_host_calls: int = 1_000_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadRequest(
                    f"Invalid value {value!r} for parameter '{f.name}'. "
                    "Allowed values: an integer >= 0"
                )

    def stricter(
        self, *, max_jobs_started: int | None = None, max_log_bytes: int | None = None,
        max_host_calls: int | None = None,
    ) -> Governance:  # fmt: skip
        """These limits, each lowered to the given value where that is stricter (an app
        may tighten its Host's limits, never loosen them)."""
        given = {
            "max_jobs_started": max_jobs_started, "max_log_bytes": max_log_bytes,
            "max_host_calls": max_host_calls,
        }  # fmt: skip
        lowered = {k: min(v, getattr(self, k)) for k, v in given.items() if v is not None}
        return replace(self, **lowered)

    def limit(self, budget: str) -> int:
        """The limit of ``budget`` (:data:`JOBS_STARTED`, :data:`LOG_BYTES`, :data:`HOST_CALLS`)."""
        value: int = getattr(self, _BUDGETS[budget][0])
        return value


class Governor:
    """One run's counters against its :class:`Governance`.

    Charges come from host calls, which one run makes one at a time on its isolate's
    thread, so the counters need no lock.
    """

    __slots__ = ("_exhausted", "_governance", "_used")

    def __init__(self, governance: Governance | None = None) -> None:
        self._governance = governance or Governance()
        self._used = dict.fromkeys(_BUDGETS, 0)
        self._exhausted: set[str] = set()

    @property
    def governance(self) -> Governance:
        return self._governance

    def used(self, budget: str) -> int:
        """How much of ``budget`` the run has used so far (refused charges not counted)."""
        return self._used[budget]

    def charge(self, budget: str, amount: int = 1) -> None:
        """Count ``amount`` of ``budget``, or raise ``LimitExceeded`` (counting nothing)."""
        used = self._used[budget] + amount
        if used > self._governance.limit(budget) or budget in self._exhausted:
            self._exhausted.add(budget)
            raise limit_exceeded(budget, self._governance.limit(budget))
        self._used[budget] = used


def limit_exceeded(budget: str, limit: int) -> LimitExceeded:
    """The error for ``budget``: names the limit, its value and how to raise it."""
    field_name, key, may = _BUDGETS[budget]
    message = (
        f"Limit exceeded: a script run may {may.format(limit)} "
        f"(governance limit {key} = {limit}), and this run reached it. To raise it, give the "
        f"Host Governance({field_name}=…), and raise governance.{key} in the app manifest "
        "if the app sets a lower value."
    )
    return LimitExceeded(message, info={"limit": key, "value": limit})


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (a lone surrogate counts as 3), without a copy for ASCII."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))
