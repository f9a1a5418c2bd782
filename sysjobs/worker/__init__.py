"""sysjobs.worker — worker pools: threads in one process, or supervised worker processes."""

from sysjobs.worker.pool import DEFAULT_SLOTS, WorkerPool
from sysjobs.worker.processes import WorkerConfig, WorkerProcesses

__all__ = ["DEFAULT_SLOTS", "WorkerConfig", "WorkerPool", "WorkerProcesses"]
