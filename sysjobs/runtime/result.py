"""What a script run produced: :class:`RunResult`, and the limits it ran under."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from sysjobs.runtime.governor import Governance, utf8_size


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
    #: UTF-8 bytes of ``log()`` lines kept in a :class:`RunResult` (markers included);
    #: the capture never holds more, further lines are counted, not kept.
    max_log_bytes: int = 1024 * 1024
    #: UTF-8 bytes kept of one ``log()`` line in a :class:`RunResult`; the rest is cut and
    #: the line ends with a marker saying how much.
    max_log_line_bytes: int = 64 * 1024
    #: What one run may start, log and call (see :mod:`sysjobs.runtime.governor`).
    governance: Governance = field(default_factory=Governance)


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
    #: ``log()`` lines, in order (capped by :attr:`Limits.max_log_lines` and
    #: :attr:`Limits.max_log_bytes`; a long line is cut at :attr:`Limits.max_log_line_bytes`).
    logs: list[str] = field(default_factory=list)
    #: Lines ``log()`` produced beyond the caps.
    logs_dropped: int = 0
    error: ScriptError | None = None
    duration_ms: float = 0.0
    #: UTF-8 bytes of log text not kept: dropped lines, and what was cut off kept ones
    #: (the markers saying so are not log text).
    logs_dropped_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_json(self) -> dict[str, Any]:
        """As ``sysjobs run --json`` and ``POST /api/scripts`` show it: camelCase keys
        (``logsDropped``, ``durationMs``), like every JSON sysjobs writes."""
        data = asdict(self)
        data["outcome"] = str(self.outcome)
        return {_camel(key): value for key, value in data.items()}


class LogCapture:
    """The ``log()`` lines one run keeps, bounded in lines and bytes as they arrive.

    A script may log 100 lines of 16 MiB; keeping them whole held gigabytes. The capture
    keeps a prefix of the run's log: each line cut at ``max_log_line_bytes`` (with a marker
    saying how much was cut), all lines together at most ``max_log_bytes`` (markers
    included) and ``max_log_lines``. The line that does not fit is cut to the room left,
    and every line after it is only counted.
    """

    __slots__ = ("_full", "_limits", "dropped_bytes", "dropped_lines", "kept_bytes", "lines")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self.lines: list[str] = []
        self.kept_bytes = 0
        self.dropped_lines = 0
        self.dropped_bytes = 0
        self._full = False

    def add(self, line: str) -> None:
        """Keep ``line`` (perhaps cut) or count it as dropped."""
        size = utf8_size(line)
        if self._full or len(self.lines) >= self._limits.max_log_lines:
            self._drop(size)
            return
        left = self._limits.max_log_bytes - self.kept_bytes
        room = min(self._limits.max_log_line_bytes, left)
        kept, cut = (line, 0) if size <= room else _cut(line, size, room)
        if kept is None:
            self._full = True
            self._drop(size)
            return
        self._full = cut > 0 and room == left  # cut to the room left: nothing more fits
        self.lines.append(kept)
        self.kept_bytes += utf8_size(kept)
        self.dropped_bytes += cut

    def _drop(self, size: int) -> None:
        self.dropped_lines += 1
        self.dropped_bytes += size


#: Room below which a line is not kept cut (the marker alone would not say much).
_MIN_CUT_BYTES = 64


def _cut(line: str, size: int, room: int) -> tuple[str | None, int]:
    """(``line`` cut to at most ``room`` UTF-8 bytes with a marker, bytes cut off), or
    (None, size) when the room is too small to say anything."""
    if room < _MIN_CUT_BYTES:
        return None, size
    budget = room - utf8_size(f"… [{size} more bytes cut]")  # the longest marker it needs
    head = _utf8_prefix(line, budget)
    cut = size - utf8_size(head)
    return f"{head}… [{cut} more bytes cut]", cut


def _utf8_prefix(text: str, limit: int) -> str:
    """The longest prefix of ``text`` of at most ``limit`` UTF-8 bytes. Only the first
    ``limit`` characters are encoded (no more can fit), never the whole text."""
    data = text[:limit].encode("utf-8", "surrogatepass")[:limit]
    for trim in range(4):  # a character cut in the middle has at most 3 bytes here
        try:
            return data[: len(data) - trim].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            continue
    return ""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)
