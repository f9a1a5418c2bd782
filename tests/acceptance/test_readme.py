"""The README's embedding example runs as printed."""

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
