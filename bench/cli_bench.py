"""How fast the command line feels: whole commands, timed from outside, against ``node -e``.

Each row runs a sysjobs command and the yardstick (``node -e "console.log('hi')"``) in turn,
A B A B …, and takes the ratio pair by pair, so a machine that slows down mid-run moves
both sides of each ratio alike; the table shows medians. Wall time is what a person waits
for; CPU (user + system of the command and every child it waited for) is what the machine
paid, and is steadier on a busy machine. Rows:

* ``run hi.js`` — ``sysjobs run`` of a one-line script (``log('hi')``);
* ``jobs ls`` / ``jobs show ID`` — the read commands, on a database with a few jobs;
* ``import sysjobs`` — ``python -c "import sysjobs"``;
* ``run starts a job`` — a script that starts an action job and waits for it (the worker
  process is started then): no goal, shown for what the lazy start costs when it happens.

The goal (issue 19): each command row ≤ 4x ``node -e`` in wall time, ``import sysjobs``
≤ 0.2 s. The package's bytecode is compiled first, as an installed package's is
(``PYTHONDONTWRITEBYTECODE`` would otherwise make every run compile sysjobs' sources).

Run alone: ``python bench/cli_bench.py`` (``BENCH_CLI_N`` pairs per row, default 7).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HELLO = "log('hi')\n"
STARTS_A_JOB = (
    "var id = sys.data.executeAction('companies', {}, 'logSomething',"
    " {param1: 'a', param2: 'b'});\n"
    "sys.jobs.waitForJob(id, 'FINISHED', 60000);\n"
    "log(sys.jobs.findById(id).status());\n"
)
NODE = ["node", "-e", "console.log('hi')"]
#: Ratio goals per row (wall, against node); None: shown without a goal.
GOALS: dict[str, float | None] = {
    "run hi.js": 4.0, "jobs ls": 4.0, "jobs show ID": 4.0, "import sysjobs": None,
    "run starts a job": None,
}  # fmt: skip
#: ``import sysjobs`` has a goal in seconds, not a ratio.
IMPORT_GOAL_S = 0.2


def sysjobs_command() -> list[str]:
    """The ``sysjobs`` console script next to this Python, else ``python -m sysjobs.cli``."""
    script = Path(sys.executable).with_name("sysjobs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sysjobs.cli"]


def compile_bytecode() -> None:
    """Write the package's ``.pyc`` files, as ``pip install`` does."""
    import sysjobs

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    package = str(Path(sysjobs.__file__).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=False, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one whole command (its waited-for children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def paired(argv: list[str], cwd: Path, n: int) -> dict[str, Any]:
    """``n`` A/B pairs after one warm-up of each; medians and per-pair ratio medians."""
    timed(argv, cwd)
    timed(NODE, cwd)
    rows = []
    for _ in range(n):
        a, b = timed(argv, cwd), timed(NODE, cwd)
        rows.append((a, b))
    med = statistics.median
    return {
        "wall_s": med(a[0] for a, _ in rows), "cpu_s": med(a[1] for a, _ in rows),
        "node_wall_s": med(b[0] for _, b in rows), "node_cpu_s": med(b[1] for _, b in rows),
        "wall_ratio": med(a[0] / b[0] for a, b in rows),
        "cpu_ratio": med(a[1] / max(b[1], 1e-6) for a, b in rows), "n": n,
    }  # fmt: skip


def prepare(folder: Path) -> str:
    """Scripts in ``folder`` and a database with a few jobs; returns one job's id."""
    (folder / "hi.js").write_text(HELLO)
    (folder / "starts.js").write_text(STARTS_A_JOB)
    from sysjobs.host import Host

    (folder / ".sysjobs").mkdir(exist_ok=True)
    with Host(f"sqlite:///{folder / '.sysjobs' / 'sysjobs.db'}") as host:
        ids = [host.start_script_job(f"log({i})", label=f"bench {i}").id for i in range(5)]
    return ids[-1]


def measure(n: int | None = None) -> dict[str, Any]:
    """Every row's figures (see the module's docstring)."""
    n = n or int(os.environ.get("BENCH_CLI_N", "7"))
    if shutil.which("node") is None:
        return {"skipped": "node is not installed"}
    compile_bytecode()
    folder = Path(tempfile.mkdtemp(prefix="sysjobs-cli-bench-"))
    try:
        job_id = prepare(folder)
        cli = sysjobs_command()
        commands = {
            "run hi.js": [*cli, "run", "hi.js"],
            "jobs ls": [*cli, "jobs", "ls"],
            "jobs show ID": [*cli, "jobs", "show", job_id],
            "import sysjobs": [sys.executable, "-c", "import sysjobs"],
            "run starts a job": [*cli, "run", "starts.js"],
        }
        rounds = {"run starts a job": max(1, n // 2)}
        return {name: paired(argv, folder, rounds.get(name, n)) for name, argv in commands.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def verdict(name: str, row: dict[str, Any]) -> str:
    if name == "import sysjobs":
        return "yes" if row["wall_s"] <= IMPORT_GOAL_S else "no"
    goal = GOALS.get(name)
    if goal is None:
        return "-"
    return "yes" if row["wall_ratio"] <= goal else "no"


def table(results: dict[str, Any]) -> Any:
    """The rich table of :func:`measure`'s figures."""
    from rich.table import Table

    out = Table(title="The command line against node -e \"console.log('hi')\" (medians)")
    for column in ("command", "wall s", "cpu s", "node wall s", "wall xnode", "cpu xnode",
                   "goal", "met"):  # fmt: skip
        out.add_column(column, justify="left" if column == "command" else "right")
    for name, row in results.items():
        if not isinstance(row, dict):
            continue
        goal = GOALS.get(name)
        shown_goal = f"≤ {IMPORT_GOAL_S} s" if name == "import sysjobs" else (
            f"≤ {goal:g}x" if goal else "-")  # fmt: skip
        out.add_row(name, f"{row['wall_s']:.3f}", f"{row['cpu_s']:.3f}",
                    f"{row['node_wall_s']:.3f}", f"{row['wall_ratio']:.1f}",
                    f"{row['cpu_ratio']:.1f}", shown_goal, verdict(name, row))  # fmt: skip
    return out


def main() -> dict[str, Any]:
    from rich.console import Console

    results = measure()
    if "skipped" in results:
        print(f"cli: skipped ({results['skipped']})")
    else:
        Console(width=140).print(table(results))
    return results


if __name__ == "__main__":
    main()
