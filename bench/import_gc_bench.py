"""What the garbage collector costs a process that imports what a worker process needs.

    .venv/bin/python bench/import_gc_bench.py --rounds 10

Each round starts two fresh interpreters, in alternating order, that import the launcher's
preload (:data:`sysjobs.worker.processes.LAUNCH_PRELOAD`: SQLAlchemy and its dialects,
pydantic, the engine, the app, the bindings' argument models): one with the collector on,
as Python starts, one with it off until the imports are done, as the launcher and a fresh
worker process or script child now import (``sysjobs/runtime/launcher.py``,
``sysjobs/runtime/process.py``, ``sysjobs/worker/processes.py``). Each reports the CPU time
its collections took (``gc.callbacks``: robust to a loaded machine, which stretches both
sides alike) and its whole CPU time. Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from sysjobs.worker.processes import LAUNCH_PRELOAD

_MEASURED = """
import gc, json, sys, time
spent, start = [0.0, 0.0], [0.0]
def watch(phase, _info):
    if phase == "start":
        start[0] = time.process_time()
    else:
        spent[0] += time.process_time() - start[0]
        spent[1] += 1
gc.callbacks.append(watch)
if sys.argv[1] == "off":
    gc.disable()
import importlib
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
gc.enable()
print(json.dumps({"gc_s": spent[0], "collections": spent[1], "cpu_s": time.process_time()}))
"""


def _run(mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURED, mode, json.dumps(list(LAUNCH_PRELOAD))],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for n in range(args.rounds):
        for mode in ("on", "off") if n % 2 == 0 else ("off", "on"):
            runs[mode].append(_run(mode))
    medians = {mode: {key: statistics.median(r[key] for r in found) for key in found[0]}
               for mode, found in runs.items()}  # fmt: skip
    for mode, m in medians.items():
        cpu_ms, gc_ms = m["cpu_s"] * 1000, m["gc_s"] * 1000
        print(f"collector {mode:>3} while importing: {cpu_ms:6.0f} ms of CPU, "
              f"{gc_ms:5.1f} ms of it in {m['collections']:.0f} collections")  # fmt: skip
    ratio = medians["off"]["cpu_s"] / medians["on"]["cpu_s"]
    print(f"off / on, CPU: {ratio:.2f}x ({args.rounds} rounds, medians)")


if __name__ == "__main__":
    main()
