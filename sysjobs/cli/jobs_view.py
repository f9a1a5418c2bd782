"""How the ``sysjobs jobs`` commands print: rich tables for people, JSON for programs.

Rendering lives apart from the commands so that each command reads as "query, then show",
and so the JSON printed by ``--json`` is exactly the dashboard API's (``sysjobs.web.views``).

Stored text (messages, labels, data) may hold lone UTF-16 surrogates — JSON columns keep
them faithfully — which no terminal encoding can write: every user string goes through
:func:`plain` (rich markup escaped, each lone surrogate written as ``\\udXXX``, control
characters as ``\\xNN`` so that none acts on the terminal), and JSON is
printed with the same escape, which a JSON reader turns back into the original text.


rich, the engine's models and the dashboard's views are imported where they are used: every
command imports this module, and ``sysjobs --help`` or ``sysjobs run`` should not pay for them.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from sysjobs.errors import BadRequest

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from sysjobs.jobs import Job, JobLog
    from sysjobs.jobs.stats import EngineStats
    from sysjobs.jobs.tree import TreeInfo
    from sysjobs.jobs.workers import WorkerInfo


@functools.cache
def console() -> Console:
    """The one console of this process (made on first use: rich takes ~50 ms to import).

    Piped output is not cut to 80 columns: tables stay one row per job for grep and less.
    """
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)

_STATUS_STYLE = {
    "PENDING": "yellow", "RUNNING": "cyan", "FINISHED": "green", "STOPPING": "magenta",
    "STOPPED": "magenta", "CANCELING": "red", "CANCELED": "red",
}  # fmt: skip


def parse_time(value: str | None, parameter: str) -> int | None:
    """A CLI time: milliseconds since the epoch, or an ISO 8601 date (UTC unless it says)."""
    from sysjobs.jobs.values import check_ms, shown

    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return check_ms(text, parameter)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"Invalid value {shown(value)} for parameter '{parameter}'. Allowed values: "
            "milliseconds since the epoch, or an ISO 8601 date like 2026-11-25T10:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def print_json(value: Any) -> None:
    """One JSON document on stdout (DEL and the C1 controls, which JSON leaves as they are
    but some terminals act on, written as ``\\u00NN`` escapes: the same JSON value)."""
    from sysjobs.jobs.values import escape_surrogates

    text = escape_surrogates(json.dumps(value, ensure_ascii=False, default=str))
    typer.echo(_C1.sub(_json_escape, text))


def plain(value: str) -> str:
    """User text for a rich table or line: markup escaped, lone surrogates as ``\\udXXX``,
    control characters as ``\\xNN`` (line breaks and tabs kept): a script's label or log
    line must not send the operator's terminal a sequence (ESC, C1 CSI) — clear the screen,
    retitle it, rewrite earlier lines, write the clipboard."""
    from rich.markup import escape

    from sysjobs.jobs.values import escape_surrogates

    return escape(_CONTROL.sub(_visible, escape_surrogates(value)))


#: What a terminal acts on: C0 controls but line feed and tab, DEL, and the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


#: What JSON writes as it is and a terminal may act on: DEL and the C1 controls.
_C1 = re.compile("[\x7f-\x9f]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def when(moment: datetime | None) -> str:
    """A local-free, sortable timestamp (UTC, seconds)."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def age(ms: int | None) -> str:
    """Milliseconds as a short human duration."""
    if ms is None:
        return "-"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60)}s"
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60)}m"


def status_text(status: str) -> str:
    """A status in its colour (text from users is escaped: ``[red]`` in a message stays text)."""
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def jobs_table(jobs: list[Job], total: int) -> None:
    """The ``jobs ls`` table, newest first, with how many matched in total."""
    from rich.table import Table

    table = Table(title=f"{len(jobs)} of {total} jobs", title_justify="left")
    for column in ("ID", "TYPE", "LABEL", "STATUS", "PROGRESS", "CREATED", "DURATION", "ERR"):
        table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=40)
    for job in jobs:
        table.add_row(
            job.id, plain(job.type), plain(job.label or ""), status_text(str(job.status)),
            f"{job.progress}%", when(job.created_at), age(job.duration_ms()),
            "yes" if job.has_errors else "",
        )  # fmt: skip
    console().print(table)


def job_detail(job: Job, tree: TreeInfo | None = None) -> None:
    """``jobs show``: every field of the job, its place in the job tree (parent, root,
    children: when ``tree`` is given), its data (without ``_`` keys) and results."""
    from rich.table import Table

    from sysjobs.web.views import job_json

    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    shown = job_json(job)
    for key in ("id", "type", "label", "status", "progress", "queue", "lowPriority", "hasErrors"):
        value = shown[key]
        table.add_row(key, status_text(value) if key == "status" else plain(str(value)))
    for key, moment in (("created", job.created_at), ("started", job.started_at),
                        ("ended", job.ended_at)):  # fmt: skip
        table.add_row(key, when(moment))
    table.add_row("waiting", age(job.waiting_ms()))
    table.add_row("duration", age(job.duration_ms()))
    for key in ("runBy", "data", "results") if tree else ("runBy", "parentId", "data", "results"):
        if shown[key] not in (None, {}):
            table.add_row(key, plain(json.dumps(shown[key], ensure_ascii=False, default=str)))
    if tree is not None:
        for key, ref in (("parent", tree.parent), ("root", tree.root)):
            table.add_row(key, "-" if ref is None else plain(f"{ref.id} {ref.label or ''}".strip()))
        table.add_row("children", f"{tree.children} ({tree.children_processed} processed)")
    console().print(table)


def log_line(entry: JobLog) -> str:
    """``2026-11-25 10:00:00 INFO  message`` (ERROR in red)."""
    level = "[red]ERROR[/]" if entry.level == "ERROR" else "INFO "
    return f"[dim]{when(entry.timestamp)}[/] {level} {plain(entry.message)}"


def stats_table(stats: EngineStats, workers: list[WorkerInfo] | None = None) -> None:
    """``jobs stats``: one row per queue, then the totals (and the workers, when given)."""
    console().print(stats_view(stats, workers=workers))


def workers_view(workers: list[WorkerInfo], title: str = "Workers") -> RenderableType:
    """The workers registry: one row per pool, alive ones first in start order."""
    from rich.table import Table

    table = Table(title=f"{title} ({_alive(workers)} alive, {len(workers)} listed)",
                  title_justify="left")  # fmt: skip
    for column in ("HOST", "PID", "SLOTS", "BUSY", "QUEUES", "APPS", "LAST SEEN", "STATE"):
        table.add_column(column, overflow="fold")
    for w in sorted(workers, key=lambda w: w.state != "alive"):
        queues = ",".join(f"{q}={n}" for q, n in w.queues.items())
        state = "[green]alive[/]" if w.state == "alive" else "[red]gone[/]"
        table.add_row(
            plain(w.host), str(w.pid), str(w.slots), str(w.busy), plain(queues),
            plain(",".join(w.apps)), f"{age(w.last_seen_ago_ms)} ago", state,
        )  # fmt: skip
    return table


def _alive(workers: list[WorkerInfo]) -> int:
    return sum(1 for w in workers if w.state == "alive")


def stats_view(
    stats: EngineStats, heading: str | None = None, workers: list[WorkerInfo] | None = None
) -> RenderableType:
    """What ``jobs stats`` shows, as one renderable (``--watch`` redraws it in place)."""
    from rich.console import Group
    from rich.table import Table

    table = Table(title="Queues", title_justify="left")
    for column in ("QUEUE", "PENDING", "OLDEST PENDING", "RUNNING"):
        table.add_column(column)
    for q in stats.queues:
        table.add_row(plain(q.queue), str(q.pending), age(q.oldest_pending_age_ms), str(q.running))
    window = age(int(stats.window_s * 1000))
    totals = (
        f"queue depth {stats.pending} · oldest pending {age(stats.oldest_pending_age_ms)} · "
        f"running {stats.running}\n"
        f"throughput {stats.finished_in_window} finished in the last {window} "
        f"({stats.throughput_per_min:g}/min) · lost leases {stats.lost_leases_in_window} "
        f"in the last {window}, {stats.lost_leases_total} in total"
    )
    statuses = " · ".join(f"{status_text(s)} {n}" for s, n in stats.by_status.items())
    parts: list[RenderableType] = [table, totals, statuses]
    if workers is not None:
        parts.append(workers_view(workers) if workers else "[dim]no worker has registered[/]")
    return Group(*([heading] if heading else []), *parts)
