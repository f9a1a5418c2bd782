"""Throwaway servers for the benchmarks: a PostgreSQL cluster and a Redis, both on this machine.

PostgreSQL is started by ``pgcluster.py``, the starter the tests share: Debian's binaries, run
as the ``postgres`` user when we are root, a free port, a private socket directory, removed on
exit.
The cluster uses the same relaxed durability settings as the test cluster (``fsync=off``,
``synchronous_commit=off``) for every system alike, so the comparison stays fair. Redis comes
from Debian's ``redis-server`` (installed by ``make bench`` when missing), on a free loopback
port, without persistence.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from pgcluster import free_port, pg_cluster


@dataclass(frozen=True)
class Pg:
    """A running cluster: its socket directory and port."""

    host: str
    port: int

    def conninfo(self, database: str) -> str:
        """A libpq connection string (what the peers take)."""
        return f"host={self.host} port={self.port} user=postgres dbname={database}"

    def url(self, database: str) -> str:
        """A sysjobs / SQLAlchemy URL."""
        return f"postgresql://postgres@/{database}?host={self.host}&port={self.port}"

    def admin(self, sql: str) -> None:
        """Run one statement on the ``postgres`` database (autocommit)."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def fresh_database(self, name: str) -> str:
        """(Re)create an empty database ``name``; returns its name."""
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres() -> Iterator[Pg]:
    """A throwaway PostgreSQL cluster for the whole benchmark run (``pgcluster.py``)."""
    settings = ("fsync=off", "synchronous_commit=off", "full_page_writes=off",
                "max_connections=300", "shared_buffers=256MB")  # fmt: skip
    with pg_cluster("sysjobs-bench-pg-", settings) as cluster:
        yield Pg(cluster.host, cluster.port)


@contextmanager
def redis() -> Iterator[int]:
    """A throwaway ``redis-server`` on a free loopback port; yields the port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found (apt-get install redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="sysjobs-bench-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
