"""DELETE_RECORDS, IMPORT_RECORDS and EXPORT_RECORDS: records in bulk, through CSV files.

Import validates each row completely before writing it, so a bad row writes nothing and
is reported as an ERROR log with its line number and reason; good rows are inserted a
batch per transaction, and a stopped import resumes after the last line it wrote. Imported
rows do not fire data listeners (one job per row would swamp the queue); the import job's
own events reach job listeners.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sysjobs.app.app import App
from sysjobs.app.jobtypes.loop import StopCheck, error_entry, run_record_loop
from sysjobs.app.jobtypes.models import DeleteRecordsData, ExportRecordsData, ImportRecordsData
from sysjobs.app.records import Record
from sysjobs.errors import SysError
from sysjobs.jobs import JobContext

BATCH = 100


def delete_records(app: App, ctx: JobContext, data: DeleteRecordsData) -> None:
    def per_chunk(records: list[Record]) -> dict[str, dict[str, Any]]:
        gone = app.records.remove_many(data.entityName, records, parent_id=ctx.job.id)
        return {r.id: {"status": "ok"} if r.id in gone else _gone(r.id)
                for r in records if r.id is not None}  # fmt: skip

    def _gone(record_id: str) -> dict[str, Any]:
        message = f"Record '{record_id}' of entity '{data.entityName}' not found."
        return error_entry(ctx, record_id, message)

    run_record_loop(ctx, app.records, data.entityName, data.query, per_chunk=per_chunk)


def _rows(app: App, file_id: str) -> list[tuple[int, dict[Any, Any]]]:
    """The CSV's rows with their line numbers (the header is line 1)."""
    text = app.files.get(file_id).content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    return [(reader.line_num, row) for row in reader]


def import_records(app: App, ctx: JobContext, data: ImportRecordsData) -> None:
    with ctx.held_logs():  # a batch's rejected lines go out with its checkpoint
        _import(app, ctx, data)


def _import(app: App, ctx: JobContext, data: ImportRecordsData) -> None:
    rows = _rows(app, data.file_id)
    cp: dict[str, Any] = dict(ctx.checkpoint or {})
    counts = {"rowsImported": int(cp.get("rowsImported", 0)),
              "rowsWithErrors": int(cp.get("rowsWithErrors", 0))}
    last_line = int(cp.get("line", 1))
    batch: list[dict[str, Any]] = []
    should_stop = StopCheck(ctx)
    for i, (line, row) in enumerate(rows):
        if line <= last_line:
            continue
        fields = _import_row(app, ctx, data.entityName, line, row)
        if fields is None:
            counts["rowsWithErrors"] += 1
        else:
            batch.append(fields)
        stop = should_stop()
        if len(batch) >= BATCH or i == len(rows) - 1 or stop:
            _flush(app, ctx, data.entityName, batch, counts, line)
            ctx.set_progress(min(99, (i + 1) * 100 // max(len(rows), 1)))
            if stop:
                return
    _flush(app, ctx, data.entityName, batch, counts, rows[-1][0] if rows else last_line)
    ctx.set_progress(100)


def _import_row(app: App, ctx: JobContext, entity: str, line: int,
                row: dict[Any, Any]) -> dict[str, Any] | None:
    """The row's validated fields, or None after logging why it was rejected."""
    extra = row.pop(None, None)  # cells beyond the header
    try:
        if extra:
            raise ValueError(f"{len(extra)} more cell(s) than the header has columns")
        return app.records.validate(entity, {k: (v if v != "" else None) for k, v in row.items()
                                             if k not in ("id", "label")})
    except (SysError, ValueError) as exc:
        reason = exc.message if isinstance(exc, SysError) else str(exc)
        ctx.log_error(f"Line {line}: {reason}", {"line": line})
        return None


def _flush(app: App, ctx: JobContext, entity: str, batch: list[dict[str, Any]],
           counts: dict[str, int], line: int) -> None:
    if batch:
        # No per-row listener jobs: a 100k-row import must not enqueue 100k jobs.
        app.records.insert_many(entity, batch, announce=False)
        counts["rowsImported"] += len(batch)
        batch.clear()
    ctx.commit_chunk({**counts, "line": line}, dict(counts))  # with the batch's ERROR lines


def export_records(app: App, ctx: JobContext, data: ExportRecordsData) -> None:
    fields = list(app.definition.entity(data.entityName).fields)
    total = max(app.records.count(data.entityName, data.query), 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *fields])
    records, _ = app.records.find(data.entityName, data.query)
    exported = 0
    for record in records:
        writer.writerow([record.id, *(_cell(record.fields.get(f)) for f in fields)])
        exported += 1
        if exported % 500 == 0:
            ctx.set_progress(min(99, exported * 100 // total))
    file_id = app.files.put(f"{data.entityName}-{ctx.job.id}.csv", out.getvalue().encode())
    ctx.set_results({"fileLink": app.files.link(file_id), "fileId": file_id,
                     "recordsExported": exported})
    ctx.set_progress(100)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
