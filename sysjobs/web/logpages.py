"""Pages of a job's log, bounded in lines and in bytes whatever the stored log holds.

A log may hold ten thousand lines of 64 KiB each; no reply sends it whole. A page holds at
most ``_size`` lines (a default and a maximum in :class:`~sysjobs.web.limits.WebLimits`)
and at most ``logs_page_bytes`` of them as JSON; a line longer than ``log_line_bytes`` is
shown clipped (``"clipped": true``). Rows are read a few at a time, so the server holds
no more than a handful of lines per request either.

The reply says how to go on: ``next`` is the position after its last line — pass it back
as ``after`` — and ``more`` says whether lines past it exist now. A follower keeps polling
with ``after=next``; a reader pages while ``more`` is true. The position is keyset
(``<timestamp ms>:<log id>``), so lines written meanwhile are neither skipped nor repeated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sysjobs.jobs.engine import Engine
from sysjobs.jobs.models import to_ms
from sysjobs.web.limits import WebLimits
from sysjobs.web.views import app_log_json, log_json

Position = tuple[int, int]


def log_page(engine: Engine, job_id: str, query: Mapping[str, Any], *,
             after: Position | None, size: int, limits: WebLimits) -> dict[str, Any]:  # fmt: skip
    """One page of ``job_id``'s log matching ``query`` (the engine's logs filters)."""
    lines = _lines(engine, job_id, query, after, limits.logs_fetch)
    return _page(lines, lambda: engine.logs(job_id, query).count(), after, size, limits)


def app_log_page(
    engine: Engine, query: Mapping[str, Any], *, after: Position | None, size: int,
    limits: WebLimits,
) -> dict[str, Any]:  # fmt: skip
    """One page of the app's own log (``sys.logs``) matching ``query``, bounded as a job's
    log page is."""
    return _page(_app_lines(engine, query, after, limits.logs_fetch),
                 lambda: engine.app_logs(query).count(), after, size, limits)  # fmt: skip


def _app_lines(engine: Engine, query: Mapping[str, Any], after: Position | None,
               fetch: int) -> Iterator[tuple[Position, dict[str, Any]]]:  # fmt: skip
    """The app log's matching lines past ``after``, read ``fetch`` rows per query."""
    while True:
        read = 0
        for entry in engine.app_logs({**query, "_size": fetch}, after=after):
            read += 1
            after = (to_ms(entry.timestamp) or 0, entry.id)
            yield after, app_log_json(entry)
        if read < fetch:
            return


def _page(lines: Iterator[tuple[Position, dict[str, Any]]], count: Callable[[], int],
          after: Position | None, size: int, limits: WebLimits) -> dict[str, Any]:  # fmt: skip
    """Lines up to ``size`` and the page's byte budget; with the count, ``next``, ``more``."""
    page: list[dict[str, Any]] = []
    used, last, more = 0, after, False
    for position, line in lines:
        if len(page) == size:
            more = True
            break
        line, cost = _bounded(line, limits.log_line_bytes)
        if page and used + cost > limits.logs_page_bytes:
            more = True
            break
        page.append(line)
        used, last = used + cost, position
    return {"count": count(), "logs": page, "next": _text(last), "more": more}


def _lines(engine: Engine, job_id: str, query: Mapping[str, Any], after: Position | None,
           fetch: int) -> Iterator[tuple[Position, dict[str, Any]]]:  # fmt: skip
    """The matching lines past ``after``, read ``fetch`` rows per query."""
    while True:
        read = 0
        for entry in engine.logs(job_id, {**query, "_size": fetch}, after=after):
            read += 1
            after = (to_ms(entry.timestamp) or 0, entry.id)
            yield after, log_json(entry)
        if read < fetch:
            return


def size_of(value: Any) -> int:
    """Bytes of ``value`` as the reply writes it: compact UTF-8 JSON (a lone surrogate,
    counted as its 3 bytes here, goes out as one ``?``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def _bounded(line: dict[str, Any], limit: int) -> tuple[dict[str, Any], int]:
    """``line`` and its size; a line over ``limit`` bytes with its message cut and a large
    ``additionalInfo`` replaced by ``{"clipped": true, "bytes": n}``."""
    cost = size_of(line)
    if cost <= limit:
        return line, cost
    info_bytes = size_of(line["additionalInfo"])
    if info_bytes > limit // 4:
        line["additionalInfo"] = {"clipped": True, "bytes": info_bytes}
    message: str = line["message"]
    keep = limit // 2 // 6  # at most 6 bytes per character (a control character: \u001f)
    if len(message) > keep:
        line["message"] = f"{message[:keep]}… [clipped: {len(message) - keep} more characters]"
    line["clipped"] = True
    return line, size_of(line)


def _text(position: Position | None) -> str | None:
    return None if position is None else f"{position[0]}:{position[1]}"
