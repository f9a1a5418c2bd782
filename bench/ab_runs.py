"""A/B of a script run's cost between two checkouts, interleaved in one run.

Run: ``.venv/bin/python bench/ab_runs.py OLD_CHECKOUT NEW_CHECKOUT [ROUNDS]`` — e.g. a
``git worktree`` of the previous commit beside this one. Each round measures, in a fresh
process per checkout (``PYTHONPATH`` pointing at it), the median of 300 whole
``sandbox.run("1")`` calls in a recycled context and in a new context each time (the
functions of ``bench/bridge_bench.py``), alternating which checkout goes first. Prints
each round and the medians; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import sys; sys.path.insert(0, 'bench'); from bridge_bench import run_ms;"
    "print(run_ms(recycle=True), run_ms(recycle=False))"
)


def measure(checkout: Path) -> tuple[float, float]:
    """(recycled, new context) medians in ms, measured in a process running ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=checkout, env=env, check=True,
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1])


def main() -> None:
    old, new = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    figures: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for i in range(rounds):
        order = [("old", old), ("new", new)] if i % 2 == 0 else [("new", new), ("old", old)]
        for name, checkout in order:
            figures[name].append(measure(checkout))
        print(f"round {i + 1}: old {figures['old'][-1]}  new {figures['new'][-1]}")
    for name, rows in figures.items():
        recycled = statistics.median(r for r, _ in rows)
        fresh = statistics.median(f for _, f in rows)
        print(f"{name}: recycled run {recycled:.3f} ms, new context each run {fresh:.3f} ms")


if __name__ == "__main__":
    main()
