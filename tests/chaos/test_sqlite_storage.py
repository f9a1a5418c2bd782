"""SQLite on a full disk and on a read-only file system, with workers running.

Method: the database lives on a small tmpfs mounted for the test (``mount -t tmpfs -o
size=…``); "disk full" is that tmpfs filling up, "read-only" is ``mount -o remount,ro`` —
a real read-only file system, which ``chmod`` cannot give us since the tests run as root.
Recovery is ``remount`` with more room / read-write. Where mounting is not permitted the
scenarios are skipped with that reason; the ``mode=ro`` URI variant needs no privilege.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from sysjobs.worker.pool import WorkerPool
from tests.chaos.audit import TALLY, audit, fault, wait_all_ended
from tests.chaos.conftest import chaos_engine


@contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="sysjobs-chaos-fs-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(root)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        root.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], capture_output=True)
        root.rmdir()


def remount(root: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(root)], check=True)


def integrity(path: Path) -> str:
    db = sa.create_engine(f"sqlite:///{path}")
    try:
        with db.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar_one())
    finally:
        db.dispose()


def place_db(root: Path, template: Path) -> Path:
    path = root / "sysjobs.db"
    shutil.copyfile(template, path)
    return path


def test_a_full_disk_is_a_clear_error_and_nothing_is_lost_or_corrupt_after_room_returns(
    sqlite_template: Path,
) -> None:
    with tmpfs("3m") as root:
        path = place_db(root, sqlite_template)
        url = f"sqlite:///{path}"
        with chaos_engine(url, lease_s=5.0) as engine:
            pool = WorkerPool(engine, concurrency=2, lease_s=5.0).start()
            try:
                acknowledged: list[str] = []
                with pytest.raises(sa.exc.OperationalError, match="database or disk is full"):
                    for n in range(100_000):  # until the disk is full
                        work = {"n": n, "lines": 2, "steps": 2, "work_s": 0.2}
                        acknowledged.append(engine.enqueue("CHAOS_UNIT", work, label="x" * 200).id)
                fault("disk full")
                time.sleep(1.0)  # the workers hit the full disk too
                remount(root, "size=64m")
                TALLY.recovery_s.append(wait_all_ended(engine, acknowledged, 120))
                report = audit(url, acknowledged, lines_per_run=2)
                report.assert_clean()
                assert engine.wait(engine.enqueue("CHAOS_UNIT", {"n": -1}).id, ["FINISHED"], 30)
            finally:
                pool.stop(grace_s=5.0)
        assert integrity(path) == "ok"


def test_a_read_only_file_system_refuses_writes_clearly_and_work_resumes_after(
    sqlite_template: Path,
) -> None:
    """A WAL database on a read-only file system cannot even be opened (SQLite must create
    its shared-memory file): the engine says so at once; after the remount, work resumes."""
    with tmpfs("64m") as root:
        path = place_db(root, sqlite_template)
        url = f"sqlite:///{path}"
        with chaos_engine(url, lease_s=5.0) as engine:
            done = [engine.enqueue("CHAOS_UNIT", {"n": n}).id for n in range(5)]
        remount(root, "ro")  # (a file system with open writers cannot be made read-only)
        fault("read-only file system")
        with pytest.raises(sa.exc.OperationalError, match="unable to open database file"):
            chaos_engine(url, lease_s=5.0).__enter__()
        remount(root, "rw")
        with chaos_engine(url, lease_s=5.0) as engine:
            pool = WorkerPool(engine, concurrency=2, lease_s=5.0).start()
            try:
                TALLY.recovery_s.append(wait_all_ended(engine, done, 60))
            finally:
                pool.stop(grace_s=5.0)
        audit(url, done, lines_per_run=3).assert_clean()
        assert integrity(path) == "ok"


def test_a_read_only_uri_reads_and_refuses_every_write(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "sysjobs.db"
    shutil.copyfile(sqlite_template, path)
    with chaos_engine(f"sqlite:///{path}") as engine:
        job = engine.enqueue("CHAOS_UNIT", {"n": 1})
    with chaos_engine(f"sqlite:///file:{path}?mode=ro&uri=true") as ro:
        fault("read-only database file")
        assert ro.require(job.id).status == "PENDING"
        for write in (lambda: ro.enqueue("CHAOS_UNIT", {"n": 2}), lambda: ro.cancel(job.id),
                      lambda: ro.log_info(job.id, "x")):  # fmt: skip
            with pytest.raises(sa.exc.OperationalError, match="readonly database"):
                write()
    assert integrity(path) == "ok"
    with chaos_engine(f"sqlite:///{path}") as engine:
        assert engine.find({}).count() == 1 and engine.require(job.id).status == "PENDING"

