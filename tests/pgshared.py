"""One throwaway PostgreSQL cluster for all the test processes of a pytest-xdist run.

Each test process started a cluster of its own: ``initdb``, a server start and the template's
migration, ~1.4 s of the process's CPU, ~0.5 s of the server's and several seconds of wall
time each, three times over under ``-n 3`` — for tests that never share anything beyond
the server itself (every test database, role and scratch database has a random name, and
every check of other sessions is scoped to the test's own database). The first process that
needs PostgreSQL now starts it and migrates the template under a file lock in the directory
the run's processes share (the controller's ``basetemp``, whose subdirectories are theirs);
the others read where it listens from the file it leaves there. Each process keeps its own
pool of test databases (``tests/pgdatabases.py``). The controller stops the cluster when the
run ends (``stop_shared``, from ``pytest_sessionfinish``), after every process has dropped
its databases.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.pgcluster import PgCluster, start_cluster, stop_cluster

#: Where the shared cluster listens (a JSON object of ``PgCluster``'s fields).
STATE = "pg-cluster.json"
#: Held while the cluster is started, read or stopped.
LOCK = "pg-cluster.lock"


def shared_folder(config: pytest.Config) -> Path | None:
    """The folder the processes of this xdist run share, or None outside xdist.

    xdist gives each test process ``<controller basetemp>/<worker id>`` as its ``basetemp``.
    """
    if not hasattr(config, "workerinput"):
        return None
    factory = getattr(config, "_tmp_path_factory", None)
    return None if factory is None else Path(factory.getbasetemp()).parent


def is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process hands tests to xdist's test processes (``-n``) and runs none."""
    return not hasattr(config, "workerinput") and config.pluginmanager.has_plugin("dsession")


def controller_folder(config: pytest.Config) -> Path | None:
    """The folder of ``shared_folder`` as the controller of an xdist run sees it, or None
    when this process is not one (a test process, or a run without ``-n``)."""
    if not is_xdist_controller(config):
        return None
    factory = getattr(config, "_tmp_path_factory", None)
    return None if factory is None else Path(factory.getbasetemp())


def shared_cluster(
    folder: Path, settings: Sequence[str], prepare: Callable[[PgCluster], None]
) -> PgCluster:
    """The run's cluster: started (and ``prepare``-d) by the first process that asks."""
    with _locked(folder):
        state = folder / STATE
        if state.exists():
            return _read(state)
        cluster = start_cluster("sysjobs-pg-", settings)
        try:
            prepare(cluster)
        except BaseException:
            stop_cluster(cluster)
            raise
        partial = state.with_suffix(".tmp")
        partial.write_text(json.dumps(_fields(cluster)), encoding="utf-8")
        partial.rename(state)
        return cluster


def stop_shared(folder: Path) -> None:
    """Stop the run's cluster, if a process started one."""
    state = folder / STATE
    if not state.exists():
        return
    with _locked(folder):
        if state.exists():
            stop_cluster(_read(state))
            state.unlink()


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / LOCK, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fields(cluster: PgCluster) -> dict[str, str | int]:
    return {"host": cluster.host, "port": cluster.port, "bindir": str(cluster.bindir),
            "data": str(cluster.data)}  # fmt: skip


def _read(state: Path) -> PgCluster:
    fields = json.loads(state.read_text(encoding="utf-8"))
    return PgCluster(str(fields["host"]), int(fields["port"]), Path(fields["bindir"]),
                     Path(fields["data"]))  # fmt: skip
