"""Load the spec's samples with their sidecars, and judge a run against its ``expect``.

Shared by ``sysjobs demo`` and ``tests/samples``, so that what the demo calls a pass is
exactly what the test suite calls a pass. The sidecar format is documented in
``sysjobs/samples/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sysjobs.jobs import Engine, Job

#: Jobs the demo app creates on its own (its job listener runs after every action job);
#: ``jobs_created`` is about what the script itself started.
SIDE_EFFECT_TYPES = frozenset({"EXECUTE_LISTENER"})


@dataclass(frozen=True)
class SampleRun:
    """One run of one sample, as its sidecar describes it."""

    sample: str
    name: str
    source: str
    in_job: bool = False
    workers: bool = True
    timeout_s: float = 30.0
    given: str | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)
    #: Where the sample comes from: its file, or ``page:line`` for a sample of a page.
    origin: str = ""

    @property
    def id(self) -> str:
        return f"{self.sample}[{self.name}]"


def load_runs(directory: Path) -> list[SampleRun]:
    """Every run of every ``*.js`` in ``directory``, in file-name order.

    Raises :class:`sysjobs.cli.sample_sources.SampleSourceError` naming the file when a
    sidecar is unreadable or invalid.
    """
    from sysjobs.cli.sample_sources import discover  # it builds SampleRun: imported late

    return discover([directory])


@dataclass(frozen=True)
class Observed:
    """What a run did, gathered by the caller that ran it."""

    ok: bool
    logs: Sequence[str]
    error_code: str | None = None
    error_name: str | None = None
    error_message: str | None = None
    #: Jobs the run created, oldest first (the script's own job and side effects excluded).
    created: Sequence[Job] = ()
    #: The job the script ran in, when ``in_job``.
    current: Job | None = None
    #: The newest jobs that existed before the run, newest first.
    newest_before: Sequence[Job] = ()
    #: Lines of the app's own log written since the run began, as ``LEVEL message``.
    app_logs: Sequence[str] = ()


class _Escaped:
    """Attribute access on a job/log that yields regex-escaped text, for templates."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> str:
        return re.escape(str(getattr(self._obj, name)))


def _fmt(pattern: str, **values: Any) -> str:
    return pattern.format(**values)


def _match_lines(patterns: Sequence[str], lines: Sequence[str], problems: list[str]) -> None:
    if len(patterns) != len(lines):
        problems.append(f"expected {len(patterns)} log line(s), got {len(lines)}: {list(lines)}")
    for pattern, line in zip(patterns, lines, strict=False):
        if not re.search(pattern, line):
            problems.append(f"log line {line!r} does not match {pattern!r}")


def check(run: SampleRun, seen: Observed, engine: Engine) -> list[str]:
    """Every way ``seen`` differs from ``run.expect``; empty means the run passed."""
    problems: list[str] = []
    expect = run.expect
    _check_outcome(expect, seen, problems)
    values = {
        "created": [_Escaped(j) for j in seen.created],
        "current": _Escaped(seen.current),
    }
    if "log" in expect:
        try:
            patterns = [_fmt(p, **values) for p in expect["log"]]
        except (IndexError, AttributeError) as exc:
            problems.append(f"log pattern refers to something the run did not produce: {exc}")
        else:
            _match_lines(patterns, seen.logs, problems)
    if "log_per_job" in expect:
        _check_per_job(expect["log_per_job"], seen.logs, engine, problems)
    if "jobs_created" in expect:
        _check_created(expect["jobs_created"], seen.created, problems)
    if "newest_jobs" in expect:
        _check_newest(expect["newest_jobs"], seen.newest_before, engine, problems)
    if "app_logs" in expect:
        _match_lines(expect["app_logs"], seen.app_logs, problems)
    return problems


def _check_outcome(expect: Mapping[str, Any], seen: Observed, problems: list[str]) -> None:
    wanted = expect.get("outcome", "ok")
    if wanted == "ok" and not seen.ok:
        problems.append(
            f"expected success, got {seen.error_code or seen.error_name}: {seen.error_message}"
        )
        return
    if wanted == "error":
        if seen.ok:
            problems.append("expected an error, the script succeeded")
            return
        for key, got in (("error_code", seen.error_code), ("error_name", seen.error_name)):
            if key in expect and expect[key] != got:
                problems.append(f"expected {key} {expect[key]!r}, got {got!r}")
        if "error_message" in expect and not re.search(
            expect["error_message"], seen.error_message or ""
        ):
            problems.append(
                f"error message {seen.error_message!r} does not match {expect['error_message']!r}"
            )


def _check_per_job(
    spec: Mapping[str, Any], logs: Sequence[str], engine: Engine, problems: list[str]
) -> None:
    jobs = list(engine.find(spec["find"]))
    if len(jobs) < int(spec.get("min_jobs", 1)):
        problems.append(
            f"expected at least {spec.get('min_jobs', 1)} job(s) for "
            f"{dict(spec['find'])}, the store has {len(jobs)}"
        )
    patterns: list[str] = []
    per_log = spec.get("per_log")
    for job in jobs:
        patterns += [_fmt(p, job=_Escaped(job)) for p in spec["lines"]]
        if per_log:
            entries = list(engine.logs(job.id, per_log["query"]))
            if len(entries) < int(per_log.get("min_logs", 0)):
                problems.append(
                    f"job {job.id} has {len(entries)} log(s), "
                    f"expected at least {per_log['min_logs']}"
                )
            for entry in entries:
                patterns += [_fmt(p, log=_Escaped(entry)) for p in per_log["lines"]]
    _match_lines(patterns, logs, problems)


def _check_created(
    wanted: Sequence[Mapping[str, Any]], created: Sequence[Job], problems: list[str]
) -> None:
    if len(wanted) != len(created):
        problems.append(
            f"expected {len(wanted)} job(s) created, got {[(j.type, j.id) for j in created]}"
        )
    for spec, job in zip(wanted, created, strict=False):
        for key, value in spec.items():
            got = _field(job, key)
            if key == "data":
                missing = {k: v for k, v in value.items() if (got or {}).get(k) != v}
                if missing:
                    problems.append(f"job {job.id} data {got!r} lacks {missing!r}")
            elif got != value:
                problems.append(f"job {job.id}: expected {key} {value!r}, got {got!r}")


def _field(job: Job, key: str) -> Any:
    value = getattr(job, key)
    return str(value) if key in ("status", "type") else value


def _check_newest(
    spec: Mapping[str, Any], newest: Sequence[Job], engine: Engine, problems: list[str]
) -> None:
    count = int(spec["count"])
    if len(newest) < count:
        problems.append(f"expected {count} job(s) to exist before the run, got {len(newest)}")
    for before in newest[:count]:
        job = engine.require(before.id)
        if "has_errors" in spec and bool(job.has_errors) != spec["has_errors"]:
            problems.append(f"job {job.id}: expected has_errors {spec['has_errors']}")
        log = spec.get("each_has_log")
        if log:
            found = [
                e
                for e in engine.logs(job.id, {"level": log["level"]})
                if e.message == log["message"]
            ]
            if not found:
                problems.append(f"job {job.id} has no {log['level']} log {log['message']!r}")
