"""A throwaway PostgreSQL cluster from the machine's binaries: the one starter that the test
fixtures (``tests/conftest.py``, ``tests/chaos/conftest.py``) and the benchmarks
(``bench/servers.py``, ``bench/engine_bench.py``) share.

Debian's binaries (``/usr/lib/postgresql/*/bin``, else ``pg_ctl`` on the ``PATH``), run as
the ``postgres`` user when we are root — PostgreSQL refuses to run as root — on a free port
with a private socket directory and no TCP listener, removed on exit. Callers add their own
server settings (the tests and ``bench/servers.py`` relax durability with ``fsync=off``:
nothing here outlives the run).

It lives under ``bench/`` because both can import it without packaging the tests into the
wheel: the benchmarks run with ``bench/`` as their script directory (``import pgcluster``),
the tests with the repository root on ``sys.path`` (``from bench.pgcluster import …``). It
imports nothing but the standard library.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class PgUnavailable(RuntimeError):
    """No PostgreSQL binaries, or the cluster did not start (the message says which)."""


def pg_bindir() -> Path | None:
    """The directory of ``pg_ctl`` and ``initdb`` (the newest Debian version first)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def as_postgres(*args: str) -> list[str]:
    """``args`` run as the ``postgres`` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class PgCluster:
    """A running cluster."""

    #: The unix socket directory (libpq's ``host``).
    host: str
    port: int
    #: Where ``pg_ctl`` lives, and the cluster's data directory (to restart it).
    bindir: Path
    data: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy / sysjobs URL for ``database`` (psycopg 3)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.host}&port={self.port}"

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq connection string for ``database``."""
        return f"host={self.host} port={self.port} user=postgres dbname={database}"

    def pg_ctl(self, *args: str) -> list[str]:
        """The command line of ``pg_ctl -D <data> args…`` (as ``postgres`` when root)."""
        return as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)


@contextmanager
def pg_cluster(prefix: str = "sysjobs-pg-", settings: Sequence[str] = ()) -> Iterator[PgCluster]:
    """Start a cluster (``settings``: extra ``name=value`` server settings), yield it, then
    stop it (``immediate``) and remove its files. ``PgUnavailable`` when it cannot start."""
    cluster = start_cluster(prefix, settings)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def start_cluster(prefix: str = "sysjobs-pg-", settings: Sequence[str] = ()) -> PgCluster:
    """A started cluster in a new directory named ``prefix…``, for a caller that stops it
    later with :func:`stop_cluster` (``pg_cluster`` does both around a block; the test
    processes of one run share a cluster that the last step of the run stops)."""
    bindir = pg_bindir()
    if bindir is None:
        raise PgUnavailable("no pg_ctl found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix=prefix))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:  # the postgres user must reach both
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    cluster = PgCluster(str(sock), free_port(), bindir, data)
    options = " ".join([f"-p {cluster.port} -k {sock} -c listen_addresses=''",
                        *(f"-c {s}" for s in settings)])  # fmt: skip
    try:
        _run(as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                         "postgres", "-E", "UTF8", "--no-sync"))  # fmt: skip
        _run(cluster.pg_ctl("-o", options, "-w", "-l", str(root / "server.log"), "start"))
    except PgUnavailable:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster


def stop_cluster(cluster: PgCluster) -> None:
    """Stop ``cluster`` (``immediate``: nothing in it outlives the run) and remove its files."""
    subprocess.run(cluster.pg_ctl("-m", "immediate", "stop"), capture_output=True)
    shutil.rmtree(cluster.data.parent, ignore_errors=True)


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace")[-500:]
        raise PgUnavailable(f"the server did not start: {detail}") from exc
