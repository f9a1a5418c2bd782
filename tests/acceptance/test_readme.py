"""The README's embedding example and its CLI block run as printed; the docs point only at
files a clone has."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), flags=re.S)


def test_readme_starts_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README.read_text("utf-8"), flags=re.S)
    assert first_block is not None
    lines = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert lines == ["make demo", "make test"]


def embedding_files() -> dict[str, str]:
    """The Embedding section's Python blocks, by the file name each one's first line gives."""
    files = {}
    for block in python_blocks():
        first = block.splitlines()[0]
        match = re.fullmatch(r"# (\w+\.py)\b.*", first)
        assert match is not None, f"a Python block of the README names its file: {first!r}"
        files[match.group(1)] = block
    return files


def test_embedding_example_runs_through_worker_processes_and_prints_what_it_says(
    tmp_path: Path,
) -> None:
    # main.py adds the namespace by import path: the job that uses it runs in a worker
    # process (the default of host.workers), which imports greeting.py itself.
    files = embedding_files()
    assert set(files) == {"greeting.py", "main.py", "web.py"}
    files.pop("web.py")
    assert sum(len(block.strip().splitlines()) for block in files.values()) <= 30
    assert '"greeting:greeter"' in files["main.py"] and "in_process" not in files["main.py"]
    for name, block in files.items():
        (tmp_path / name).write_text(block)
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(README.parent)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "['Hello, Ada!'] 5"
    assert second == "FINISHED ['Hello, Grace! in a job: Script']"


ASGI_CLIENT = """
from starlette.testclient import TestClient
from web import app

with TestClient(app) as client:
    print(client.get("/companies").json())
    print(client.post("/scripts", content="log('hi'); 6 * 7").json())
    print(client.post("/scripts", content="null.x").json()["results"])
"""


def test_async_embedding_example_serves_scripts_and_jobs_from_a_starlette_app(
    tmp_path: Path,
) -> None:
    # web.py awaits host.arun and host.arun_in_job inside request handlers; the client
    # drives it through the ASGI lifespan (which opens the Host and its worker process).
    (tmp_path / "web.py").write_text(embedding_files()["web.py"])
    done = subprocess.run(
        [sys.executable, "-c", ASGI_CLIENT], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONPATH": str(README.parent)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "{'companies': 5}",
        "{'status': 'FINISHED', 'results': {'value': 42}}",
        "{'error': {'code': 'TypeError', 'message': \"Cannot read properties of null "
        "(reading 'x')\"}}",
    ]


def cli_block() -> list[str]:
    """The commands of the README's "Dashboard and CLI" block, comments left out."""
    text = README.read_text("utf-8")
    block = re.search(r"```sh\n(.*?)```", text[text.index("## Dashboard and CLI") :], flags=re.S)
    assert block is not None
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines()]


def test_the_cli_block_puts_the_installed_command_on_the_path_first() -> None:
    lines = cli_block()
    assert lines[0] == "source .venv/bin/activate"
    makefile = (README.parent / "Makefile").read_text("utf-8")
    assert "VENV := .venv" in makefile and "pip install -q -e" in makefile
    assert all(line.startswith("sysjobs ") for line in lines[1:])


def test_the_cli_block_runs_as_written(tmp_path: Path) -> None:
    """Each line runs (in-process) against the default database a script made, with ``ID``
    a real job's id; the lines with alternatives, the worker and the server show their help."""
    from sysjobs.host import Host
    from tests.acceptance.inprocess import sysjobs_in_process

    with Host(f"sqlite:///{tmp_path / '.sysjobs' / 'sysjobs.db'}") as host:
        done = host.start_script_job("log('hello')")
        with host.workers(1, in_process=True):
            host.engine.wait(done.id, "FINISHED", 60)
        pending = [host.start_script_job("1").id for _ in range(2)]
    for line in cli_block()[1:]:
        words = line.split()[1:]
        if "|" in line or words[0] in ("worker", "serve"):
            for verb in words[1].split("|") if "|" in line else [None]:
                shown = sysjobs_in_process(*words[:1], *([verb] if verb else []), "--help",
                                           cwd=tmp_path)  # fmt: skip
                assert shown.returncode == 0, line
                assert all(w in shown.stdout for w in words if w.startswith("-")), line
            continue
        ids = pending if "low-priority" in line else [done.id]
        args = " ".join(words).replace("ID [ID…]", " ".join(ids)).replace("ID", ids[0]).split()
        if "--watch" in args:
            args += ["--count", "1"]
        ran = sysjobs_in_process(*args, cwd=tmp_path)
        assert ran.returncode == 0, (line, ran.stderr)


def test_the_docs_point_only_at_files_a_clone_has() -> None:
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md")), root / "sysjobs/samples/README.md"]
    tops = {p.name for p in root.iterdir()} - {".git", ".venv"}
    checked = 0
    for page in pages:
        for token in re.findall(r"`([\w./-]+)`", page.read_text("utf-8")):
            if "/" in token and token.split("/")[0] in tops:
                assert (root / token.rstrip("/")).exists(), f"{page.name}: {token}"
                checked += 1
    assert checked > 20
