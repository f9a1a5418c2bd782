"""sysjobs.worker — worker pools: threads in one process, or supervised worker processes."""

from sysjobs.worker.pool import WorkerPool
from sysjobs.worker.processes import WorkerConfig, WorkerProcesses

__all__ = ["WorkerConfig", "WorkerPool", "WorkerProcesses"]
