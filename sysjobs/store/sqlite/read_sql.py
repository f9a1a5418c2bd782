"""The SQL text of the CLI's read path on SQLite, compiled from the store's
SQLAlchemy statements by ``python -m sysjobs.store.sqlite.read_sql_build`` — do not
edit: rerun it (a test holds this file equal to a fresh compile).
"""

# ruff: noqa: E501
from __future__ import annotations

SELECT_JOB = 'SELECT jobs.id, jobs.app, jobs.type, jobs.label, jobs.status, jobs.queue, jobs.low_priority, jobs.progress, jobs.has_errors, jobs.created_ms, jobs.started_ms, jobs.ended_ms, jobs.run_by_id, jobs.run_by_name, jobs.parent_id, jobs.root_id, jobs.data, jobs.owner, jobs.attempt, jobs.lease_expires_ms, jobs.force_at_ms, jobs.lost_count, jobs.max_retries, jobs.turn, job_results.results \nFROM jobs LEFT OUTER JOIN job_results ON job_results.job_id = jobs.id'
COUNT_JOBS = 'SELECT count(*) AS count_1 \nFROM jobs'
WHERE = ' \nWHERE '
AND = ' AND '
TERMS: dict[str, str] = {
    'app': 'jobs.app = ?',
    'apps': 'jobs.app IN (__[POSTCOMPILE_app_1])',
    'type': 'jobs.type IN (__[POSTCOMPILE_type_1])',
    '+type': '(+ jobs.type) IN (__[POSTCOMPILE_param_1])',
    'status': 'jobs.status IN (__[POSTCOMPILE_status_1])',
    '+status': '(+ jobs.status) IN (__[POSTCOMPILE_param_1])',
    'has_errors=1': 'jobs.has_errors IS 1',
    '+has_errors=1': '(+ jobs.has_errors) IS 1',
    'has_errors=0': 'jobs.has_errors IS 0',
    '+has_errors=0': '(+ jobs.has_errors) IS 0',
    'created_ms>=': 'jobs.created_ms >= ?',
    '+created_ms>=': '(+ jobs.created_ms) >= ?',
    'created_ms<=': 'jobs.created_ms <= ?',
    '+created_ms<=': '(+ jobs.created_ms) <= ?',
    'started_ms>=': 'jobs.started_ms >= ?',
    '+started_ms>=': '(+ jobs.started_ms) >= ?',
    'started_ms<=': 'jobs.started_ms <= ?',
    '+started_ms<=': '(+ jobs.started_ms) <= ?',
    'ended_ms>=': 'jobs.ended_ms >= ?',
    '+ended_ms>=': '(+ jobs.ended_ms) >= ?',
    'ended_ms<=': 'jobs.ended_ms <= ?',
    '+ended_ms<=': '(+ jobs.ended_ms) <= ?',
    'created_bound': 'jobs.created_ms <= ?',
    'id': 'jobs.id = ?',
    'after': '(jobs.created_ms, jobs.id) < (?, ?)',
    '+after': '(+ jobs.created_ms, + jobs.id) < (?, ?)',
}
ORDER_LIMIT: dict[str, str] = {
    '': ' ORDER BY jobs.created_ms DESC, jobs.id DESC\n LIMIT ? OFFSET ?',
    '+': ' ORDER BY (+ jobs.created_ms) DESC, (+ jobs.id) DESC\n LIMIT ? OFFSET ?',
}
PROBES: dict[str, str] = {
    'started_ms>=': 'SELECT count(*) AS count_1 \nFROM (SELECT ? AS anon_2 \nFROM jobs \nWHERE jobs.started_ms >= ?\n LIMIT ? OFFSET ?) AS anon_1',
    'started_ms<=': 'SELECT count(*) AS count_1 \nFROM (SELECT ? AS anon_2 \nFROM jobs \nWHERE jobs.started_ms <= ?\n LIMIT ? OFFSET ?) AS anon_1',
    'started_ms>=<=': 'SELECT count(*) AS count_1 \nFROM (SELECT ? AS anon_2 \nFROM jobs \nWHERE jobs.started_ms >= ? AND jobs.started_ms <= ?\n LIMIT ? OFFSET ?) AS anon_1',
    'ended_ms>=': 'SELECT count(*) AS count_1 \nFROM (SELECT ? AS anon_2 \nFROM jobs \nWHERE jobs.ended_ms >= ?\n LIMIT ? OFFSET ?) AS anon_1',
    'ended_ms<=': 'SELECT count(*) AS count_1 \nFROM (SELECT ? AS anon_2 \nFROM jobs \nWHERE jobs.ended_ms <= ?\n LIMIT ? OFFSET ?) AS anon_1',
    'ended_ms>=<=': 'SELECT count(*) AS count_1 \nFROM (SELECT ? AS anon_2 \nFROM jobs \nWHERE jobs.ended_ms >= ? AND jobs.ended_ms <= ?\n LIMIT ? OFFSET ?) AS anon_1',
}
LABELS = 'SELECT jobs.id, jobs.label \nFROM jobs \nWHERE jobs.id IN (__[POSTCOMPILE_id_1]) AND jobs.app = ?'
CHILDREN_COUNTS = 'SELECT jobs.parent_id, count(*) AS count_1, sum(CASE WHEN (jobs.status IN (__[POSTCOMPILE_status_1])) THEN ? ELSE ? END) AS sum_1 \nFROM jobs \nWHERE jobs.app = ? AND jobs.parent_id IN (__[POSTCOMPILE_parent_id_1]) GROUP BY jobs.parent_id'
FINAL = ('FINISHED', 'CANCELED')
DECODED: dict[str, str] = {
    'low_priority': 'bool',
    'has_errors': 'bool',
    'data': 'json',
    'results': 'json',
}
