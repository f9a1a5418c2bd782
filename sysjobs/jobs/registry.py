"""The job-type registry: what a job type is, and which ones an engine knows.

A job type is a Python handler with a pydantic model for its ``data`` (validated at enqueue,
parsed again for the handler) and, optionally, one for its results. The app layer registers
the 11 public types; tests register their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from sysjobs.errors import BadRequest
from sysjobs.jobs.queues import BUILTIN_DEFS, BUILTIN_QUEUES, QueueDef, check_concurrency
from sysjobs.jobs.values import bad, shown

if TYPE_CHECKING:
    from sysjobs.jobs.context import JobContext

#: The job types scripts may name (``find``'s ``type``), whether registered here or not.
PUBLIC_JOB_TYPES: tuple[str, ...] = (
    "IMPORT_RECORDS", "EXPORT_RECORDS", "EXECUTE_ACTION", "DELETE_RECORDS",
    "EXECUTE_LISTENER", "IMPORT_USERS", "EXPORT_USERS", "STOP_APP", "START_APP",
    "DEPLOY_ENDPOINT", "UNDEPLOY_ENDPOINT",
)  # fmt: skip

#: sysjobs' own job type for a script run as a job (``sysjobs run --in-job``, the console):
#: always a name ``find`` accepts, also from an engine opened without the host that runs it.
SCRIPT_JOB_TYPE = "RUN_SCRIPT"

#: The built-in queues, which every pool serves unless told otherwise (an app may add its
#: own: ``sysjobs.jobs.queues``).
QUEUES: tuple[str, ...] = BUILTIN_QUEUES
#: Retries granted to an idempotent type whose worker vanished (poison pills stop here).
IDEMPOTENT_RETRIES = 2


@dataclass(frozen=True)
class JobType:
    """A kind of job: its name, input model, handler and where it runs."""

    name: str  # "EXECUTE_ACTION"
    data_model: type[BaseModel]
    handler: Callable[[JobContext, Any], None]
    queue: str = "mix"  # mix | light | heavy | system
    idempotent: bool = False  # retried after a lost lease (capped)
    public: bool = True
    #: Validates ``set_results`` when given.
    results_model: type[BaseModel] | None = None

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise ValueError(f"job type {self.name}: queue {self.queue!r} not in {QUEUES}")

    @property
    def max_retries(self) -> int:
        """How many lost leases are retried before the job ends for good."""
        return IDEMPOTENT_RETRIES if self.idempotent else 0


class Hold:
    """One hold on job types, its answer kept while its version stays the same."""

    def __init__(
        self, held_types: Callable[[], Collection[str]], version: Callable[[], Hashable] | None,
        within: Collection[str] | None = None,
    ) -> None:  # fmt: skip
        self._held_types = held_types
        self._version = version
        #: Every type this hold may ever name (None: any).
        self._within = None if within is None else frozenset(within)
        self._lock = threading.Lock()
        self._cached: tuple[Hashable, frozenset[str]] | None = None

    def may_hold(self, types: Collection[str]) -> bool:
        """Whether this hold may name any of ``types``."""
        return self._within is None or not self._within.isdisjoint(types)

    def types(self, *, fresh: bool = False) -> frozenset[str]:
        """The held types now (re-asked only when the version moved, or ``fresh``: asked
        again in any case, and kept)."""
        if self._version is None:
            return frozenset(self._held_types())
        version = self._version()  # read before the answer: a change after it moves it again
        with self._lock:
            cached = self._cached
        if not fresh and cached is not None and cached[0] == version:
            return cached[1]
        answer = frozenset(self._held_types())
        with self._lock:
            self._cached = (version, answer)
        return answer


class Registry:
    """The job types one engine (or worker process) can run, and the queues its jobs may
    run in with their concurrency limits (``sysjobs.jobs.queues``)."""

    def __init__(self) -> None:
        self._types: dict[str, JobType] = {}
        self._holds: list[Hold] = []
        self._queues: dict[str, QueueDef] = {q.name: q for q in BUILTIN_DEFS}
        self._app_cap: int | None = None

    def use_queues(self, queues: Iterable[QueueDef], *, app_cap: int | None = None) -> None:
        """The app's own queues, next to the built-ins (which they replace none of), and
        the most of its jobs running at once (None: no cap). Called again, it replaces
        what the last call set (a reloaded manifest)."""
        mine = {q.name: q for q in BUILTIN_DEFS}
        for queue in queues:
            if queue.name in mine:
                raise bad("queue", queue.name, "a name no other queue of the app has")
            mine[queue.name] = queue
        self._app_cap = check_concurrency(app_cap, "maxConcurrency", minimum=1)
        self._queues = mine

    def queues(self) -> tuple[QueueDef, ...]:
        """Every queue the app's jobs may run in: the built-ins first, then the app's."""
        return tuple(self._queues.values())

    def queue_names(self) -> tuple[str, ...]:
        """The names of :meth:`queues`."""
        return tuple(self._queues)

    def require_queue(self, name: object) -> str:
        """``name`` when it is one of the app's queues, else ``BadRequest`` naming ``queue``
        and listing them."""
        if not isinstance(name, str) or name not in self._queues:
            raise bad("queue", name, ", ".join(self._queues))
        return name

    def queue_caps(self) -> dict[str, int]:
        """The most jobs running at once per limited queue (across every worker)."""
        return {q.name: q.max_concurrency for q in self._queues.values()
                if q.max_concurrency is not None}  # fmt: skip

    @property
    def app_cap(self) -> int | None:
        """The most of the app's jobs running at once, across every worker (None: no cap)."""
        return self._app_cap

    def hold(
        self,
        held_types: Callable[[], Collection[str]],
        *,
        version: Callable[[], Hashable] | None = None,
        within: Collection[str] | None = None,
    ) -> None:
        """Keep workers from claiming the types ``held_types()`` names at claim time.

        The app holds its jobs while it is STOPPED. Without ``version`` the answer is asked
        at every claim; with it, the answer is kept while ``version()`` returns the same
        value — it must move whenever the answer may (the app's status written by this
        process, a hint from another one), so a job enqueued right after STOP_APP finished
        still cannot slip through, and a busy worker does not read the status per job.
        ``within``: every type ``held_types()`` may ever name (None: any) — a claim whose
        jobs are all of other types needs no fresh answer (:meth:`held_now`).
        """
        self._holds.append(Hold(held_types, version, within))

    def held_now(self, types: Collection[str]) -> frozenset[str]:
        """Those of ``types`` (a claim's jobs' types) that a hold keeps back, asked afresh
        (no cached answer): what a claimer checks its claimed jobs against *after* the
        claim. The holds are read before a claim, and a claimer paused between that read
        and the claim — or one that has not yet heard another process change the app's
        status — would otherwise run a job of an app stopped in between. A hold that can
        name none of ``types`` is not asked (a claim of system jobs reads no status); the
        fresh answers are kept, so the claims that follow use them until the version
        moves again."""
        held: set[str] = set()
        for hold in self._holds:
            if hold.may_hold(types):
                held |= hold.types(fresh=True)
        return frozenset(held.intersection(types))

    def claimable(self) -> list[str]:
        """Registered type names that no hold keeps back now, sorted."""
        held = {name for hold in self._holds for name in hold.types()}
        return [name for name in sorted(self._types) if name not in held]

    def register(self, job_type: JobType) -> JobType:
        """Add a type; registering the same name twice with a different type is an error."""
        known = self._types.get(job_type.name)
        if known is not None and known != job_type:
            raise ValueError(f"job type {job_type.name} is already registered")
        self._types[job_type.name] = job_type
        return job_type

    def get(self, name: str) -> JobType | None:
        """The type called ``name``, if registered."""
        return self._types.get(name)

    def require(self, name: object) -> JobType:
        """The type called ``name``, else ``BadRequest`` listing the known ones."""
        found = self._types.get(name) if isinstance(name, str) else None
        if found is None:
            allowed = ", ".join(sorted(self._types)) or "(no job types registered)"
            raise BadRequest(
                f"Invalid value {shown(name)} for parameter 'type'. Allowed values: {allowed}"
            )
        return found

    def names(self) -> list[str]:
        """Registered type names, sorted."""
        return sorted(self._types)

    def queryable(self) -> set[str]:
        """Names ``find`` accepts: the spec's public types, the script type and every
        registered one."""
        return {*PUBLIC_JOB_TYPES, SCRIPT_JOB_TYPE, *self._types}

    def __iter__(self) -> Iterator[JobType]:
        return iter(self._types.values())
