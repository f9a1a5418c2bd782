"""``GET /metrics``: the engine in Prometheus text format, for the read token.

Every figure is read from the database at scrape time, through a collector registered in a
fresh :class:`~prometheus_client.CollectorRegistry` per request: the module holds no
counters, so any number of dashboard processes (or none: a worker-only deployment can run
one just for scraping) report the same numbers, and nothing is lost when one restarts.

Why the enqueued/claimed/finished totals are gauges and not counters: they are counted from
the jobs the database still holds (``sysjobs_jobs_enqueued`` = stored jobs,
``sysjobs_jobs_claimed`` = those a worker ever started, ``sysjobs_jobs_finished`` = those
FINISHED). Retention deletes old jobs, so a total can go down; a Prometheus counter that
drops is read as a reset, and ``rate()`` would then count the whole remaining total again.
As gauges, ``deriv()``/``delta()`` over them give rates that stay right across processes.

The run-time and queue-wait histograms cover the jobs ended within the last hour (at most
the newest :data:`~sysjobs.store.stats.ENDED_SAMPLE`): a sliding window, not a cumulative
histogram, so read the buckets directly (``histogram_quantile`` without ``rate``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from sysjobs.jobs.stats import MonitorStats, monitor_stats
from sysjobs.jobs.status import ALL_STATUSES
from sysjobs.jobs.workers import WorkerInfo, list_workers, seen_by_app
from sysjobs.web import params
from sysjobs.web.api import host_of
from sysjobs.web.auth import bearer, require

#: The window of the histograms and of ``sysjobs_lost_leases_window``.
WINDOW_S = 3600.0
#: Upper bounds (seconds) of the run-time buckets: sub-second handlers to hour-long exports.
RUN_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
#: Upper bounds (seconds) of the queue-wait buckets.
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class EngineCollector(Collector):
    """The metric families of one :class:`MonitorStats` reading."""

    def __init__(self, stats: MonitorStats, workers: Sequence[WorkerInfo] = ()) -> None:
        self.stats = stats
        self.workers = workers

    def collect(self) -> Iterator[Metric]:
        yield from _counts(self.stats)
        yield from _workers(self.workers)
        yield _histogram("sysjobs_job_run_seconds",
                         "Run time (start to end) of the jobs ended in the last hour",
                         self.stats.run_s, RUN_BUCKETS)  # fmt: skip
        yield _histogram("sysjobs_job_queue_wait_seconds",
                         "Wait (creation to start) of the jobs ended in the last hour",
                         self.stats.wait_s, WAIT_BUCKETS)  # fmt: skip
        yield _gauge("sysjobs_lost_leases", "Leases lost by vanished workers, stored jobs",
                     self.stats.lost_leases_total)  # fmt: skip
        yield _gauge("sysjobs_lost_leases_window", "Leases lost in the last hour",
                     self.stats.lost_leases_in_window)  # fmt: skip
        yield _gauge("sysjobs_metrics_window_seconds", "The window of the *_window figures "
                     "and the histograms", self.stats.window_s)  # fmt: skip


def _counts(stats: MonitorStats) -> Iterator[Metric]:
    jobs = GaugeMetricFamily("sysjobs_jobs", "Stored jobs by status, queue and type",
                             labels=["status", "queue", "type"])  # fmt: skip
    enqueued: dict[str, int] = {}
    finished: dict[str, int] = {}
    for status, queue, job_type, n in sorted(stats.counts):
        jobs.add_metric([status, queue, job_type], n)
        enqueued[queue] = enqueued.get(queue, 0) + n
        finished[queue] = finished.get(queue, 0) + (n if status == "FINISHED" else 0)
    by_status = GaugeMetricFamily("sysjobs_jobs_by_status", "Stored jobs by status "
                                  "(every status, 0 included)", labels=["status"])  # fmt: skip
    for status in ALL_STATUSES:
        by_status.add_metric([status], sum(n for s, _q, _t, n in stats.counts if s == status))
    yield jobs
    yield by_status
    yield _per_queue("sysjobs_jobs_enqueued", "Stored jobs ever enqueued, per queue", enqueued)
    yield _per_queue("sysjobs_jobs_claimed", "Stored jobs a worker ever started, per queue",
                     stats.claimed)  # fmt: skip
    yield _per_queue("sysjobs_jobs_finished", "Stored jobs FINISHED, per queue", finished)


def _workers(workers: Sequence[WorkerInfo]) -> Iterator[Metric]:
    """The workers registry of the app: pools by state, and the live ones' slots."""
    states = GaugeMetricFamily("sysjobs_workers", "Registered workers serving this app, by "
                               "state (gone: no heartbeat for 3 lease periods)",
                               labels=["state"])  # fmt: skip
    for state in ("alive", "gone"):
        states.add_metric([state], sum(1 for w in workers if w.state == state))
    alive = [w for w in workers if w.state == "alive"]
    slots = GaugeMetricFamily("sysjobs_worker_slots", "Job slots of the alive workers: all "
                              "of them, and those busy at the last heartbeat",
                              labels=["kind"])  # fmt: skip
    slots.add_metric(["total"], sum(w.slots for w in alive))
    slots.add_metric(["busy"], sum(w.busy for w in alive))
    yield states
    yield slots


def _per_queue(name: str, doc: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["queue"])
    for queue in sorted(values):
        family.add_metric([queue], values[queue])
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _histogram(name: str, doc: str, values: Sequence[float],
               bounds: Iterable[float]) -> HistogramMetricFamily:  # fmt: skip
    """Cumulative buckets ``le=bound`` plus ``+Inf``, as the text format wants them."""
    finite = [v for v in values if math.isfinite(v)]
    buckets = [(_le(b), float(sum(1 for v in finite if v <= b))) for b in bounds]
    buckets.append(("+Inf", float(len(finite))))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=math.fsum(finite))


def _le(bound: float) -> str:
    return repr(float(bound))


def metrics(request: Request) -> Response:
    """GET /metrics — read token or admin token; 401 without."""
    require(request)
    params.NONE.parse(request)
    registry = CollectorRegistry(auto_describe=False)
    engine = host_of(request).engine
    stats, workers = monitor_stats(engine, WINDOW_S), list_workers(engine, engine.app)
    if request.app.state.auth.app_of(bearer(request)) is not None:  # an app's own token
        workers = seen_by_app(engine, workers, engine.app)
    registry.register(EngineCollector(stats, workers))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
