"""The worker-facing verbs: claim with a lease, heartbeat, fenced writes, finish, reap.

Every claim is a lease held by an owner (a fresh worker id) for one attempt; every later
write names both, so a worker that lost its job — paused past its lease, taken back by the
reaper, force-stopped — can no longer touch it. The reaper turns expired leases into a clear
ending (or a capped retry for idempotent types) written to the job's own log.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict, Unpack

from pydantic import ValidationError

from sysjobs.errors import BadRequest
from sysjobs.jobs.caps import JobCaps
from sysjobs.jobs.clock import Clock
from sysjobs.jobs.lease import Lease, check_progress
from sysjobs.jobs.models import Job
from sysjobs.jobs.reaping import decide_lost
from sysjobs.jobs.registry import Registry
from sysjobs.jobs.settings import EngineSettings
from sysjobs.jobs.values import escape_surrogates_in, log_row
from sysjobs.store.backend import ClaimSpec, FinishSpec, JobBackend
from sysjobs.store.rows import Row
from sysjobs.store.workers import WorkerBeat

__all__ = [
    "ClaimSpec", "Claimed", "FinishRequest", "Lease", "Leases", "Outcome", "check_progress",
    "new_owner",
]


@dataclass(frozen=True)
class Claimed:
    """A claimed job: its lease, its snapshot, and the checkpoint to continue from."""

    lease: Lease
    job: Job
    checkpoint: dict[str, Any] | None


class Outcome(StrEnum):
    """How a run ended, as the worker saw it; ``finish`` maps it by the job's status."""

    #: The handler returned having done its work: FINISHED wins over a late stop/cancel.
    COMPLETED = "completed"
    #: The handler raised: FINISHED with errors (a cancel in flight still lands).
    FAILED = "failed"
    #: The handler returned because ``should_stop`` said so (RUNNING = worker shutdown).
    STOPPED = "stopped at a safe point"
    #: The grace period passed: the worker ended it by force.
    FORCED = "forced after the grace period"
    #: The worker is leaving and the handler did not reach a safe point: put it back.
    RELEASED = "released by a worker shutting down"


#: outcome -> {status at the end of the run: status it lands in}.
TARGETS: dict[Outcome, dict[str, str]] = {
    Outcome.COMPLETED: {"RUNNING": "FINISHED", "STOPPING": "FINISHED", "CANCELING": "FINISHED"},
    Outcome.FAILED: {"RUNNING": "FINISHED", "STOPPING": "FINISHED", "CANCELING": "CANCELED"},
    Outcome.STOPPED: {"RUNNING": "PENDING", "STOPPING": "STOPPED", "CANCELING": "CANCELED"},
    Outcome.FORCED: {"STOPPING": "STOPPED", "CANCELING": "CANCELED"},
    Outcome.RELEASED: {"RUNNING": "PENDING", "STOPPING": "STOPPED", "CANCELING": "CANCELED"},
}


class ClaimCriteria(TypedDict, total=False):
    """Which jobs a claim may take (the keyword arguments of :meth:`Leases.claim`)."""

    #: Queues to take from (default: all of the app's, ``Registry.queue_names``).
    queues: tuple[str, ...]
    #: Job types to take (default: every type registered and claimable now).
    types: list[str] | None
    #: Whether low-priority jobs may be taken (default: True).
    allow_low: bool
    #: Lease length (default: the engine's ``lease_s``).
    lease_s: float | None
    #: The apps whose jobs may be taken, in the order they take turns (default: the
    #: engine's own app; see ``ClaimSpec``).
    apps: Sequence[str]
    #: Each app's types when they differ from ``types`` (an app's held types left out).
    app_types: Mapping[str, Sequence[str]]
    #: Each app's limited queues: {app: {queue: most leased at once}} (default: the
    #: engine's own app's, from its registry; see ``ClaimSpec``).
    queue_caps: Mapping[str, Mapping[str, int]]
    #: Each app's cap on its leased jobs (default: the engine's own app's).
    app_caps: Mapping[str, int]


@dataclass(frozen=True)
class FinishRequest:
    """One lease to end with ``outcome`` (see :meth:`Leases.finish_and_claim`)."""

    lease: Lease
    outcome: Outcome
    reason: str | None = None
    has_errors: bool = False
    results: dict[str, Any] | None = None
    progress: int | None = None
    then_claim: ClaimSpec | None = None


def _finish_spec(request: FinishRequest) -> FinishSpec:
    values: dict[str, Any] = {"has_errors": True} if request.has_errors else {}
    if request.outcome is Outcome.COMPLETED:
        values["progress"] = 100
    elif request.progress is not None:  # the last reported value, if not yet written
        values["progress"] = request.progress
    lease = request.lease
    return FinishSpec(
        lease.job_id, lease.owner, lease.attempt, targets=TARGETS[request.outcome],
        values=values, reason=request.reason or request.outcome, results=request.results,
    )  # fmt: skip


def new_owner() -> str:
    """A fresh worker id: never reused, so an old lease can never match a new worker."""
    return f"w{os.getpid()}-{secrets.token_hex(8)}"


class Leases:
    """Lease verbs bound to one engine's backend, settings, registry and caps."""

    def __init__(
        self,
        backend: JobBackend,
        settings: EngineSettings,
        registry: Registry,
        caps: JobCaps,
        job_type_of: Callable[[str], str],
    ) -> None:
        #: The database's side of every verb here (``sysjobs.store.backend.JobBackend``).
        self.store = backend
        self.settings = settings
        #: The engine's clock; the stores read it inside their write transactions.
        self.clock: Clock = settings.clock
        self.registry = registry
        self.caps = caps
        #: A job's type by id (``NotFound`` when there is no such job).
        self._job_type_of = job_type_of

    def claim(
        self, owner: str, *, limit: int, **criteria: Unpack[ClaimCriteria]
    ) -> list[Claimed]:
        """Lease up to ``limit`` jobs of the registered ``types`` from ``queues``."""
        spec = self.claim_spec(owner, limit=limit, **criteria)
        if spec is None:
            return []
        return self._claimed(owner, self.store.claim(spec))

    def claim_spec(
        self, owner: str, *, limit: int, **criteria: Unpack[ClaimCriteria]
    ) -> ClaimSpec | None:
        """What :meth:`claim` (or :meth:`finish_and_claim`'s ``then_claim``) asks for;
        None when that is nothing."""
        settings = self.settings
        now = self.clock.now_ms()  # for the ageing guard; the claim's own time is the store's
        types = criteria.get("types")
        lease_s = criteria.get("lease_s")
        spec = ClaimSpec(
            owner=owner,
            queues=criteria["queues"] if "queues" in criteria else self.registry.queue_names(),
            types=types if types is not None else self.registry.claimable(),
            limit=limit,
            allow_low=criteria.get("allow_low", True),
            aged_before_ms=now - int(settings.low_priority_ageing_s * 1000),
            lease_ms=int((lease_s or settings.lease_s) * 1000),
            apps=tuple(criteria.get("apps", (settings.app,))),
            app_types=dict(criteria.get("app_types", {})),
            **self._limits(criteria),
        )
        if limit <= 0 or not spec.queues or not spec.apps:
            return None
        if not spec.types and not any(spec.app_types.get(a) for a in spec.apps):
            return None
        return spec

    def _limits(self, criteria: ClaimCriteria) -> dict[str, Any]:
        """``queue_caps`` and ``app_caps`` of a claim: the criteria's, else this engine's
        app's own (asked of the registry only then: a pool passes them with every claim,
        one per finishing job)."""
        registry, app = self.registry, self.settings.app
        if "queue_caps" in criteria:
            queue_caps = criteria["queue_caps"]
        else:
            own_queues = registry.queue_caps()
            queue_caps = {app: own_queues} if own_queues else {}
        if "app_caps" in criteria:
            app_caps = criteria["app_caps"]
        else:
            app_caps = {app: registry.app_cap} if registry.app_cap is not None else {}
        return {"queue_caps": dict(queue_caps), "app_caps": dict(app_caps)}

    @staticmethod
    def _claimed(owner: str, rows: list[dict[str, Any]]) -> list[Claimed]:
        return [
            Claimed(Lease(r["id"], owner, r["attempt"]), Job.from_row(r), r.get("checkpoint"))
            for r in rows
        ]

    def give_back(self, leases: Sequence[Lease]) -> list[str]:
        """Undo claims that must not run: each job whose lease still holds returns to
        waiting as it was before the claim (``JobBackend.give_back``). The ids given back;
        a lease already taken back or over is left to its new holder.

        For a claimer that learns after its claim that a job may not run now — its app was
        stopped between the moment the claimer read what it may take and the claim."""
        keys = [(lease.job_id, lease.owner, lease.attempt) for lease in leases]
        return [row["id"] for row in self.store.give_back(keys)]

    def heartbeat(
        self, owner: str, lease_s: float | None = None, *, job_ids: Collection[str] | None = None,
        worker: WorkerBeat | None = None,
    ) -> dict[str, tuple[int, str, int | None]]:
        """Extend ``owner``'s leases — only those of ``job_ids`` (the jobs the worker really
        runs) when given: {job id: (attempt, status, force_at_ms)}. ``worker``: the pool's
        row in the workers registry, refreshed in the same transaction."""
        lease_ms = int((lease_s or self.settings.lease_s) * 1000)
        rows = self.store.heartbeat(owner, lease_ms, job_ids=job_ids, worker=worker)
        return {r["id"]: (r["attempt"], r["status"], r["force_at_ms"]) for r in rows}

    def lease_status(self, lease: Lease) -> tuple[str, int | None] | None:
        """(status, force_at_ms) while the lease holds, else None."""
        row = self.store.lease_status(lease.job_id, lease.owner, lease.attempt)
        return None if row is None else (row["status"], row["force_at_ms"])

    def log(self, lease: Lease, level: str, message: str, info: Any = None) -> bool:
        """A fenced log line; False when the lease is gone."""
        capped = self.entry(lease, level, message, info)
        if capped is None:  # over the job's log cap: dropped, but the fence still answers
            return self.lease_status(lease) is not None
        return self.store.append_log_fenced(lease.job_id, lease.owner, lease.attempt, capped)

    def entry(self, lease: Lease, level: str, message: str, info: Any = None) -> Row | None:
        """The log row :meth:`log` would write (stamped now, under the job's caps), or None
        when the caps drop it — for a line held back until its chunk's :meth:`write_chunk`."""
        entry = log_row(level, message, info, self.clock.now_ms())
        return self.caps.capped_entry(lease.job_id, entry, reserved=level == "ERROR")

    def write_chunk(
        self, lease: Lease, entries: Sequence[Row], values: Mapping[str, Any]
    ) -> bool:
        """Fenced group commit: ``entries`` (rows from :meth:`entry`) and the result fields
        ``values`` (``checkpoint``, ``results`` already checked) in one transaction;
        False, with nothing written, when the lease is gone."""
        return self.store.write_chunk(lease.job_id, lease.owner, lease.attempt, entries, values)

    def set_progress(self, lease: Lease, pct: int | float) -> bool:
        """A fenced progress write (0-100)."""
        return self.store.set_progress(
            lease.job_id, lease.owner, lease.attempt, check_progress(pct)
        )

    def save_checkpoint(self, lease: Lease, checkpoint: dict[str, Any]) -> bool:
        """A fenced checkpoint write."""
        return self.store.write_result_fields(
            lease.job_id, lease.owner, lease.attempt, {"checkpoint": checkpoint}
        )

    def set_results(self, lease: Lease, results: Any, *, type_name: str | None = None) -> bool:
        """A fenced results write, validated by the type's results model when it has one.

        ``type_name`` (the running job's type, known to its context) saves a read per job.
        """
        kept = self.checked_results(lease, results, type_name=type_name)
        if kept is None:
            return False
        return self.store.write_result_fields(
            lease.job_id, lease.owner, lease.attempt, {"results": kept}
        )

    @property
    def max_result_bytes(self) -> int:
        """Bytes of JSON a job's results may take: a job that collects results as it goes
        (the record jobs' per-record map) keeps under it itself."""
        return self.caps.caps.max_result_bytes

    def checked_results(
        self, lease: Lease, results: Any, *, type_name: str | None = None
    ) -> dict[str, Any] | None:
        """Results validated and capped (a cap is logged); None when the lease is gone."""
        if type_name is None:
            type_name = self._job_type_of(lease.job_id)
        job_type = self.registry.get(type_name)
        if job_type is not None and job_type.results_model is not None:
            try:
                results = job_type.results_model.model_validate(results).model_dump(mode="json")
            except ValidationError as exc:
                raise BadRequest(f"Invalid results for {job_type.name}: {exc}") from exc
        # A script's results may hold lone surrogates no database encodes: kept as \udXXX.
        kept, too_large = self.caps.cap_results(escape_surrogates_in(dict(results)))
        if too_large is not None and not self.log(lease, "ERROR", too_large):
            return None
        return dict(kept)

    def finish(
        self, lease: Lease, outcome: Outcome, *, reason: str | None = None,
        has_errors: bool = False, results: dict[str, Any] | None = None,
        progress: int | None = None,
    ) -> Job | None:  # fmt: skip
        """End the lease with ``outcome``; None when it was already lost (writes refused).

        ``results`` (already checked, see ``checked_results``) land in the same transaction.
        """
        request = FinishRequest(lease, outcome, reason, has_errors, results, progress)
        return self.finish_many([request])[0][0]

    def finish_and_claim(
        self, lease: Lease, outcome: Outcome, *, reason: str | None = None,
        has_errors: bool = False, results: dict[str, Any] | None = None,
        progress: int | None = None, then_claim: ClaimSpec | None = None,
    ) -> tuple[Job | None, list[Claimed]]:  # fmt: skip
        """:meth:`finish`, and in the same transaction lease the jobs ``then_claim`` asks
        for (see :meth:`claim_spec`): the worker's next job costs no transaction of its own.
        """
        request = FinishRequest(lease, outcome, reason, has_errors, results, progress, then_claim)
        return self.finish_many([request])[0]

    def finish_many(
        self, requests: Sequence[FinishRequest], *, ended_jobs: bool = True
    ) -> list[tuple[Job | None, list[Claimed]]]:
        """Several :meth:`finish_and_claim` in one transaction (a worker's group commit).

        ``ended_jobs=False``: the caller reads only the jobs leased, so the ended ones are
        not built (each pair starts with None; a worker's group commit saves a ``Job`` per
        job).
        """
        ends = [_finish_spec(r) for r in requests]
        claims = [r.then_claim for r in requests if r.then_claim is not None]
        rows, claimed = self.store.finish(ends, claims, rows=ended_jobs)
        out: list[tuple[Job | None, list[Claimed]]] = []
        next_claim = iter(claimed)
        for request, row in zip(requests, rows, strict=True):
            spec = request.then_claim
            mine = self._claimed(spec.owner, next(next_claim)) if spec is not None else []
            ended = Job.from_row(row) if row is not None and ended_jobs else None
            out.append((ended, mine))
        return out

    def reap(self, apps: Sequence[str] | None = None) -> int:
        """Recover every expired lease of a job of ``apps`` (default: the engine's app; see
        ``reaping.decide_lost``); returns how many."""
        now = self.clock.now_ms()
        total = 0
        scope = tuple(apps) if apps is not None else (self.settings.app,)
        while batch := self.store.recover(
            lambda row: decide_lost(row, now, None), expired_before_ms=now, apps=scope
        ):
            total += len(batch)
        return total

    def release_owner(self, owner: str, cause: str, code: str | None = None) -> int:
        """Recover all jobs of a worker known dead (e.g. its process was killed); ``code``
        classifies ``cause`` in the results of the jobs it ends (``memoryLimit``, …)."""
        now = self.clock.now_ms()
        total = 0
        decide = lambda row: decide_lost(row, now, cause, code)  # noqa: E731
        while batch := self.store.recover(decide, owner=owner):
            total += len(batch)
        return total
