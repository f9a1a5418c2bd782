"""The app's own log (``sys.logs``): lines an app's scripts write about the app, not a job.

Levels INFO, WARN, ERROR and DEBUG; each line may carry an ``exception`` (kept as the line's
additional info). Lines are stored per app (``EngineSettings.app``), apart from every job's
log: no ``hasErrors`` is set anywhere, no job's line cap is touched. Each line is capped like
a job's (``Caps.max_message_chars``, NUL replaced), and so is its info's JSON size, so one
line cannot fill the database; the bytes a script writes are counted against its run's
``logBytes`` budget by the binding. Read oldest first with the job log's query keys
(``level``, ``message``, ``from``/``to``/``period``, ``_size``). Retention drops lines
older than ``EngineSettings.retain_logs_days``, as it does job logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sysjobs.errors import BadRequest
from sysjobs.jobs.caps import JobCaps
from sysjobs.jobs.clock import Clock
from sysjobs.jobs.cursor import Cursor
from sysjobs.jobs.models import AppLog
from sysjobs.jobs.queries import APP_LOG_LEVELS, LogsQuery
from sysjobs.jobs.values import log_row, shown
from sysjobs.store.app_logs import AppLogFilter, AppLogStore
from sysjobs.store.database import Database


class AppLogs:
    """Write and read one app's log."""

    def __init__(self, database: Database, app: str, caps: JobCaps, clock: Clock) -> None:
        self.store = AppLogStore(database, app)
        self.caps = caps
        self.clock = clock

    def write(
        self, level: str, message: object, info: Any = None, *, job_id: str | None = None
    ) -> None:
        """Append one line (``level`` one of :data:`APP_LOG_LEVELS`)."""
        if level not in APP_LOG_LEVELS:
            raise BadRequest(
                f"Invalid value {shown(level)} for parameter 'level'. "
                f"Allowed values: {', '.join(APP_LOG_LEVELS)}"
            )
        entry = log_row(level, message, info, self.clock.now_ms())
        entry["message"] = self.caps.cap_message(entry["message"])
        entry["additional_info"] = self._capped_info(entry["additional_info"])
        self.store.append({**entry, "job_id": job_id})

    def _capped_info(self, info: Any) -> Any:
        """``info`` when its JSON fits the per-line cap, else a marker saying how large."""
        if info is None:
            return None
        text = json.dumps(info, ensure_ascii=False, default=str).replace("\\u0000", "\ufffd")
        limit = self.caps.caps.max_message_chars
        if len(text) <= limit:
            return json.loads(text)
        return {"truncated": True, "chars": len(text), "limit": limit, "start": text[:limit]}

    def query(
        self, query: Mapping[str, Any] | None, *, after: tuple[int, int] | None = None
    ) -> Cursor[AppLog]:
        """Lines matching a ``logs``-shaped query, oldest first, streamed; ``after`` (a
        line's ``(timestamp ms, id)``) pages by keyset."""
        q = LogsQuery.parse(query, self.clock.now_ms(), APP_LOG_LEVELS)
        f = AppLogFilter(q.level, q.message, q.ts)
        return Cursor(
            lambda after, limit: self.store.page(f, after, limit),
            lambda row: (row["ts_ms"], row["id"]),
            AppLog.from_row,
            lambda: self.store.count(f),
            q.size,
            after,
        )
