"""Bridge benchmark: a bridged ``sys.*`` call against mini-racer's raw synchronous callback.

Run: ``.venv/bin/python bench/bridge_bench.py`` (or ``make bench``). Prints a table; asserts
nothing. All figures come from the same process in the same run.

* raw callback — JS calls the bare synchronous callback; Python only frees the handle.
* bridged call — ``sys.bench.noop({n: i})``: JSON out, UTF-16 copy through the shared
  buffer, pydantic validation, a Python handler, JSON back — what every ``sys`` call pays.
* each with and without a pinned thread state on the isolate thread.
* sandbox ready — a new bootstrapped isolate (cold) vs one taken from the warm pool;
* script run — a whole ``sandbox.run("1")`` in a recycled context (proven clean in the
  same call) vs in a new context each time (recycling off).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.table import Table

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import CallContext, Limits, Namespace, Operation, Sandbox
from sysjobs.runtime.bridge import raw_callback_seconds
from sysjobs.runtime.isolate import Isolate

CALLS = 100_000


class NoopArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int


def _noop(ctx: CallContext, args: NoopArgs) -> int:
    return args.n


BENCH_NS = Namespace(
    "bench",
    "(function (host) { return { noop: function (n) { return host.call('noop', {n: n}) } } })",
    (Operation("noop", NoopArgs, _noop),),
)


def bridged_us(pin: bool) -> float:
    sandbox = Sandbox([*core_namespaces(), BENCH_NS], Limits(timeout_s=120), pool_size=0,
                      pin_thread_state=pin)
    try:
        loop = f"for (var i = 0; i < {CALLS}; i++) sys.bench.noop(i);"
        source = f"var t = Date.now(); {loop} Date.now() - t"
        result = sandbox.run(source)
        assert result.ok, result.error
        return float(result.value) * 1000 / CALLS
    finally:
        sandbox.close()


def raw_us(pin: bool) -> float:
    return raw_callback_seconds(CALLS, pin_thread_state=pin) * 1e6 / CALLS


def ready_ms() -> tuple[float, float]:
    sandbox = Sandbox(core_namespaces(), pool_size=4)
    try:
        cold = []
        for _ in range(20):
            started = time.perf_counter()
            sandbox._new_isolate().close()
            cold.append((time.perf_counter() - started) * 1000)
        sandbox.warm()
        warm = []
        for _ in range(20):
            time.sleep(0.02)  # let the filler refill, as between jobs
            started = time.perf_counter()
            iso: Isolate = sandbox.take()
            warm.append((time.perf_counter() - started) * 1000)
            iso.close()
        return statistics.median(cold), statistics.median(warm)
    finally:
        sandbox.close()


def run_ms(recycle: bool) -> float:
    """A whole ``sandbox.run("1")``: take a context, run, canary, give it back."""
    sandbox = Sandbox(core_namespaces(), pool_size=2, recycle=recycle)
    try:
        sandbox.warm()
        times = []
        for _ in range(300):
            started = time.perf_counter()
            sandbox.run("1")
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        sandbox.close()


def main() -> dict[str, Any]:
    rows: dict[str, float] = {}
    for pin in (False, True):
        label = "pinned" if pin else "unpinned"
        rows[f"raw callback, {label} (µs/call)"] = raw_us(pin)
        rows[f"bridged sys call, {label} (µs/call)"] = bridged_us(pin)
    cold, warm = ready_ms()
    rows["sandbox ready, cold (ms)"] = cold
    rows["sandbox ready, warm pool (ms)"] = warm
    rows["script run, recycled context (ms)"] = run_ms(recycle=True)
    rows["script run, new context each time (ms)"] = run_ms(recycle=False)
    ratios = {
        "bridged pinned / raw unpinned (stock callback)": rows["bridged sys call, pinned (µs/call)"]
        / rows["raw callback, unpinned (µs/call)"],
        "bridged pinned / raw pinned (floor)": rows["bridged sys call, pinned (µs/call)"]
        / rows["raw callback, pinned (µs/call)"],
        "bridged unpinned / raw unpinned": rows["bridged sys call, unpinned (µs/call)"]
        / rows["raw callback, unpinned (µs/call)"],
    }
    table = Table(title=f"sysjobs bridge ({CALLS:,} calls per figure)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows.items():
        table.add_row(name, f"{value:.2f}")
    per_call = rows["bridged sys call, pinned (µs/call)"]
    table.add_row("bridged calls/s (pinned)", f"{1e6 / per_call:,.0f}")
    for name, value in ratios.items():
        table.add_row(f"ratio: {name}", f"{value:.2f}x")
    Console().print(table)
    return {"bridge": rows, "bridge_ratios": ratios}


if __name__ == "__main__":
    out = main()
    if "--json" in sys.argv:
        Path("bench/bridge_results.json").write_text(json.dumps(out, indent=2))
