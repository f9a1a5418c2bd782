"""The data meter reads the process's data size (what RLIMIT_DATA bounds) — the measure of
the recycling rule on data growth — from any number of threads at once.

A read keeps the GIL (libc's ``pread`` through ``PyDLL``): every run reads the meter twice,
and in a busy worker a read that let the GIL go was a hand-off to another thread and a wait
to get it back. These cases pin what the read must still give: the kernel's figure, growth
and shrinkage seen, whole values under concurrency, and the same figure on the fallback.
"""

from __future__ import annotations

import mmap
import sys
import threading

import pytest

from sysjobs.runtime import isolate as isolate_module
from sysjobs.runtime.isolate import DataMeter

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/statm")

_MIB = 1024 * 1024


def _private_mapping(size: int) -> mmap.mmap:
    """Memory that counts as data (private and writable, like V8's ArrayBuffers)."""
    return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


@pytest.fixture(params=["gil-held", "os.pread"])
def meter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> DataMeter:
    """Both ways of reading: libc's pread keeping the GIL, and ``os.pread`` (where there is
    no libc to call)."""
    if request.param == "os.pread":
        monkeypatch.setattr(isolate_module, "_GIL_HELD_PREAD", None)
    return DataMeter()


def test_on_linux_the_read_keeps_the_gil() -> None:
    assert isolate_module._GIL_HELD_PREAD is not None, "libc's pread is reachable through PyDLL"


def test_a_private_mapping_grows_the_reading_by_its_size_and_closing_it_shrinks_it(
    meter: DataMeter,
) -> None:
    before = meter.read()
    assert before > 0 and before % mmap.PAGESIZE == 0
    mapping = _private_mapping(64 * _MIB)
    try:
        grown = meter.read()
    finally:
        mapping.close()
    after = meter.read()
    assert grown - before >= 60 * _MIB, "the mapping's 64 MiB are seen (less what others freed)"
    assert grown - after >= 60 * _MIB, "and so is its release"


def test_the_reading_is_the_data_field_of_statm(meter: DataMeter) -> None:
    with open("/proc/self/statm", "rb") as f:
        pages = int(f.read().split()[5])
    reading = meter.read()
    with open("/proc/self/statm", "rb") as f:
        pages_after = int(f.read().split()[5])
    low, high = sorted((pages, pages_after))
    # (the files' own buffers may come and go between the reads: a few pages either way)
    assert (low - 64) * mmap.PAGESIZE <= reading <= (high + 64) * mmap.PAGESIZE


def test_reads_from_many_threads_at_once_each_give_a_whole_value(meter: DataMeter) -> None:
    start = threading.Barrier(16)
    readings: list[int] = []
    errors: list[BaseException] = []

    def read_many() -> None:
        try:
            start.wait()
            readings.extend(meter.read() for _ in range(500))
        except BaseException as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=read_many) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(readings) == 16 * 500
    # (a torn or mixed-up buffer would not parse, or not be a whole number of pages)
    assert all(r > 0 and r % mmap.PAGESIZE == 0 for r in readings)


def test_a_closed_meter_reads_zero(meter: DataMeter) -> None:
    meter.close()
    assert meter.read() == 0
    meter.close()  # closing twice is harmless
