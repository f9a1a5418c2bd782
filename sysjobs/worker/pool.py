"""A pool of job slots in one process: claim → run (a thread per busy slot) → finalize.

Three kinds of thread: the dispatcher claims jobs when slots are free and a wake-up says there
may be work (the engine's hints: this process's commits, PostgreSQL LISTEN, SQLite's WAL
watch) or the slow safety poll is due (``sysjobs.worker.pacing``) — never in a busy loop —
and reaps expired leases now and then; the heartbeat renews this pool's leases, relays
stop/cancel requests (at once on their hint: ``sysjobs.worker.beats``) and forces jobs whose
grace period passed (by the engine's clock) —
running JavaScript cannot block it; and one thread per slot, started with the pool and kept
while it runs (``sysjobs.worker.slots``: a thread's stack is mapped once, before any script
runs, not inside the runs whose data growth the recycling rule reads). The dispatcher also ticks
the served apps' cron schedules (``sysjobs.jobs.schedules``) before each claim. When a slot's job
finishes, the transaction that writes its end also leases the slot's next job (under the
same queue and priority rules), which the thread then runs: a busy worker pays one write
transaction per job, and no thread start.

Every claim's jobs — the dispatcher's and those leased in a finishing transaction — are
checked against the apps' holds asked afresh once the claim returned, and a job of an app
stopped since the claim was specified is given back instead of run
(``sysjobs.worker.recheck``). Runs inside each worker process, and in the host's own
process only when asked (``in_process=True``: trusted code).
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol, Unpack

from sysjobs.errors import NotFound
from sysjobs.jobs import Claimed, ClaimSpec, Engine, FinishRequest, Job, new_owner
from sysjobs.jobs.hooks import fire
from sysjobs.jobs.leases import ClaimCriteria
from sysjobs.jobs.queues import QueueDef
from sysjobs.jobs.scripts import ScriptRunner
from sysjobs.jobs.status import ASKED_TO_END
from sysjobs.jobs.workers import Registration
from sysjobs.worker.beats import CHECK, BeatTimer, beat_interval
from sysjobs.worker.execution import Running, force_end, run_job
from sysjobs.worker.finishing import GroupFinisher
from sysjobs.worker.gate import ClaimGate
from sysjobs.worker.pacing import SAFETY_POLL_S, ClaimPacer, check_safety_poll
from sysjobs.worker.queues import default_limits, free_slots, merged_queues, reserved_slots
from sysjobs.worker.recheck import ClaimCheck
from sysjobs.worker.served import ServedApp, served_apps
from sysjobs.worker.slots import SlotThreads

log = logging.getLogger(__name__)
#: Slots per pool when not told otherwise. Measured in bench/ (2 worker processes, 2 cores,
#: no-op JS jobs, SQLite / PostgreSQL jobs/s): 8 slots 1,800 / 1,450, 16 slots 2,150 /
#: 1,485, 24 slots 2,250 / 1,530-1,790, 32 slots 2,190-2,360 / 1,810-1,840. More jobs at
#: once make bigger group commits; a V8 context costs ~2.5 MB, and jobs that wait on host
#: calls (the common case) gain the most.
DEFAULT_SLOTS = 32
#: Pause after a failed claim before trying again (seconds).
RETRY_S = 1.0
#: The idle poll of a pool serving a limited queue or a capped app that sets no poll
#: interval of its own (seconds).
LIMITED_POLL_S = 1.0


class Workers(Protocol):
    """What :meth:`sysjobs.host.Host.workers` returns: an in-process :class:`WorkerPool` or
    supervised :class:`~sysjobs.worker.processes.WorkerProcesses`, started and stopped alike."""

    def start(self) -> Workers:
        """Start claiming and running jobs; returns itself."""
        ...

    def stop(self, grace_s: float | None = None) -> None:
        """Stop claiming; running jobs get ``grace_s`` to reach a safe point."""
        ...

    def pause(self) -> None:
        """Claim nothing until :meth:`resume` (running jobs go on); returns once no claim
        is under way. Pausing twice is harmless."""
        ...

    def resume(self) -> None:
        """Claim again, at once (what was started meanwhile is pending). Harmless when
        not paused."""
        ...

    def __enter__(self) -> Workers: ...

    def __exit__(self, *_exc: object) -> None: ...


class WorkerPool:
    """``concurrency`` slots leasing jobs from ``engine`` under one fresh owner id.

    The pool serves ``engine``'s app with ``script_runner``, or the apps of ``apps``
    (``sysjobs.worker.served``: each app's engine on ``engine``'s database, and its
    runner): it claims their jobs only, fairly across them (the apps take turns in each
    claim, their order rotated from one claim to the next), and runs each job on its own
    app's engine with its own app's runner.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        concurrency: int = DEFAULT_SLOTS,
        queues: Mapping[str, int] | None = None,
        lease_s: float | None = None,
        script_runner: ScriptRunner | None = None,
        shutdown_grace_s: float = 10.0,
        owner: str | None = None,
        safety_poll_s: float = SAFETY_POLL_S,
        apps: Mapping[str, ServedApp] | None = None,
        beat_s: float | None = None,
    ) -> None:
        self.engine = engine
        #: The apps whose jobs this pool claims and runs, by key.
        self.served = served_apps(engine, script_runner, apps)
        self._keys = tuple(self.served)
        #: Each served app's registry, by key (read at every claim: built once).
        self._registries = {k: a.engine.registry for k, a in self.served.items()}
        self._turns = itertools.count()  # rotates the apps' order from claim to claim
        self.concurrency = max(1, concurrency)
        #: The served apps' own queues (manifest ``queues:``), one per name.
        self.app_queues = merged_queues(a.engine.registry.queues() for a in self.served.values())
        self.limits = dict(queues or default_limits(self.concurrency, self.app_queues))
        self._reserved = reserved_slots(self.app_queues)
        #: The shortest poll interval of a served queue (None: the pool's own pace).
        self.queue_poll_s = _queue_poll_s(self.app_queues, self.limits, self.served.values())
        self.lease_s = lease_s or engine.settings.lease_s
        self.script_runner = script_runner
        self.shutdown_grace_s = shutdown_grace_s
        #: The fresh worker id every lease of this pool is held by.
        self.owner = owner or new_owner()
        self.running: dict[str, Running] = {}
        self._busy: Counter[str] = Counter()  # running jobs per queue, kept with ``running``
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # no more claims
        self._closed = threading.Event()  # no more heartbeats (after the running jobs left)
        #: When the heartbeat runs: every ``beat_s`` (a third of the lease, at most 1 s),
        #: and at once when a job this pool runs is asked to end (``sysjobs.worker.beats``).
        self.beats = BeatTimer(beat_interval(beat_s, self.lease_s), self.running)
        self._threads: list[threading.Thread] = []
        #: The slots' threads: each runs the jobs handed to it (:meth:`_run`).
        self._slots: SlotThreads[Running] = SlotThreads(self._run, "sysjobs-slot")
        self._last_reap_ms: int | None = None
        #: Seconds between idle claims while other processes' commits wake the pool.
        self.safety_poll_s = check_safety_poll(safety_poll_s)
        self._pacer = ClaimPacer(engine.clock, self._safety_poll)
        self._finisher = GroupFinisher(self._finish_batch)
        self._gate = ClaimGate()  # every claim passes it: :meth:`pause` closes it
        #: Each claim's jobs against the holds asked afresh (``sysjobs.worker.recheck``).
        self._check = ClaimCheck(
            engine.leases, self._registries,
            wake=lambda: engine.hub.notify([f"pool:{self.owner}"]),
        )  # fmt: skip
        #: This pool's row in the workers registry, naming the apps it serves.
        self.registration = Registration(
            engine, self.owner, slots=self.concurrency, queues=self.limits,
            apps=self._keys, lease_s=self.lease_s,
        )  # fmt: skip

    def start(self) -> WorkerPool:
        """Register in the workers registry; start the slots', the dispatcher's and the
        heartbeat's threads."""
        self.registration.register()
        self.beats.tap(app.engine.hub for app in self.served.values())
        self._slots.start(self.concurrency)
        for target, name in ((self._dispatch_loop, "dispatch"), (self._heartbeat_loop, "beat")):
            thread = threading.Thread(target=target, name=f"sysjobs-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, grace_s: float | None = None) -> None:
        """Graceful: stop claiming, ask running jobs to reach a safe point, put back the rest."""
        self._stopping.set()
        self._slots.close()  # (a slot whose job is running ends once it is done)
        self.engine.hub.notify([f"pool:{self.owner}"])  # wake the dispatcher now
        for thread in self._threads[:1]:
            thread.join(timeout=10.0)
        for running in self._snapshot():
            running.state.shutdown.set()
        deadline = time.monotonic() + (self.shutdown_grace_s if grace_s is None else grace_s)
        while self.running and time.monotonic() < deadline:
            time.sleep(0.01)
        for running in self._snapshot():
            app = self._app_of(running)
            force_end(app.engine, running, app.script_runner, released=True)
            self._forget(running)
        try:
            self._check.retry()  # a last try; else the reaper takes them back
        except Exception:
            log.exception("sysjobs: claimed jobs could not be given back; their leases expire")
        self._closed.set()
        self.beats.close()
        for thread in self._threads[1:]:
            thread.join(timeout=5.0)
        self._slots.join(timeout_s=5.0)  # the parked slots' threads have ended
        self.registration.remove()

    def pause(self) -> None:
        """Claim nothing — neither the dispatcher nor a finishing slot — until
        :meth:`resume`; running jobs go on. Returns once the claims under way returned, so
        no job is leased after it (``sysjobs.worker.gate``). Pausing twice is harmless."""
        self._gate.pause()

    def resume(self) -> None:
        """Claim again: the dispatcher is woken, so what was started meanwhile is claimed at
        once (no poll to wait for). Harmless when not paused."""
        if self._gate.resume():
            self.engine.hub.notify([f"pool:{self.owner}"])

    @property
    def paused(self) -> bool:
        """Whether claiming is paused (:meth:`pause`)."""
        return self._gate.paused

    def __enter__(self) -> WorkerPool:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- dispatcher ---------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        hub = self.engine.hub
        hinted = True
        with hub.watch(["work", f"pool:{self.owner}"]) as watch:  # (starts the listener)
            while not self._stopping.is_set():
                watch.mark()  # before the claim: a commit after it still wakes us
                try:
                    self._maybe_reap()
                    hinted = bool(self.tick_schedules()) or hinted
                    claimed = self.dispatch_once(hinted)
                except Exception:  # a database hiccup must not end the pool; try again shortly
                    log.exception("sysjobs: claiming failed; retrying in %.1fs", RETRY_S)
                    self._stopping.wait(RETRY_S)
                    continue
                for item in claimed:
                    self._launch(item)
                # Something taken: there may be more (a full pool's claim costs nothing).
                hinted = bool(claimed) or watch.wait(
                    min(self._pacer.wait_s(), self._reap_in_s(), self._tick_in_s())
                )

    def dispatch_once(self, hinted: bool) -> list[Claimed]:
        """One turn of the dispatcher: claim if woken (``hinted``) or the safety poll is
        due by the engine's clock, else nothing (and no statement)."""
        if not self._pacer.due(hinted):
            return []
        self._check.retry()
        claimed = self._claim() or []
        self._pacer.claimed(bool(claimed))
        return claimed

    def tick_schedules(self) -> list[Job]:
        """Fire the served apps' schedules due by the engine's clock (every pool serving
        an app ticks its schedules; each tick starts one job however many do —
        ``sysjobs.jobs.schedules``). The jobs this pool started."""
        started: list[Job] = []
        for app in self.served.values():
            try:
                started += app.engine.schedules.tick()
            except Exception:  # a database hiccup: the tick stays due, the next turn fires it
                log.exception("sysjobs: ticking the schedules of app %s failed", app.key)
        return started

    def _tick_in_s(self) -> float:
        """Seconds until a served app's next schedule tick (by the engine's clock)."""
        waits = [app.engine.schedules.due_in_s() for app in self.served.values()]
        return min([w for w in waits if w is not None], default=math.inf)

    def _safety_poll(self, idle_rounds: int) -> float:
        """Slow while other processes' commits wake the pool; else the dialect's pace — and
        never slower than the shortest poll interval of a served queue (a slot another
        process frees in a limited queue wakes no one)."""
        database = self.engine.database
        if database.hears_others:
            pace = max(self.safety_poll_s, database.poll_interval(idle_rounds))
        else:
            pace = database.poll_interval(idle_rounds)
        return pace if self.queue_poll_s is None else min(pace, self.queue_poll_s)

    def _claim(self) -> list[Claimed] | None:
        """Claim for every queue with free slots; None when nothing was taken (or paused)."""
        if not self._gate.enter():
            return None
        try:
            return self._claim_free()
        finally:
            self._gate.leave()

    def _claim_free(self) -> list[Claimed] | None:
        free, total, allow_low = self._capacity()
        if not free:
            return None
        groups = [(tuple(free), total)] if min(free.values()) >= total else list(free.items())
        claimed: list[Claimed] = []
        for queues, limit in groups:
            names = queues if isinstance(queues, tuple) else (queues,)
            criteria = self._whose(queues=names, allow_low=allow_low, lease_s=self.lease_s)
            claimed += self._lease(min(limit, total - len(claimed)), criteria)
        return self._check.runnable(claimed) or None

    def _lease(self, limit: int, criteria: ClaimCriteria) -> list[Claimed]:
        """The claim itself, once ``criteria`` were read (a seam: a test pauses here)."""
        return self.engine.leases.claim(self.owner, limit=limit, **criteria)

    def _finish_batch(
        self, requests: Sequence[FinishRequest]
    ) -> list[tuple[Job | None, list[Claimed]]]:
        """The group commit's write: the ends, and the jobs leased with them that may run
        (those of an app stopped since their claim was specified are given back). While
        paused, the ends alone: the claims specified before the pause are dropped."""
        claims = self._gate.enter()
        try:
            if not claims:
                requests = [replace(r, then_claim=None) for r in requests]
            ended = self.engine.leases.finish_many(requests, ended_jobs=False)
            runnable = {c.lease for c in self._check.runnable([c for _, cs in ended for c in cs])}
        finally:
            if claims:
                self._gate.leave()
        return [(job, [c for c in cs if c.lease in runnable]) for job, cs in ended]

    def _next_claim(self, leaving: Running) -> ClaimSpec | None:
        """What the slot ``leaving`` frees can take, leased in its finishing transaction.

        The same rules as :meth:`_claim` (queue limits, low priority never takes the last
        slot) for one job; the dispatcher still fills any other free slot.
        """
        free, _total, allow_low = self._capacity(leaving)
        if not free:
            return None
        criteria = self._whose(queues=tuple(free), allow_low=allow_low, lease_s=self.lease_s)
        return self.engine.leases.claim_spec(self.owner, limit=1, **criteria)

    def _whose(self, **criteria: Unpack[ClaimCriteria]) -> ClaimCriteria:
        """``criteria`` and whose jobs a claim takes: the served apps, in this claim's turn
        order, each with the types its own engine may claim now (held types left out) and
        its concurrency limits (its queues' maximums, its cap: held across the fleet)."""
        keys, registries = self._keys, self._registries
        if len(keys) == 1:  # (every finishing job asks: one app's answer without the loops)
            key, registry = keys[0], registries[keys[0]]
            caps, cap = registry.queue_caps(), registry.app_cap
            return {**criteria, "queue_caps": {key: caps} if caps else {},
                    "app_caps": {key: cap} if cap is not None else {},
                    "apps": keys, "types": registry.claimable()}  # fmt: skip
        queue_caps = {k: caps for k, r in registries.items() if (caps := r.queue_caps())}
        app_caps = {k: r.app_cap for k, r in registries.items() if r.app_cap is not None}
        limits: ClaimCriteria = {"queue_caps": queue_caps, "app_caps": app_caps}
        turn = next(self._turns) % len(keys)
        order = keys[turn:] + keys[:turn]
        app_types = {k: registries[k].claimable() for k in order}
        return {**criteria, **limits, "apps": order, "types": [], "app_types": app_types}

    def _app_of(self, running: Running) -> ServedApp:
        """The served app whose job ``running`` is (a claim takes no other app's)."""
        return self.served[running.claimed.job.app]

    def _capacity(self, leaving: Running | None = None) -> tuple[dict[str, int], int, bool]:
        """Free slots per queue, free slots in all, and whether low priority may take one —
        counting ``leaving``'s slot as free; nothing while the pool stops or is paused."""
        if self._stopping.is_set() or self._gate.paused:
            return {}, 0, False
        with self._lock:
            busy = dict(self._busy)  # (Counter.copy() goes through Counter.__init__)
            if leaving is not None and self.running.get(leaving.job_id) is leaving:
                busy[leaving.claimed.job.queue] -= 1
        total = self.concurrency - sum(busy.values())
        if total <= 0:
            return {}, 0, False
        slots = free_slots(self.limits, busy, self.concurrency, self._reserved)
        free = {q: n for q, n in slots.items() if n}
        allow_low = total > 1 or self.concurrency == 1  # low priority never takes the last slot
        return free, total, allow_low

    def _launch(self, claimed: Claimed) -> None:
        self._slots.hand(self._adopt(claimed))

    def _adopt(self, claimed: Claimed) -> Running:
        running = Running(claimed)
        if self._stopping.is_set():
            running.state.shutdown.set()
        with self._lock:
            self.running[running.job_id] = running
            self._busy[running.claimed.job.queue] += 1
        self.beats.adopted(running.job_id)  # (a stop may have come since the claim)
        return running

    def _run(self, running: Running) -> None:
        """Run jobs in this slot's thread: the claimed one, then each one leased as it
        finishes."""
        current: Running | None = running
        while current is not None:
            following: list[Claimed] = []
            try:
                following = self._run_one(current)
            finally:
                after = self._adopt(following[0]) if following else None
                for extra in following[1:]:  # (a claim of one job returns at most one)
                    self._launch(extra)
                self._forget(current, notify=after is None)
            current = after

    def _run_one(self, running: Running) -> list[Claimed]:
        app = self._app_of(running)
        hooks, job, owner = app.engine.hooks, running.claimed.job, self.owner
        fire(hooks, lambda hook: hook.job_started(job, owner))
        try:
            return run_job(
                app.engine, running, app.script_runner, lambda: self._next_claim(running),
                self._finisher.finish,
            )
        finally:
            if hooks:
                ended = app.engine.get(job.id)
                fire(hooks, lambda hook: hook.job_ended(ended, job.id, owner))

    def _forget(self, running: Running, *, notify: bool = True) -> None:
        with self._lock:
            if self.running.get(running.job_id) is running:
                del self.running[running.job_id]
                self._busy[running.claimed.job.queue] -= 1
        if notify:
            self.engine.hub.notify([f"pool:{self.owner}"])  # a slot is free

    def _snapshot(self) -> list[Running]:
        with self._lock:
            return list(self.running.values())

    def _reap_in_s(self) -> float:
        """Seconds until the next reap is due (by the engine's clock)."""
        if self._last_reap_ms is None:
            return 0.0
        due = self._last_reap_ms + int(self.lease_s * 500)
        return max(0.0, (due - self.engine.clock.now_ms()) / 1000)

    def _maybe_reap(self) -> None:
        now = self.engine.clock.now_ms()
        last = self._last_reap_ms
        if last is None or not last <= now < last + int(self.lease_s * 500):
            self._last_reap_ms = now
            self.engine.leases.reap(self._keys)

    # ---- heartbeat ----------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        while (due := self.beats.next_beat(self._closed)) is not None:
            try:
                if due == CHECK and not self._asked_to_end():
                    continue
                self.beat()
            except Exception:  # keep beating: the lease outlives a short outage
                log.exception("sysjobs: heartbeat failed; retrying")

    def _asked_to_end(self) -> bool:
        """Whether a job this pool runs is STOPPING or CANCELING: one read of their statuses
        per served app (no write, and on SQLite no lock), before a beat that writes."""
        by_app: dict[str, list[str]] = {}
        for running in self._snapshot():
            by_app.setdefault(running.claimed.job.app, []).append(running.job_id)
        try:
            return any(
                state.status in ASKED_TO_END
                for key, ids in by_app.items()
                for state in self.served[key].engine.states(ids)
            )
        except NotFound:  # one ended and went meanwhile: the beat sorts it out
            return True

    def beat(self) -> None:
        """One heartbeat (the heartbeat thread's, see ``sysjobs.worker.beats``): renew
        leases, relay stop/cancel, force jobs past their grace, drop lost ones — and refresh
        this pool's registry row in the same write when it is due."""
        running_now = self._snapshot()
        job_ids = [r.job_id for r in running_now]
        worker = self.registration.due(job_ids)
        if not running_now:
            if worker is not None:
                self.registration.refresh(worker)
            return
        # Only the jobs this pool runs: a lease it holds without running the job (a claim
        # whose reply was lost) must expire and go back to the reaper, not live forever.
        held = self.engine.leases.heartbeat(self.owner, self.lease_s, job_ids=job_ids,
                                            worker=worker)  # fmt: skip
        if worker is not None:
            self.registration.written(worker)
        now = self.engine.clock.now_ms()  # force_at is the engine clock's time
        for running in running_now:
            found = held.get(running.job_id)
            if found is None or found[0] != running.claimed.lease.attempt:
                running.state.lost.set()
                continue
            _attempt, status, force_at = found
            _flush_progress(self.engine, running)
            if status in ("STOPPING", "CANCELING"):
                running.state.stop_requested.set()
                if force_at is not None and force_at <= now:
                    app = self._app_of(running)
                    force_end(app.engine, running, app.script_runner)
                    self._forget(running)


def _queue_poll_s(
    app_queues: list[QueueDef], limits: Mapping[str, int], served: Iterable[ServedApp]
) -> float | None:
    """How often at least an idle pool looks for work: the shortest poll interval of the app
    queues it serves; :data:`LIMITED_POLL_S` when it serves a limited queue or a capped app
    without one (a place freed by another process's job wakes no one); else None."""
    polls = [q.poll_interval_s for q in app_queues
             if q.poll_interval_s is not None and q.name in limits]  # fmt: skip
    if polls:
        return min(polls)
    limited = any(q.max_concurrency is not None and q.name in limits for q in app_queues)
    capped = any(app.engine.registry.app_cap is not None for app in served)
    return LIMITED_POLL_S if limited or capped else None


def _flush_progress(engine: Engine, running: Running) -> None:
    """Write progress the handler reported since the last write (heartbeat pace)."""
    state = running.state
    if state.progress is not None and state.progress != state.progress_written:
        value = state.progress
        if engine.leases.set_progress(running.claimed.lease, value):
            state.progress_written = value
