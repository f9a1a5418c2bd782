"""What a script run produced: :class:`RunResult`, and the limits it ran under."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a run ended."""

    #: The script completed; ``value`` holds its completion value.
    OK = "ok"
    #: The script threw and nothing caught it; ``error`` says what.
    ERROR = "error"
    #: Wall-clock limit reached (also: async work still running after the script).
    TIMEOUT = "timeout"
    #: V8 heap limit, or the process's data limit, reached.
    MEMORY_LIMIT = "memoryLimit"
    #: The process running the script died (native crash, signal).
    CRASHED = "crashed"
    #: Cut short from outside (a forced stop or cancel of the job it runs in).
    TERMINATED = "terminated"


@dataclass(frozen=True)
class Limits:
    """Limits a script runs under. Each limit event discards the isolate."""

    #: Wall-clock seconds for the whole run, host calls included.
    timeout_s: float = 30.0
    #: V8 heap limit (checked by V8 after a GC; ArrayBuffers are not counted).
    heap_bytes: int = 256 * 1024 * 1024
    #: Size of the transport buffer; larger payloads are chunked.
    buffer_bytes: int = 256 * 1024
    #: ``log()`` lines kept in a :class:`RunResult`; further lines are counted, not kept.
    max_log_lines: int = 10_000


@dataclass(frozen=True)
class ScriptError:
    """An uncaught throw, or the limit that ended the run."""

    #: Platform code (``badRequest`` …) for branded errors and limits; None otherwise.
    code: str | None
    #: ``Error``, ``TypeError`` … or ``Uncaught`` for a thrown non-Error value.
    name: str
    message: str
    stack: str | None = None
    info: Any = None

    def headline(self) -> str:
        """``code: message`` as the CLI prints it."""
        return f"{self.code or self.name}: {self.message}"


@dataclass(frozen=True)
class RunResult:
    """The outcome of one script run."""

    outcome: Outcome
    #: The script's completion value, decoded from JSON (None when not serialisable).
    value: Any = None
    #: ``log()`` lines, in order (capped by :attr:`Limits.max_log_lines`).
    logs: list[str] = field(default_factory=list)
    #: Lines ``log()`` produced beyond the cap.
    logs_dropped: int = 0
    error: ScriptError | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = str(self.outcome)
        return data
