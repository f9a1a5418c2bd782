"""Engine tunables, with the defaults sysjobs ships."""

from __future__ import annotations

from dataclasses import dataclass, field

from sysjobs.jobs.apps import DEFAULT_APP, check_app_key
from sysjobs.jobs.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class Caps:
    """How much log and how large a result one job may keep (see ``sysjobs.jobs.caps``)."""

    #: Log lines kept per job (the notice line saying the log was capped comes on top).
    max_log_lines: int = 10_000
    #: Characters kept of one log message.
    max_message_chars: int = 64 * 1024
    #: Bytes of JSON kept as a job's results.
    max_result_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class EngineSettings:
    """Timing, retention, caps, clock and app of one engine: its whole configuration.

    Give it to ``Engine.open(settings=…)`` or ``Host(settings=…)`` (which hands it to its
    worker processes as plain data). The caps (``caps``) are per job — log lines kept,
    characters per message, bytes of results — and live only here: each engine builds its
    ``sysjobs.jobs.caps.JobCaps`` from them, so two engines on one database may differ and
    no module keeps caps of its own (see docs/contracts.md).
    """

    #: How long a claim holds without a heartbeat (heartbeats come every third of it).
    lease_s: float = 30.0
    #: Time a running job gets to stop/cancel cooperatively before it is forced.
    stop_grace_s: float = 30.0
    #: A low-priority job waiting this long competes as a normal one (no starvation).
    low_priority_ageing_s: float = 60.0
    #: FINISHED/CANCELED jobs older than this are removed by ``prune`` (None = keep).
    retain_jobs_days: float | None = 30.0
    #: Log lines older than this are removed by ``prune`` (None = keep with their job).
    retain_logs_days: float | None = None
    #: PostgreSQL: publish and listen to NOTIFY hints (off = poll only).
    hints: bool = True
    #: Per-job caps on log lines, message length and results size.
    caps: Caps = field(default_factory=Caps)
    #: Where every stored time comes from (tests inject a clock they step).
    clock: Clock = SYSTEM_CLOCK
    #: The app whose rows this engine writes and reads (``sysjobs.jobs.apps``).
    app: str = DEFAULT_APP

    def __post_init__(self) -> None:
        check_app_key(self.app)
